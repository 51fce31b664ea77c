// keel/core/trace_context.hpp
//
// trace_context is W3C Trace Context (https://www.w3.org/TR/trace-context/):
// a 16-byte trace id, the 8-byte id of the current span, and trace flags,
// read from and written to the `traceparent` header.
//
//   auto tc = keel::trace_context::parse(
//       "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01");  // result<>
//   keel::trace_context mine = tc ? tc->child() : keel::trace_context::generate();
//   std::string header = mine.traceparent();
//
// Parsing follows the spec exactly: two-hex-digit version other than ff,
// lowercase hex only, exact field lengths, all-zero trace or parent id
// rejected; version 00 must be exactly 55 characters, a later version may
// carry more fields after a '-' (which are ignored, as the spec requires).
//
// Thread safety: a value type.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "keel/core/ids.hpp"
#include "keel/core/result.hpp"

namespace keel {

struct trace_context {
  static constexpr std::size_t traceparent_size = 55;
  static constexpr std::uint8_t flag_sampled = 0x01;

  id128 trace_id;
  std::uint64_t span_id = 0;
  std::uint8_t flags = 0;

  // VALIDATION_ERROR (with the reason in the message) unless `header` is a
  // valid traceparent.
  static result<trace_context> parse(std::string_view header);

  // A new trace with a new root span, sampled.
  static trace_context generate() noexcept;

  // The same trace with a new span id: this service's span whose parent is
  // the incoming one.
  trace_context child() const noexcept;

  bool sampled() const noexcept { return (flags & flag_sampled) != 0; }
  bool is_valid() const noexcept { return !trace_id.is_zero() && span_id != 0; }

  // "00-<trace id>-<span id>-<flags>", 55 characters.
  std::string traceparent() const;
  void write_traceparent(char* out /* traceparent_size */) const noexcept;
  // 32 and 16 lowercase hex characters.
  void trace_id_hex(char* out) const noexcept { trace_id.to_hex(out); }
  void span_id_hex(char* out) const noexcept;

  friend bool operator==(const trace_context&, const trace_context&) = default;
};

}  // namespace keel
