#include "keel/core/json_writer.hpp"

#include <array>
#include <charconv>
#include <cmath>
#include <nlohmann/json.hpp>

namespace keel {
namespace {

// 0: copy as is; 1: escape; 2: first byte of a multi-byte UTF-8 sequence
// (validated); 3: never valid in UTF-8 (continuation without lead, C0/C1, F5+).
constexpr std::array<std::uint8_t, 256> make_class_table() {
  std::array<std::uint8_t, 256> t{};
  for (int c = 0; c < 0x20; ++c)
    t[c] = 1;
  t['"'] = 1;
  t['\\'] = 1;
  t[0x7f] = 0;  // DEL is valid JSON unescaped
  for (int c = 0x80; c < 0xc2; ++c)
    t[c] = 3;
  for (int c = 0xc2; c < 0xf5; ++c)
    t[c] = 2;
  for (int c = 0xf5; c < 0x100; ++c)
    t[c] = 3;
  return t;
}
constexpr auto kClass = make_class_table();

constexpr char kHex[] = "0123456789abcdef";
constexpr std::string_view kReplacement = "\xEF\xBF\xBD";  // U+FFFD

// Length of the valid UTF-8 sequence starting at s[i] (a lead byte), or 0.
std::size_t utf8_sequence_length(std::string_view s, std::size_t i) noexcept {
  const auto b0 = static_cast<unsigned char>(s[i]);
  const std::size_t left = s.size() - i;
  auto cont = [&](std::size_t k) { return (static_cast<unsigned char>(s[i + k]) & 0xc0) == 0x80; };
  if (b0 < 0xe0) {  // 0xc2..0xdf
    return left >= 2 && cont(1) ? 2 : 0;
  }
  if (b0 < 0xf0) {
    if (left < 3 || !cont(1) || !cont(2)) return 0;
    const auto b1 = static_cast<unsigned char>(s[i + 1]);
    if (b0 == 0xe0 && b1 < 0xa0) return 0;   // overlong
    if (b0 == 0xed && b1 >= 0xa0) return 0;  // UTF-16 surrogates
    return 3;
  }
  if (left < 4 || !cont(1) || !cont(2) || !cont(3)) return 0;
  const auto b1 = static_cast<unsigned char>(s[i + 1]);
  if (b0 == 0xf0 && b1 < 0x90) return 0;   // overlong
  if (b0 == 0xf4 && b1 >= 0x90) return 0;  // beyond U+10FFFF
  return 4;
}

}  // namespace

void append_json_escaped(std::string& out, std::string_view s) {
  std::size_t run = 0;  // start of the pending run of bytes copied as they are
  std::size_t i = 0;
  const std::size_t n = s.size();
  while (i < n) {
    const std::uint8_t cls = kClass[static_cast<unsigned char>(s[i])];
    if (cls == 0) {
      ++i;
      continue;
    }
    if (cls == 2) {
      if (const std::size_t len = utf8_sequence_length(s, i); len != 0) {
        i += len;
        continue;
      }
    }
    out.append(s.data() + run, i - run);
    if (cls == 1) {
      const char c = s[i];
      switch (c) {
        case '"':
          out.append("\\\"");
          break;
        case '\\':
          out.append("\\\\");
          break;
        case '\n':
          out.append("\\n");
          break;
        case '\r':
          out.append("\\r");
          break;
        case '\t':
          out.append("\\t");
          break;
        case '\b':
          out.append("\\b");
          break;
        case '\f':
          out.append("\\f");
          break;
        default: {
          const char esc[6] = {'\\', 'u', '0', '0', kHex[(c >> 4) & 0xf], kHex[c & 0xf]};
          out.append(esc, 6);
        }
      }
    } else {
      out.append(kReplacement);
    }
    ++i;
    run = i;
  }
  out.append(s.data() + run, n - run);
}

void append_json_string(std::string& out, std::string_view s) {
  out.push_back('"');
  append_json_escaped(out, s);
  out.push_back('"');
}

void append_json_number(std::string& out, double v) {
  if (!std::isfinite(v)) {
    out.append("null");
    return;
  }
  char buf[32];
  auto r = std::to_chars(buf, buf + sizeof buf, v);
  out.append(buf, r.ptr);
}

void append_json_number(std::string& out, std::int64_t v) {
  char buf[24];
  auto r = std::to_chars(buf, buf + sizeof buf, v);
  out.append(buf, r.ptr);
}

void append_json_number(std::string& out, std::uint64_t v) {
  char buf[24];
  auto r = std::to_chars(buf, buf + sizeof buf, v);
  out.append(buf, r.ptr);
}

bool is_valid_utf8(std::string_view s) noexcept {
  for (std::size_t i = 0; i < s.size();) {
    const std::uint8_t cls = kClass[static_cast<unsigned char>(s[i])];
    if (cls <= 1) {
      ++i;
    } else if (cls == 2) {
      const std::size_t len = utf8_sequence_length(s, i);
      if (len == 0) return false;
      i += len;
    } else {
      return false;
    }
  }
  return true;
}

void json_writer::json(const nlohmann::ordered_json& j) {
  separate();
  out_.append(j.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace));
}

}  // namespace keel
