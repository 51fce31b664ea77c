#include "keel/log/registry.hpp"

#include <map>
#include <memory>
#include <mutex>

#include "keel/core/json_writer.hpp"

namespace keel::log {
namespace detail {

namespace {
std::string json_literal(std::string_view s) {
  std::string out;
  append_json_string(out, s);
  return out;
}
}  // namespace

logger_entry::logger_entry(std::string n) : name(std::move(n)), json_name(json_literal(name)) {}

bool sample_keep(logger_entry& e, level l, std::uint64_t stamp, std::uint8_t flags) noexcept {
  const std::uint32_t first = e.sample_first.load(std::memory_order_relaxed);
  const auto li = static_cast<std::size_t>(l);
  if (first == 0 || li >= 3) return true;
  sampler_state& s = e.sampler[li];
  const std::int64_t second = stamp_second(stamp, flags);
  std::int64_t w = s.window.load(std::memory_order_relaxed);
  // A new second: the thread that moves the window resets the count. Under
  // contention a few extra lines may pass around the boundary.
  if (w != second && s.window.compare_exchange_strong(w, second, std::memory_order_relaxed)) {
    s.count.store(0, std::memory_order_relaxed);
  }
  const std::uint64_t n = s.count.fetch_add(1, std::memory_order_relaxed);
  if (n < first) return true;
  const std::uint32_t m = e.sample_thereafter.load(std::memory_order_relaxed);
  if (m != 0 && (n + 1 - first) % m == 0) return true;
  e.sampled_out.fetch_add(1, std::memory_order_relaxed);
  return false;
}

}  // namespace detail

namespace {

constexpr std::size_t kMaxName = 128;

bool valid_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
         c == '.' || c == '-';
}

bool is_clean(std::string_view name) {
  if (name.size() > kMaxName) return false;
  for (char c : name) {
    if (!valid_char(c)) return false;
  }
  return true;
}

std::string sanitize(std::string_view name) {
  std::string s(name.substr(0, kMaxName));
  for (char& c : s) {
    if (!valid_char(c)) c = '_';
  }
  return s;
}

struct registry {
  std::mutex mu;
  std::map<std::string, std::unique_ptr<detail::logger_entry>, std::less<>> entries;
  std::map<std::string, level, std::less<>> levels{{"", level::info}};
  std::map<std::string, sampling, std::less<>> samplings;

  // The value for the nearest dotted ancestor-or-self of `name` in `m`.
  template <class M>
  static const typename M::mapped_type* nearest(const M& m, std::string_view name) {
    for (;;) {
      if (auto it = m.find(name); it != m.end()) return &it->second;
      if (name.empty()) return nullptr;
      const auto dot = name.rfind('.');
      name = dot == std::string_view::npos ? std::string_view{} : name.substr(0, dot);
    }
  }

  void apply(detail::logger_entry& e) {
    const level* l = nearest(levels, e.name);
    e.min_level.store(static_cast<std::uint8_t>(l ? *l : level::info), std::memory_order_relaxed);
    const sampling* s = nearest(samplings, e.name);
    // thereafter before first: a reader seeing first != 0 sees a matching m.
    e.sample_thereafter.store(s ? s->thereafter : 0, std::memory_order_relaxed);
    e.sample_first.store(s ? s->first : 0, std::memory_order_relaxed);
  }
  void apply_all() {
    for (auto& [name, e] : entries)
      apply(*e);
  }
};

registry& reg() {
  // Never destroyed: queued records point at entries until the very end.
  static registry* r = new registry;
  return *r;
}

}  // namespace

detail::logger_entry& detail::entry_for(std::string_view name) {
  registry& r = reg();
  std::lock_guard lock(r.mu);
  std::string clean;
  if (!is_clean(name)) {
    clean = sanitize(name);
    name = clean;
  }
  if (auto it = r.entries.find(name); it != r.entries.end()) return *it->second;
  auto e = std::make_unique<detail::logger_entry>(std::string(name));
  r.apply(*e);
  auto& ref = *e;
  r.entries.emplace(std::string(name), std::move(e));
  return ref;
}

void set_level(std::string_view name, level l) {
  registry& r = reg();
  std::lock_guard lock(r.mu);
  r.levels.insert_or_assign(sanitize(name), l);
  r.apply_all();
}

void clear_level(std::string_view name) {
  registry& r = reg();
  std::lock_guard lock(r.mu);
  const std::string n = sanitize(name);
  if (n.empty()) return;  // the root keeps its level
  if (auto it = r.levels.find(n); it != r.levels.end()) r.levels.erase(it);
  r.apply_all();
}

level effective_level(std::string_view name) {
  registry& r = reg();
  std::lock_guard lock(r.mu);
  const level* l = registry::nearest(r.levels, sanitize(name));
  return l ? *l : level::info;
}

void set_sampling(std::string_view name, sampling s) {
  registry& r = reg();
  std::lock_guard lock(r.mu);
  r.samplings.insert_or_assign(sanitize(name), s);
  r.apply_all();
}

void clear_sampling(std::string_view name) {
  registry& r = reg();
  std::lock_guard lock(r.mu);
  if (auto it = r.samplings.find(sanitize(name)); it != r.samplings.end()) r.samplings.erase(it);
  r.apply_all();
}

std::vector<logger_info> loggers() {
  registry& r = reg();
  std::lock_guard lock(r.mu);
  std::vector<logger_info> out;
  out.reserve(r.entries.size());
  for (const auto& [name, e] : r.entries) {
    logger_info i;
    i.name = name;
    i.effective = static_cast<level>(e->min_level.load(std::memory_order_relaxed));
    if (auto it = r.levels.find(name); it != r.levels.end()) i.explicit_level = it->second;
    if (const sampling* s = registry::nearest(r.samplings, name)) i.effective_sampling = *s;
    i.sampled_out = e->sampled_out.load(std::memory_order_relaxed);
    out.push_back(std::move(i));
  }
  return out;
}

std::uint64_t sampled_out_total() {
  registry& r = reg();
  std::lock_guard lock(r.mu);
  std::uint64_t n = 0;
  for (const auto& [name, e] : r.entries)
    n += e->sampled_out.load(std::memory_order_relaxed);
  return n;
}

}  // namespace keel::log

#include "log/internal/registry.hpp"

namespace keel::log::internal {

void reset_registry(level root, const std::vector<logger_config>& loggers) {
  registry& r = reg();
  std::lock_guard lock(r.mu);
  r.levels.clear();
  r.samplings.clear();
  r.levels.emplace("", root);
  for (const auto& l : loggers) {
    if (l.min_level) r.levels.insert_or_assign(sanitize(l.name), *l.min_level);
    if (l.sample) r.samplings.insert_or_assign(sanitize(l.name), *l.sample);
  }
  r.apply_all();
}

}  // namespace keel::log::internal
