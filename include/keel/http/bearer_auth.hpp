// keel/http/bearer_auth.hpp
//
// bearer_auth guards the routes carrying chosen tags with a bearer token
// (RFC 6750): `Authorization: Bearer <token>`, compared in constant time.
// Missing or malformed → 401 AUTHENTICATION_REQUIRED with WWW-Authenticate;
// wrong → 403 AUTHORIZATION_DENIED; both problem+json, and neither says
// anything about the expected token.
//
//   chain.push_back(std::make_shared<keel::http::bearer_auth>(keel::http::bearer_auth_options{
//       .token = admin_token, .realm = "keeld", .tag_mask = keel::http::route_tags::admin}));
//
// Routes without a tag in tag_mask pass untouched.
//
// Thread safety: immutable after construction. Cost: one header lookup and
// a compare as long as the token.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "keel/http/middleware.hpp"

namespace keel::http {

struct bearer_auth_options {
  std::string token{};  // non-empty, a valid header value
  std::string realm = "keel";
  std::uint32_t tag_mask = route_tags::admin;
};

class bearer_auth final : public middleware {
 public:
  // Throws keel::exception (CONFIGURATION_ERROR) for an empty token.
  explicit bearer_auth(bearer_auth_options options);
  result<next_step> before(exchange& ex) override;

 private:
  std::string token_;
  std::string challenge_;
  std::uint32_t tag_mask_;
};

// True when a and b are equal, in a time that depends only on the length of
// `expected`, never on where a guess first differs.
bool constant_time_equal(std::string_view given, std::string_view expected) noexcept;

}  // namespace keel::http
