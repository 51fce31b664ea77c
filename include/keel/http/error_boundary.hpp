// keel/http/error_boundary.hpp
//
// error_boundary turns every failure from the layers inside it and the
// handler into a problem+json response: a keel::error keeps its code's
// status; any other exception becomes 500 INTERNAL_ERROR (from_exception),
// whose internal message, type and source location never reach the client
// in production mode.
//
//   auto boundary =
//   std::make_shared<keel::http::error_boundary>(keel::http::error_boundary_options{
//       .mode = keel::render_mode::production,
//       .report = [](const keel::http::exchange& ex, const keel::error& e) {
//         log.error("request failed", e);          // runs under the request's context
//       }});
//
// `report` sees each failure in full (server errors, 5xx, by default; every
// failure with report_client_errors) so it can be logged with its cause
// chain; it runs on the I/O thread under the request's context.
//
// Thread safety: safe on every I/O thread; `report` must be too.
// Cost: nothing on success; on failure, one problem+json rendering.
#pragma once

#include <functional>

#include "keel/core/problem_json.hpp"
#include "keel/http/middleware.hpp"

namespace keel::http {

struct error_boundary_options {
  render_mode mode = render_mode::production;
  // Called for each failure rendered (5xx only unless report_client_errors).
  std::function<void(const exchange&, const keel::error&)> report{};
  bool report_client_errors = false;
};

class error_boundary final : public middleware {
 public:
  explicit error_boundary(error_boundary_options options = {}) : options_(std::move(options)) {}
  bool on_error(exchange& ex, const keel::error& e) override;

 private:
  error_boundary_options options_;
};

}  // namespace keel::http
