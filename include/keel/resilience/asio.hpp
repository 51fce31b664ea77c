// keel/resilience/asio.hpp
//
// The resilience policies for Asio C++20 coroutines: co_call(policy, f) and
// co_call(pipeline, f) run `f`, a callable returning
// boost::asio::awaitable<T> or awaitable<result<T>> (or throwing), through
// the same policy objects the synchronous code uses — one breaker per
// service, whichever style calls it.
//
//   namespace kr = keel::resilience;
//   kr::pipeline payments(fallback, retry, *breaker, per_attempt, bulkhead);
//   keel::result<receipt> r = co_await kr::co_call(payments, [&]() -> asio::awaitable<receipt> {
//     co_return co_await gateway.async_charge(order, asio::use_awaitable);
//   });
//
// timeout cancels for real: the call and an Asio steady_timer race
// (awaitable operator ||); when the timer wins, the call's pending operation
// receives Asio's per-operation cancellation (a socket read completes with
// operation_aborted), the call's coroutine unwinds, and only then does
// co_call return TIMEOUT — nothing is left running. The timer runs on real
// time (Asio's steady clock), not on the policy's keel::clock. A coroutine
// does not see this_call::deadline(): thread-local scopes cannot follow a
// coroutine across threads; bound nested calls with their own co_call
// timeouts (or pass the deadline explicitly).
//
// retry waits its backoff on a steady_timer when its clock is the real clock
// (a cancelled wait ends the call with CANCELLED) and through clock::sleep_for
// otherwise (a manual clock in tests). bulkhead and rate_limiter never wait in
// a coroutine: they admit or reject at once (a blocking wait would stall the
// io thread). fault_injection is not offered here for the same reason (its
// latency sleeps).
//
// Thread safety: as the policies. Cost: one coroutine frame per policy layer
// (Asio's recycling allocator makes these cheap but not free).
#pragma once

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <chrono>
#include <exception>
#include <optional>
#include <type_traits>
#include <utility>
#include <variant>

#include "keel/core/result.hpp"
#include "keel/resilience/bulkhead.hpp"
#include "keel/resilience/circuit_breaker.hpp"
#include "keel/resilience/fallback.hpp"
#include "keel/resilience/hedging.hpp"
#include "keel/resilience/pipeline.hpp"
#include "keel/resilience/rate_limiter.hpp"
#include "keel/resilience/retry.hpp"
#include "keel/resilience/timeout.hpp"

namespace keel::resilience {

namespace asio_detail {
template <class A>
struct awaitable_value;
template <class R, class E>
struct awaitable_value<boost::asio::awaitable<R, E>> {
  using type = R;
};
template <class F>
using raw_t = typename awaitable_value<std::remove_cvref_t<std::invoke_result_t<F&>>>::type;
template <class F>
using result_t = result<typename keel::detail::try_call_value<raw_t<F>>::type>;

// co_await f(), with exceptions turned into errors (keel::try_call's rule).
template <class F>
auto co_try(F& f) -> boost::asio::awaitable<result_t<F>> {
  using R = raw_t<F>;
  try {
    if constexpr (std::is_void_v<R>) {
      co_await f();
      co_return keel::ok();
    } else {
      co_return co_await f();
    }
  } catch (...) {
    co_return fail(keel::from_exception_ptr(std::current_exception()));
  }
}
}  // namespace asio_detail

// A policy of the application's own, usable from coroutines by declaring
// co_call(my_policy&, F) in its namespace.

// timeout — races the call against a timer; cancels the loser.
template <class F>
auto co_call(timeout& t, F f) -> boost::asio::awaitable<asio_detail::result_t<F>> {
  using namespace boost::asio::experimental::awaitable_operators;
  using R = asio_detail::result_t<F>;
  const auto start = std::chrono::steady_clock::now();
  boost::asio::steady_timer timer(
      co_await boost::asio::this_coro::executor,
      std::chrono::duration_cast<std::chrono::steady_clock::duration>(t.config().timeout));
  std::variant<R, std::monostate> v =
      co_await (asio_detail::co_try(f) || timer.async_wait(boost::asio::use_awaitable));
  if (v.index() == 0) co_return std::move(std::get<0>(v));
  detail::publish_timeout(t.config(), clock::real(), "asio",
                          std::chrono::steady_clock::now() - start);
  co_return fail(detail::timeout_error(t.config(), "asio"));
}

// retry — backoff on a timer (real clock) or the policy's clock.
template <class F>
auto co_call(retry& r, F f) -> boost::asio::awaitable<asio_detail::result_t<F>> {
  retry::run_state s = r.begin();
  for (std::uint32_t attempt = 1;; ++attempt) {
    auto out = co_await asio_detail::co_try(f);
    if (out.has_value()) {
      if (attempt > 1) r.succeeded_after(attempt);
      co_return out;
    }
    const auto d = r.next_delay(s, attempt, &out.error());
    if (!d) co_return out;
    if (&r.time_source() == &clock::real()) {
      boost::asio::steady_timer timer(
          co_await boost::asio::this_coro::executor,
          std::chrono::duration_cast<std::chrono::steady_clock::duration>(*d));
      auto [ec] = co_await timer.async_wait(boost::asio::as_tuple(boost::asio::use_awaitable));
      if (ec) {
        r.cancelled_during_wait(attempt, out.error());
        co_return fail(keel::error(codes::cancelled, "cancelled during a retry backoff")
                           .with_cause(std::move(out.error())));
      }
    } else {
      r.time_source().sleep_for(*d);
    }
  }
}

namespace asio_detail {
// Completes a breaker permit even when the coroutine frame is destroyed
// without finishing (io_context torn down): as an ignored outcome, so a
// half-open trial slot is given back.
struct permit_guard {
  circuit_breaker& b;
  circuit_breaker::permit p;
  bool done = false;
  ~permit_guard() {
    if (!done) b.on_error(p, keel::error(codes::cancelled, "abandoned coroutine"));
  }
};
struct slot_guard {
  bulkhead& b;
  ~slot_guard() { b.release(); }
};
}  // namespace asio_detail

// circuit_breaker — admission and outcome as in call().
template <class F>
auto co_call(circuit_breaker& b, F f) -> boost::asio::awaitable<asio_detail::result_t<F>> {
  auto p = b.acquire();
  if (!p) co_return fail(std::move(p.error()));
  asio_detail::permit_guard guard{b, *p};
  const bool timed = b.times_calls();
  const clock::steady_time t0 = timed ? b.time_source().steady_now() : clock::steady_time{};
  auto out = co_await asio_detail::co_try(f);
  const clock::duration elapsed = timed ? b.time_source().steady_now() - t0 : clock::duration{};
  guard.done = true;
  if (out.has_value()) {
    b.on_success(*p, elapsed);
  } else {
    b.on_error(*p, out.error(), elapsed);
  }
  co_return out;
}

// bulkhead — admits or rejects at once (no waiting on an io thread).
template <class F>
auto co_call(bulkhead& b, F f) -> boost::asio::awaitable<asio_detail::result_t<F>> {
  if (!b.try_acquire()) {
    co_return fail(keel::error(codes::bulkhead_full, "bulkhead '" + b.name() + "' is full")
                       .with_detail("bulkhead", b.name())
                       .with_detail("reason", "full"));
  }
  asio_detail::slot_guard guard{b};
  co_return co_await asio_detail::co_try(f);
}

// rate_limiter — admits or rejects at once.
template <class F>
auto co_call(rate_limiter& rl, F f) -> boost::asio::awaitable<asio_detail::result_t<F>> {
  if (auto a = rl.try_acquire(); !a) co_return fail(std::move(a.error()));
  co_return co_await asio_detail::co_try(f);
}

// fallback
template <class T, class F>
auto co_call(fallback<T>& fb, F f) -> boost::asio::awaitable<result<T>> {
  co_return fb.recover(co_await asio_detail::co_try(f));
}

namespace asio_detail {
// Thrown inside a hedged attempt that failed, so that awaitable operator ||
// (which waits for the first success) waits for the other attempt.
struct attempt_failed {};
}  // namespace asio_detail

// hedging — a second attempt after the delay; first success wins, the other
// attempt is cancelled.
template <class F>
auto co_call(hedging& h, F f) -> boost::asio::awaitable<asio_detail::result_t<F>> {
  using namespace boost::asio::experimental::awaitable_operators;
  using R = asio_detail::result_t<F>;
  std::optional<R> first_failure;
  std::optional<R> hedge_failure;
  const auto attempt = [&](bool hedge) -> boost::asio::awaitable<R> {
    if (hedge) {
      boost::asio::steady_timer timer(
          co_await boost::asio::this_coro::executor,
          std::chrono::duration_cast<std::chrono::steady_clock::duration>(h.config().delay));
      co_await timer.async_wait(boost::asio::use_awaitable);
      detail::publish(h.config().listener.get(), {.kind = event_kind::hedge_started,
                                                  .name = h.config().name,
                                                  .at = clock::real().steady_now(),
                                                  .attempt = 2,
                                                  .delay = h.config().delay});
    }
    R r = co_await asio_detail::co_try(f);
    if (!r.has_value()) {
      (hedge ? hedge_failure : first_failure).emplace(std::move(r));
      throw asio_detail::attempt_failed{};
    }
    co_return r;
  };
  try {
    std::variant<R, R> v = co_await (attempt(false) || attempt(true));
    co_return std::move(v.index() == 0 ? std::get<0>(v) : std::get<1>(v));
  } catch (...) {
    // Both attempts failed (or the hedge's timer was cancelled after the
    // first attempt failed).
  }
  if (first_failure) co_return std::move(*first_failure);
  if (hedge_failure) co_return std::move(*hedge_failure);
  co_return fail(codes::cancelled, "hedged call cancelled");
}

namespace asio_detail {
template <std::size_t I, class... P, class F>
auto co_run(pipeline<P...>& p, F& f) -> boost::asio::awaitable<result_t<F>> {
  if constexpr (I == sizeof...(P)) {
    co_return co_await co_try(f);
  } else {
    co_return co_await co_call(p.template get<I>(), [&p, &f] { return co_run<I + 1>(p, f); });
  }
}
}  // namespace asio_detail

// pipeline — the same nesting as pipeline::call, outermost first.
template <class... P, class F>
auto co_call(pipeline<P...>& p, F f) -> boost::asio::awaitable<asio_detail::result_t<F>> {
  co_return co_await asio_detail::co_run<0>(p, f);
}

}  // namespace keel::resilience
