// apps/keel/load/scenario.hpp
//
// What `keel load` sends: a target origin (http://host:port) and weighted
// endpoints (method, path, headers, body), from URLs on the command line,
// a YAML file, or the built-in seed mix.
//
//   auto s = keel::cli::load::scenario_from_urls({"http://127.0.0.1:8000/health"});
//   auto y = keel::cli::load::scenario_from_yaml_file("mix.yaml", base_url_override);
//   auto seed = keel::cli::load::seed_scenario("http://127.0.0.1:8000", 0.2);
//
// YAML shape:
//   base_url: http://127.0.0.1:8000
//   headers: {Accept: application/json}      # sent with every request
//   endpoints:
//     - {name: health, path: /health, weight: 3}
//     - {path: /api/v1/events, method: POST, weight: 1,
//        headers: {Content-Type: application/json}, body: '{"service":"demo"}'}
//
// Everything is validated: http only, one origin, methods and header names
// are HTTP tokens, header values and paths hold no CR/LF or control bytes,
// ≤ 256 endpoints, bodies ≤ 1 MiB, weights finite and > 0.
//
// Thread safety: plain values.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "keel/core/result.hpp"

namespace keel::cli::load {

struct endpoint {
  std::string name{};  // for the per-endpoint breakdown; defaults to "METHOD path"
  std::string method = "GET";
  std::string path = "/";
  std::vector<std::pair<std::string, std::string>> headers{};
  std::string body{};
  double weight = 1.0;
};

struct origin {
  std::string host{};
  std::uint16_t port = 80;
  std::string host_header() const;  // "host:port" (port omitted when 80), IPv6 bracketed
};

struct scenario {
  origin target{};
  std::vector<endpoint> endpoints{};
};

// Parses "http://host[:port][/path[?query]]"; https is refused with a clear message.
result<std::pair<origin, std::string>> parse_url(std::string_view url);

result<scenario> scenario_from_urls(const std::vector<std::string>& urls);
// `base_url` (may be empty) overrides the file's base_url.
result<scenario> scenario_from_yaml(std::string_view yaml_text, std::string_view base_url);
result<scenario> scenario_from_yaml_file(const std::string& path, std::string_view base_url);
// The seed exercise's mix: /, /health, /metrics share (1 - error_share)
// equally; /simulate/error and /simulate/slow share error_share equally.
result<scenario> seed_scenario(std::string_view base_url, double error_share);

// Validates names, paths, headers, sizes (called by every constructor above).
result<void> validate(const scenario& s);

}  // namespace keel::cli::load
