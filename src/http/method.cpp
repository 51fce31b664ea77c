#include "keel/http/method.hpp"

namespace keel::http {

std::string_view to_string(method m) noexcept {
  switch (m) {
    case method::get:
      return "GET";
    case method::head:
      return "HEAD";
    case method::post:
      return "POST";
    case method::put:
      return "PUT";
    case method::patch:
      return "PATCH";
    case method::delete_:
      return "DELETE";
    case method::options:
      return "OPTIONS";
    case method::other:
      break;
  }
  return "OTHER";
}

method parse_method(std::string_view s) noexcept {
  if (s == "GET") return method::get;
  if (s == "POST") return method::post;
  if (s == "HEAD") return method::head;
  if (s == "PUT") return method::put;
  if (s == "PATCH") return method::patch;
  if (s == "DELETE") return method::delete_;
  if (s == "OPTIONS") return method::options;
  return method::other;
}

}  // namespace keel::http
