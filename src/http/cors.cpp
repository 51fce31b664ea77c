#include "keel/http/cors.hpp"

#include <algorithm>
#include <string_view>

#include "keel/core/error.hpp"
#include "keel/http/request.hpp"
#include "keel/http/response.hpp"

namespace keel::http {
namespace {

[[noreturn]] void refuse(std::string_view what, std::string_view entry) {
  throw keel::exception(
      keel::error(codes::configuration_error,
                  "cors: " + std::string(what) + ": \"" + std::string(entry) + "\""));
}

bool is_lower_alpha(char c) noexcept { return c >= 'a' && c <= 'z'; }
bool is_digit(char c) noexcept { return c >= '0' && c <= '9'; }

// scheme://host[:port] as a browser serialises an origin: lowercase, no
// userinfo, path, query or trailing slash.
bool is_serialised_origin(std::string_view origin) noexcept {
  const auto sep = origin.find("://");
  if (sep == std::string_view::npos || sep == 0) return false;
  const std::string_view scheme = origin.substr(0, sep);
  if (!is_lower_alpha(scheme.front())) return false;
  for (char c : scheme) {
    if (!is_lower_alpha(c) && !is_digit(c) && c != '+' && c != '-' && c != '.') return false;
  }
  std::string_view rest = origin.substr(sep + 3);
  std::string_view host = rest;
  std::string_view port;
  bool has_port = false;
  if (rest.starts_with('[')) {  // an IPv6 literal
    const auto close = rest.find(']');
    if (close == std::string_view::npos || close == 1) return false;
    for (char c : rest.substr(1, close - 1)) {
      if (!is_digit(c) && !(c >= 'a' && c <= 'f') && c != ':' && c != '.') return false;
    }
    rest.remove_prefix(close + 1);
    if (!rest.empty()) {
      if (!rest.starts_with(':')) return false;
      has_port = true;
      port = rest.substr(1);
    }
  } else {
    const auto colon = rest.find(':');
    if (colon != std::string_view::npos) {
      host = rest.substr(0, colon);
      has_port = true;
      port = rest.substr(colon + 1);
    }
    if (host.empty() || host.front() == '.' || host.front() == '-') return false;
    for (char c : host) {
      if (!is_lower_alpha(c) && !is_digit(c) && c != '-' && c != '.') return false;
    }
  }
  if (has_port && (port.empty() || port.size() > 5 || !std::ranges::all_of(port, is_digit)))
    return false;
  return true;
}

std::string joined(const std::vector<std::string>& items) {
  std::string out;
  for (const auto& item : items) {
    if (!out.empty()) out += ", ";
    out += item;
  }
  return out;
}

std::string_view trimmed(std::string_view s) noexcept {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t'))
    s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t'))
    s.remove_suffix(1);
  return s;
}

// Calls f(entry) for each non-empty entry of a comma-separated list.
template <typename F>
bool all_entries(std::string_view list, F&& f) {
  while (!list.empty()) {
    const auto comma = list.find(',');
    const std::string_view entry = trimmed(list.substr(0, comma));
    if (!entry.empty() && !f(entry)) return false;
    if (comma == std::string_view::npos) break;
    list.remove_prefix(comma + 1);
  }
  return true;
}

}  // namespace

cors::cors(cors_options o)
    : methods_(std::move(o.allowed_methods)),
      headers_(std::move(o.allowed_headers)),
      credentials_(o.allow_credentials) {
  for (auto& origin : o.allowed_origins) {
    if (origin == "*") {
      any_origin_ = true;
      continue;
    }
    if (origin == "null") refuse("\"null\" is an origin anyone can send", origin);
    if (!is_serialised_origin(origin))
      refuse("an origin is scheme://host[:port] in lowercase, without a path", origin);
    origins_.push_back(std::move(origin));
  }
  if (any_origin_ && !origins_.empty())
    refuse("\"*\" allows every origin; list none beside it", "*");
  if (any_origin_ && credentials_)
    refuse("\"*\" cannot be combined with allow_credentials (Fetch Standard)", "*");
  for (const auto& m : methods_) {
    if (m == "*" || !is_valid_header_name(m)) refuse("not a method name", m);
  }
  for (const auto& h : headers_) {
    if (h == "*" || !is_valid_header_name(h)) refuse("not a header name", h);
  }
  for (const auto& h : o.exposed_headers) {
    if (h == "*" || !is_valid_header_name(h)) refuse("not a header name", h);
  }
  if (o.max_age.count() < 0) refuse("max_age is negative", std::to_string(o.max_age.count()));
  methods_value_ = joined(methods_);
  headers_value_ = joined(headers_);
  exposed_value_ = joined(o.exposed_headers);
  if (o.max_age.count() > 0) max_age_value_ = std::to_string(o.max_age.count());
}

bool cors::allows_origin(std::string_view origin) const noexcept {
  if (any_origin_) return true;
  return std::ranges::find(origins_, origin) != origins_.end();
}

bool cors::allows_preflight(const request& req) const noexcept {
  const auto method = req.header("access-control-request-method");
  if (!method || std::ranges::find(methods_, *method) == methods_.end()) return false;
  const auto requested = req.header("access-control-request-headers");
  if (!requested) return true;
  return all_entries(*requested, [&](std::string_view name) {
    return std::ranges::any_of(headers_, [&](const std::string& h) { return iequals(h, name); });
  });
}

void cors::after(exchange& ex) {
  const request& req = ex.req();
  response& res = ex.res();
  const bool preflight =
      req.verb() == method::options && req.header("access-control-request-method").has_value();
  (void)res.add_header("Vary", preflight ? "Origin, Access-Control-Request-Method, "
                                           "Access-Control-Request-Headers"
                                         : "Origin");
  const auto origin = req.header("origin");
  if (!origin || !allows_origin(*origin)) return;
  if (preflight) {
    const int status = final_status(ex);
    if (status < 200 || status > 299 || !allows_preflight(req)) return;
  }
  (void)res.set_header("Access-Control-Allow-Origin",
                       any_origin_ ? std::string_view("*") : *origin);
  if (credentials_) (void)res.set_header("Access-Control-Allow-Credentials", "true");
  if (preflight) {
    if (!methods_value_.empty())
      (void)res.set_header("Access-Control-Allow-Methods", methods_value_);
    if (!headers_value_.empty())
      (void)res.set_header("Access-Control-Allow-Headers", headers_value_);
    if (!max_age_value_.empty()) (void)res.set_header("Access-Control-Max-Age", max_age_value_);
  } else if (!exposed_value_.empty()) {
    (void)res.set_header("Access-Control-Expose-Headers", exposed_value_);
  }
}

}  // namespace keel::http
