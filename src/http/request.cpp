#include "keel/http/request.hpp"

#include <algorithm>
#include <cstdint>
#include <string>
#include <vector>

#include "keel/core/error_code.hpp"
#include "keel/core/json_shape.hpp"

namespace keel::http {
namespace {

constexpr std::size_t max_query_params = 128;

char lower(char c) noexcept { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c + 32) : c; }

int hex_value(char c) noexcept {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

bool is_json_media_type(std::string_view ct) noexcept {
  const auto semi = ct.find(';');
  std::string_view type = ct.substr(0, semi);
  while (!type.empty() && (type.back() == ' ' || type.back() == '\t'))
    type.remove_suffix(1);
  if (iequals(type, "application/json")) return true;
  constexpr std::string_view app = "application/";
  constexpr std::string_view suffix = "+json";
  return type.size() > app.size() + suffix.size() && iequals(type.substr(0, app.size()), app) &&
         iequals(type.substr(type.size() - suffix.size()), suffix);
}

}  // namespace

bool iequals(std::string_view a, std::string_view b) noexcept {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (lower(a[i]) != lower(b[i])) return false;
  }
  return true;
}

bool percent_decode(std::string_view in, std::string& out, bool plus_is_space) {
  for (std::size_t i = 0; i < in.size(); ++i) {
    const char c = in[i];
    if (c == '%') {
      if (i + 2 >= in.size()) return false;
      const int hi = hex_value(in[i + 1]);
      const int lo = hex_value(in[i + 2]);
      if (hi < 0 || lo < 0) return false;
      out.push_back(static_cast<char>(hi * 16 + lo));
      i += 2;
    } else if (c == '+' && plus_is_space) {
      out.push_back(' ');
    } else {
      out.push_back(c);
    }
  }
  return true;
}

std::optional<std::string_view> request::header(std::string_view name) const noexcept {
  for (const auto& h : headers_) {
    if (iequals(h.name, name)) return h.value;
  }
  return std::nullopt;
}

std::optional<std::string_view> request::param(std::string_view name) const noexcept {
  for (const auto& p : params_) {
    if (p.name == name) return p.value;
  }
  return std::nullopt;
}

std::span<const param> request::query_params() const {
  if (query_parsed_) return query_;
  query_parsed_ = true;
  // decoded_ was reserved for the whole target, so appending never
  // reallocates and earlier views stay valid; guard anyway.
  std::string_view rest = query_string_;
  while (!rest.empty() && query_.size() < max_query_params) {
    const auto amp = rest.find('&');
    const std::string_view pair = rest.substr(0, amp);
    rest = amp == std::string_view::npos ? std::string_view{} : rest.substr(amp + 1);
    if (pair.empty()) continue;
    const auto eq = pair.find('=');
    const std::string_view raw_key = pair.substr(0, eq);
    const std::string_view raw_value =
        eq == std::string_view::npos ? std::string_view{} : pair.substr(eq + 1);
    if (decoded_.capacity() - decoded_.size() < raw_key.size() + raw_value.size()) break;
    const std::size_t key_at = decoded_.size();
    if (!percent_decode(raw_key, decoded_, true)) {
      decoded_.resize(key_at);
      continue;
    }
    const std::size_t value_at = decoded_.size();
    if (!percent_decode(raw_value, decoded_, true)) {
      decoded_.resize(key_at);
      continue;
    }
    query_.push_back({std::string_view(decoded_.data() + key_at, value_at - key_at),
                      std::string_view(decoded_.data() + value_at, decoded_.size() - value_at)});
  }
  return query_;
}

std::optional<std::string_view> request::query(std::string_view key) const {
  for (const auto& p : query_params()) {
    if (p.name == key) return p.value;
  }
  return std::nullopt;
}

result<nlohmann::ordered_json> request::json(const json_limits& limits) const {
  if (limits.require_content_type) {
    const auto ct = header("content-type");
    if (!ct || !is_json_media_type(*ct)) {
      return fail(error(codes::unsupported_media_type, "expected a JSON content type")
                      .with_detail("expected", "application/json"));
    }
  }
  if (std::string problem =
          json_shape_problem(body_, {.max_depth = limits.max_depth,
                                     .max_array_items = limits.max_array_items,
                                     .max_object_members = limits.max_object_members,
                                     .max_values = limits.max_values});
      !problem.empty()) {
    return fail(error(codes::validation_error, "request body exceeds a JSON limit")
                    .with_detail("max_depth", limits.max_depth)
                    .with_detail("problem", std::move(problem)));
  }
  auto parsed = nlohmann::ordered_json::parse(body_, nullptr, /*allow_exceptions=*/false);
  if (parsed.is_discarded()) {
    return fail(error(codes::validation_error, "request body is not valid JSON")
                    .with_detail("reason", "invalid JSON"));
  }
  return parsed;
}

}  // namespace keel::http
