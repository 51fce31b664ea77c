#include "keel/alert/series.hpp"

#include <algorithm>

namespace keel::alert {

histogram_series::histogram_series(std::string name, label_set labels, std::vector<double> bounds)
    : name_(std::move(name)), labels_(std::move(labels)), bounds_(std::move(bounds)) {
  std::sort(bounds_.begin(), bounds_.end());
  bounds_.erase(std::unique(bounds_.begin(), bounds_.end()), bounds_.end());
  buckets_ = std::make_unique<std::atomic<std::uint64_t>[]>(bounds_.size() + 1);
}

void histogram_series::observe(double v) noexcept {
  // Prometheus buckets are "less than or equal": v lands in the first bound >= v.
  const auto i = static_cast<std::size_t>(std::lower_bound(bounds_.begin(), bounds_.end(), v) -
                                          bounds_.begin());
  buckets_[i].fetch_add(1, std::memory_order_relaxed);
  sum_.fetch_add(v, std::memory_order_relaxed);
  count_.fetch_add(1, std::memory_order_relaxed);
}

void histogram_series::read_histogram(histogram_snapshot& out) const {
  out.upper_bounds.assign(bounds_.begin(), bounds_.end());
  out.cumulative.resize(bounds_.size() + 1);
  std::uint64_t acc = 0;
  for (std::size_t i = 0; i <= bounds_.size(); ++i) {
    acc += buckets_[i].load(std::memory_order_relaxed);
    out.cumulative[i] = acc;
  }
  out.count = acc;
  out.sum = sum_.load(std::memory_order_relaxed);
}

std::shared_ptr<series> series_table::find_or_add(std::string_view name, label_set labels,
                                                  series_kind kind, std::vector<double> bounds) {
  std::string key(name);
  key.push_back('\0');
  key += labels.to_string();
  key.push_back(static_cast<char>('0' + static_cast<int>(kind)));
  std::lock_guard lock(mu_);
  if (auto it = by_key_.find(key); it != by_key_.end()) return it->second;
  auto& list = by_name_[std::string(name)];
  std::shared_ptr<series> s;
  if (kind == series_kind::histogram) {
    s = std::make_shared<histogram_series>(std::string(name), std::move(labels), std::move(bounds));
  } else {
    s = std::make_shared<value_series>(kind, std::string(name), std::move(labels));
  }
  list.push_back(s);
  by_key_.emplace(std::move(key), s);
  generation_.fetch_add(1, std::memory_order_acq_rel);
  return s;
}

std::shared_ptr<value_series> series_table::counter(std::string_view name, label_set labels) {
  return std::static_pointer_cast<value_series>(
      find_or_add(name, std::move(labels), series_kind::counter, {}));
}

std::shared_ptr<value_series> series_table::gauge(std::string_view name, label_set labels) {
  return std::static_pointer_cast<value_series>(
      find_or_add(name, std::move(labels), series_kind::gauge, {}));
}

std::shared_ptr<histogram_series> series_table::histogram(std::string_view name, label_set labels,
                                                          std::vector<double> upper_bounds) {
  return std::static_pointer_cast<histogram_series>(
      find_or_add(name, std::move(labels), series_kind::histogram, std::move(upper_bounds)));
}

void series_table::remove(std::string_view name, const label_set& labels) {
  std::lock_guard lock(mu_);
  auto it = by_name_.find(std::string(name));
  if (it == by_name_.end()) return;
  const auto n = std::erase_if(it->second, [&](const auto& s) { return s->labels() == labels; });
  std::erase_if(by_key_, [&](const auto& kv) {
    return kv.second->name() == name && kv.second->labels() == labels;
  });
  if (n > 0) generation_.fetch_add(1, std::memory_order_acq_rel);
}

void series_table::select(std::string_view name,
                          std::vector<std::shared_ptr<const series>>& out) const {
  std::lock_guard lock(mu_);
  auto it = by_name_.find(std::string(name));
  if (it == by_name_.end()) return;
  out.insert(out.end(), it->second.begin(), it->second.end());
}

std::size_t series_table::size() const {
  std::lock_guard lock(mu_);
  std::size_t n = 0;
  for (const auto& [k, v] : by_name_)
    n += v.size();
  return n;
}

}  // namespace keel::alert
