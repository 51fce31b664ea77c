#include "keel/core/trace_context.hpp"

namespace keel {
namespace {

constexpr char kHex[] = "0123456789abcdef";

// Lowercase hex only: the spec forbids uppercase in traceparent.
int hex_value(char c) noexcept {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;
}

bool parse_hex(std::string_view s, std::uint64_t& out) noexcept {
  out = 0;
  for (char c : s) {
    const int v = hex_value(c);
    if (v < 0) return false;
    out = (out << 4) | static_cast<std::uint64_t>(v);
  }
  return true;
}

void hex_into(std::uint64_t v, int digits, char* out) noexcept {
  for (int i = digits - 1; i >= 0; --i) {
    out[i] = kHex[v & 0xf];
    v >>= 4;
  }
}

result<trace_context> invalid(const char* why) {
  return fail(codes::validation_error, std::string("invalid traceparent: ") + why);
}

}  // namespace

result<trace_context> trace_context::parse(std::string_view h) {
  if (h.size() < traceparent_size) return invalid("too short");
  if (h[2] != '-' || h[35] != '-' || h[52] != '-') return invalid("fields not separated by '-'");
  std::uint64_t version = 0;
  if (!parse_hex(h.substr(0, 2), version))
    return invalid("version is not two lowercase hex digits");
  if (version == 0xff) return invalid("version ff is forbidden");
  if (version == 0 && h.size() != traceparent_size)
    return invalid("version 00 must be 55 characters");
  if (version > 0 && h.size() > traceparent_size && h[traceparent_size] != '-') {
    return invalid("fields after flags must follow a '-'");
  }
  trace_context tc;
  std::uint64_t flags = 0;
  if (!parse_hex(h.substr(3, 16), tc.trace_id.hi) || !parse_hex(h.substr(19, 16), tc.trace_id.lo)) {
    return invalid("trace-id is not 32 lowercase hex digits");
  }
  if (!parse_hex(h.substr(36, 16), tc.span_id))
    return invalid("parent-id is not 16 lowercase hex digits");
  if (!parse_hex(h.substr(53, 2), flags))
    return invalid("trace-flags is not two lowercase hex digits");
  if (tc.trace_id.is_zero()) return invalid("trace-id is all zeros");
  if (tc.span_id == 0) return invalid("parent-id is all zeros");
  // Unknown flags of a later version are not ours to propagate.
  tc.flags = static_cast<std::uint8_t>(version == 0 ? flags : (flags & flag_sampled));
  return tc;
}

trace_context trace_context::generate() noexcept {
  return trace_context{new_id128(), new_id64(), flag_sampled};
}

trace_context trace_context::child() const noexcept {
  trace_context c = *this;
  c.span_id = new_id64();
  return c;
}

void trace_context::write_traceparent(char* out) const noexcept {
  out[0] = '0';
  out[1] = '0';
  out[2] = '-';
  trace_id.to_hex(out + 3);
  out[35] = '-';
  hex_into(span_id, 16, out + 36);
  out[52] = '-';
  hex_into(flags, 2, out + 53);
}

std::string trace_context::traceparent() const {
  std::string s(traceparent_size, '\0');
  write_traceparent(s.data());
  return s;
}

void trace_context::span_id_hex(char* out) const noexcept { hex_into(span_id, 16, out); }

}  // namespace keel
