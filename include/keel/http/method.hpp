// keel/http/method.hpp
//
// The HTTP request methods keel routes on, as a small enum so a route table
// can index by method instead of comparing strings.
//
//   keel::http::method m = keel::http::parse_method("POST");   // method::post
//   std::string_view s = keel::http::to_string(m);             // "POST"
//
// Methods outside the set parse to method::other; the router answers them
// 405 (or 404) and never dispatches them.
//
// Thread safety: pure functions.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace keel::http {

// method
//
// The methods of RFC 9110 that services use, plus `other`.
enum class method : std::uint8_t { get, head, post, put, patch, delete_, options, other };

// Number of routable methods (every value but `other`).
inline constexpr std::size_t routable_method_count = 7;

// "GET", "HEAD", ... ("OTHER" for method::other).
std::string_view to_string(method m) noexcept;

// Exact, case-sensitive match (RFC 9110: method names are case-sensitive).
method parse_method(std::string_view s) noexcept;

}  // namespace keel::http
