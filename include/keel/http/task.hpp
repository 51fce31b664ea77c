// keel/http/task.hpp
//
// task<T> is the coroutine type of asynchronous handlers: a handler that
// waits (a timer, a call on a worker thread, an outbound request) returns
// task<void> and co_awaits without holding its I/O thread.
//
//   router.get("/simulate/slow", [](keel::http::request&, keel::http::response& res)
//                                    -> keel::http::task<void> {
//     co_await keel::http::sleep_for(std::chrono::seconds(2));
//     res.set_text("done");
//   });
//
//   keel::http::worker_pool pool(4);                  // blocking work goes here
//   router.post("/api/v1/events", [&](auto& req, auto& res) -> keel::http::task<void> {
//     auto ids = co_await pool.run([&] { return store.insert(req.body()); });  // SQLite
//     res.set_json(ids, 202);
//   });
//
// Request context across suspension. The request's keel::context is current
// on every resumption of its coroutine, whatever thread the resumption runs
// on: each connection's coroutine runs on an executor that makes the
// connection's context slot current around every handler it executes
// (keel::context_slot_scope). worker_pool::run carries the context to the
// worker thread (keel::bind_context). So every log line written while
// serving a request carries its request_id, also after a co_await.
// Do not co_spawn detached work on a request's executor: it would outlive
// the connection whose context slot it points at; use a worker_pool or
// keel::bind_context instead.
//
// task<T> is boost::asio::awaitable<T>; handlers only co_await, so they need
// none of Asio beyond this header.
//
// Thread safety: worker_pool::run may be called from any request.
// Cost: a suspension allocates a coroutine frame from Asio's per-thread
// recycling allocator (no malloc in steady state).
#pragma once

#include <chrono>
#include <exception>
#include <type_traits>
#include <utility>

#include <optional>

#include <boost/asio/associated_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "keel/core/context.hpp"

namespace keel::http {

// task<T>
//
// The coroutine type handlers return when they suspend.
template <class T = void>
using task = boost::asio::awaitable<T>;

// Suspends the calling request for `d` without blocking its I/O thread.
task<void> sleep_for(std::chrono::nanoseconds d);

// worker_pool
//
// Threads for blocking work (disk, SQLite, libcurl), which must never run on
// an I/O thread. run() executes `f` on a worker under the caller's context
// and resumes the caller on its own I/O thread with the result (or the
// exception f threw).
class worker_pool {
 public:
  explicit worker_pool(unsigned threads);
  ~worker_pool();  // waits for queued work, then joins
  worker_pool(const worker_pool&) = delete;
  worker_pool& operator=(const worker_pool&) = delete;

  template <class F>
  task<std::invoke_result_t<F&>> run(F f) {
    using R = std::invoke_result_t<F&>;
    using boost::asio::use_awaitable;
    if constexpr (std::is_void_v<R>) {
      co_await boost::asio::async_initiate<decltype(use_awaitable), void(std::exception_ptr)>(
          [this](auto handler, auto fn) { submit(std::move(handler), std::move(fn)); },
          use_awaitable, keel::bind_context(std::move(f)));
    } else {
      std::optional<R> value =
          co_await boost::asio::async_initiate<decltype(use_awaitable),
                                               void(std::exception_ptr, std::optional<R>)>(
              [this](auto handler, auto fn) { submit(std::move(handler), std::move(fn)); },
              use_awaitable, keel::bind_context(std::move(f)));
      co_return std::move(*value);
    }
  }

  // Finishes queued work and joins the threads; run() after join() is an error.
  void join();

 private:
  // Runs fn on the pool, then hands its outcome to `handler` on the
  // handler's own executor (the request's I/O thread and context).
  template <class Handler, class Fn>
  void submit(Handler handler, Fn fn) {
    auto work = boost::asio::make_work_guard(boost::asio::get_associated_executor(handler));
    boost::asio::post(pool_, [handler = std::move(handler), fn = std::move(fn),
                              work = std::move(work)]() mutable {
      using R = std::invoke_result_t<Fn&>;
      std::exception_ptr failure;
      if constexpr (std::is_void_v<R>) {
        try {
          fn();
        } catch (...) {
          failure = std::current_exception();
        }
        boost::asio::post(work.get_executor(), [handler = std::move(handler), failure]() mutable {
          std::move(handler)(failure);
        });
      } else {
        std::optional<R> value;
        try {
          value.emplace(fn());
        } catch (...) {
          failure = std::current_exception();
        }
        boost::asio::post(work.get_executor(), [handler = std::move(handler), failure,
                                                value = std::move(value)]() mutable {
          std::move(handler)(failure, std::move(value));
        });
      }
      work.reset();
    });
  }

  boost::asio::thread_pool pool_;
};

}  // namespace keel::http
