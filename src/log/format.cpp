#include "log/internal/format.hpp"

#include <charconv>
#include <cmath>

#include <fmt/compile.h>
#include <fmt/format.h>
#include <cstring>

#include "keel/core/error.hpp"
#include "keel/core/json_writer.hpp"
#include "keel/core/rfc3339.hpp"
#include "keel/log/detail/codec.hpp"

namespace keel::log::internal {
namespace {

using detail::tag;

template <class T>
T get(const char*& p) noexcept {
  T v;
  std::memcpy(&v, p, sizeof v);
  p += sizeof v;
  return v;
}

const char* align8(const char* p) noexcept {
  const auto a = reinterpret_cast<std::uintptr_t>(p);
  return p + ((8 - (a & 7)) & 7);
}

constexpr std::string_view kLevelJson[] = {
    R"("level":"trace")", R"("level":"debug")",    R"("level":"info")", R"("level":"warn")",
    R"("level":"error")", R"("level":"critical")", R"("level":"off")"};
constexpr std::string_view kLevelConsole[] = {"TRACE", "DEBUG", "INFO ", "WARN ",
                                              "ERROR", "CRIT ", "OFF  "};
constexpr std::string_view kLevelColor[] = {"\x1b[90m", "\x1b[36m",   "\x1b[32m", "\x1b[33m",
                                            "\x1b[31m", "\x1b[1;31m", ""};
constexpr std::string_view kReset = "\x1b[0m";

void append_hex(std::string& out, std::uint64_t v, int digits) {
  static constexpr char hex[] = "0123456789abcdef";
  char buf[16];
  for (int i = digits - 1; i >= 0; --i) {
    buf[i] = hex[v & 0xf];
    v >>= 4;
  }
  out.append(buf, static_cast<std::size_t>(digits));
}

// Shortest round-trip form, as append_json_number, through fmt's Dragonbox
// (several times cheaper than libstdc++'s to_chars on this hot path).
void append_double(std::string& out, double v) {
  if (!std::isfinite(v)) {
    out.append("null");
    return;
  }
  char buf[32];
  const auto r = fmt::format_to_n(buf, sizeof buf, FMT_COMPILE("{}"), v);
  out.append(buf, r.out);
}

void append_duration_ms(std::string& out, std::int64_t ns) {
  append_double(out, static_cast<double>(ns) / 1e6);
}

// The context block (detail::write_context): request id, trace, user, fields.
struct context_view {
  std::string_view request_id;
  bool has_trace = false;
  std::uint64_t trace_hi = 0, trace_lo = 0, span = 0;
  std::string_view user_id;
  std::uint8_t field_count = 0;
  const char* fields = nullptr;
};

context_view read_context(const char* p) noexcept {
  context_view c;
  const auto rid = get<std::uint8_t>(p);
  c.request_id = {p, rid};
  p += rid;
  c.has_trace = get<std::uint8_t>(p) != 0;
  if (c.has_trace) {
    c.trace_hi = get<std::uint64_t>(p);
    c.trace_lo = get<std::uint64_t>(p);
    c.span = get<std::uint64_t>(p);
  }
  const auto un = get<std::uint16_t>(p);
  c.user_id = {p, un};
  p += un;
  c.field_count = get<std::uint8_t>(p);
  c.fields = p;
  return c;
}

// append_json_escaped with a fast path for the common case: eight bytes at
// a time while none is a control character, '"', '\\' or non-ASCII.
void escape(std::string& out, std::string_view s) {
  const char* p = s.data();
  const char* const end = p + s.size();
  constexpr std::uint64_t ones = 0x0101010101010101ull;
  constexpr std::uint64_t highs = 0x8080808080808080ull;
  while (end - p >= 8) {
    std::uint64_t w;
    std::memcpy(&w, p, 8);
    const std::uint64_t ctl = (w - ones * 0x20) & ~w;  // bytes < 0x20 (and ≥ 0x80)
    const std::uint64_t q = w ^ (ones * '"');
    const std::uint64_t b = w ^ (ones * '\\');
    const std::uint64_t special = ctl | ((q - ones) & ~q) | ((b - ones) & ~b) | w;
    if ((special & highs) != 0) break;
    p += 8;
  }
  while (p != end) {
    const auto c = static_cast<unsigned char>(*p);
    if (c < 0x20 || c >= 0x80 || c == '"' || c == '\\') break;
    ++p;
  }
  out.append(s.data(), static_cast<std::size_t>(p - s.data()));
  if (p != end) append_json_escaped(out, std::string_view(p, static_cast<std::size_t>(end - p)));
}

}  // namespace

decoded decode(const char* record, const time_converter& tc) noexcept {
  detail::record_header h;
  std::memcpy(&h, record, sizeof h);
  decoded d;
  d.lvl = static_cast<level>(h.level);
  d.flags = h.flags;
  d.time = tc.to_time(h.stamp, h.flags);
  d.logger = h.logger;
  d.where = h.where;
  const char* p = record + sizeof h;
  d.message = {p, h.message_size};
  p += h.message_size;
  d.bound = {p, h.bound_size};
  p += h.bound_size;
  if ((h.flags & detail::flag_has_context) != 0) {
    d.context = p;
    const context_view c = read_context(p);
    p = c.fields;
    for (unsigned i = 0; i < c.field_count; ++i) {
      p += get<std::uint8_t>(p);
      p += get<std::uint16_t>(p);
    }
  }
  d.fields = p;
  d.field_count = h.field_count;
  return d;
}

namespace {
const char* destroy_value(std::uint8_t t, const char* p) noexcept;

const char* destroy_fields(const char* p, std::size_t count) noexcept {
  for (std::size_t i = 0; i < count; ++i) {
    const auto t = get<std::uint8_t>(p);
    p += get<std::uint8_t>(p);
    p = destroy_value(t, p);
  }
  return p;
}

const char* destroy_value(std::uint8_t t, const char* p) noexcept {
  switch (static_cast<tag>(t)) {
    case tag::str:
      return p + 4 + get<std::uint32_t>(p);
    case tag::i64:
    case tag::u64:
    case tag::f64:
    case tag::duration:
    case tag::timestamp:
      return p + 8;
    case tag::boolean:
      return p + 1;
    case tag::null:
      return p;
    case tag::error: {
      const char* a = align8(p);
      std::destroy_at(reinterpret_cast<::keel::error*>(const_cast<char*>(a)));
      return a + detail::error_size();
    }
    case tag::object:
    case tag::array: {
      const auto n = get<std::uint16_t>(p);
      return destroy_fields(p, n);
    }
  }
  return p;
}
}  // namespace

void destroy_errors(const char* fields, std::size_t count) noexcept {
  destroy_fields(fields, count);
}

formatter::formatter(format_settings s) : s_(std::move(s)) { scratch_.reserve(4096); }

std::uint16_t reserved_member(std::string_view k) noexcept {
  struct entry {
    std::string_view name;
    std::uint16_t bit;
  };
  static constexpr entry kMembers[] = {
      {"timestamp", member_bit::timestamp},     {"level", member_bit::level},
      {"logger", member_bit::logger},           {"message", member_bit::message},
      {"service", member_bit::service},         {"version", member_bit::version},
      {"environment", member_bit::environment}, {"request_id", member_bit::request_id},
      {"trace_id", member_bit::trace_id},       {"span_id", member_bit::span_id},
      {"user_id", member_bit::user_id},         {"source", member_bit::source}};
  for (const entry& e : kMembers)
    if (k == e.name) return e.bit;
  return 0;
}

const formatter::key_slot* formatter::key_info(std::string_view key) {
  if (key.empty() || key.size() > 64) return nullptr;
  // Length and three bytes pick the slot; the full compare decides.
  const auto byte = [&](std::size_t i) {
    return static_cast<std::uint32_t>(static_cast<unsigned char>(key[i]));
  };
  const std::uint32_t h = (static_cast<std::uint32_t>(key.size()) * 0x9E3779B1u) ^
                          (byte(0) * 0x85EBCA77u) ^ (byte(key.size() - 1) * 0xC2B2AE3Du) ^
                          (byte(key.size() / 2) * 0x27D4EB2Fu);
  key_slot& slot = key_cache_[(h >> 7) & (key_cache_.size() - 1)];
  if (slot.used && slot.key == key) return &slot;
  slot.key.assign(key);
  slot.sensitive = s_.redactor && s_.redactor->is_sensitive_field(key);
  slot.reserved = reserved_member(key);
  slot.member.assign(",\"");
  escape(slot.member, key);
  slot.member.append("\":");
  slot.used = true;
  return &slot;
}

bool formatter::sensitive(std::string_view key) {
  if (!s_.redactor || key.empty()) return false;
  if (const key_slot* k = key_info(key)) return k->sensitive;
  return s_.redactor->is_sensitive_field(key);
}

void formatter::member(std::string_view key, std::string& out, bool& is_sensitive,
                       std::uint16_t taken) {
  if (const key_slot* k = key_info(key)) {
    if ((k->reserved & taken) == 0) {
      out.append(k->member);
    } else {
      out.append(",\"fields.");
      out.append(k->member, 2);  // past its ,"
    }
    is_sensitive = k->sensitive;
    return;
  }
  out.append((reserved_member(key) & taken) != 0 ? ",\"fields." : ",\"");
  escape(out, key);
  out.append("\":");
  is_sensitive = s_.redactor && !key.empty() && s_.redactor->is_sensitive_field(key);
}

void formatter::timestamp(std::chrono::system_clock::time_point t, std::string& out) {
  using namespace std::chrono;
  const auto us = duration_cast<microseconds>(t.time_since_epoch()).count();
  std::int64_t sec = us / 1'000'000;
  std::int64_t frac = us % 1'000'000;
  if (frac < 0) {
    frac += 1'000'000;
    --sec;
  }
  if (sec != cached_second_) {
    char buf[rfc3339_size];
    format_rfc3339(system_clock::time_point(seconds(sec)), buf);
    std::memcpy(cached_prefix_, buf, 20);
    cached_second_ = sec;
  }
  char buf[27];
  std::memcpy(buf, cached_prefix_, 20);
  for (int i = 25; i >= 20; --i) {
    buf[i] = static_cast<char>('0' + frac % 10);
    frac /= 10;
  }
  buf[26] = 'Z';
  out.append(buf, 27);
}

void formatter::string_value(std::string_view v, std::string& out) {
  out.push_back('"');
  if (s_.redactor) {
    scratch_.clear();
    s_.redactor->redact_into(v, scratch_);
    escape(out, scratch_);
  } else {
    escape(out, v);
  }
  out.push_back('"');
}

const char* formatter::skip_value(std::uint8_t t, const char* p) noexcept {
  switch (static_cast<tag>(t)) {
    case tag::str:
      return p + 4 + get<std::uint32_t>(p);
    case tag::i64:
    case tag::u64:
    case tag::f64:
    case tag::duration:
    case tag::timestamp:
      return p + 8;
    case tag::boolean:
      return p + 1;
    case tag::null:
      return p;
    case tag::error:
      return align8(p) + detail::error_size();
    case tag::object:
    case tag::array: {
      const auto n = get<std::uint16_t>(p);
      for (unsigned i = 0; i < n; ++i) {
        const auto ft = get<std::uint8_t>(p);
        p += get<std::uint8_t>(p);
        p = skip_value(ft, p);
      }
      return p;
    }
  }
  return p;
}

const char* formatter::json_value(std::uint8_t t, const char* p, std::string& out) {
  switch (static_cast<tag>(t)) {
    case tag::str: {
      const auto n = get<std::uint32_t>(p);
      string_value({p, n}, out);
      return p + n;
    }
    case tag::i64:
      append_json_number(out, get<std::int64_t>(p));
      return p;
    case tag::u64:
      append_json_number(out, get<std::uint64_t>(p));
      return p;
    case tag::f64:
      append_double(out, get<double>(p));
      return p;
    case tag::duration:
      append_duration_ms(out, get<std::int64_t>(p));
      return p;
    case tag::timestamp: {
      const auto ns = get<std::int64_t>(p);
      out.push_back('"');
      timestamp(std::chrono::system_clock::time_point(
                    std::chrono::duration_cast<std::chrono::system_clock::duration>(
                        std::chrono::nanoseconds(ns))),
                out);
      out.push_back('"');
      return p;
    }
    case tag::boolean:
      out.append(*p != 0 ? "true" : "false");
      return p + 1;
    case tag::null:
      out.append("null");
      return p;
    case tag::error: {
      const char* a = align8(p);
      const auto& e = *reinterpret_cast<const ::keel::error*>(a);
      nlohmann::ordered_json j = to_json(e);
      if (s_.redactor) s_.redactor->redact_json(j);
      json_writer w(out);
      w.json(j);
      return a + detail::error_size();
    }
    case tag::object: {
      const auto n = get<std::uint16_t>(p);
      out.push_back('{');
      const std::size_t mark = out.size();
      p = json_fields(p, n, out, 0);
      if (out.size() > mark) out.erase(mark, 1);  // the first member's ','
      out.push_back('}');
      return p;
    }
    case tag::array: {
      const auto n = get<std::uint16_t>(p);
      out.push_back('[');
      for (unsigned i = 0; i < n; ++i) {
        if (i != 0) out.push_back(',');
        const auto ft = get<std::uint8_t>(p);
        p += get<std::uint8_t>(p);
        p = json_value(ft, p, out);
      }
      out.push_back(']');
      return p;
    }
  }
  return p;
}

const char* formatter::json_fields(const char* p, std::size_t count, std::string& out,
                                   std::uint16_t taken) {
  for (std::size_t i = 0; i < count; ++i) {
    const auto t = get<std::uint8_t>(p);
    const auto kn = get<std::uint8_t>(p);
    const std::string_view key(p, kn);
    p += kn;
    bool masked = false;
    member(key, out, masked, taken);
    if (masked) {
      out.append("\"[REDACTED]\"");
      p = skip_value(t, p);
    } else {
      p = json_value(t, p, out);
    }
  }
  return p;
}

std::uint16_t formatter::json_context(const char* cp, std::string& out, std::uint16_t taken) {
  const context_view c = read_context(cp);
  std::uint16_t written = 0;
  if (!c.request_id.empty()) {
    written |= member_bit::request_id;
    out.append(",\"request_id\":\"");
    escape(out, c.request_id);
    out.push_back('"');
  }
  if (c.has_trace) {
    written |= member_bit::trace_id | member_bit::span_id;
    out.append(",\"trace_id\":\"");
    append_hex(out, c.trace_hi, 16);
    append_hex(out, c.trace_lo, 16);
    out.append("\",\"span_id\":\"");
    append_hex(out, c.span, 16);
    out.push_back('"');
  }
  if (!c.user_id.empty()) {
    written |= member_bit::user_id;
    out.append(",\"user_id\":");
    string_value(c.user_id, out);
  }
  const char* p = c.fields;
  for (unsigned i = 0; i < c.field_count; ++i) {
    const auto kn = get<std::uint8_t>(p);
    const std::string_view k(p, kn);
    p += kn;
    const auto vn = get<std::uint16_t>(p);
    const std::string_view v(p, vn);
    p += vn;
    out.append((reserved_member(k) & (taken | written)) != 0 ? ",\"fields." : ",\"");
    escape(out, k);
    out.append("\":");
    if (sensitive(k)) {
      out.append("\"[REDACTED]\"");
    } else {
      string_value(v, out);
    }
  }
  return written;
}

void formatter::json(const decoded& r, std::string& out) {
  out.append("{\"timestamp\":\"");
  timestamp(r.time, out);
  out.append("\",");
  out.append(kLevelJson[static_cast<int>(r.lvl)]);
  out.append(",\"logger\":");
  out.append(r.logger->json_name);
  out.append(",\"message\":");
  string_value(r.message, out);
  out.append(s_.static_fields);
  const bool source = s_.source == source_mode::always ||
                      (s_.source == source_mode::warn_and_above && r.lvl >= level::warn);
  const bool with_source = source && r.where.line() != 0;
  std::uint16_t taken = member_bit::always | s_.static_members;
  if (with_source) taken |= member_bit::source;
  if (r.context != nullptr) taken |= json_context(r.context, out, taken);
  out.append(r.bound);
  json_fields(r.fields, r.field_count, out, taken);
  if (with_source) {
    out.append(",\"source\":{\"file\":\"");
    escape(out, r.where.file_name());
    out.append("\",\"line\":");
    append_json_number(out, static_cast<std::uint64_t>(r.where.line()));
    out.append(",\"function\":\"");
    escape(out, r.where.function_name());
    out.append("\"}");
  }
  out.append("}\n");
}

void formatter::json_internal(std::chrono::system_clock::time_point t, level l,
                              std::string_view message, std::string_view extra_members,
                              std::string& out) {
  out.append("{\"timestamp\":\"");
  timestamp(t, out);
  out.append("\",");
  out.append(kLevelJson[static_cast<int>(l)]);
  out.append(",\"logger\":\"keel.log\",\"message\":");
  append_json_string(out, message);
  out.append(s_.static_fields);
  out.append(extra_members);
  out.append("}\n");
}

const char* formatter::console_fields(const char* p, std::size_t count, std::string& out,
                                      bool nested) {
  for (std::size_t i = 0; i < count; ++i) {
    const auto t = get<std::uint8_t>(p);
    const auto kn = get<std::uint8_t>(p);
    const std::string_view key(p, kn);
    p += kn;
    if (!nested || i != 0) out.push_back(' ');
    escape(out, key);
    out.push_back('=');
    if (sensitive(key)) {
      out.append("[REDACTED]");
      p = skip_value(t, p);
      continue;
    }
    if (static_cast<tag>(t) == tag::str) {
      const auto n = get<std::uint32_t>(p);
      const std::string_view v(p, n);
      p += n;
      scratch_.clear();
      if (s_.redactor) {
        s_.redactor->redact_into(v, scratch_);
      } else {
        scratch_.assign(v);
      }
      const bool quote = scratch_.empty() || scratch_.find_first_of(" =\"") != std::string::npos;
      if (quote) out.push_back('"');
      escape(out, scratch_);
      if (quote) out.push_back('"');
    } else {
      p = json_value(t, p, out);
    }
  }
  return p;
}

void formatter::console_context(const char* cp, std::string& out) {
  const context_view c = read_context(cp);
  if (!c.request_id.empty()) {
    out.append(" request_id=");
    escape(out, c.request_id);
  }
  if (c.has_trace) {
    out.append(" trace_id=");
    append_hex(out, c.trace_hi, 16);
    append_hex(out, c.trace_lo, 16);
    out.append(" span_id=");
    append_hex(out, c.span, 16);
  }
  if (!c.user_id.empty()) {
    out.append(" user_id=");
    escape(out, c.user_id);
  }
}

void formatter::console(const decoded& r, std::string& out, bool color) {
  timestamp(r.time, out);
  out.push_back(' ');
  const int li = static_cast<int>(r.lvl);
  if (color) out.append(kLevelColor[li]);
  out.append(kLevelConsole[li]);
  if (color) out.append(kReset);
  out.push_back(' ');
  if (color) out.append("\x1b[1m");
  out.append(r.logger->name.empty() ? std::string_view("root") : std::string_view(r.logger->name));
  if (color) out.append(kReset);
  out.append(": ");
  scratch_.clear();
  if (s_.redactor) {
    s_.redactor->redact_into(r.message, scratch_);
  } else {
    scratch_.assign(r.message);
  }
  escape(out, scratch_);
  if (!r.bound.empty()) {
    // Bound fields are kept as JSON members; show them as such.
    out.push_back(' ');
    out.append(r.bound.substr(1));
  }
  console_fields(r.fields, r.field_count, out, false);
  if (r.context != nullptr) console_context(r.context, out);
  out.push_back('\n');
}

}  // namespace keel::log::internal
