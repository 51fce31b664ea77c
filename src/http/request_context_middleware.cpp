#include "keel/http/request_context_middleware.hpp"

#include <memory>

#include "keel/core/ids.hpp"
#include "keel/core/trace_context.hpp"

namespace keel::http {

result<next_step> request_context_middleware::before(exchange& ex) {
  const request& req = ex.req();
  auto ctx = std::make_shared<request_context>();
  ctx->request_id = accept_request_id(req.header("x-request-id").value_or(std::string_view{}),
                                      req.header("x-correlation-id").value_or(std::string_view{}));
  trace_context trace{};
  if (const auto parent = req.header("traceparent")) {
    if (auto parsed = trace_context::parse(*parent)) trace = parsed->child();
  }
  ctx->trace = trace.is_valid() ? trace : trace_context::generate();
  ex.set_context(std::move(ctx));
  return next_step::proceed;
}

void request_context_middleware::after(exchange& ex) {
  const context_ptr& ctx = ex.context();
  if (!ctx) return;
  // Validated by accept_request_id, so always a legal header value.
  ex.res().set_header("X-Request-ID", ctx->request_id.view());
  if (options_.echo_traceparent && ctx->trace.is_valid()) {
    char buf[trace_context::traceparent_size];
    ctx->trace.write_traceparent(buf);
    ex.res().set_header("traceparent", std::string_view(buf, sizeof buf));
  }
}

}  // namespace keel::http
