// keel/http/cors.hpp
//
// cors lets pages of the listed origins call the API from a browser
// (Fetch Standard, "CORS protocol"). Everything is an explicit allow-list:
// origins, methods and request headers; a request from any other origin
// gets no CORS header at all, so the browser keeps the response from the
// page.
//
//   auto cors = std::make_shared<keel::http::cors>(keel::http::cors_options{
//       .allowed_origins = {"https://console.example.com"},
//       .allowed_methods = {"GET", "POST", "DELETE"},
//       .allowed_headers = {"Authorization", "Content-Type"},
//       .exposed_headers = {"Retry-After", "X-Request-ID"}});
//
// Responses, for a request carrying `Origin`:
//   - a preflight (OPTIONS with Access-Control-Request-Method) is answered
//     by the router (204 with Allow, 404 for an unknown path); when the
//     origin, the method and every requested header are allowed, this
//     layer adds Access-Control-Allow-Origin, -Methods, -Headers, -Max-Age
//     (and -Credentials). Otherwise it adds none: the browser then refuses
//     the real request.
//   - any other request from an allowed origin gets Access-Control-Allow-
//     Origin (and -Expose-Headers, -Credentials), errors included (a page
//     can read a 429's Retry-After or a problem+json).
//   - every response says `Vary: Origin`, so a cache never serves one
//     origin's answer to another.
// The layer refuses nothing itself: CORS protects a browser's user, not the
// server (curl sends no Origin). Put it outside the rate limit and the
// authentication layers so their refusals carry the headers; preflights
// never carry credentials, and the router answers them without a handler.
//
// Origins are compared as the browser serialises them, scheme://host[:port]
// in lowercase; "*" allows any origin (then credentials cannot be allowed,
// as the Fetch Standard forbids it, and the constructor refuses that).
// "null" (sandboxed frames, file: pages) is refused as an origin: anyone can
// send it.
//
// Thread safety: immutable after construction. Cost: a linear scan of the
// allow-lists per request with an Origin (they are short); no allocation.
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include "keel/http/middleware.hpp"

namespace keel::http {

struct cors_options {
  // scheme://host[:port] each, or the single entry "*". Empty: the layer
  // adds nothing but Vary.
  std::vector<std::string> allowed_origins{};
  // Methods a preflight may ask for (case-sensitive, as methods are).
  std::vector<std::string> allowed_methods{"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"};
  // Request headers a preflight may ask for (case-insensitive).
  std::vector<std::string> allowed_headers{"Authorization", "Content-Type"};
  // Response headers a page may read beyond the CORS-safelisted ones.
  std::vector<std::string> exposed_headers{};
  // Cookies and HTTP authentication (not needed for a bearer token, which
  // the page sends itself in Authorization).
  bool allow_credentials = false;
  // How long a browser may cache a preflight's answer (browsers cap it:
  // Chromium at 2 h, Firefox at 24 h). 0 sends no Max-Age.
  std::chrono::seconds max_age{600};
};

class cors final : public middleware {
 public:
  // Throws keel::exception (CONFIGURATION_ERROR) naming the entry: an
  // origin that is not scheme://host[:port] ("https://a.example/" with a
  // path, "null"), "*" beside other origins or with credentials, an invalid
  // method or header name.
  explicit cors(cors_options options);

  void after(exchange& ex) override;

  // Whether `origin` (as sent in the Origin header) is allowed.
  bool allows_origin(std::string_view origin) const noexcept;

 private:
  bool allows_preflight(const request& req) const noexcept;

  std::vector<std::string> origins_;
  bool any_origin_ = false;
  std::vector<std::string> methods_;
  std::vector<std::string> headers_;
  std::string methods_value_;
  std::string headers_value_;
  std::string exposed_value_;
  std::string max_age_value_;
  bool credentials_ = false;
};

}  // namespace keel::http
