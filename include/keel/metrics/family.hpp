// keel/metrics/family.hpp
//
// family<M> is one metric name with a fixed list of label names and one
// child metric M (counter, gauge, histogram) per combination of label
// values. Families are made by a registry (registry.hpp); children are
// looked up once and then used through the returned reference.
//
//   keel::metrics::family<keel::metrics::counter>* f = registry.add_counter({
//       .name = "jobs_total", .help = "Jobs run.", .labels = {"queue", "result"}}).value();
//   keel::metrics::counter& done = f->labels("emails", "ok");   // look up once...
//   done.inc();                                                 // ...increment forever
//
//   auto c = f->try_labels({"emails"});   // VALIDATION_ERROR: 1 value for 2 labels
//
// Children are never removed, so references stay valid for the family's
// lifetime (the registry's). A family holds at most `max_series` children:
// label values from outside input cannot grow memory without bound; past
// the limit try_labels() fails with RESOURCE_EXHAUSTED.
//
// Thread safety: all member functions may be called concurrently.
// Cost: a lookup takes the family mutex and hashes the values (no
// allocation when the child exists; BM_Counter_LabelLookupInc); creating a
// child allocates. Never look up on a hot path that could hold the handle.
#pragma once

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "keel/core/error.hpp"
#include "keel/core/result.hpp"
#include "keel/metrics/collector.hpp"
#include "keel/metrics/detail/cells.hpp"
#include "keel/metrics/names.hpp"

namespace keel::metrics {

template <class M>
class family final : public collector {
 public:
  // Use registry::add_counter() and friends; the arguments are validated there.
  family(std::string name, std::string help, metric_type type, std::vector<std::string> label_names,
         typename M::config config, std::size_t max_series,
         std::shared_ptr<std::atomic<std::uint64_t>> changes = {})
      : name_(std::move(name)),
        help_(std::move(help)),
        type_(type),
        label_names_(std::move(label_names)),
        config_(std::move(config)),
        max_series_(max_series),
        changes_(std::move(changes)) {}

  family(const family&) = delete;
  family& operator=(const family&) = delete;

  // The family name, without the `_total` a counter is exposed with.
  const std::string& name() const noexcept { return name_; }
  const std::string& help() const noexcept { return help_; }
  metric_type type() const noexcept { return type_; }
  const std::vector<std::string>& label_names() const noexcept { return label_names_; }
  const typename M::config& config() const noexcept { return config_; }

  // try_labels
  //
  // The child for these label values (one per label name, in order), created
  // on first use. VALIDATION_ERROR for a wrong number of values or a value
  // over kMaxLabelValueBytes; RESOURCE_EXHAUSTED past max_series.
  result<M*> try_labels(std::span<const std::string_view> values) {
    if (values.size() != label_names_.size()) {
      return fail(error(codes::validation_error, "wrong number of label values for " + name_)
                      .with_detail("expected", label_names_.size())
                      .with_detail("got", values.size()));
    }
    std::lock_guard<std::mutex> lock(mu_);
    if (auto it = index_.find(values); it != index_.end()) return &it->second->metric;
    for (std::string_view v : values) {
      if (v.size() > kMaxLabelValueBytes) {
        return fail(codes::validation_error, "label value longer than 1024 bytes for " + name_);
      }
    }
    if (children_.size() >= max_series_) {
      return fail(error(codes::resource_exhausted, "too many series in metric family " + name_)
                      .with_detail("max_series", max_series_));
    }
    return try_call([&]() -> M* {
      std::vector<std::string> owned(values.begin(), values.end());
      std::string rendered;
      render_labels(label_names_, values, rendered);
      auto c = std::make_unique<child>(std::move(owned), std::move(rendered), config_);
      child* raw = c.get();
      children_.push_back(std::move(c));
      try {
        index_.emplace(std::span<const std::string>(raw->values), raw);
      } catch (...) {
        children_.pop_back();
        throw;
      }
      if (changes_) changes_->fetch_add(1, std::memory_order_release);
      return &raw->metric;
    });
  }
  result<M*> try_labels(std::initializer_list<std::string_view> values) {
    return try_labels(std::span<const std::string_view>(values.begin(), values.size()));
  }

  // labels
  //
  // As try_labels, for call sites that cannot go on without the child
  // (start-up wiring): throws keel::exception on failure.
  template <class... V>
  M& labels(const V&... values) {
    const std::array<std::string_view, sizeof...(V)> vs{std::string_view(values)...};
    auto r = try_labels(std::span<const std::string_view>(vs.data(), vs.size()));
    if (!r) throw exception(r.error());
    return **r;
  }

  // Number of children.
  std::size_t size() const {
    std::lock_guard<std::mutex> lock(mu_);
    return children_.size();
  }

  // for_each_child
  //
  // Calls f(std::span<const std::string> label_values, const M& metric) for
  // every child, in creation order, under the family mutex (f must not use
  // this family). For readers that bind to children once and read them
  // later through the reference (keel::alert's metrics_source).
  template <class F>
  void for_each_child(F&& f) const {
    std::lock_guard<std::mutex> lock(mu_);
    for (const auto& c : children_)
      f(std::span<const std::string>(c->values), static_cast<const M&>(c->metric));
  }

  std::vector<std::string> describe() const override { return {name_}; }

  void collect(metric_sink& out) const override {
    std::lock_guard<std::mutex> lock(mu_);
    detail::arena::reader cells;
    out.begin_family({.name = name_, .help = help_, .type = type_});
    for (const auto& c : children_)
      c->metric.collect(c->rendered, out, cells);
    out.end_family();
  }

 private:
  struct child {
    child(std::vector<std::string> v, std::string r, const typename M::config& c)
        : values(std::move(v)), rendered(std::move(r)), metric(c, std::in_place) {}
    std::vector<std::string> values;
    std::string rendered;  // `a="x",b="y"`, escaped once at creation
    M metric;
  };
  // Heterogeneous lookup: stored keys are spans over a child's own strings,
  // probes are spans of string_view, so a hit allocates nothing.
  struct key_hash {
    using is_transparent = void;
    template <class S>
    std::size_t operator()(std::span<S> values) const noexcept {
      std::size_t h = 0x9e3779b97f4a7c15ULL;
      for (const auto& v : values)
        h = (h ^ std::hash<std::string_view>{}(std::string_view(v))) * 0x100000001b3ULL;
      return h;
    }
  };
  struct key_eq {
    using is_transparent = void;
    template <class A, class B>
    bool operator()(std::span<A> a, std::span<B> b) const noexcept {
      if (a.size() != b.size()) return false;
      for (std::size_t i = 0; i < a.size(); ++i) {
        if (std::string_view(a[i]) != std::string_view(b[i])) return false;
      }
      return true;
    }
  };

  const std::string name_;
  const std::string help_;
  const metric_type type_;
  const std::vector<std::string> label_names_;
  const typename M::config config_;
  const std::size_t max_series_;
  // The registry's change count, bumped when a child is created.
  const std::shared_ptr<std::atomic<std::uint64_t>> changes_;
  mutable std::mutex mu_;
  std::vector<std::unique_ptr<child>> children_;
  std::unordered_map<std::span<const std::string>, child*, key_hash, key_eq> index_;
};

}  // namespace keel::metrics
