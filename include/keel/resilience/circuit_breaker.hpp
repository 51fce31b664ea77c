// keel/resilience/circuit_breaker.hpp
//
// circuit_breaker stops calling a dependency that keeps failing, so the
// failure does not spread. It counts outcomes in a sliding window; when the
// failure rate (or slow-call rate) reaches its threshold after a minimum
// number of calls, it opens and rejects calls with CIRCUIT_OPEN for
// `wait_in_open`, then lets a few trial calls through (half-open) and closes
// again if they succeed, or reopens if they do not.
//
//   auto payments = keel::resilience::breakers().get_or_create("payments", {
//       .failure_rate_threshold = 0.5, .minimum_calls = 20,
//       .wait_in_open = 30s}).value();
//   keel::result<receipt> r = payments->call([&] { return gateway.charge(order); });
//
// Which outcomes count: an error is ignored (counted neither way) when
// `ignore` says so (default: CANCELLED, the caller gave up); otherwise it is a
// failure when `record_failure` says so (default: categories transient and
// systemic — the dependency's fault) and a success otherwise (a validation
// or business error proves the dependency answered). With a slow-call
// duration set, a call lasting at least that long is also counted slow.
//
// Windows. count_based keeps the outcomes of the last `window_size` calls;
// time_based the calls of the last `window_size` seconds in one-second
// buckets. So that threads do not contend on one cache line, the window is
// striped: each thread records into one of `stripes` stripes, each holding
// the last `window_size` calls (count-based) of the threads mapped to it, and
// the rates are taken over all stripes. With one thread (or a breaker used
// from one stripe) the count window is exact; with several, the rates cover
// between window_size and stripes * window_size of the most recent calls.
// Thresholds are evaluated when a call fails or is slow, and on a success
// while the window is still below its minimum but holds failures (so that
// reaching `minimum_calls` can open the breaker); a breaker never opens on a
// success otherwise. Threshold met exactly opens (rate >= threshold).
//
// Half-open admits at most `permitted_calls_in_half_open` concurrent trial
// calls (the next is rejected) and decides once that many trials have
// completed: failure or slow rate at or above its threshold reopens, else
// it closes with an empty window. An outcome that arrives after the state it
// was admitted in has ended is dropped.
//
// Thread safety: all member functions may be called concurrently.
// Cost: a closed-state call takes no lock and allocates nothing: one load of
// the state, one relaxed fetch_add on the calling thread's stripe and two
// loads (bench/bench_resilience.cpp, BM_Breaker_Call). Time-based windows and
// slow-call tracking add a clock read per call.
#pragma once

#include <atomic>
#include <bit>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>

#include <nlohmann/json.hpp>

#include "keel/core/clock.hpp"
#include "keel/core/random.hpp"
#include "keel/core/result.hpp"
#include "keel/resilience/events.hpp"

namespace keel::resilience {

// window_kind — what the sliding window counts: calls or seconds.
enum class window_kind : std::uint8_t { count_based, time_based };

// circuit_breaker_config
//
// Defaults follow resilience4j, except that calls are not timed unless
// slow_call_duration is set (a clock read costs more than the rest of the
// closed path).
struct circuit_breaker_config {
  std::string name{};
  // Open when failed / calls >= this, in (0, 1].
  double failure_rate_threshold = 0.5;
  // Open when slow / calls >= this, in (0, 1]; used when slow_call_duration > 0.
  double slow_call_rate_threshold = 1.0;
  // A call lasting at least this is slow; zero: calls are not timed.
  clock::duration slow_call_duration{0};
  window_kind window = window_kind::count_based;
  // Calls (count_based, 1..100000) or seconds (time_based, 1..600).
  std::uint32_t window_size = 100;
  // Rates are not acted on before this many calls are in the window (a
  // count window caps it at window_size).
  std::uint32_t minimum_calls = 100;
  clock::duration wait_in_open = std::chrono::seconds(60);
  // Concurrent trial calls in half-open, and how many decide (1..10000).
  std::uint32_t permitted_calls_in_half_open = 10;
  // Empty: default_breaker_failure (transient or systemic).
  std::function<bool(const keel::error&)> record_failure{};
  // Empty: default_breaker_ignore (CANCELLED).
  std::function<bool(const keel::error&)> ignore{};
  // Power of two in [1, 64].
  std::uint32_t stripes = 4;
  std::shared_ptr<event_listener> listener{};

  result<void> validate() const;
};

bool default_breaker_failure(const keel::error& e) noexcept;
bool default_breaker_ignore(const keel::error& e) noexcept;

// breaker_snapshot
//
// What an admin endpoint shows for one breaker. Rates are over the current
// window (the trial calls, in half-open); 0 when it is empty.
struct breaker_snapshot {
  std::string name{};
  breaker_state state = breaker_state::closed;
  double failure_rate = 0;
  double slow_call_rate = 0;
  std::uint64_t buffered_calls = 0;
  std::uint64_t failed_calls = 0;
  std::uint64_t slow_calls = 0;
  std::uint64_t rejected_calls = 0;  // since creation
  clock::duration time_in_state{};
};

// {"name","state","failure_rate","slow_call_rate","buffered_calls",
//  "failed_calls","slow_calls","rejected_calls","time_in_state_ms"}
nlohmann::ordered_json to_json(const breaker_snapshot& s);

class circuit_breaker {
 public:
  // Throws keel::exception (CONFIGURATION_ERROR) when config is not valid.
  explicit circuit_breaker(circuit_breaker_config config, const clock& c = clock::real());
  static result<std::unique_ptr<circuit_breaker>> create(circuit_breaker_config config,
                                                         const clock& c = clock::real());
  ~circuit_breaker();
  circuit_breaker(const circuit_breaker&) = delete;
  circuit_breaker& operator=(const circuit_breaker&) = delete;

  // Runs f (returning T or result<T>, or throwing) when the breaker admits
  // it; CIRCUIT_OPEN (with retry_after when known) when it does not.
  template <class F>
  auto call(F&& f) -> decltype(keel::try_call(f));

  // The admission token of one call; pass it back to on_success/on_error.
  class permit {
   public:
    permit() = default;

   private:
    friend class circuit_breaker;
    explicit permit(std::uint64_t w) noexcept : word_(w) {}
    std::uint64_t word_ = 0;
  };

  // The two halves of call(), for runners that cannot wrap a callable
  // (asio.hpp, pipelines across callbacks). Every admitted permit must be
  // completed exactly once.
  result<permit> acquire();
  void on_success(const permit& p, clock::duration elapsed = {}) noexcept;
  void on_error(const permit& p, const keel::error& e, clock::duration elapsed = {}) noexcept;
  // True when calls must be timed (slow-call tracking is on).
  bool times_calls() const noexcept { return timed_; }
  const keel::clock& time_source() const noexcept { return clock_; }

  breaker_state state() const noexcept { return state_of(word_.load(std::memory_order_acquire)); }
  breaker_snapshot snapshot() const;
  const std::string& name() const noexcept { return config_.name; }
  const circuit_breaker_config& config() const noexcept { return config_; }

  // Manual control (the admin API). reset: closed with an empty window.
  // force_open: reject everything until reset. disable: admit and count
  // nothing until reset.
  void reset();
  void force_open();
  void disable();

 private:
  struct alignas(64) line {
    std::atomic<std::uint64_t> w[8];
  };
  struct totals {
    std::uint64_t calls = 0;
    std::uint64_t failed = 0;
    std::uint64_t slow = 0;
  };

  static breaker_state state_of(std::uint64_t w) noexcept {
    return static_cast<breaker_state>(w & 0xff);
  }
  static std::uint32_t stripe_index() noexcept;

  result<permit> acquire_slow(std::uint64_t w);
  void record_closed(std::uint64_t w, bool failed, bool slow) noexcept;
  void record_half_open(std::uint64_t w, bool failed, bool slow) noexcept;
  void evaluate_closed(std::uint64_t w) noexcept;
  totals scan() const noexcept;
  void clear_window() noexcept;
  bool transition(std::uint64_t from, breaker_state to, std::string_view reason) noexcept;
  void force(breaker_state to, std::string_view reason) noexcept;
  keel::error rejection(breaker_state s, clock::duration left);
  std::uint32_t fastmod(std::uint32_t a) const noexcept {
    const std::uint64_t low = fastmod_m_ * a;
    return static_cast<std::uint32_t>((static_cast<keel::uint128_t>(low) * window_) >> 64);
  }

  circuit_breaker_config config_;
  const clock& clock_;
  event_listener* listener_;
  bool timed_;
  bool count_based_;
  std::uint32_t window_;     // calls or buckets
  std::uint64_t fastmod_m_;  // Lemire's constant for % window_
  std::uint32_t effective_min_;
  std::uint32_t stripe_mask_;
  std::uint32_t lines_per_stripe_;
  std::uint32_t fail_line_;  // first line of the failure bitmap in a stripe
  std::uint32_t slow_line_;

  // Read on every call; written on transitions only.
  alignas(64) std::atomic<std::uint64_t> word_;  // state | epoch << 8
  std::atomic<bool> pending_{false};             // failures in a window below its minimum
  // Written on rejections and in half-open.
  alignas(64) std::atomic<std::uint64_t> rejected_{0};
  std::atomic<std::uint32_t> ho_inflight_{0};
  std::atomic<std::uint32_t> ho_calls_{0};
  std::atomic<std::uint32_t> ho_failed_{0};
  std::atomic<std::uint32_t> ho_slow_{0};
  std::atomic<std::int64_t> opened_at_{0};    // steady ns
  std::atomic<std::int64_t> state_since_{0};  // steady ns
  std::mutex transition_mu_;
  std::unique_ptr<line[]> storage_;
  // storage_ aligned to 128 bytes: stripes start on a pair of lines, so the
  // adjacent-line prefetcher never pairs one stripe's line with another's.
  line* lines_ = nullptr;
};

// ---------------------------------------------------------------------------

inline std::uint32_t circuit_breaker::stripe_index() noexcept {
  // 0 means "not yet assigned"; threads get consecutive stripes, so two busy
  // threads never share one while stripes >= threads.
  static constinit std::atomic<std::uint32_t> next{1};
  constinit thread_local std::uint32_t mine = 0;
  if (mine == 0) [[unlikely]]
    mine = next.fetch_add(1, std::memory_order_relaxed);
  return mine;
}

inline result<circuit_breaker::permit> circuit_breaker::acquire() {
  const std::uint64_t w = word_.load(std::memory_order_acquire);
  const breaker_state s = state_of(w);
  if (s == breaker_state::closed || s == breaker_state::disabled) [[likely]]
    return permit(w);
  return acquire_slow(w);
}

inline void circuit_breaker::record_closed(std::uint64_t w, bool failed, bool slow) noexcept {
  if (word_.load(std::memory_order_relaxed) != w) return;  // admitted in an earlier state
  line* base = lines_ + static_cast<std::size_t>(stripe_index() & stripe_mask_) * lines_per_stripe_;
  if (count_based_) {
    const std::uint64_t pos = base[0].w[0].fetch_add(1, std::memory_order_relaxed);
    const std::uint32_t i = fastmod(static_cast<std::uint32_t>(pos));
    const std::uint64_t bit = std::uint64_t{1} << (i & 63);
    std::atomic<std::uint64_t>& fw = base[fail_line_ + (i >> 9)].w[(i >> 6) & 7];
    std::atomic<std::uint64_t>& sw = base[slow_line_ + (i >> 9)].w[(i >> 6) & 7];
    // Only touch a bitmap word when the bit changes: on the all-success path
    // both words are read-only.
    if (failed) {
      fw.fetch_or(bit, std::memory_order_relaxed);
    } else if (fw.load(std::memory_order_relaxed) & bit) {
      fw.fetch_and(~bit, std::memory_order_relaxed);
    }
    if (slow) {
      sw.fetch_or(bit, std::memory_order_relaxed);
    } else if (sw.load(std::memory_order_relaxed) & bit) {
      sw.fetch_and(~bit, std::memory_order_relaxed);
    }
  } else {
    const std::int64_t epoch = clock_.steady_now().time_since_epoch().count() / 1'000'000'000;
    const std::uint32_t b = static_cast<std::uint32_t>(epoch % window_);
    std::atomic<std::uint64_t>* bucket = &base[b >> 1].w[(b & 1) * 4];
    std::uint64_t seen = bucket[0].load(std::memory_order_acquire);
    if (seen != static_cast<std::uint64_t>(epoch) && seen < static_cast<std::uint64_t>(epoch) &&
        bucket[0].compare_exchange_strong(seen, static_cast<std::uint64_t>(epoch),
                                          std::memory_order_acq_rel)) {
      // Recycling a bucket from an older second; an increment racing with
      // this reset may be lost (an estimate, never a drift).
      bucket[1].store(0, std::memory_order_relaxed);
      bucket[2].store(0, std::memory_order_relaxed);
      bucket[3].store(0, std::memory_order_relaxed);
    }
    bucket[1].fetch_add(1, std::memory_order_relaxed);
    if (failed) bucket[2].fetch_add(1, std::memory_order_relaxed);
    if (slow) bucket[3].fetch_add(1, std::memory_order_relaxed);
  }
  if (failed || slow || pending_.load(std::memory_order_relaxed)) evaluate_closed(w);
}

inline void circuit_breaker::on_success(const permit& p, clock::duration elapsed) noexcept {
  const bool slow = timed_ && elapsed >= config_.slow_call_duration;
  switch (state_of(p.word_)) {
    case breaker_state::closed:
      record_closed(p.word_, false, slow);
      break;
    case breaker_state::half_open:
      record_half_open(p.word_, false, slow);
      break;
    default:
      break;
  }
}

template <class F>
auto circuit_breaker::call(F&& f) -> decltype(keel::try_call(f)) {
  auto p = acquire();
  if (!p) [[unlikely]]
    return fail(std::move(p.error()));
  const clock::steady_time t0 = timed_ ? clock_.steady_now() : clock::steady_time{};
  auto r = keel::try_call(f);
  const clock::duration elapsed = timed_ ? clock_.steady_now() - t0 : clock::duration{};
  if (r.has_value()) [[likely]] {
    on_success(*p, elapsed);
  } else {
    on_error(*p, r.error(), elapsed);
  }
  return r;
}

}  // namespace keel::resilience
