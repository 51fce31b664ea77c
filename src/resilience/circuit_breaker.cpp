#include "keel/resilience/circuit_breaker.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>

namespace keel::resilience {
namespace {

constexpr std::uint64_t make_word(breaker_state s, std::uint64_t epoch) noexcept {
  return (epoch << 8) | static_cast<std::uint64_t>(s);
}
constexpr std::uint64_t epoch_of(std::uint64_t w) noexcept { return w >> 8; }

bool rate_ok(double r) noexcept { return std::isfinite(r) && r > 0 && r <= 1; }

std::int64_t ns(clock::steady_time t) noexcept {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch()).count();
}

}  // namespace

bool default_breaker_failure(const keel::error& e) noexcept {
  return e.category() == category::transient || e.category() == category::systemic;
}

bool default_breaker_ignore(const keel::error& e) noexcept { return e == codes::cancelled; }

result<void> circuit_breaker_config::validate() const {
  const auto bad = [](std::string m) { return fail(codes::configuration_error, std::move(m)); };
  if (name.size() > 128) return bad("circuit_breaker.name is longer than 128");
  if (!rate_ok(failure_rate_threshold)) {
    return bad("circuit_breaker.failure_rate_threshold must be in (0, 1]");
  }
  if (!rate_ok(slow_call_rate_threshold)) {
    return bad("circuit_breaker.slow_call_rate_threshold must be in (0, 1]");
  }
  if (slow_call_duration < clock::duration::zero() || slow_call_duration > std::chrono::hours(24)) {
    return bad("circuit_breaker.slow_call_duration must be in [0, 24h]");
  }
  if (window == window_kind::count_based && (window_size < 1 || window_size > 100'000)) {
    return bad("circuit_breaker.window_size must be in [1, 100000] calls");
  }
  if (window == window_kind::time_based && (window_size < 1 || window_size > 600)) {
    return bad("circuit_breaker.window_size must be in [1, 600] seconds");
  }
  if (minimum_calls < 1) return bad("circuit_breaker.minimum_calls must be >= 1");
  if (wait_in_open <= clock::duration::zero() || wait_in_open > std::chrono::hours(24)) {
    return bad("circuit_breaker.wait_in_open must be in (0, 24h]");
  }
  if (permitted_calls_in_half_open < 1 || permitted_calls_in_half_open > 10'000) {
    return bad("circuit_breaker.permitted_calls_in_half_open must be in [1, 10000]");
  }
  if (stripes < 1 || stripes > 64 || !std::has_single_bit(stripes)) {
    return bad("circuit_breaker.stripes must be a power of two in [1, 64]");
  }
  return ok();
}

nlohmann::ordered_json to_json(const breaker_snapshot& s) {
  nlohmann::ordered_json j;
  j["name"] = s.name;
  j["state"] = std::string(to_string(s.state));
  j["failure_rate"] = s.failure_rate;
  j["slow_call_rate"] = s.slow_call_rate;
  j["buffered_calls"] = s.buffered_calls;
  j["failed_calls"] = s.failed_calls;
  j["slow_calls"] = s.slow_calls;
  j["rejected_calls"] = s.rejected_calls;
  j["time_in_state_ms"] =
      std::chrono::duration_cast<std::chrono::milliseconds>(s.time_in_state).count();
  return j;
}

namespace {
circuit_breaker_config checked(circuit_breaker_config c) {
  if (auto v = c.validate(); !v) throw keel::exception(v.error());
  return c;
}
}  // namespace

circuit_breaker::circuit_breaker(circuit_breaker_config config, const clock& c)
    : config_(checked(std::move(config))),
      clock_(c),
      listener_(config_.listener.get()),
      timed_(config_.slow_call_duration > clock::duration::zero()),
      count_based_(config_.window == window_kind::count_based),
      window_(config_.window_size),
      fastmod_m_(std::numeric_limits<std::uint64_t>::max() / config_.window_size + 1),
      effective_min_(count_based_ ? std::min(config_.minimum_calls, config_.window_size)
                                  : config_.minimum_calls),
      stripe_mask_(config_.stripes - 1),
      word_(make_word(breaker_state::closed, 0)) {
  if (count_based_) {
    // line 0: position; then the failure bitmap, then the slow bitmap, each
    // padded to whole lines (512 slots per line).
    const std::uint32_t bitmap_lines = (window_ + 511) / 512;
    fail_line_ = 1;
    slow_line_ = 1 + bitmap_lines;
    lines_per_stripe_ = 1 + 2 * bitmap_lines;
  } else {
    fail_line_ = slow_line_ = 0;
    lines_per_stripe_ = (window_ + 1) / 2;  // two 32-byte buckets per line
  }
  lines_per_stripe_ += lines_per_stripe_ & 1;  // whole 128-byte pairs
  const std::size_t n = static_cast<std::size_t>(lines_per_stripe_) * config_.stripes;
  storage_ = std::make_unique<line[]>(n + 1);
  lines_ = storage_.get();
  if (reinterpret_cast<std::uintptr_t>(lines_) % 128 != 0) ++lines_;
  clear_window();
  const std::int64_t now = ns(clock_.steady_now());
  state_since_.store(now, std::memory_order_relaxed);
}

circuit_breaker::~circuit_breaker() = default;

result<std::unique_ptr<circuit_breaker>> circuit_breaker::create(circuit_breaker_config config,
                                                                 const clock& c) {
  if (auto v = config.validate(); !v) return fail(v.error());
  return std::make_unique<circuit_breaker>(std::move(config), c);
}

void circuit_breaker::clear_window() noexcept {
  const std::size_t n = static_cast<std::size_t>(lines_per_stripe_) * config_.stripes;
  for (std::size_t i = 0; i < n; ++i) {
    for (auto& w : lines_[i].w)
      w.store(0, std::memory_order_relaxed);
  }
  pending_.store(false, std::memory_order_relaxed);
}

circuit_breaker::totals circuit_breaker::scan() const noexcept {
  totals t;
  if (count_based_) {
    const std::uint32_t words = (window_ + 63) / 64;
    for (std::uint32_t s = 0; s < config_.stripes; ++s) {
      const line* base = lines_ + static_cast<std::size_t>(s) * lines_per_stripe_;
      t.calls += std::min<std::uint64_t>(base[0].w[0].load(std::memory_order_relaxed), window_);
      for (std::uint32_t k = 0; k < words; ++k) {
        t.failed += static_cast<std::uint64_t>(
            std::popcount(base[fail_line_ + (k >> 3)].w[k & 7].load(std::memory_order_relaxed)));
        t.slow += static_cast<std::uint64_t>(
            std::popcount(base[slow_line_ + (k >> 3)].w[k & 7].load(std::memory_order_relaxed)));
      }
    }
  } else {
    const std::int64_t now = ns(clock_.steady_now()) / 1'000'000'000;
    for (std::uint32_t s = 0; s < config_.stripes; ++s) {
      const line* base = lines_ + static_cast<std::size_t>(s) * lines_per_stripe_;
      for (std::uint32_t b = 0; b < window_; ++b) {
        const std::atomic<std::uint64_t>* bucket = &base[b >> 1].w[(b & 1) * 4];
        const auto e = static_cast<std::int64_t>(bucket[0].load(std::memory_order_acquire));
        if (e > now - static_cast<std::int64_t>(window_) && e <= now) {
          t.calls += bucket[1].load(std::memory_order_relaxed);
          t.failed += bucket[2].load(std::memory_order_relaxed);
          t.slow += bucket[3].load(std::memory_order_relaxed);
        }
      }
    }
  }
  // A racing recorder may have set a bit before advancing its count; never
  // report more failures than calls.
  t.failed = std::min(t.failed, t.calls);
  t.slow = std::min(t.slow, t.calls);
  return t;
}

void circuit_breaker::evaluate_closed(std::uint64_t w) noexcept {
  const totals t = scan();
  if (t.calls < effective_min_) {
    pending_.store(t.failed + t.slow > 0, std::memory_order_relaxed);
    return;
  }
  pending_.store(false, std::memory_order_relaxed);
  const double calls = static_cast<double>(t.calls);
  if (static_cast<double>(t.failed) / calls >= config_.failure_rate_threshold) {
    transition(w, breaker_state::open, "failure_rate");
  } else if (timed_ && static_cast<double>(t.slow) / calls >= config_.slow_call_rate_threshold) {
    transition(w, breaker_state::open, "slow_call_rate");
  }
}

void circuit_breaker::record_half_open(std::uint64_t w, bool failed, bool slow) noexcept {
  if (word_.load(std::memory_order_acquire) != w) return;  // the trial's state has ended
  // Outcomes first, then the count: whoever completes the deciding trial
  // sees every outcome counted before it (acq_rel on the count).
  if (failed) ho_failed_.fetch_add(1, std::memory_order_relaxed);
  if (slow) ho_slow_.fetch_add(1, std::memory_order_relaxed);
  const std::uint32_t done = ho_calls_.fetch_add(1, std::memory_order_acq_rel) + 1;
  ho_inflight_.fetch_sub(1, std::memory_order_acq_rel);
  if (done < config_.permitted_calls_in_half_open) return;
  const double n = static_cast<double>(done);
  if (static_cast<double>(ho_failed_.load(std::memory_order_acquire)) / n >=
      config_.failure_rate_threshold) {
    transition(w, breaker_state::open, "half_open_failure_rate");
  } else if (timed_ && static_cast<double>(ho_slow_.load(std::memory_order_acquire)) / n >=
                           config_.slow_call_rate_threshold) {
    transition(w, breaker_state::open, "half_open_slow_call_rate");
  } else {
    transition(w, breaker_state::closed, "half_open_succeeded");
  }
}

void circuit_breaker::on_error(const permit& p, const keel::error& e,
                               clock::duration elapsed) noexcept {
  const breaker_state s = state_of(p.word_);
  if (s != breaker_state::closed && s != breaker_state::half_open) return;
  const bool ignored = config_.ignore ? config_.ignore(e) : default_breaker_ignore(e);
  if (ignored) {
    // Counted neither way, but a trial must give its slot back.
    if (s == breaker_state::half_open && word_.load(std::memory_order_acquire) == p.word_) {
      ho_inflight_.fetch_sub(1, std::memory_order_acq_rel);
    }
    return;
  }
  const bool failed =
      config_.record_failure ? config_.record_failure(e) : default_breaker_failure(e);
  const bool slow = timed_ && elapsed >= config_.slow_call_duration;
  if (listener_ != nullptr && (failed || slow)) {
    listener_->on_event({.kind = failed ? event_kind::breaker_failure_recorded
                                        : event_kind::breaker_slow_call_recorded,
                         .name = config_.name,
                         .at = clock_.steady_now(),
                         .elapsed = elapsed,
                         .error = &e,
                         .to = s});
  }
  if (s == breaker_state::closed) {
    record_closed(p.word_, failed, slow);
  } else {
    record_half_open(p.word_, failed, slow);
  }
}

result<circuit_breaker::permit> circuit_breaker::acquire_slow(std::uint64_t w) {
  for (int round = 0; round < 4; ++round) {
    const breaker_state s = state_of(w);
    switch (s) {
      case breaker_state::closed:
      case breaker_state::disabled:
        return permit(w);
      case breaker_state::forced_open:
        return fail(rejection(s, clock::duration::zero()));
      case breaker_state::open: {
        const std::int64_t now = ns(clock_.steady_now());
        const std::int64_t until =
            opened_at_.load(std::memory_order_acquire) + config_.wait_in_open.count();
        if (now < until) return fail(rejection(s, clock::duration(until - now)));
        transition(w, breaker_state::half_open, "wait_in_open_elapsed");
        break;  // look again: we or another thread moved it on
      }
      case breaker_state::half_open: {
        const std::uint32_t n = ho_inflight_.fetch_add(1, std::memory_order_acq_rel);
        if (n < config_.permitted_calls_in_half_open &&
            word_.load(std::memory_order_acquire) == w) {
          return permit(w);
        }
        ho_inflight_.fetch_sub(1, std::memory_order_acq_rel);
        return fail(rejection(s, clock::duration::zero()));
      }
    }
    w = word_.load(std::memory_order_acquire);
  }
  return fail(rejection(state_of(w), clock::duration::zero()));
}

keel::error circuit_breaker::rejection(breaker_state s, clock::duration left) {
  rejected_.fetch_add(1, std::memory_order_relaxed);
  detail::publish(listener_, {.kind = event_kind::breaker_rejected,
                              .name = config_.name,
                              .at = clock_.steady_now(),
                              .delay = left,
                              .to = s});
  keel::error e(codes::circuit_open,
                "circuit breaker '" + config_.name + "' is " + std::string(to_string(s)));
  e.with_detail("breaker", config_.name).with_detail("state", std::string(to_string(s)));
  if (left > clock::duration::zero()) {
    // Rounded up: retrying after a truncated wait would be rejected again.
    e.with_retry_after(std::chrono::ceil<std::chrono::milliseconds>(left));
  }
  return e;
}

bool circuit_breaker::transition(std::uint64_t from, breaker_state to,
                                 std::string_view reason) noexcept {
  {
    std::lock_guard lock(transition_mu_);
    if (word_.load(std::memory_order_acquire) != from) return false;
    const std::int64_t now = ns(clock_.steady_now());
    if (to == breaker_state::closed) clear_window();
    if (to == breaker_state::half_open) {
      ho_inflight_.store(0, std::memory_order_relaxed);
      ho_calls_.store(0, std::memory_order_relaxed);
      ho_failed_.store(0, std::memory_order_relaxed);
      ho_slow_.store(0, std::memory_order_relaxed);
    }
    if (to == breaker_state::open) opened_at_.store(now, std::memory_order_release);
    state_since_.store(now, std::memory_order_relaxed);
    word_.store(make_word(to, epoch_of(from) + 1), std::memory_order_release);
  }
  detail::publish(listener_, {.kind = event_kind::breaker_state_changed,
                              .name = config_.name,
                              .at = clock_.steady_now(),
                              .from = state_of(from),
                              .to = to,
                              .reason = reason});
  return true;
}

void circuit_breaker::force(breaker_state to, std::string_view reason) noexcept {
  for (;;) {
    const std::uint64_t w = word_.load(std::memory_order_acquire);
    if (to != breaker_state::closed && state_of(w) == to) return;
    // A window is cleared on every manual move, so counting restarts fresh.
    if (to != breaker_state::closed) {
      std::lock_guard lock(transition_mu_);
      clear_window();
    }
    if (transition(w, to, reason)) return;
  }
}

void circuit_breaker::reset() { force(breaker_state::closed, "manual_reset"); }
void circuit_breaker::force_open() { force(breaker_state::forced_open, "manual_force_open"); }
void circuit_breaker::disable() { force(breaker_state::disabled, "manual_disable"); }

breaker_snapshot circuit_breaker::snapshot() const {
  breaker_snapshot s;
  s.name = config_.name;
  const std::uint64_t w = word_.load(std::memory_order_acquire);
  s.state = state_of(w);
  if (s.state == breaker_state::half_open) {
    s.buffered_calls = ho_calls_.load(std::memory_order_acquire);
    s.failed_calls = ho_failed_.load(std::memory_order_acquire);
    s.slow_calls = ho_slow_.load(std::memory_order_acquire);
  } else {
    const totals t = scan();
    s.buffered_calls = t.calls;
    s.failed_calls = t.failed;
    s.slow_calls = t.slow;
  }
  if (s.buffered_calls > 0) {
    s.failure_rate = static_cast<double>(s.failed_calls) / static_cast<double>(s.buffered_calls);
    s.slow_call_rate = static_cast<double>(s.slow_calls) / static_cast<double>(s.buffered_calls);
  }
  s.rejected_calls = rejected_.load(std::memory_order_relaxed);
  s.time_in_state =
      clock::duration(ns(clock_.steady_now()) - state_since_.load(std::memory_order_relaxed));
  return s;
}

}  // namespace keel::resilience
