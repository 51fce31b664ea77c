// keel/http/middleware.hpp
//
// middleware is a layer around every request: before() runs on the way in,
// outermost first; after() runs on the way out, innermost first; on_error()
// lets a layer turn a failure from inside it into a response. A layer is a
// small class:
//
//   class server_timing final : public keel::http::middleware {
//    public:
//     keel::result<keel::http::next_step> before(keel::http::exchange& ex) override {
//       if (ex.req().header("x-forbidden")) return keel::fail(keel::codes::authorization_denied);
//       return keel::http::next_step::proceed;
//     }
//     void after(keel::http::exchange& ex) override { ex.res().set_header("X-Layer", "1"); }
//   };
//   server_config / server::create(..., {std::make_shared<server_timing>()});
//
// The chain behaves like nested calls (an onion), without a coroutine frame
// or std::function per layer and request:
//   - before() of layer i returns proceed (go inward), respond (the layer
//     filled the response: skip the inner layers and the handler), or an
//     error. A thrown exception counts as an error (keel::from_exception).
//   - The handler runs when every before() proceeded.
//   - Going out, every layer whose before() ran — the one that responded
//     included — gets after(), like a `finally`. A failure from inside
//     (handler, an inner before/after) is first offered to on_error(); the
//     layer that renders it (returns true) clears it, so the layers outside
//     see an ordinary response. While a failure is still pending,
//     ex.failure() points at it: an inner layer's after() can tell the
//     response is not final (security headers and X-Response-Time are
//     added either way; set_problem keeps them).
//   - A failure no layer handles is rendered by the server as production
//     problem+json (never a crash, never internals).
// Routing happens before the chain, so every layer sees the matched route
// (ex.req().route()); 404/405 and requests rejected by the parser (413, 431,
// 400, 408) travel the chain as failures of the handler position, so
// outer layers (access log, metrics) see them like any other response.
//
// Context: the request_context layer sets ex.set_context(); from then on the
// context is current in the layers inside it, the handler, and every
// resumption of the handler's coroutine (task.hpp).
//
// Thread safety: one middleware object serves every connection on every I/O
// thread at once: its hooks must be safe to call concurrently (keep state
// in the exchange or in atomics).
// Cost: two virtual calls per layer and request.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string_view>

#include "keel/core/clock.hpp"
#include "keel/core/context.hpp"
#include "keel/core/result.hpp"
#include "keel/http/request.hpp"
#include "keel/http/response.hpp"
#include "keel/http/router.hpp"

namespace keel::http {

namespace detail {
class connection_state;
}

// exchange
//
// One request and its response as the middleware chain sees them, with
// what the connection knows about them.
class exchange {
 public:
  exchange(request& req, response& res) noexcept : req_(req), res_(res) {}
  exchange(const exchange&) = delete;
  exchange& operator=(const exchange&) = delete;

  request& req() noexcept { return req_; }
  response& res() noexcept { return res_; }
  const request& req() const noexcept { return req_; }
  const response& res() const noexcept { return res_; }

  // The matched route, or nullptr (404, 405, rejected by the parser).
  const route* matched() const noexcept { return route_; }
  // When the first byte of the request arrived (the server's clock).
  keel::clock::steady_time start() const noexcept { return start_; }
  const keel::clock& clock() const noexcept { return *clock_; }
  // Bytes of the request as received (request line, headers, body).
  std::size_t bytes_in() const noexcept { return bytes_in_; }
  // A 64-bit hash of the client's IP address, for per-client tables.
  std::uint64_t client_key() const noexcept { return client_key_; }

  // The request's context: current in every later layer, the handler and
  // each resumption of its coroutine.
  void set_context(context_ptr ctx) noexcept { *slot_ = std::move(ctx); }
  const context_ptr& context() const noexcept { return *slot_; }

  // The failure travelling out through the chain, or nullptr.
  const keel::error* failure() const noexcept { return failure_ ? &*failure_ : nullptr; }

 private:
  friend class detail::connection_state;
  request& req_;
  response& res_;
  const route* route_ = nullptr;
  keel::clock::steady_time start_{};
  const keel::clock* clock_ = &keel::clock::real();
  std::size_t bytes_in_ = 0;
  std::uint64_t client_key_ = 0;
  context_ptr* slot_ = nullptr;
  std::optional<keel::error> failure_{};
};

// final_status
//
// The status the server will send for this exchange, as an outer layer's
// after() sees it: the pending failure's when one is still travelling
// outwards (no layer inside rendered it), else the response's; a status
// outside 100..599 is sent as 500, and reported so.
inline int final_status(const exchange& ex) noexcept {
  const keel::error* pending = ex.failure();
  const int status = pending != nullptr ? pending->http_status() : ex.res().status();
  return status < 100 || status > 599 ? 500 : status;
}

// next_step
//
// What before() decided: go inward, or the layer has filled the response.
enum class next_step : std::uint8_t { proceed, respond };

// middleware
//
// The base of every layer; all hooks default to doing nothing.
class middleware {
 public:
  virtual ~middleware() = default;
  virtual result<next_step> before(exchange&) { return next_step::proceed; }
  virtual void after(exchange&) {}
  // True when this layer rendered `e` into ex.res().
  virtual bool on_error(exchange&, const keel::error&) { return false; }
};

using middleware_ptr = std::shared_ptr<middleware>;

}  // namespace keel::http
