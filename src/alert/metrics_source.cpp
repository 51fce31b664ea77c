#include "keel/alert/metrics_source.hpp"

#include <array>
#include <optional>
#include <span>
#include <string>

namespace keel::alert {
namespace {

using arena_reader = keel::metrics::detail::arena::reader;

// The reader of the bracket open on this thread. constinit: reading it on
// every series read is one TLS load with no init guard.
thread_local constinit const arena_reader* tls_reader = nullptr;
thread_local constinit unsigned tls_depth = 0;
thread_local std::optional<arena_reader> tls_slot;

template <class F>
auto with_reader(F&& f) {
  if (const arena_reader* r = tls_reader) [[likely]]
    return f(*r);
  const arena_reader r;  // outside a cycle: one lock for this read
  return f(r);
}

label_set labels_of(const std::vector<std::string>& names, std::span<const std::string> values) {
  std::vector<label_set::pair> pairs;
  pairs.reserve(names.size());
  for (std::size_t i = 0; i < names.size() && i < values.size(); ++i)
    pairs.emplace_back(names[i], values[i]);
  return label_set(std::move(pairs));
}

// A view of one child metric. Holds its family so the metric outlives it.
template <class Family>
class view_base : public series {
 public:
  view_base(std::shared_ptr<Family> f, std::string name, label_set labels)
      : family_(std::move(f)), name_(std::move(name)), labels_(std::move(labels)) {}
  const std::string& name() const noexcept final { return name_; }
  const label_set& labels() const noexcept final { return labels_; }

 private:
  std::shared_ptr<Family> family_;
  std::string name_;
  label_set labels_;
};

class counter_view final : public view_base<keel::metrics::counter_family> {
 public:
  counter_view(std::shared_ptr<keel::metrics::counter_family> f, const keel::metrics::counter& m,
               std::string name, label_set labels)
      : view_base(std::move(f), std::move(name), std::move(labels)), m_(m) {}
  series_kind kind() const noexcept override { return series_kind::counter; }
  double value() const noexcept override {
    return with_reader([this](const arena_reader& r) { return m_.value(r); });
  }
  void read_histogram(histogram_snapshot& out) const override { out = {}; }

 private:
  const keel::metrics::counter& m_;
};

class gauge_view final : public view_base<keel::metrics::gauge_family> {
 public:
  gauge_view(std::shared_ptr<keel::metrics::gauge_family> f, const keel::metrics::gauge& m,
             std::string name, label_set labels)
      : view_base(std::move(f), std::move(name), std::move(labels)), m_(m) {}
  series_kind kind() const noexcept override { return series_kind::gauge; }
  // One atomic; needs no reader.
  double value() const noexcept override { return m_.value(); }
  void read_histogram(histogram_snapshot& out) const override { out = {}; }

 private:
  const keel::metrics::gauge& m_;
};

class histogram_view final : public view_base<keel::metrics::histogram_family> {
 public:
  histogram_view(std::shared_ptr<keel::metrics::histogram_family> f,
                 const keel::metrics::histogram& m, std::string name, label_set labels)
      : view_base(std::move(f), std::move(name), std::move(labels)), m_(m) {}
  series_kind kind() const noexcept override { return series_kind::histogram; }
  // The observation count. Bounds are at most 510 (validate_buckets), so the
  // buckets fit on the stack.
  double value() const noexcept override {
    std::array<std::uint64_t, keel::metrics::detail::kPageCells> buf;
    const std::size_t n = m_.bounds().size() + 1;
    with_reader([&](const arena_reader& r) { return m_.read(r, std::span(buf.data(), n)); });
    return static_cast<double>(buf[n - 1]);
  }
  // Reuses `out`'s capacity: after the first read of a rule's histograms of
  // one shape, this allocates nothing.
  void read_histogram(histogram_snapshot& out) const override {
    const auto bounds = m_.bounds();
    out.upper_bounds.assign(bounds.begin(), bounds.end());
    out.cumulative.resize(bounds.size() + 1);
    out.sum =
        with_reader([&](const arena_reader& r) { return m_.read(r, std::span(out.cumulative)); });
    out.count = out.cumulative.back();
  }

 private:
  const keel::metrics::histogram& m_;
};

}  // namespace

template <class Family>
void metrics_source::select_family(const std::shared_ptr<Family>& f, std::string_view exposed,
                                   std::vector<std::shared_ptr<const series>>& out) const {
  using metric_t = std::remove_cvref_t<decltype(f->labels())>;
  std::lock_guard lock(mu_);
  f->for_each_child([&](std::span<const std::string> values, const metric_t& m) {
    auto [it, inserted] = cache_.try_emplace(static_cast<const void*>(&m));
    if (inserted) {
      try {
        label_set labels = labels_of(f->label_names(), values);
        if constexpr (std::is_same_v<metric_t, keel::metrics::counter>) {
          it->second =
              std::make_shared<counter_view>(f, m, std::string(exposed), std::move(labels));
        } else if constexpr (std::is_same_v<metric_t, keel::metrics::gauge>) {
          it->second = std::make_shared<gauge_view>(f, m, std::string(exposed), std::move(labels));
        } else {
          it->second =
              std::make_shared<histogram_view>(f, m, std::string(exposed), std::move(labels));
        }
      } catch (...) {
        cache_.erase(it);
        throw;
      }
    }
    out.push_back(it->second);
  });
}

void metrics_source::select(std::string_view name,
                            std::vector<std::shared_ptr<const series>>& out) const {
  if (auto g = reg_.find_gauge(name)) select_family(g, name, out);
  if (auto h = reg_.find_histogram(name)) select_family(h, name, out);
  constexpr std::string_view kTotal = "_total";
  if (name.size() > kTotal.size() && name.ends_with(kTotal)) {
    if (auto c = reg_.find_counter(name.substr(0, name.size() - kTotal.size()))) {
      select_family(c, name, out);
    }
  }
}

void metrics_source::begin_reads() const {
  if (tls_depth == 0) {
    tls_slot.emplace();
    tls_reader = &*tls_slot;
  }
  ++tls_depth;
}

void metrics_source::end_reads() const noexcept {
  if (tls_depth == 0) return;
  if (--tls_depth == 0) {
    tls_reader = nullptr;
    tls_slot.reset();
  }
}

std::size_t metrics_source::bound() const {
  std::lock_guard lock(mu_);
  return cache_.size();
}

}  // namespace keel::alert
