// keel/http/response_time.hpp
//
// response_time adds X-Response-Time: the time from the request's first
// byte to the moment this layer sees the response, in milliseconds with
// microsecond precision ("0.042ms"), read from the server's keel::clock.
//
//   auto timing = std::make_shared<keel::http::response_time>();
//
// Thread safety: stateless. Cost: one clock read and a short format.
#pragma once

#include "keel/http/middleware.hpp"

namespace keel::http {

class response_time final : public middleware {
 public:
  void after(exchange& ex) override;
};

}  // namespace keel::http
