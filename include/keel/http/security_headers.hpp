// keel/http/security_headers.hpp
//
// security_headers adds the response headers an API should always send:
// X-Content-Type-Options: nosniff, X-Frame-Options: DENY, Referrer-Policy:
// no-referrer, a Content-Security-Policy that allows nothing (an API serves
// no active content), Cache-Control: no-store, and Strict-Transport-Security
// on TLS connections. A header the handler set itself is left alone.
//
//   auto headers = std::make_shared<keel::http::security_headers>();   // the defaults
//   auto custom = std::make_shared<keel::http::security_headers>(
//       keel::http::security_headers_options{.cache_control = "private, max-age=60"});
//
// Thread safety: immutable after construction. Cost: one header scan per
// header added.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "keel/http/middleware.hpp"

namespace keel::http {

struct security_headers_options {
  std::string content_type_options = "nosniff";
  std::string frame_options = "DENY";
  std::string referrer_policy = "no-referrer";
  std::string content_security_policy = "default-src 'none'; frame-ancestors 'none'";
  std::string cache_control = "no-store";
  // Sent on TLS connections only; empty disables it.
  std::string strict_transport_security = "max-age=31536000; includeSubDomains";
  // Further headers, added the same way.
  std::vector<std::pair<std::string, std::string>> extra{};
};

class security_headers final : public middleware {
 public:
  // Throws keel::exception (CONFIGURATION_ERROR) on an invalid header value.
  explicit security_headers(security_headers_options options = {});
  void after(exchange& ex) override;

 private:
  std::vector<std::pair<std::string, std::string>> always_;
  std::string hsts_;
};

}  // namespace keel::http
