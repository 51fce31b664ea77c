// keel/http/request_context_middleware.hpp
//
// The outermost layer: gives every request its keel::request_context and
// echoes the request id.
//
//   auto ctx = std::make_shared<keel::http::request_context_middleware>();
//
// The request id is X-Request-ID if valid, else X-Correlation-ID if valid,
// else a fresh one (keel::accept_request_id: an id with CR, LF or anything
// outside [A-Za-z0-9._-] is dropped, never echoed). A valid `traceparent`
// continues the caller's trace with a new span of ours
// (trace_context::child); otherwise a new trace starts. The response
// carries X-Request-ID and, with echo_traceparent, our traceparent.
//
// Thread safety: stateless; safe on every I/O thread.
// Cost: one request_context allocation per request (the context must
// outlive the request when a handler hands it to another thread).
#pragma once

#include "keel/http/middleware.hpp"

namespace keel::http {

struct request_context_options {
  // Send our traceparent (the span this service opened) back.
  bool echo_traceparent = false;
};

class request_context_middleware final : public middleware {
 public:
  explicit request_context_middleware(request_context_options options = {}) noexcept
      : options_(options) {}
  result<next_step> before(exchange& ex) override;
  void after(exchange& ex) override;

 private:
  request_context_options options_;
};

}  // namespace keel::http
