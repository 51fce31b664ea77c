// keel/alert/event.hpp
//
// error_event is one reported failure, as a service (or keel's own logger)
// sends it to the error tracker: who failed (service, environment, release),
// what (code, category, severity, message, details), where (source location
// or stack frames) and in which request (request id, trace ids).
//
//   keel::alert::error_event e{.service = "checkout", .code = "DATABASE_ERROR",
//                              .message = "insert into orders failed after 3 attempts"};
//   if (auto ok = keel::alert::validate(e); !ok) return keel::fail(ok.error());
//   // or from outside: auto e = keel::alert::event_from_json(body);   // validated
//
// Everything here may come from outside the process, so validate() bounds
// every field (event_limits) and rejects what is missing with
// FIELD_VALIDATION_ERROR, listing each bad field in details.errors.
//
// Thread safety: plain values. Cost: validate() is a few passes over the
// fields; no allocation unless it fails.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "keel/core/error_code.hpp"
#include "keel/core/result.hpp"

namespace keel::alert {

// stack_frame
//
// One frame of a stack trace, innermost first. `in_app` marks the service's
// own code (not a library): fingerprinting uses the top in-app frame.
struct stack_frame {
  std::string function{};
  std::string file{};
  std::uint32_t line = 0;
  bool in_app = true;
};

// error_event
//
// The record of one failure. `fingerprint`, when set, overrides the computed
// one (the client knows that two messages are the same failure).
struct error_event {
  std::string service{};
  std::string environment{};
  std::string release{};
  std::string code{};  // SCREAMING_SNAKE (keel::error_code name)
  keel::category category = keel::category::permanent;
  keel::severity severity = keel::severity::medium;
  std::string message{};
  nlohmann::ordered_json details = nlohmann::ordered_json::object();
  std::string request_id{};
  std::string trace_id{};  // 32 lowercase hex, or empty
  std::string span_id{};   // 16 lowercase hex, or empty
  std::vector<stack_frame> frames{};
  std::string fingerprint{};  // explicit grouping key, or empty
  // The sender's id for this event (Sentry's event_id), 1-128 characters of
  // [A-Za-z0-9._-], or empty: one already stored within the idempotency
  // window is not stored again (store::append).
  std::string event_id{};
  std::chrono::system_clock::time_point timestamp{};
};

// event_limits
//
// Bounds on every field of an event that came from outside.
struct event_limits {
  std::size_t max_service = 128;
  std::size_t max_environment = 64;
  std::size_t max_release = 128;
  std::size_t max_message = 8 * 1024;
  std::size_t max_details_bytes = 16 * 1024;  // serialized
  std::size_t max_frames = 64;
  std::size_t max_frame_field = 512;
  std::size_t max_fingerprint = 256;
  std::size_t max_json_bytes = 64 * 1024;  // event_from_json input
};

// validate
//
// ok() when every required field (service, code, message, timestamp) is
// present and every field is within `limits` and well formed; otherwise
// FIELD_VALIDATION_ERROR with details.errors = [{"field","problem"}...].
[[nodiscard]] result<void> validate(const error_event& e, const event_limits& limits = {});

// event_from_json
//
// Parses and validates the JSON shape of an event (as POST /api/v1/events
// receives it): {"service","environment","release","code","category",
// "severity","message","details","request_id","trace_id","span_id",
// "frames":[{"function","file","line","in_app"}],"fingerprint","timestamp"}.
// A missing timestamp is `now`; a missing category/severity comes from the
// code when it is registered, else the defaults.
[[nodiscard]] result<error_event> event_from_json(std::string_view json,
                                                  std::chrono::system_clock::time_point now,
                                                  const event_limits& limits = {});

// The same from a parsed JSON value (as keel::http's request::json() gives
// it): one JSON type end to end, no text in between.
[[nodiscard]] result<error_event> event_from_json_value(const nlohmann::ordered_json& json,
                                                        std::chrono::system_clock::time_point now,
                                                        const event_limits& limits = {});

// events_from_json
//
// An ingest body: one event object, an array of 1..max_batch events, or
// {"events": [...]}. Every event valid: the events. Otherwise
// FIELD_VALIDATION_ERROR whose details.errors lists each bad field of each
// event with its index ({"index", "field", "problem"}), or VALIDATION_ERROR
// for a body of another shape or size. All or nothing.
[[nodiscard]] result<std::vector<error_event>> events_from_json(
    const nlohmann::ordered_json& body, std::chrono::system_clock::time_point now,
    const event_limits& limits = {}, std::size_t max_batch = 1000);

// to_json
//
// The JSON shape event_from_json reads.
nlohmann::ordered_json to_json(const error_event& e);

// append_json
//
// The same shape, appended as text to `out` (json_writer: no intermediate
// document), for the store's hot path.
void append_json(std::string& out, const error_event& e);

}  // namespace keel::alert
