// keel/resilience/pipeline.hpp
//
// A pipeline runs a call through several policies in a declared order, the
// first named outermost:
//
//   keel::resilience::pipeline payments(fallback, retry, *breaker, per_attempt, bulkhead);
//   keel::result<receipt> r = payments.call([&] { return gateway.charge(order); });
//
// is fallback(retry(breaker(timeout(bulkhead(call))))). The order is the
// design: a timeout inside the retry bounds each attempt, outside it bounds
// the whole; a breaker inside the retry sees every attempt; a fallback
// outermost replaces whatever is left. Policies given as lvalues (or
// pointers, shared_ptr) are referenced, and must outlive the pipeline;
// rvalues are moved in and owned.
//
// Any type with `template <class F> auto call(F&&)` returning result<T> is a
// policy, so an application's own policy slots in. The callable may return T
// or result<T>, or throw (keel::try_call at the innermost level). For Asio
// coroutines see asio.hpp (co_call over the same policy objects).
//
// Thread safety: as its policies (all of keel's may be shared by threads).
// Cost: the nesting is resolved at compile time into direct calls; a call
// that succeeds allocates nothing unless a policy does (none of keel's on
// that path, except fallback::last_good copying its value).
#pragma once

#include <cstddef>
#include <memory>
#include <tuple>
#include <type_traits>
#include <utility>

#include "keel/core/result.hpp"

namespace keel::resilience {

namespace detail {
template <class P>
decltype(auto) policy_ref(P& p) noexcept {
  if constexpr (std::is_pointer_v<std::remove_cvref_t<P>>) {
    return (*p);
  } else if constexpr (requires {
                         p.get();
                         *p;
                       }) {
    return (*p);
  } else {
    return (p);
  }
}
}  // namespace detail

template <class... P>
class pipeline {
 public:
  template <class... A>
  explicit pipeline(A&&... a) : policies_(std::forward<A>(a)...) {}

  template <class F>
  auto call(F&& f) {
    return run<0>(f);
  }

  // The policy at position I, for inspection.
  template <std::size_t I>
  decltype(auto) get() noexcept {
    return detail::policy_ref(std::get<I>(policies_));
  }

 private:
  template <std::size_t I, class F>
  auto run(F& f) {
    if constexpr (I == sizeof...(P)) {
      return keel::try_call(f);
    } else {
      return detail::policy_ref(std::get<I>(policies_)).call([&] { return run<I + 1>(f); });
    }
  }

  std::tuple<P...> policies_;
};

// Lvalues are held by reference, rvalues by value.
template <class... A>
pipeline(A&&...) -> pipeline<A...>;

}  // namespace keel::resilience
