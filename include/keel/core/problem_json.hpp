// keel/core/problem_json.hpp
//
// Renders a keel::error as an RFC 9457 problem details document
// (application/problem+json), the one shape every keel HTTP error takes:
//
//   {"type":"urn:keel:problem:resource-not-found","title":"Resource not found",
//    "status":404,"detail":"The requested resource was not found.",
//    "instance":"/api/v1/issues/42","code":"RESOURCE_NOT_FOUND",
//    "request_id":"4bf92f3577b34da6a3ce929d0e0e4736",
//    "timestamp":"2026-11-23T06:43:08.123456Z","retryable":false,"details":{}}
//
//   std::string body = keel::render_problem(err, {.mode = keel::render_mode::production},
//                                           "/api/v1/issues/42");
//
// production: `detail` is the user-safe public_message registered for the
// code; the internal message, cause chain and source location never appear.
// development: adds "internal_message", "where" and "causes", all after
// redaction. `details` appear in both modes, redacted. The request id is
// the one given, else the current context's.
//
// Thread safety: pure function; the options' redactor is only read.
#pragma once

#include <string>
#include <string_view>

#include "keel/core/error.hpp"
#include "keel/core/redactor.hpp"

namespace keel {

inline constexpr std::string_view problem_content_type = "application/problem+json";

enum class render_mode { production, development };

struct problem_options {
  render_mode mode = render_mode::production;
  // `type` is type_base + the code in kebab case ("resource-not-found").
  std::string_view type_base = "urn:keel:problem:";
  // Masks secrets in everything rendered; nullptr means redactor::standard().
  const redactor* redact = nullptr;
};

std::string render_problem(const error& e, const problem_options& options = {},
                           std::string_view instance = {}, std::string_view request_id = {});

// "RESOURCE_NOT_FOUND" -> "resource-not-found".
std::string code_to_kebab(std::string_view name);

}  // namespace keel
