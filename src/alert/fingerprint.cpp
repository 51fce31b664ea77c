#include "keel/alert/fingerprint.hpp"

#include "alert/internal/crypto.hpp"

namespace keel::alert {
namespace {

bool is_alnum(char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}
bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool is_hex(char c) { return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'); }
// Characters that hold a token (an address, an id, a number) together.
bool is_token_char(char c) {
  return is_alnum(c) || c == '.' || c == '-' || c == '_' || c == '@' || c == ':' || c == '+' ||
         c == '%';
}

bool is_uuid(std::string_view s) {
  if (s.size() != 36) return false;
  for (std::size_t i = 0; i < 36; ++i) {
    const bool dash = i == 8 || i == 13 || i == 18 || i == 23;
    if (dash ? s[i] != '-' : !is_hex(s[i])) return false;
  }
  return true;
}

bool is_email(std::string_view s) {
  const auto at = s.find('@');
  if (at == 0 || at == std::string_view::npos || s.find('@', at + 1) != std::string_view::npos) {
    return false;
  }
  const auto domain = s.substr(at + 1);
  const auto dot = domain.rfind('.');
  return dot != std::string_view::npos && dot > 0 && dot + 1 < domain.size();
}

// Dotted quad with each part 0..255; the length of the match (0 if none).
std::size_t ipv4_length(std::string_view s) {
  std::size_t i = 0;
  for (int part = 0; part < 4; ++part) {
    if (part > 0) {
      if (i >= s.size() || s[i] != '.') return 0;
      ++i;
    }
    std::size_t start = i;
    int v = 0;
    while (i < s.size() && is_digit(s[i]) && i - start < 3)
      v = v * 10 + (s[i++] - '0');
    if (i == start || v > 255) return 0;
  }
  return i;
}

bool is_ipv6(std::string_view s) {
  int colons = 0;
  bool hex = false;
  for (char c : s) {
    if (c == ':') {
      ++colons;
    } else if (is_hex(c)) {
      hex = true;
    } else if (c != '.') {
      return false;
    }
  }
  return colons >= 2 && hex;
}

bool all_digits(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    if (!is_digit(c)) return false;
  }
  return true;
}

// One alphanumeric segment of a token: hex ids become <hex>, digit runs <num>.
void mask_segment(std::string_view seg, std::string& out) {
  if (seg.size() > 2 && seg[0] == '0' && (seg[1] == 'x' || seg[1] == 'X')) {
    bool hex = true;
    for (char c : seg.substr(2))
      hex = hex && is_hex(c);
    if (hex) {
      out += "<hex>";
      return;
    }
  }
  if (seg.size() >= 8) {
    bool hex = true, digit = false;
    for (char c : seg) {
      hex = hex && is_hex(c);
      digit = digit || is_digit(c);
    }
    if (hex && digit) {
      out += "<hex>";
      return;
    }
  }
  for (std::size_t i = 0; i < seg.size();) {
    if (is_digit(seg[i])) {
      while (i < seg.size() && is_digit(seg[i]))
        ++i;
      out += "<num>";
    } else {
      out.push_back(seg[i++]);
    }
  }
}

void mask_token(std::string_view t, std::string& out) {
  if (is_uuid(t)) {
    out += "<uuid>";
    return;
  }
  if (is_email(t)) {
    out += "<email>";
    return;
  }
  if (const auto n = ipv4_length(t); n > 0 && (n == t.size() || t[n] == ':')) {
    out += "<ip>";
    t.remove_prefix(n);
    if (t.empty()) return;
  } else if (is_ipv6(t)) {
    out += "<ip>";
    return;
  }
  // A decimal number is one <num>, not "<num>.<num>".
  if (const auto dot = t.find('.'); dot != std::string_view::npos && all_digits(t.substr(0, dot)) &&
                                    all_digits(t.substr(dot + 1))) {
    out += "<num>";
    return;
  }
  std::size_t i = 0;
  while (i < t.size()) {
    if (is_alnum(t[i])) {
      std::size_t j = i;
      while (j < t.size() && is_alnum(t[j]))
        ++j;
      mask_segment(t.substr(i, j - i), out);
      i = j;
    } else {
      out.push_back(t[i++]);
    }
  }
}

constexpr std::size_t kMaxQuoted = 1024;

}  // namespace

void normalize_message(std::string_view s, std::string& out) {
  std::size_t i = 0;
  while (i < s.size()) {
    const char c = s[i];
    // A quote opens a string only at the start of a word, so "don't" stays.
    if ((c == '"' || c == '\'' || c == '`') && (i == 0 || !is_alnum(s[i - 1]))) {
      const auto close = s.find(c, i + 1);
      if (close != std::string_view::npos && close - i <= kMaxQuoted) {
        out += "<str>";
        i = close + 1;
        continue;
      }
      out.push_back(c);
      ++i;
      continue;
    }
    if (is_token_char(c)) {
      std::size_t j = i;
      while (j < s.size() && is_token_char(s[j]))
        ++j;
      // Sentence punctuation after a token is not part of it.
      std::size_t end = j;
      while (end > i &&
             (s[end - 1] == '.' || s[end - 1] == ':' || s[end - 1] == '-' || s[end - 1] == '+')) {
        --end;
      }
      if (end > i) mask_token(s.substr(i, end - i), out);
      out.append(s.substr(end, j - end));
      i = j;
      continue;
    }
    out.push_back(c);
    ++i;
  }
}

std::string normalize_message(std::string_view message) {
  std::string out;
  out.reserve(message.size());
  normalize_message(message, out);
  return out;
}

std::string fingerprint(const error_event& e) {
  std::string buf;
  if (!e.fingerprint.empty()) {
    buf.reserve(e.fingerprint.size() + 9);
    buf.append("explicit");
    buf.push_back('\0');
    buf.append(e.fingerprint);
  } else {
    buf.reserve(e.service.size() + e.code.size() + e.message.size() + 64);
    buf.append(e.service);
    buf.push_back('\0');
    buf.append(e.code);
    buf.push_back('\0');
    normalize_message(e.message, buf);
    for (const auto& f : e.frames) {
      if (!f.in_app) continue;
      buf.push_back('\0');
      buf.append(f.function);
      buf.push_back('\0');
      buf.append(f.file);
      break;
    }
  }
  const auto d = internal::sha256(buf);
  return internal::to_hex(d.data(), 16);
}

}  // namespace keel::alert
