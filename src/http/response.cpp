#include "keel/http/response.hpp"

#include <algorithm>
#include <charconv>

#include "keel/core/context.hpp"
#include "keel/http/request.hpp"

namespace keel::http {
namespace {

bool is_tchar(unsigned char c) noexcept {
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) return true;
  switch (c) {
    case '!':
    case '#':
    case '$':
    case '%':
    case '&':
    case '\'':
    case '*':
    case '+':
    case '-':
    case '.':
    case '^':
    case '_':
    case '`':
    case '|':
    case '~':
      return true;
    default:
      return false;
  }
}

}  // namespace

bool is_valid_header_name(std::string_view name) noexcept {
  if (name.empty() || name.size() > 256) return false;
  return std::all_of(name.begin(), name.end(),
                     [](char c) { return is_tchar(static_cast<unsigned char>(c)); });
}

bool is_valid_header_value(std::string_view value) noexcept {
  if (value.size() > 8192) return false;
  return std::none_of(value.begin(), value.end(), [](char ch) {
    const auto c = static_cast<unsigned char>(ch);
    return (c < 0x20 && c != '\t') || c == 0x7f;
  });
}

std::string_view reason_phrase(int status) noexcept {
  switch (status) {
    case 100:
      return "Continue";
    case 101:
      return "Switching Protocols";
    case 200:
      return "OK";
    case 201:
      return "Created";
    case 202:
      return "Accepted";
    case 204:
      return "No Content";
    case 206:
      return "Partial Content";
    case 301:
      return "Moved Permanently";
    case 302:
      return "Found";
    case 303:
      return "See Other";
    case 304:
      return "Not Modified";
    case 307:
      return "Temporary Redirect";
    case 308:
      return "Permanent Redirect";
    case 400:
      return "Bad Request";
    case 401:
      return "Unauthorized";
    case 402:
      return "Payment Required";
    case 403:
      return "Forbidden";
    case 404:
      return "Not Found";
    case 405:
      return "Method Not Allowed";
    case 406:
      return "Not Acceptable";
    case 408:
      return "Request Timeout";
    case 409:
      return "Conflict";
    case 410:
      return "Gone";
    case 411:
      return "Length Required";
    case 412:
      return "Precondition Failed";
    case 413:
      return "Content Too Large";
    case 414:
      return "URI Too Long";
    case 415:
      return "Unsupported Media Type";
    case 422:
      return "Unprocessable Content";
    case 425:
      return "Too Early";
    case 428:
      return "Precondition Required";
    case 429:
      return "Too Many Requests";
    case 431:
      return "Request Header Fields Too Large";
    case 499:
      return "Client Closed Request";
    case 500:
      return "Internal Server Error";
    case 501:
      return "Not Implemented";
    case 502:
      return "Bad Gateway";
    case 503:
      return "Service Unavailable";
    case 504:
      return "Gateway Timeout";
    default:
      return "Unknown";
  }
}

void response::append(std::string_view name, std::string_view value) {
  const auto name_off = static_cast<std::uint32_t>(storage_.size());
  storage_.append(name);
  const auto value_off = static_cast<std::uint32_t>(storage_.size());
  storage_.append(value);
  headers_.push_back({name_off, static_cast<std::uint32_t>(name.size()), value_off,
                      static_cast<std::uint32_t>(value.size()), true});
}

bool response::set_header(std::string_view name, std::string_view value) {
  if (!is_valid_header_name(name) || !is_valid_header_value(value)) return false;
  remove_header(name);
  append(name, value);
  return true;
}

bool response::add_header(std::string_view name, std::string_view value) {
  if (!is_valid_header_name(name) || !is_valid_header_value(value)) return false;
  append(name, value);
  return true;
}

std::optional<std::string_view> response::header(std::string_view name) const noexcept {
  for (const auto& h : headers_) {
    if (h.live && iequals(view(h.name_off, h.name_len), name)) {
      return view(h.value_off, h.value_len);
    }
  }
  return std::nullopt;
}

void response::remove_header(std::string_view name) noexcept {
  for (auto& h : headers_) {
    if (h.live && iequals(view(h.name_off, h.name_len), name)) h.live = false;
  }
}

void response::set_body(std::string_view body, std::string_view content_type) {
  body_.assign(body);
  set_header("Content-Type", content_type);
}

void response::set_json(const nlohmann::ordered_json& j, int status) {
  status_ = status;
  body_ = j.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
  set_header("Content-Type", "application/json");
}

void response::set_text(std::string_view text, int status) {
  status_ = status;
  set_body(text, "text/plain; charset=utf-8");
}

void response::set_problem(const keel::error& e, std::string_view instance,
                           const problem_options& options) {
  status_ = e.http_status();
  const request_context* ctx = current_context();
  body_ = render_problem(e, options, instance,
                         ctx != nullptr ? ctx->request_id.view() : std::string_view{});
  set_header("Content-Type", problem_content_type);
  if (const auto delay = e.retry_after()) {
    // Retry-After is in whole seconds; round up so the client never comes
    // back before a token exists.
    const auto secs = (delay->count() + 999) / 1000;
    char buf[24];
    const auto r = std::to_chars(buf, buf + sizeof buf, secs < 1 ? 1 : secs);
    set_header("Retry-After", std::string_view(buf, static_cast<std::size_t>(r.ptr - buf)));
  }
}

void response::clear() noexcept {
  status_ = 200;
  storage_.clear();
  headers_.clear();
  body_.clear();
}

}  // namespace keel::http
