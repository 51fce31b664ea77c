#include "keel/metrics/registry.hpp"

#include <algorithm>
#include <mutex>
#include <set>

#include "keel/metrics/names.hpp"

namespace keel::metrics {
namespace {

std::unexpected<error> conflict(const std::string& name, std::string_view why) {
  return fail(
      error(codes::conflict, "metric '" + name + "' is already registered " + std::string(why))
          .with_detail("name", name));
}

}  // namespace

registry& registry::global() {
  static registry* r = new registry();  // never destroyed: handles outlive main
  return *r;
}

template <class M, class O>
result<family<M>*> registry::add_family(O o, metric_type type, typename M::config config,
                                        const std::vector<double>* buckets) {
  if (auto v = validate_metric_name(o.name, type); !v) return fail(v.error());
  if (auto v = validate_help(o.help); !v) return fail(v.error());
  if (o.labels.size() > kMaxLabels) {
    return fail(codes::validation_error, "metric '" + o.name + "' has more than 16 labels");
  }
  std::set<std::string_view> seen;
  for (const auto& l : o.labels) {
    if (auto v = validate_label_name(l); !v) return fail(v.error());
    if (!seen.insert(l).second) {
      return fail(codes::validation_error, "metric '" + o.name + "' repeats label " + l);
    }
  }
  if (o.max_series == 0) return fail(codes::validation_error, "max_series must be positive");
  std::string name = o.name;
  if (type == metric_type::counter && name.ends_with("_total")) name.resize(name.size() - 6);

  std::unique_lock lock(mu_);
  if (auto it = families_.find(name); it != families_.end()) {
    auto* existing = std::get_if<std::shared_ptr<family<M>>>(&it->second);
    if (existing == nullptr) return conflict(name, "with another type");
    family<M>& f = **existing;
    if (f.label_names() != o.labels) return conflict(name, "with other labels");
    if (f.help() != o.help) return conflict(name, "with another help text");
    if constexpr (std::is_same_v<M, histogram>) {
      if (buckets != nullptr && *f.config().bounds != *buckets) {
        return conflict(name, "with other buckets");
      }
    }
    return &f;
  }
  if (owner_.contains(name)) return conflict(name, "by a collector");
  auto f = std::make_shared<family<M>>(name, std::move(o.help), type, std::move(o.labels),
                                       std::move(config), o.max_series, changes_);
  families_.emplace(name, f);
  owner_.emplace(name, f.get());
  order_.push_back(f);
  changes_->fetch_add(1, std::memory_order_release);
  return f.get();
}

result<counter_family*> registry::add_counter(counter_options o) {
  return add_family<counter>(std::move(o), metric_type::counter, counter::config{}, nullptr);
}

result<gauge_family*> registry::add_gauge(gauge_options o) {
  return add_family<gauge>(std::move(o), metric_type::gauge, gauge::config{}, nullptr);
}

result<histogram_family*> registry::add_histogram(histogram_options o) {
  if (auto v = validate_buckets(o.buckets); !v) return fail(v.error());
  auto bounds = std::make_shared<const std::vector<double>>(o.buckets);
  return add_family<histogram>(std::move(o), metric_type::histogram, histogram::config{bounds},
                               bounds.get());
}

result<void> registry::add_collector(std::shared_ptr<const collector> c) {
  if (!c) return fail(codes::validation_error, "null collector");
  const std::vector<std::string> names = c->describe();
  std::unique_lock lock(mu_);
  if (std::find(order_.begin(), order_.end(), c) != order_.end()) return ok();
  for (const auto& n : names) {
    if (owner_.contains(n)) return conflict(n, "(collector describes a taken name)");
  }
  for (const auto& n : names)
    owner_.emplace(n, c.get());
  order_.push_back(std::move(c));
  return ok();
}

template <class M>
std::shared_ptr<family<M>> registry::find_family(std::string_view name) const {
  std::shared_lock lock(mu_);
  auto it = families_.find(std::string(name));
  if (it == families_.end()) return nullptr;
  auto* f = std::get_if<std::shared_ptr<family<M>>>(&it->second);
  return f != nullptr ? *f : nullptr;
}

std::shared_ptr<counter_family> registry::find_counter(std::string_view name) const {
  return find_family<counter>(name);
}

std::shared_ptr<gauge_family> registry::find_gauge(std::string_view name) const {
  return find_family<gauge>(name);
}

std::shared_ptr<histogram_family> registry::find_histogram(std::string_view name) const {
  return find_family<histogram>(name);
}

std::vector<std::string> registry::describe() const {
  std::shared_lock lock(mu_);
  std::vector<std::string> out;
  for (const auto& c : order_) {
    auto names = c->describe();
    out.insert(out.end(), names.begin(), names.end());
  }
  return out;
}

void registry::collect(metric_sink& out) const {
  std::shared_lock lock(mu_);
  for (const auto& c : order_)
    c->collect(out);
}

}  // namespace keel::metrics
