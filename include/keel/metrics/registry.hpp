// keel/metrics/registry.hpp
//
// registry owns metric families and holds collectors; exposing it
// (exposition.hpp) produces every family it knows. Families are registered
// once, at start-up, and their children are held as handles afterwards.
//
//   keel::metrics::registry& reg = keel::metrics::registry::global();
//   auto* requests = reg.add_counter({.name = "http_requests_total",
//       .help = "HTTP requests served.", .labels = {"method", "code"}}).value();
//   auto* latency = reg.add_histogram({.name = "http_request_duration_seconds",
//       .help = "Request latency.", .labels = {"route"}}).value();
//   reg.add_collector(std::make_shared<keel::metrics::process_collector>()).value();
//   std::string text = keel::metrics::expose(reg, keel::metrics::format::openmetrics_1_0);
//
// Registration validates names, label names, help text and buckets
// (names.hpp) and returns VALIDATION_ERROR on a bad one. Registering the same
// definition again returns the existing family (so two modules can share a
// metric); the same name with another type, other labels, help or buckets is
// CONFLICT, as is a collector describing a name already taken.
//
// Thread safety: all member functions may be called concurrently; a scrape
// takes a shared lock, registration an exclusive one.
// Cost: registration allocates; collect() is linear in series and threads.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <variant>
#include <vector>

#include "keel/core/result.hpp"
#include "keel/metrics/collector.hpp"
#include "keel/metrics/counter.hpp"
#include "keel/metrics/family.hpp"
#include "keel/metrics/gauge.hpp"
#include "keel/metrics/histogram.hpp"

namespace keel::metrics {

using counter_family = family<counter>;
using gauge_family = family<gauge>;
using histogram_family = family<histogram>;

// Default bound on the children of one family.
inline constexpr std::size_t kDefaultMaxSeries = 10000;

// counter_options
//
// `name` may end in `_total` (it is exposed with `_total` either way).
struct counter_options {
  std::string name{};
  std::string help{};
  std::vector<std::string> labels{};
  std::size_t max_series = kDefaultMaxSeries;
};

struct gauge_options {
  std::string name{};
  std::string help{};
  std::vector<std::string> labels{};
  std::size_t max_series = kDefaultMaxSeries;
};

struct histogram_options {
  std::string name{};
  std::string help{};
  std::vector<std::string> labels{};
  std::vector<double> buckets = default_buckets();
  std::size_t max_series = kDefaultMaxSeries;
};

class registry final : public collector {
 public:
  registry() = default;
  registry(const registry&) = delete;
  registry& operator=(const registry&) = delete;

  // The process-wide default registry.
  static registry& global();

  result<counter_family*> add_counter(counter_options o);
  result<gauge_family*> add_gauge(gauge_options o);
  result<histogram_family*> add_histogram(histogram_options o);

  // Adds a collector; CONFLICT when one of its described names is taken.
  result<void> add_collector(std::shared_ptr<const collector> c);

  // The family registered under `name` (a counter's name without `_total`),
  // or null when there is none of that type. The family lives as long as
  // the registry or the last holder of the pointer.
  std::shared_ptr<counter_family> find_counter(std::string_view name) const;
  std::shared_ptr<gauge_family> find_gauge(std::string_view name) const;
  std::shared_ptr<histogram_family> find_histogram(std::string_view name) const;

  // generation
  //
  // Changes whenever a family or a child series is added (never goes back),
  // so a reader that bound to the registry's series knows when to look again.
  std::uint64_t generation() const noexcept { return changes_->load(std::memory_order_acquire); }

  // Every family name, in registration order.
  std::vector<std::string> describe() const override;
  // Every family, in registration order.
  void collect(metric_sink& out) const override;

 private:
  using family_ptr = std::variant<std::shared_ptr<counter_family>, std::shared_ptr<gauge_family>,
                                  std::shared_ptr<histogram_family>>;
  template <class M, class O>
  result<family<M>*> add_family(O o, metric_type type, typename M::config config,
                                const std::vector<double>* buckets);

  template <class M>
  std::shared_ptr<family<M>> find_family(std::string_view name) const;

  const std::shared_ptr<std::atomic<std::uint64_t>> changes_ =
      std::make_shared<std::atomic<std::uint64_t>>(1);
  mutable std::shared_mutex mu_;
  std::vector<std::shared_ptr<const collector>> order_;
  std::unordered_map<std::string, family_ptr> families_;
  std::unordered_map<std::string, const collector*> owner_;  // every exposed family name
};

}  // namespace keel::metrics
