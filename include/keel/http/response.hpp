// keel/http/response.hpp
//
// response is what a handler fills in: status, headers and body. The server
// adds the framing (Content-Length, Connection, Date) itself when it writes
// the response, so handlers never set those.
//
//   res.set_json({{"status", "ok"}});                       // 200, application/json
//   res.set_body(text, "text/plain; charset=utf-8");
//   res.set_status(201);
//   res.set_header("Location", "/api/v1/issues/42");
//   res.set_problem(keel::error(keel::codes::conflict, "already resolved"), req.path());
//
// Header names must be HTTP tokens and values may not hold CR, LF or other
// control characters (tab excepted): set_header/add_header refuse such
// input and return false, so a value taken from a request can never split
// the response (header injection).
//
// Thread safety: a response belongs to one request's coroutine.
// Cost: headers and body live in buffers the connection reuses; setting them
// allocates nothing once those have grown to the sizes its traffic needs.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "keel/core/error.hpp"
#include "keel/core/problem_json.hpp"

namespace keel::http {

class response {
 public:
  response() = default;
  response(const response&) = delete;
  response& operator=(const response&) = delete;

  int status() const noexcept { return status_; }
  void set_status(int status) noexcept { status_ = status; }

  // Replaces every header called `name` (case-insensitive) by one with
  // `value`. False, changing nothing, when the name or value is not valid.
  bool set_header(std::string_view name, std::string_view value);
  // Adds a header even if one of that name exists (Set-Cookie, Vary...).
  bool add_header(std::string_view name, std::string_view value);
  // The first header called `name`, or nullopt.
  std::optional<std::string_view> header(std::string_view name) const noexcept;
  // Removes every header called `name`.
  void remove_header(std::string_view name) noexcept;
  // Calls f(name, value) for each header, in the order set.
  template <class F>
  void for_each_header(F&& f) const {
    for (const auto& h : headers_) {
      if (h.live) f(view(h.name_off, h.name_len), view(h.value_off, h.value_len));
    }
  }

  std::string& body() noexcept { return body_; }
  const std::string& body() const noexcept { return body_; }

  // Sets body and Content-Type.
  void set_body(std::string_view body, std::string_view content_type);
  // Serializes `j` as the body with Content-Type application/json.
  // Members in their order (nlohmann::ordered_json, keel's JSON type).
  void set_json(const nlohmann::ordered_json& j, int status = 200);
  // text/plain; charset=utf-8.
  void set_text(std::string_view text, int status = 200);
  // The error's status and problem+json body (keel::render_problem), with
  // Retry-After when the error carries a retry delay. Other headers stay.
  void set_problem(const keel::error& e, std::string_view instance = {},
                   const problem_options& options = {});

  // Back to an empty 200 with no headers, keeping capacity.
  void clear() noexcept;

 private:
  struct entry {
    std::uint32_t name_off;
    std::uint32_t name_len;
    std::uint32_t value_off;
    std::uint32_t value_len;
    bool live;
  };
  std::string_view view(std::uint32_t off, std::uint32_t len) const noexcept {
    return {storage_.data() + off, len};
  }
  void append(std::string_view name, std::string_view value);

  int status_ = 200;
  std::string storage_{};
  std::vector<entry> headers_{};
  std::string body_{};
};

// True when `name` is a non-empty RFC 9110 token.
bool is_valid_header_name(std::string_view name) noexcept;
// True when `value` holds no control character but horizontal tab.
bool is_valid_header_value(std::string_view value) noexcept;
// "OK", "Not Found", ...; "Unknown" for a code without a registered phrase.
std::string_view reason_phrase(int status) noexcept;

}  // namespace keel::http
