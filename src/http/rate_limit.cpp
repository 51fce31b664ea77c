#include "keel/http/rate_limit.hpp"

#include <algorithm>
#include <bit>
#include <cmath>

#include "keel/core/error.hpp"

namespace keel::http {
namespace {

constexpr std::size_t probe_length = 8;

// Keys are hashes; 0 marks an empty slot, so a key of 0 is remapped.
std::uint64_t nonzero(std::uint64_t key) noexcept { return key == 0 ? 0x9e3779b97f4a7c15ull : key; }

const rate_limit_options& checked(const rate_limit_options& o) {
  if (!(o.requests_per_second > 0) || !(o.burst >= 1) || o.burst > 4'000'000.0 ||
      o.requests_per_second > 4'000'000.0 || o.slots == 0 || o.slots > (std::size_t{1} << 26)) {
    throw keel::exception(keel::error(codes::configuration_error, "invalid rate limit options"));
  }
  return o;
}

}  // namespace

token_bucket_table::token_bucket_table(const rate_limit_options& o)
    : token_bucket_table(checked(o), std::bit_ceil(std::max<std::size_t>(o.slots, probe_length))) {}

token_bucket_table::token_bucket_table(const rate_limit_options& o, std::size_t n)
    : table_(std::make_unique<slot[]>(n)),
      mask_(n - 1),
      rule_(o.requests_per_second, static_cast<std::uint32_t>(std::floor(o.burst))) {}

bool token_bucket_table::try_acquire(std::uint64_t raw_key, keel::clock::steady_time now,
                                     std::chrono::milliseconds& retry_after) noexcept {
  const std::uint64_t key = nonzero(raw_key);
  // Mix so neighbouring keys spread over the table.
  const std::uint64_t h = (key ^ (key >> 29)) * 0xbf58476d1ce4e5b9ull;
  slot* found = nullptr;
  slot* idlest = nullptr;
  std::int64_t idlest_state = 0;
  for (std::size_t i = 0; i < probe_length; ++i) {
    slot& s = table_[(h + i) & mask_];
    std::uint64_t k = s.key.load(std::memory_order_acquire);
    if (k == 0) {
      // Claim the empty slot with a full bucket; losing the race to another
      // key means looking on.
      std::uint64_t expected = 0;
      s.bucket.store(keel::resilience::gcra::full, std::memory_order_relaxed);
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
    // The bucket whose theoretical arrival time is oldest has been full
    // longest: its client has been idle longest.
    const auto state = s.bucket.load(std::memory_order_relaxed);
    if (idlest == nullptr || state < idlest_state) {
      idlest = &s;
      idlest_state = state;
    }
  }
  if (found == nullptr) {
    // Every probed slot belongs to someone else: take over the idlest.
    idlest->bucket.store(keel::resilience::gcra::full, std::memory_order_relaxed);
    idlest->key.store(key, std::memory_order_release);
    found = idlest;
  }
  const auto wait = rule_.try_take(found->bucket, now);
  if (wait == keel::clock::duration::zero()) return true;
  retry_after =
      std::max(std::chrono::milliseconds(1), std::chrono::ceil<std::chrono::milliseconds>(wait));
  return false;
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
