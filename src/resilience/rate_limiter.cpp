#include "keel/resilience/rate_limiter.hpp"

#include <algorithm>
#include <cmath>
#include <functional>
#include <limits>

namespace keel::resilience {

result<void> rate_limiter_config::validate() const {
  const auto bad = [](const char* m) { return fail(codes::configuration_error, m); };
  if (name.size() > 128) return bad("rate_limiter.name is longer than 128");
  if (!std::isfinite(rate_per_second) || rate_per_second <= 0 || rate_per_second > 1e9) {
    return bad("rate_limiter.rate_per_second must be in (0, 1e9]");
  }
  if (burst < 1 || burst > 1'000'000) return bad("rate_limiter.burst must be in [1, 1000000]");
  if (max_keys < 1 || max_keys > 10'000'000)
    return bad("rate_limiter.max_keys must be in [1, 1e7]");
  if (max_key_length < 1 || max_key_length > 4096) {
    return bad("rate_limiter.max_key_length must be in [1, 4096]");
  }
  return ok();
}

namespace {
rate_limiter_config checked(rate_limiter_config c) {
  if (auto v = c.validate(); !v) throw keel::exception(v.error());
  return c;
}

std::int64_t ns(clock::steady_time t) noexcept {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch()).count();
}

keel::error limited(const rate_limiter_config& c, event_listener* l, const clock& k,
                    clock::duration wait) {
  detail::publish(
      l, {.kind = event_kind::rate_limited, .name = c.name, .at = k.steady_now(), .delay = wait});
  return keel::error(codes::rate_limited, "rate limit of '" + c.name + "' reached")
      .with_detail("limiter", c.name)
      .with_retry_after(std::chrono::ceil<std::chrono::milliseconds>(wait));
}
}  // namespace

gcra::gcra(double rate_per_second, std::uint32_t burst) noexcept
    : interval_ns_(std::max<std::int64_t>(1, std::llround(1e9 / rate_per_second))),
      tolerance_ns_(interval_ns_ * static_cast<std::int64_t>(burst)) {}

clock::duration gcra::try_take(std::atomic<std::int64_t>& state,
                               clock::steady_time now_tp) const noexcept {
  const std::int64_t now = ns(now_tp);
  std::int64_t tat = state.load(std::memory_order_relaxed);
  for (;;) {
    const std::int64_t next = std::max(tat, now) + interval_ns_;
    if (next - now > tolerance_ns_) return clock::duration(next - now - tolerance_ns_);
    if (state.compare_exchange_weak(tat, next, std::memory_order_relaxed))
      return clock::duration::zero();
  }
}

rate_limiter::rate_limiter(rate_limiter_config config, const clock& c)
    : config_(checked(std::move(config))),
      clock_(c),
      listener_(config_.listener.get()),
      bucket_(config_.rate_per_second, config_.burst) {}

result<void> rate_limiter::try_acquire() {
  const auto wait = bucket_.try_take(clock_.steady_now());
  if (wait == clock::duration::zero()) return ok();
  return fail(limited(config_, listener_, clock_, wait));
}

// One shard: a map from key to its bucket and its place in the LRU list.
struct keyed_rate_limiter::shard {
  struct entry;
  using lru_list = std::list<std::string>;
  struct entry {
    std::unique_ptr<token_bucket> bucket;
    lru_list::iterator lru;
  };
  struct hash {
    using is_transparent = void;
    std::size_t operator()(std::string_view s) const noexcept {
      return std::hash<std::string_view>{}(s);
    }
  };
  std::mutex mu;
  std::unordered_map<std::string, entry, hash, std::equal_to<>> map;
  lru_list lru;  // front: most recently used
};

keyed_rate_limiter::keyed_rate_limiter(rate_limiter_config config, const clock& c)
    : config_(checked(std::move(config))),
      clock_(c),
      listener_(config_.listener.get()),
      per_shard_((config_.max_keys + kShards - 1) / kShards),
      shards_(std::make_unique<shard[]>(kShards)) {}

keyed_rate_limiter::~keyed_rate_limiter() = default;

result<void> keyed_rate_limiter::try_acquire(std::string_view key) {
  if (key.size() > config_.max_key_length) {
    return fail(keel::error(codes::validation_error, "rate limit key is too long")
                    .with_detail("max_key_length", config_.max_key_length));
  }
  const std::size_t h = std::hash<std::string_view>{}(key);
  shard& s = shards_[(h >> 7) % kShards];
  clock::duration wait{};
  {
    std::lock_guard lock(s.mu);
    auto it = s.map.find(key);
    if (it == s.map.end()) {
      if (s.map.size() >= per_shard_) {
        s.map.erase(s.lru.back());
        s.lru.pop_back();
      }
      s.lru.emplace_front(key);
      it = s.map
               .emplace(s.lru.front(), shard::entry{std::make_unique<token_bucket>(
                                                        config_.rate_per_second, config_.burst),
                                                    s.lru.begin()})
               .first;
    } else if (it->second.lru != s.lru.begin()) {
      s.lru.splice(s.lru.begin(), s.lru, it->second.lru);
    }
    wait = it->second.bucket->try_take(clock_.steady_now());
  }
  if (wait == clock::duration::zero()) return ok();
  return fail(limited(config_, listener_, clock_, wait));
}

std::size_t keyed_rate_limiter::size() const {
  std::size_t n = 0;
  for (std::size_t i = 0; i < kShards; ++i) {
    std::lock_guard lock(shards_[i].mu);
    n += shards_[i].map.size();
  }
  return n;
}

}  // namespace keel::resilience
