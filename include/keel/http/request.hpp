// keel/http/request.hpp
//
// request is what a handler sees of an HTTP request: method, target, path
// and query, headers, body, the path parameters the router captured, and the
// client's address. Every string is a view into buffers the connection owns
// and reuses, valid until the handler's response has been sent.
//
//   router.get("/api/v1/issues/{id}", [](keel::http::request& req, keel::http::response& res) {
//     std::string_view id = *req.param("id");                    // percent-decoded
//     std::string_view state = req.query("state").value_or("open");
//     if (auto ua = req.header("user-agent")) { ... }             // case-insensitive
//     res.set_json({{"id", id}, {"state", state}});
//   });
//
//   auto body = req.json();          // keel::result<nlohmann::ordered_json>: 415 / 400 problems
//
// No Beast or Asio type appears here: the connection fills a request from
// its own parser. Header lookup is a linear, case-insensitive scan (requests
// carry few headers; the server caps their number and size).
//
// Thread safety: a request belongs to one connection; read it from the
// request's own coroutine (or copy what a worker thread needs).
// Cost: building a request allocates nothing once the connection's buffers
// have grown to the sizes its traffic needs.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "keel/core/result.hpp"
#include "keel/http/method.hpp"

namespace keel::http {

class router;
class router_test_access;
namespace detail {
class connection_state;
class request_parser;
}  // namespace detail

// One header field, as received (name case preserved).
struct header_field {
  std::string_view name;
  std::string_view value;
};

// A path parameter or query parameter: name and decoded value.
struct param {
  std::string_view name;
  std::string_view value;
};

// Limits that request::json() applies beyond the server's body limit. The
// shape limits are checked by one scan of the text before anything is
// built, so a body that breaks one costs that scan (a 1 MiB `[0,0,…]` once
// took 38 ms of an I/O thread to parse, and an object of 90 000 members
// 11 s: ordered_json finds a member by a linear search).
struct json_limits {
  // Deeper nesting is rejected before parsing (bounds recursion and memory).
  std::size_t max_depth = 64;
  // Items of any one array, members of any one object.
  std::size_t max_array_items = 10'000;
  std::size_t max_object_members = 1'000;
  // Values in the whole document (containers included); 0: no limit.
  std::size_t max_values = 0;
  // Require a JSON content type (application/json or application/*+json).
  bool require_content_type = true;
};

class request {
 public:
  request() = default;
  request(const request&) = delete;
  request& operator=(const request&) = delete;

  // The method; method::other for one outside the routable set.
  http::method verb() const noexcept { return verb_; }
  // The method as sent.
  std::string_view method_name() const noexcept { return method_name_; }
  // The request-target as sent ("/a/b?x=1").
  std::string_view target() const noexcept { return target_; }
  // The target up to '?', still percent-encoded.
  std::string_view path() const noexcept { return path_; }
  // After '?', without it; empty when none.
  std::string_view query_string() const noexcept { return query_string_; }
  // 10 for HTTP/1.0, 11 for HTTP/1.1.
  int version() const noexcept { return version_; }
  // Whether the client asked to keep the connection open.
  bool keep_alive() const noexcept { return keep_alive_; }

  // The first header called `name` (ASCII case-insensitive), or nullopt.
  std::optional<std::string_view> header(std::string_view name) const noexcept;
  std::span<const header_field> headers() const noexcept { return headers_; }

  // The body; empty when none.
  std::string_view body() const noexcept { return body_; }

  // Path parameter `name` captured by the route pattern ({name}), decoded.
  std::optional<std::string_view> param(std::string_view name) const noexcept;
  std::span<const http::param> params() const noexcept { return params_; }

  // The first query parameter `key`, decoded ('+' is a space), or nullopt.
  // The query string is parsed on the first call; at most 128 pairs are
  // kept. A key present without '=' has an empty value.
  std::optional<std::string_view> query(std::string_view key) const;
  std::span<const http::param> query_params() const;

  // The body parsed as JSON. UNSUPPORTED_MEDIA_TYPE (415) for another
  // content type, VALIDATION_ERROR (400) for invalid JSON or nesting deeper
  // than limits.max_depth; the error's details say which.
  // Past a limit: VALIDATION_ERROR whose details.problem names it.
  // keel's one JSON type is nlohmann::ordered_json (members keep their
  // order), as in keel::error's details and keel::alert's views.
  result<nlohmann::ordered_json> json(const json_limits& limits = {}) const;

  // The client's IP address as text ("127.0.0.1", "::1").
  std::string_view client_ip() const noexcept { return client_ip_; }
  // The pattern of the matched route ("/api/v1/issues/{id}"); empty when
  // none matched. Use it, never the raw path, as a metrics label.
  std::string_view route() const noexcept { return route_; }
  // route()'s index in the router's pattern list (router::pattern), or
  // no_route when none matched: a table index for per-route state.
  static constexpr std::size_t no_route = 0xffffffffu;
  std::size_t route_index() const noexcept { return route_index_; }
  // True on a TLS connection.
  bool secure() const noexcept { return secure_; }

 private:
  friend class detail::connection_state;
  friend class detail::request_parser;
  friend class router;
  friend class router_test_access;  // tests/unit/http/router_test.cpp

  http::method verb_ = http::method::other;
  std::string_view method_name_{};
  std::string_view target_{};
  std::string_view path_{};
  std::string_view query_string_{};
  int version_ = 11;
  bool keep_alive_ = true;
  bool secure_ = false;
  std::vector<header_field> headers_{};
  std::string_view body_{};
  std::vector<http::param> params_{};
  std::string_view client_ip_{};
  std::string_view route_{};
  std::uint32_t route_index_ = static_cast<std::uint32_t>(no_route);
  // Decoded path parameters and query values live here; reserved before
  // decoding to the size of what is decoded, so views into it stay valid.
  mutable std::string decoded_{};
  mutable std::vector<http::param> query_{};
  mutable bool query_parsed_ = false;
};

// ASCII case-insensitive equality, for header names.
bool iequals(std::string_view a, std::string_view b) noexcept;

// Percent-decodes `in` onto the end of `out` ('+' becomes a space when
// `plus_is_space`). False, leaving `out` with a partial append, on a
// malformed escape.
bool percent_decode(std::string_view in, std::string& out, bool plus_is_space);

}  // namespace keel::http
