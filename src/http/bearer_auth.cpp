#include "keel/http/bearer_auth.hpp"

#include "keel/core/error.hpp"

namespace keel::http {

bearer_auth::bearer_auth(bearer_auth_options o)
    : token_(std::move(o.token)),
      challenge_("Bearer realm=\"" + o.realm + "\""),
      tag_mask_(o.tag_mask) {
  if (token_.empty() || !is_valid_header_value(token_) || !is_valid_header_value(challenge_)) {
    throw keel::exception(keel::error(codes::configuration_error, "invalid bearer token or realm"));
  }
}

result<next_step> bearer_auth::before(exchange& ex) {
  const auto* route = ex.matched();
  if (route == nullptr || (route->tags & tag_mask_) == 0) return next_step::proceed;
  const auto h = ex.req().header("authorization");
  constexpr std::string_view scheme = "Bearer ";
  if (!h || h->size() <= scheme.size() || !iequals(h->substr(0, scheme.size()), scheme)) {
    ex.res().set_header("WWW-Authenticate", challenge_);
    return fail(codes::authentication_required, "bearer token required");
  }
  if (!constant_time_equal(h->substr(scheme.size()), token_)) {
    return fail(codes::authorization_denied, "bearer token not accepted");
  }
  return next_step::proceed;
}

bool constant_time_equal(std::string_view given, std::string_view expected) noexcept {
  // Walks the expected value's length whatever `given` is.
  unsigned char diff = given.size() == expected.size() ? 0 : 1;
  for (std::size_t i = 0; i < expected.size(); ++i) {
    const unsigned char x = i < given.size() ? static_cast<unsigned char>(given[i]) : 0;
    diff |= static_cast<unsigned char>(x ^ static_cast<unsigned char>(expected[i]));
  }
  return diff == 0;
}

}  // namespace keel::http
