// keel/core/context.hpp
//
// request_context carries the identity of the work a thread is doing — the
// request id, the W3C trace context, the user and free key/values — so that
// every log line, error report and outbound call made while serving a
// request carries the same ids without passing them through every function.
//
//   keel::context_scope request({.request_id = keel::accept_request_id(hdr),
//                                .trace = keel::trace_context::generate()});
//   ...
//   {
//     keel::context_scope user({.user_id = "u-42", .fields = {{"order", "1001"}}});
//     log.info("charging");           // request_id, trace and user_id, order=1001
//   }                                 // back to the outer context
//
//   // Carry it to another thread or a callback:
//   pool.post(keel::bind_context([] { log.info("still request 7f3d…"); }));
//
// A context_scope makes a context current on the calling thread until the
// scope ends; nested scopes merge (ids and user replace when given, fields
// add, the inner value winning on equal keys). Scopes are strictly nested:
// never let one span a co_await, since the coroutine may resume on another
// thread — capture the context before suspending and bind it to the
// continuation (bind_context, or keel::http's coroutine support).
//
// Thread safety: the current context is per thread. A request_context is
// immutable once shared (context_ptr is a pointer to const); reading it from
// many threads is safe.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "keel/core/ids.hpp"
#include "keel/core/trace_context.hpp"

namespace keel {

struct request_context {
  ::keel::request_id request_id{};  // empty when unknown
  trace_context trace{};            // !trace.is_valid() when absent
  std::string user_id{};            // empty when anonymous
  std::vector<std::pair<std::string, std::string>> fields{};

  // The value of field `key`, or nullptr.
  const std::string* field(std::string_view key) const noexcept;
};

using context_ptr = std::shared_ptr<const request_context>;

// The context current on this thread, or nullptr. No allocation, no lock.
const request_context* current_context() noexcept;

// A shared handle to the current context (nullptr when none), to carry to
// another thread or past a suspension point.
context_ptr capture_context() noexcept;

// context_scope
//
// RAII: makes a context current on this thread; the destructor restores the
// one before. Neither copyable nor movable, and must end on the thread (and
// in the reverse order) it began.
class context_scope {
 public:
  // Makes `ctx` current as it is (nullptr: no context).
  explicit context_scope(context_ptr ctx) noexcept;
  // Makes current the current context merged with `overlay`.
  explicit context_scope(const request_context& overlay);
  ~context_scope();

  context_scope(const context_scope&) = delete;
  context_scope& operator=(const context_scope&) = delete;

  const context_ptr& context() const noexcept { return ctx_; }

 private:
  context_ptr ctx_;
  const context_ptr* previous_;
};

// context_slot_scope
//
// RAII like context_scope, but current is whatever `*slot` holds at each
// moment: the slot's owner may replace the context and code running under
// the scope sees the new one at once, with no reference count moving. An
// executor that wraps every resumption of a coroutine in a slot scope
// (keel::http does, per connection) makes the request's context current
// after every co_await. The slot must outlive the scope.
class context_slot_scope {
 public:
  explicit context_slot_scope(const context_ptr* slot) noexcept;
  ~context_slot_scope();

  context_slot_scope(const context_slot_scope&) = delete;
  context_slot_scope& operator=(const context_slot_scope&) = delete;

 private:
  const context_ptr* previous_;
};

// The merge context_scope(overlay) performs, for code that builds contexts
// without making them current.
context_ptr merge_context(const request_context* base, const request_context& overlay);

// bind_context
//
// Wraps `f` so that it runs under the context current now, wherever and
// whenever it is invoked.
template <class F>
auto bind_context(F&& f) {
  return [ctx = capture_context(),
          fn = std::forward<F>(f)]<class... A>(A&&... args) mutable -> decltype(auto) {
    context_scope scope(ctx);
    return fn(std::forward<A>(args)...);
  };
}

}  // namespace keel
