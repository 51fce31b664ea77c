#include "keel/http/rate_limit.hpp"

#include <algorithm>
#include <bit>
#include <cmath>

#include "keel/core/error.hpp"

namespace keel::http {
namespace {

constexpr std::size_t probe_length = 8;

std::uint32_t to_ms(keel::clock::steady_time t) noexcept {
  const auto ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
  return static_cast<std::uint32_t>(static_cast<std::uint64_t>(ms));
}

std::uint64_t pack(std::uint32_t ms, std::uint32_t milli) noexcept {
  return (static_cast<std::uint64_t>(ms) << 32) | milli;
}

// Keys are hashes; 0 marks an empty slot, so a key of 0 is remapped.
std::uint64_t nonzero(std::uint64_t key) noexcept { return key == 0 ? 0x9e3779b97f4a7c15ull : key; }

}  // namespace

token_bucket_table::token_bucket_table(const rate_limit_options& o) {
  if (!(o.requests_per_second > 0) || !(o.burst >= 1) || o.burst > 4'000'000.0 ||
      o.requests_per_second > 4'000'000.0 || o.slots == 0 || o.slots > (std::size_t{1} << 26)) {
    throw keel::exception(keel::error(codes::configuration_error, "invalid rate limit options"));
  }
  const std::size_t n = std::bit_ceil(std::max<std::size_t>(o.slots, probe_length));
  table_ = std::make_unique<slot[]>(n);
  mask_ = n - 1;
  milli_per_ms_ = o.requests_per_second;  // r tokens/s = r milli-tokens/ms
  burst_milli_ = static_cast<std::uint32_t>(o.burst * 1000.0);
}

bool token_bucket_table::try_acquire(std::uint64_t raw_key, keel::clock::steady_time now,
                                     std::chrono::milliseconds& retry_after) noexcept {
  const std::uint64_t key = nonzero(raw_key);
  const std::uint32_t now_ms = to_ms(now);
  // Mix so neighbouring keys spread over the table.
  const std::uint64_t h = (key ^ (key >> 29)) * 0xbf58476d1ce4e5b9ull;
  slot* found = nullptr;
  slot* oldest = nullptr;
  std::uint32_t oldest_idle = 0;
  for (std::size_t i = 0; i < probe_length; ++i) {
    slot& s = table_[(h + i) & mask_];
    std::uint64_t k = s.key.load(std::memory_order_acquire);
    if (k == 0) {
      // Claim the empty slot with a full bucket; losing the race to another
      // key means looking on.
      std::uint64_t expected = 0;
      s.state.store(pack(now_ms, burst_milli_), std::memory_order_relaxed);
      if (s.key.compare_exchange_strong(expected, key, std::memory_order_acq_rel)) {
        found = &s;
        break;
      }
      k = expected;
    }
    if (k == key) {
      found = &s;
      break;
    }
    const auto idle =
        now_ms - static_cast<std::uint32_t>(s.state.load(std::memory_order_relaxed) >> 32);
    if (oldest == nullptr || idle > oldest_idle) {
      oldest = &s;
      oldest_idle = idle;
    }
  }
  if (found == nullptr) {
    // Every probed slot belongs to someone else: take over the idlest.
    oldest->state.store(pack(now_ms, burst_milli_), std::memory_order_relaxed);
    oldest->key.store(key, std::memory_order_release);
    found = oldest;
  }

  std::uint64_t cur = found->state.load(std::memory_order_relaxed);
  while (true) {
    const auto last_ms = static_cast<std::uint32_t>(cur >> 32);
    auto tokens = static_cast<std::uint32_t>(cur);
    const std::uint32_t elapsed = now_ms - last_ms;  // modular: wraps after 49 days
    std::uint32_t stamp = last_ms;
    const double add = static_cast<double>(elapsed) * milli_per_ms_;
    if (add >= 1.0) {
      const double total =
          std::min(static_cast<double>(tokens) + add, static_cast<double>(burst_milli_));
      tokens = static_cast<std::uint32_t>(total);
      stamp = now_ms;
    }
    if (tokens < 1000) {
      const double missing = static_cast<double>(1000 - tokens);
      retry_after =
          std::chrono::milliseconds(static_cast<std::int64_t>(std::ceil(missing / milli_per_ms_)));
      if (stamp != last_ms) {
        // Keep the refill even when refusing, so time is not counted twice.
        found->state.compare_exchange_weak(cur, pack(stamp, tokens), std::memory_order_relaxed);
      }
      return false;
    }
    if (found->state.compare_exchange_weak(cur, pack(stamp, tokens - 1000),
                                           std::memory_order_relaxed)) {
      return true;
    }
  }
}

rate_limit::rate_limit(const rate_limit_options& options)
    : table_(options), tag_mask_(options.tag_mask), clock_(options.clock) {}

result<next_step> rate_limit::before(exchange& ex) {
  const route* r = ex.matched();
  if (r == nullptr || (r->tags & tag_mask_) == 0) return next_step::proceed;
  const keel::clock& c = clock_ != nullptr ? *clock_ : ex.clock();
  std::chrono::milliseconds wait{0};
  if (table_.try_acquire(ex.client_key(), c.steady_now(), wait)) return next_step::proceed;
  rejected_.fetch_add(1, std::memory_order_relaxed);
  return fail(
      keel::error(codes::rate_limited, "per-client rate limit exceeded").with_retry_after(wait));
}

}  // namespace keel::http
