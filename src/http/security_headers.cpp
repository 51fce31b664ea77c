#include "keel/http/security_headers.hpp"

#include "keel/core/error.hpp"

namespace keel::http {

security_headers::security_headers(security_headers_options o)
    : hsts_(std::move(o.strict_transport_security)) {
  auto add = [&](std::string name, std::string value) {
    if (value.empty()) return;
    if (!is_valid_header_name(name) || !is_valid_header_value(value)) {
      throw keel::exception(
          keel::error(codes::configuration_error, "invalid security header: " + name));
    }
    always_.emplace_back(std::move(name), std::move(value));
  };
  add("X-Content-Type-Options", std::move(o.content_type_options));
  add("X-Frame-Options", std::move(o.frame_options));
  add("Referrer-Policy", std::move(o.referrer_policy));
  add("Content-Security-Policy", std::move(o.content_security_policy));
  add("Cache-Control", std::move(o.cache_control));
  for (auto& [name, value] : o.extra)
    add(std::move(name), std::move(value));
  if (!hsts_.empty() && !is_valid_header_value(hsts_)) {
    throw keel::exception(keel::error(codes::configuration_error, "invalid HSTS value"));
  }
}

void security_headers::after(exchange& ex) {
  response& res = ex.res();
  for (const auto& [name, value] : always_) {
    if (!res.header(name)) (void)res.add_header(name, value);
  }
  if (!hsts_.empty() && ex.req().secure() && !res.header("Strict-Transport-Security")) {
    (void)res.add_header("Strict-Transport-Security", hsts_);
  }
}

}  // namespace keel::http
