// keel/client/http_client.hpp
//
// keel's one outbound client (libcurl): what keel::alert's receivers and
// keel::health's HTTP checks send, bounded the same way. http and https
// only (smtp and smtps for mail), no redirects, no signals, a total and a
// connect timeout, and at most max_response_bytes of the answer read (the
// rest is cut off; the status still counts).
//
//   auto r = keel::client::send({.method = "POST", .url = hook, .body = json,
//                                .headers = {"Content-Type: application/json"},
//                                .timeout = 5s});
//   if (r.answered() && r.status < 300) ...
//
// Thread safety: every call is independent (one easy handle each);
// libcurl's global init runs once. Cost: a connection per call (receivers
// and checks run seconds apart; pooling would keep sockets open for little).
#pragma once

#include <chrono>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace keel::client {

struct http_request {
  std::string method = "GET";  // GET or POST
  std::string url{};
  std::vector<std::string> headers{};  // "Name: value"
  std::string_view body{};             // POST only; must outlive the call
  std::chrono::milliseconds timeout{5'000};
  std::chrono::milliseconds connect_timeout{5'000};
  std::string user_agent = "keel";
  std::size_t max_response_bytes = 64 * 1024;
};

struct mail_request {
  std::string url{};  // smtp://host:port or smtps://
  std::string from{};
  std::vector<std::string> to{};
  std::string user{};  // with a user, TLS is required
  std::string password{};
  std::string_view message{};  // headers and body, as sent
  std::chrono::milliseconds timeout{10'000};
};

struct response {
  int status = 0;  // the HTTP or SMTP reply code; 0 when none came
  bool timed_out = false;
  std::optional<std::chrono::seconds> retry_after{};  // Retry-After in seconds, when sent
  std::string error{};  // the transport's failure, empty when it worked

  bool answered() const noexcept { return status > 0; }
};

[[nodiscard]] response send(const http_request& r);
[[nodiscard]] response send(const mail_request& r);

}  // namespace keel::client
