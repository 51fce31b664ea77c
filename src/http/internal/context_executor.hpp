// An executor adaptor that makes a connection's context slot current
// around every function it executes: each resumption of a request's
// coroutine goes through the coroutine's executor, so the request's
// keel::context is current after every co_await, on whichever thread.
//
// It forwards every query and requirement to the wrapped executor, so it
// fits in asio::any_io_executor (24 bytes: the inner executor and a
// pointer) and inlines on the I/O thread exactly as the inner one does.
#pragma once

#include <type_traits>
#include <utility>

#include <boost/asio/execution.hpp>
#include <boost/asio/query.hpp>
#include <boost/asio/require.hpp>

#include "keel/core/context.hpp"

namespace keel::http::detail {

template <class Inner>
class context_executor {
 public:
  context_executor(Inner inner, const context_ptr* slot) noexcept
      : inner_(std::move(inner)), slot_(slot) {}

  template <class P>
  auto query(const P& p) const noexcept
      -> decltype(boost::asio::query(std::declval<const Inner&>(), p)) {
    return boost::asio::query(inner_, p);
  }

  template <class P>
  auto require(const P& p) const -> context_executor<
      std::decay_t<decltype(boost::asio::require(std::declval<const Inner&>(), p))>> {
    return {boost::asio::require(inner_, p), slot_};
  }

  template <class F>
  void execute(F&& f) const {
    inner_.execute([slot = slot_, fn = std::forward<F>(f)]() mutable {
      context_slot_scope scope(slot);
      std::move(fn)();
    });
  }

  friend bool operator==(const context_executor& a, const context_executor& b) noexcept {
    return a.inner_ == b.inner_ && a.slot_ == b.slot_;
  }
  friend bool operator!=(const context_executor& a, const context_executor& b) noexcept {
    return !(a == b);
  }

 private:
  template <class>
  friend class context_executor;
  Inner inner_;
  const context_ptr* slot_;
};

}  // namespace keel::http::detail
