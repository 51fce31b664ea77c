// keel/core/error_code.hpp
//
// An error_code is the stable identity of a kind of failure: a SCREAMING_SNAKE
// name that clients, logs, metrics and alert rules match on, plus everything
// that follows from it — the category that tells callers how to react, a
// severity, the HTTP status, whether a retry can help, and the user-safe text
// that production responses show instead of the internal message.
//
// Codes are constexpr values; the built-in set lives in keel::codes. An
// application defines its own the same way and registers them once, so a
// name is never used for two meanings:
//
//   inline constexpr keel::error_code insufficient_funds{
//       .name = "INSUFFICIENT_FUNDS", .category = keel::category::business,
//       .severity = keel::severity::low, .http_status = 402,
//       .title = "Insufficient funds",
//       .public_message = "The account balance does not cover this payment."};
//   static_assert(keel::names_are_unique({&insufficient_funds, &other_code}));
//   keel::code_registry::global().add(insufficient_funds).value();  // code_registry.hpp
//
// Thread safety: error_code values are immutable.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string_view>

namespace keel {

// category
//
// What a caller should do about a failure (the seeds' taxonomy).
//   transient: it may pass by itself — retry with backoff.
//   permanent: it will fail the same way again — fail fast.
//   systemic:  a dependency or the platform is broken — circuit breaker, fallback.
//   business:  a domain rule said no — tell the user.
enum class category : std::uint8_t { transient, permanent, systemic, business };

// severity
//
// How urgently a person should look at it; alert routing matches on it.
enum class severity : std::uint8_t { low, medium, high, critical };

std::string_view to_string(category c) noexcept;
std::string_view to_string(severity s) noexcept;
std::optional<category> parse_category(std::string_view s) noexcept;
std::optional<severity> parse_severity(std::string_view s) noexcept;

// error_code
//
// The attributes of one code. `title` is a short, constant summary (the
// problem+json title); `public_message` is what a client sees in production.
// Both must be safe to show to anyone.
struct error_code {
  std::string_view name;
  ::keel::category category = ::keel::category::permanent;
  ::keel::severity severity = ::keel::severity::medium;
  int http_status = 500;
  bool retryable = false;
  std::string_view title;
  std::string_view public_message;

  friend constexpr bool operator==(const error_code& a, const error_code& b) noexcept {
    return a.name == b.name;
  }
};

// is_valid_code_name
//
// SCREAMING_SNAKE: [A-Z][A-Z0-9]*(_[A-Z0-9]+)*, at most 64 characters.
constexpr bool is_valid_code_name(std::string_view n) noexcept {
  if (n.empty() || n.size() > 64 || n.front() < 'A' || n.front() > 'Z' || n.back() == '_') {
    return false;
  }
  char prev = 0;
  for (char c : n) {
    const bool ok = (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
    if (!ok || (c == '_' && prev == '_')) return false;
    prev = c;
  }
  return true;
}

// names_are_unique
//
// For a static_assert over an application's own code set.
constexpr bool names_are_unique(std::initializer_list<const error_code*> set) noexcept {
  for (auto i = set.begin(); i != set.end(); ++i) {
    if (!is_valid_code_name((*i)->name)) return false;
    for (auto j = i + 1; j != set.end(); ++j) {
      if ((*i)->name == (*j)->name) return false;
    }
  }
  return true;
}

// keel::codes — the built-in set. docs/errors.md has the table.
namespace codes {
// clang-format off
inline constexpr error_code validation_error{"VALIDATION_ERROR", category::permanent, severity::low, 400, false,
    "Invalid request", "The request is not valid."};
inline constexpr error_code field_validation_error{"FIELD_VALIDATION_ERROR", category::permanent, severity::low, 422, false,
    "Validation failed", "One or more fields are not valid; see details."};
inline constexpr error_code authentication_required{"AUTHENTICATION_REQUIRED", category::permanent, severity::medium, 401, false,
    "Authentication required", "Valid credentials are required to access this resource."};
inline constexpr error_code token_invalid{"TOKEN_INVALID", category::business, severity::medium, 401, false,
    "Invalid or expired token", "The access token is invalid or has expired."};
inline constexpr error_code authorization_denied{"AUTHORIZATION_DENIED", category::permanent, severity::medium, 403, false,
    "Forbidden", "You do not have permission to perform this action."};
inline constexpr error_code payment_required{"PAYMENT_REQUIRED", category::business, severity::low, 402, false,
    "Payment required", "The payment could not be completed."};
inline constexpr error_code resource_not_found{"RESOURCE_NOT_FOUND", category::permanent, severity::low, 404, false,
    "Resource not found", "The requested resource was not found."};
inline constexpr error_code method_not_allowed{"METHOD_NOT_ALLOWED", category::permanent, severity::low, 405, false,
    "Method not allowed", "The method is not allowed for this resource."};
inline constexpr error_code request_timeout{"REQUEST_TIMEOUT", category::transient, severity::low, 408, true,
    "Request timeout", "The request was not received in time."};
inline constexpr error_code conflict{"CONFLICT", category::business, severity::low, 409, false,
    "Conflict", "The request conflicts with the current state of the resource."};
inline constexpr error_code invalid_state_transition{"INVALID_STATE_TRANSITION", category::business, severity::low, 409, false,
    "Invalid state transition", "The resource cannot move to the requested state."};
inline constexpr error_code payload_too_large{"PAYLOAD_TOO_LARGE", category::permanent, severity::low, 413, false,
    "Payload too large", "The request body is larger than this endpoint accepts."};
inline constexpr error_code unsupported_media_type{"UNSUPPORTED_MEDIA_TYPE", category::permanent, severity::low, 415, false,
    "Unsupported media type", "The request body has a content type this endpoint does not accept."};
inline constexpr error_code header_fields_too_large{"HEADER_FIELDS_TOO_LARGE", category::permanent, severity::low, 431, false,
    "Request header fields too large", "The request headers are larger than this server accepts."};
inline constexpr error_code rate_limited{"RATE_LIMITED", category::transient, severity::low, 429, true,
    "Too many requests", "Too many requests; retry after the indicated time."};
inline constexpr error_code quota_exceeded{"QUOTA_EXCEEDED", category::business, severity::medium, 429, false,
    "Quota exceeded", "The usage quota for this account is exhausted."};
inline constexpr error_code cancelled{"CANCELLED", category::permanent, severity::low, 499, false,
    "Request cancelled", "The operation was cancelled."};
inline constexpr error_code internal_error{"INTERNAL_ERROR", category::systemic, severity::high, 500, false,
    "Internal server error", "An unexpected error occurred."};
inline constexpr error_code database_error{"DATABASE_ERROR", category::systemic, severity::high, 500, true,
    "Database error", "A storage error occurred; please try again later."};
inline constexpr error_code io_error{"IO_ERROR", category::systemic, severity::high, 500, false,
    "I/O error", "An unexpected error occurred."};
inline constexpr error_code configuration_error{"CONFIGURATION_ERROR", category::systemic, severity::critical, 500, false,
    "Configuration error", "The service is misconfigured."};
inline constexpr error_code external_service_error{"EXTERNAL_SERVICE_ERROR", category::systemic, severity::high, 502, true,
    "Bad gateway", "An upstream service failed; please try again later."};
inline constexpr error_code network_error{"NETWORK_ERROR", category::transient, severity::medium, 502, true,
    "Network error", "An upstream service could not be reached; please try again later."};
inline constexpr error_code service_unavailable{"SERVICE_UNAVAILABLE", category::systemic, severity::high, 503, true,
    "Service unavailable", "The service is temporarily unavailable; please try again later."};
inline constexpr error_code circuit_open{"CIRCUIT_OPEN", category::systemic, severity::medium, 503, true,
    "Service unavailable", "A dependency is failing and calls to it are paused; please try again later."};
inline constexpr error_code bulkhead_full{"BULKHEAD_FULL", category::systemic, severity::medium, 503, true,
    "Service busy", "The service is at capacity; please try again later."};
inline constexpr error_code resource_exhausted{"RESOURCE_EXHAUSTED", category::systemic, severity::critical, 503, false,
    "Service unavailable", "The service is out of resources; please try again later."};
inline constexpr error_code timeout{"TIMEOUT", category::transient, severity::medium, 504, true,
    "Timeout", "The operation did not complete in time."};
// clang-format on

// All of the above, for registries, docs and tests.
inline constexpr const error_code* builtin[] = {&validation_error,
                                                &field_validation_error,
                                                &authentication_required,
                                                &token_invalid,
                                                &authorization_denied,
                                                &payment_required,
                                                &resource_not_found,
                                                &method_not_allowed,
                                                &request_timeout,
                                                &conflict,
                                                &invalid_state_transition,
                                                &payload_too_large,
                                                &unsupported_media_type,
                                                &header_fields_too_large,
                                                &rate_limited,
                                                &quota_exceeded,
                                                &cancelled,
                                                &internal_error,
                                                &database_error,
                                                &io_error,
                                                &configuration_error,
                                                &external_service_error,
                                                &network_error,
                                                &service_unavailable,
                                                &circuit_open,
                                                &bulkhead_full,
                                                &resource_exhausted,
                                                &timeout};
}  // namespace codes

}  // namespace keel
