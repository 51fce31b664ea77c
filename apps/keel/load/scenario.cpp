#include "load/scenario.hpp"

#include <charconv>
#include <cmath>
#include <fstream>
#include <sstream>

#include <fmt/format.h>

#include "keel/config/yaml_reader.hpp"

namespace keel::cli::load {
namespace {

constexpr std::size_t kMaxEndpoints = 256;
constexpr std::size_t kMaxBody = 1 << 20;
constexpr std::size_t kMaxHeaders = 64;
constexpr std::size_t kMaxFieldSize = 8192;
constexpr std::size_t kMaxYaml = 4 << 20;

bool is_tchar(char c) {
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) return true;
  return std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}

bool is_token(std::string_view s) {
  if (s.empty() || s.size() > 256) return false;
  for (const char c : s)
    if (!is_tchar(c)) return false;
  return true;
}

bool is_field_value(std::string_view s) {
  if (s.size() > kMaxFieldSize) return false;
  for (const char c : s) {
    const auto u = static_cast<unsigned char>(c);
    if ((u < 0x20 && u != '\t') || u == 0x7f) return false;
  }
  return true;
}

bool is_target(std::string_view s) {
  if (s.empty() || s.front() != '/' || s.size() > kMaxFieldSize) return false;
  for (const char c : s) {
    const auto u = static_cast<unsigned char>(c);
    if (u <= 0x20 || u == 0x7f) return false;
  }
  return true;
}

}  // namespace

std::string origin::host_header() const {
  const bool v6 = host.find(':') != std::string::npos;
  const std::string h = v6 ? "[" + host + "]" : host;
  return port == 80 ? h : fmt::format("{}:{}", h, port);
}

result<std::pair<origin, std::string>> parse_url(std::string_view url) {
  constexpr std::string_view http = "http://";
  if (url.starts_with("https://")) {
    return fail(codes::validation_error,
                fmt::format("'{}': https is not supported; keel load speaks plain HTTP/1.1 "
                            "(put it in front of the TLS terminator's backend)",
                            url));
  }
  if (!url.starts_with(http)) {
    return fail(codes::validation_error,
                fmt::format("'{}': expected http://host[:port]/path", url));
  }
  std::string_view rest = url.substr(http.size());
  const std::size_t slash = rest.find('/');
  std::string_view authority = rest.substr(0, slash);
  std::string path = slash == std::string_view::npos ? "/" : std::string(rest.substr(slash));
  if (authority.find('@') != std::string_view::npos) {
    return fail(codes::validation_error,
                fmt::format("'{}': credentials in URLs are not supported", url));
  }
  origin o;
  std::string_view port_text;
  if (authority.starts_with("[")) {
    const std::size_t close = authority.find(']');
    if (close == std::string_view::npos) {
      return fail(codes::validation_error, fmt::format("'{}': unterminated IPv6 address", url));
    }
    o.host = std::string(authority.substr(1, close - 1));
    std::string_view after = authority.substr(close + 1);
    if (!after.empty()) {
      if (after.front() != ':') {
        return fail(codes::validation_error, fmt::format("'{}': bad authority", url));
      }
      port_text = after.substr(1);
    }
  } else {
    const std::size_t colon = authority.rfind(':');
    o.host = std::string(authority.substr(0, colon));
    if (colon != std::string_view::npos) port_text = authority.substr(colon + 1);
  }
  if (o.host.empty() || o.host.size() > 253) {
    return fail(codes::validation_error, fmt::format("'{}': missing host", url));
  }
  for (const char c : o.host) {
    if (!(is_tchar(c) || c == ':')) {
      return fail(codes::validation_error, fmt::format("'{}': invalid host", url));
    }
  }
  if (!port_text.empty()) {
    unsigned port = 0;
    const auto [p, ec] =
        std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
    if (ec != std::errc() || p != port_text.data() + port_text.size() || port == 0 ||
        port > 65535) {
      return fail(codes::validation_error, fmt::format("'{}': invalid port", url));
    }
    o.port = static_cast<std::uint16_t>(port);
  }
  if (const std::size_t hash = path.find('#'); hash != std::string::npos) path.resize(hash);
  return std::pair{o, path};
}

result<void> validate(const scenario& s) {
  if (s.target.host.empty()) return fail(codes::validation_error, "no target host");
  if (s.endpoints.empty()) return fail(codes::validation_error, "no endpoints");
  if (s.endpoints.size() > kMaxEndpoints) {
    return fail(codes::validation_error, fmt::format("more than {} endpoints", kMaxEndpoints));
  }
  for (const auto& e : s.endpoints) {
    if (!is_token(e.method)) {
      return fail(codes::validation_error, fmt::format("invalid method '{}'", e.method));
    }
    if (!is_target(e.path)) {
      return fail(codes::validation_error,
                  fmt::format("invalid path '{}': must start with '/' and hold no spaces or "
                              "control characters",
                              e.path));
    }
    if (!(e.weight > 0) || !std::isfinite(e.weight)) {
      return fail(codes::validation_error, fmt::format("endpoint {}: weight must be > 0", e.name));
    }
    if (e.body.size() > kMaxBody) {
      return fail(codes::validation_error, fmt::format("endpoint {}: body over 1 MiB", e.name));
    }
    if (e.headers.size() > kMaxHeaders) {
      return fail(codes::validation_error, fmt::format("endpoint {}: too many headers", e.name));
    }
    for (const auto& [k, v] : e.headers) {
      if (!is_token(k)) {
        return fail(codes::validation_error, fmt::format("invalid header name '{}'", k));
      }
      if (!is_field_value(v)) {
        return fail(codes::validation_error,
                    fmt::format("header {}: value holds control characters or is too long", k));
      }
    }
  }
  return ok();
}

result<scenario> scenario_from_urls(const std::vector<std::string>& urls) {
  scenario s;
  bool first = true;
  for (const auto& u : urls) {
    auto parsed = parse_url(u);
    if (!parsed) return fail(parsed.error());
    if (first) {
      s.target = parsed->first;
      first = false;
    } else if (parsed->first.host != s.target.host || parsed->first.port != s.target.port) {
      return fail(codes::validation_error,
                  fmt::format("'{}': every URL must share the first one's host and port", u));
    }
    s.endpoints.push_back({.name = "GET " + parsed->second, .path = parsed->second});
  }
  if (auto r = validate(s); !r) return fail(r.error());
  return s;
}

namespace {

std::vector<std::pair<std::string, std::string>> headers_of(const YAML::Node& n,
                                                            const std::string& path) {
  using keel::config::bad;
  if (!n.IsMap()) bad(n, path, "expected a mapping of header names to values");
  std::vector<std::pair<std::string, std::string>> out;
  for (const auto& kv : n) {
    const auto name = keel::config::text(kv.first, path, kMaxFieldSize);
    out.emplace_back(
        name, keel::config::text(kv.second, keel::config::child_path(path, name), kMaxFieldSize));
  }
  return out;
}

}  // namespace

result<scenario> scenario_from_yaml(std::string_view text, std::string_view base_url) {
  namespace cfg = keel::config;
  auto read = cfg::read_yaml(
      text,
      [&](const YAML::Node& root) -> result<scenario> {
        cfg::allow_keys(root, "", {"base_url", "headers", "endpoints"});
        std::string base(base_url);
        if (base.empty()) {
          if (!root["base_url"]) cfg::bad(root, "base_url", "missing (or give a URL argument)");
          base = cfg::text(root["base_url"], "base_url", kMaxFieldSize);
        }
        auto parsed = parse_url(base);
        if (!parsed) return fail(parsed.error());
        scenario s;
        s.target = parsed->first;
        std::string prefix = parsed->second == "/" ? "" : parsed->second;
        if (!prefix.empty() && prefix.back() == '/') prefix.pop_back();
        std::vector<std::pair<std::string, std::string>> common;
        if (const auto h = root["headers"]) common = headers_of(h, "headers");
        const auto eps = root["endpoints"];
        if (!eps || !eps.IsSequence()) cfg::bad(root, "endpoints", "expected a list");
        if (eps.size() > kMaxEndpoints) {
          cfg::bad(eps, "endpoints", fmt::format("more than {} endpoints", kMaxEndpoints));
        }
        for (std::size_t i = 0; i < eps.size(); ++i) {
          const auto& n = eps[i];
          const auto p = fmt::format("endpoints[{}]", i);
          cfg::allow_keys(n, p, {"name", "method", "path", "weight", "body", "headers"});
          endpoint e;
          if (!n["path"]) cfg::bad(n, p, "endpoint without path");
          e.path = prefix + cfg::text(n["path"], p + ".path", kMaxFieldSize);
          if (n["method"]) e.method = cfg::text(n["method"], p + ".method", 16);
          if (n["weight"]) e.weight = cfg::number(n["weight"], p + ".weight", 0, 1e6);
          if (n["body"]) e.body = cfg::text(n["body"], p + ".body", kMaxBody);
          e.headers = common;
          if (const auto h = n["headers"]) {
            for (auto& kv : headers_of(h, p + ".headers"))
              e.headers.push_back(std::move(kv));
          }
          e.name = n["name"] ? cfg::text(n["name"], p + ".name", 256) : e.method + " " + e.path;
          s.endpoints.push_back(std::move(e));
        }
        if (auto r = validate(s); !r) return fail(r.error());
        return s;
      },
      {.max_bytes = kMaxYaml, .what = "scenario"});
  if (!read) return fail(std::move(read.error()));
  return std::move(*read);
}

result<scenario> scenario_from_yaml_file(const std::string& path, std::string_view base_url) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return fail(codes::validation_error, fmt::format("cannot open scenario file {}", path));
  std::string text;
  text.resize(kMaxYaml + 1);
  in.read(text.data(), static_cast<std::streamsize>(text.size()));
  text.resize(static_cast<std::size_t>(in.gcount()));
  return scenario_from_yaml(text, base_url);
}

result<scenario> seed_scenario(std::string_view base_url, double error_share) {
  if (!(error_share >= 0.0 && error_share < 1.0)) {
    return fail(codes::validation_error, "--error-share must be in [0, 1)");
  }
  auto parsed = parse_url(base_url.empty() ? "http://127.0.0.1:8000" : base_url);
  if (!parsed) return fail(parsed.error());
  scenario s;
  s.target = parsed->first;
  const double normal = (1.0 - error_share) / 3.0;
  for (const char* p : {"/", "/health", "/metrics"})
    s.endpoints.push_back({.name = std::string("GET ") + p, .path = p, .weight = normal});
  if (error_share > 0) {
    for (const char* p : {"/simulate/error", "/simulate/slow"})
      s.endpoints.push_back(
          {.name = std::string("GET ") + p, .path = p, .weight = error_share / 2});
  }
  if (auto r = validate(s); !r) return fail(r.error());
  return s;
}

}  // namespace keel::cli::load
