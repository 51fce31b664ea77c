// counter, gauge and histogram: construction, reading, collection.
#include <algorithm>
#include <chrono>
#include <string>

#include "keel/core/error.hpp"
#include "keel/metrics/counter.hpp"
#include "keel/metrics/gauge.hpp"
#include "keel/metrics/histogram.hpp"

namespace keel::metrics {
namespace {

std::uint32_t allocate_or_throw(const std::vector<detail::cell_kind>& kinds) {
  auto [ok, base] = detail::arena::instance().allocate(kinds);
  if (!ok) {
    throw exception(error(codes::resource_exhausted,
                          "metrics cell arena is full (too many counter/histogram series)"));
  }
  return base;
}

}  // namespace

// ---- counter ---------------------------------------------------------------

counter::counter() : base_(allocate_or_throw({detail::cell_kind::u64, detail::cell_kind::f64})) {}

counter::~counter() { detail::arena::instance().release(base_, 2); }

double counter::value() const {
  detail::arena::reader r;
  return static_cast<double>(r.u64(base_)) + r.f64(base_ + 1);
}

double counter::value(const detail::arena::reader& cells) const noexcept {
  return static_cast<double>(cells.u64(base_)) + cells.f64(base_ + 1);
}

void counter::collect(std::string_view labels, metric_sink& out,
                      const detail::arena::reader& cells) const {
  out.sample(labels, static_cast<double>(cells.u64(base_)) + cells.f64(base_ + 1));
}

// ---- gauge -----------------------------------------------------------------

void gauge::set_to_current_time(const keel::clock& c) noexcept {
  const auto ns =
      std::chrono::duration_cast<std::chrono::nanoseconds>(c.system_now().time_since_epoch())
          .count();
  set(static_cast<double>(ns) / 1e9);
}

void gauge::collect(std::string_view labels, metric_sink& out, const detail::arena::reader&) const {
  out.sample(labels, value());
}

// ---- histogram -------------------------------------------------------------

std::vector<double> default_buckets() {
  return {0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10};
}

std::vector<double> linear_buckets(double start, double width, std::size_t count) {
  std::vector<double> b;
  b.reserve(count);
  for (std::size_t i = 0; i < count; ++i)
    b.push_back(start + width * static_cast<double>(i));
  return b;
}

std::vector<double> exponential_buckets(double start, double factor, std::size_t count) {
  std::vector<double> b;
  b.reserve(count);
  double v = start;
  for (std::size_t i = 0; i < count; ++i, v *= factor)
    b.push_back(v);
  return b;
}

result<void> validate_buckets(std::span<const double> bounds) {
  if (bounds.empty()) return fail(codes::validation_error, "histogram needs at least one bucket");
  if (bounds.size() > detail::kPageCells - 2) {
    return fail(codes::validation_error, "histogram has more than 510 buckets");
  }
  for (std::size_t i = 0; i < bounds.size(); ++i) {
    if (!std::isfinite(bounds[i])) {
      return fail(codes::validation_error,
                  "histogram bucket bounds must be finite (+Inf is implicit)");
    }
    if (i > 0 && !(bounds[i] > bounds[i - 1])) {
      return fail(codes::validation_error, "histogram bucket bounds must be strictly increasing");
    }
  }
  return ok();
}

histogram::histogram(std::vector<double> bounds)
    : histogram(config{std::make_shared<const std::vector<double>>(std::move(bounds))},
                std::in_place) {}

histogram::histogram(const config& c, std::in_place_t) : owned_(c.bounds) {
  if (!owned_) owned_ = std::make_shared<const std::vector<double>>(default_buckets());
  if (auto v = validate_buckets(*owned_); !v) throw exception(v.error());
  bounds_ = owned_->data();
  n_bounds_ = static_cast<std::uint32_t>(owned_->size());
  std::vector<detail::cell_kind> kinds(n_bounds_ + 2, detail::cell_kind::u64);
  kinds.back() = detail::cell_kind::f64;
  base_ = allocate_or_throw(kinds);
}

histogram::~histogram() { detail::arena::instance().release(base_, n_bounds_ + 2); }

histogram::snapshot histogram::get() const {
  snapshot s;
  s.cumulative.resize(n_bounds_ + 1);
  detail::arena::reader r;
  std::uint64_t acc = 0;
  for (std::uint32_t i = 0; i <= n_bounds_; ++i) {
    acc += r.u64(base_ + i);
    s.cumulative[i] = acc;
  }
  s.sum = r.f64(base_ + n_bounds_ + 1);
  return s;
}

double histogram::read(const detail::arena::reader& cells,
                       std::span<std::uint64_t> cumulative) const noexcept {
  const std::size_t n = std::min<std::size_t>(cumulative.size(), std::size_t{n_bounds_} + 1);
  std::uint64_t acc = 0;
  for (std::size_t i = 0; i < n; ++i) {
    acc += cells.u64(base_ + static_cast<std::uint32_t>(i));
    cumulative[i] = acc;
  }
  return cells.f64(base_ + n_bounds_ + 1);
}

void histogram::collect(std::string_view labels, metric_sink& out,
                        const detail::arena::reader& cells) const {
  // Small buffer on the stack for the usual bucket counts.
  constexpr std::uint32_t kInline = 32;
  std::uint64_t inline_buf[kInline];
  std::vector<std::uint64_t> heap;
  std::uint64_t* cum = inline_buf;
  if (n_bounds_ + 1 > kInline) {
    heap.resize(n_bounds_ + 1);
    cum = heap.data();
  }
  std::uint64_t acc = 0;
  for (std::uint32_t i = 0; i <= n_bounds_; ++i) {
    acc += cells.u64(base_ + i);
    cum[i] = acc;
  }
  out.histogram(labels, bounds(), std::span<const std::uint64_t>(cum, n_bounds_ + 1),
                cells.f64(base_ + n_bounds_ + 1));
}

}  // namespace keel::metrics
