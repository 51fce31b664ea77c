// keel/core/error.hpp
//
// keel::error is the one value type for a failure anywhere in keel: which
// code (and so which category, severity, HTTP status and retry advice), the
// internal message for developers and logs, structured details, the cause
// it wraps, where it was raised and when.
//
//   keel::error e = keel::error(keel::codes::database_error, "insert into orders failed")
//                       .with_detail("table", "orders")
//                       .with_cause(keel::from_error_code(ec));
//   if (e == keel::codes::database_error && e.retryable()) { ... }
//
// The internal message may hold anything (paths, SQL, peer addresses); it is
// shown to clients only in development mode and only after redaction
// (problem_json.hpp). `details` are structured and meant for clients (field
// errors, limits, retry hints): put nothing secret there.
//
// An error is a handle to an immutable shared representation: copying is a
// reference-count increment, and result<T> stays small. The with_* builders
// copy the representation first when it is shared, so a copy never changes
// behind another holder's back.
//
// Thread safety: distinct error objects may be used concurrently, including
// copies of one another; a single object is not to be mutated concurrently.
#pragma once

#include <chrono>
#include <exception>
#include <memory>
#include <optional>
#include <source_location>
#include <string>
#include <string_view>
#include <system_error>

#include <nlohmann/json.hpp>

#include "keel/core/error_code.hpp"

namespace keel {

class error {
 public:
  using clock = std::chrono::system_clock;

  // An error of `code`. `message` is internal: for developers and logs.
  explicit error(const error_code& code, std::string message = {},
                 std::source_location where = std::source_location::current());

  // The code and what follows from it.
  const error_code& code() const noexcept;
  std::string_view name() const noexcept { return code().name; }
  keel::category category() const noexcept { return code().category; }
  // The code's severity, unless this error raised it (with_severity).
  keel::severity severity() const noexcept;
  int http_status() const noexcept { return code().http_status; }
  bool retryable() const noexcept { return code().retryable; }

  // The internal message; may be empty.
  const std::string& message() const noexcept;
  // Structured details: a JSON object, empty when none were added.
  const nlohmann::ordered_json& details() const noexcept;
  // The error this one wraps, or nullptr.
  const error* cause() const noexcept;
  // Where the error was constructed.
  const std::source_location& where() const noexcept;
  clock::time_point timestamp() const noexcept;
  // A delay the failing party asked for before a retry (HTTP Retry-After,
  // a rate limiter's time to the next token), if any.
  std::optional<std::chrono::milliseconds> retry_after() const noexcept;

  // Builders. On an rvalue they return the same object, so they chain.
  error& with_detail(std::string key, nlohmann::ordered_json value) &;
  error&& with_detail(std::string key, nlohmann::ordered_json value) && {
    return std::move(with_detail(std::move(key), std::move(value)));
  }
  error& with_cause(error cause) &;
  error&& with_cause(error cause) && { return std::move(with_cause(std::move(cause))); }
  error& with_severity(keel::severity s) &;
  error&& with_severity(keel::severity s) && { return std::move(with_severity(s)); }
  error& with_retry_after(std::chrono::milliseconds d) &;
  error&& with_retry_after(std::chrono::milliseconds d) && {
    return std::move(with_retry_after(d));
  }

  // "CODE: message; caused by: CODE: message", for diagnostics. Not redacted.
  std::string to_string() const;

  friend bool operator==(const error& e, const error_code& c) noexcept { return e.code() == c; }

 private:
  struct rep;
  rep& mutable_rep();
  std::shared_ptr<rep> rep_;
};

// to_json
//
// The canonical JSON shape of an error, as logs and stored events carry it:
// {"code","category","severity","status","retryable","message","details",
//  "where":{"file","line","function"},"timestamp","cause":{...}}.
// Not redacted: pass the result through a redactor before it leaves the process.
nlohmann::ordered_json to_json(const error& e);

// exception
//
// For code that must throw (constructors, callbacks with no error channel).
// Catch it at a boundary and take .error() back out.
class exception : public std::exception {
 public:
  explicit exception(keel::error e) : error_(std::move(e)) {}
  const keel::error& error() const noexcept { return error_; }
  const char* what() const noexcept override;

 private:
  keel::error error_;
};

// from_error_code
//
// Maps an OS or library error code to a keel::error: timeouts to TIMEOUT,
// refused/reset/unreachable connections to NETWORK_ERROR, cancellation to
// CANCELLED, out-of-memory to RESOURCE_EXHAUSTED, would-block and busy
// resources to SERVICE_UNAVAILABLE, anything else to IO_ERROR. The original
// value and category are kept in details ("errno", "error_category").
error from_error_code(std::error_code ec, std::string_view what = {},
                      std::source_location where = std::source_location::current());

// from_exception
//
// keel::exception gives its error back; std::system_error maps through
// from_error_code; std::bad_alloc is RESOURCE_EXHAUSTED; anything else is
// INTERNAL_ERROR carrying the exception's type and what() as the internal
// message (never shown to clients in production).
error from_exception(const std::exception& e,
                     std::source_location where = std::source_location::current());
error from_exception_ptr(const std::exception_ptr& p,
                         std::source_location where = std::source_location::current());

}  // namespace keel
