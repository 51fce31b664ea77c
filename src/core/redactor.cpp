#include "keel/core/redactor.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <cstdint>
#include <regex>

namespace keel {
namespace {

constexpr bool is_alpha(char c) noexcept { return (c | 0x20) >= 'a' && (c | 0x20) <= 'z'; }
constexpr bool is_digit(char c) noexcept { return c >= '0' && c <= '9'; }
constexpr bool is_alnum(char c) noexcept { return is_alpha(c) || is_digit(c); }
constexpr bool is_key_char(char c) noexcept {
  return is_alnum(c) || c == '_' || c == '-' || c == '.';
}
constexpr bool is_space(char c) noexcept { return c == ' ' || c == '\t'; }
// RFC 3986 userinfo (unreserved, pct-encoded, sub-delims, ':') and '@'.
constexpr bool is_userinfo_char(char c) noexcept {
  return is_alnum(c) || std::string_view("-._~%!$&'()*+,;=:@").find(c) != std::string_view::npos;
}
constexpr char lower(char c) noexcept {
  return (c >= 'A' && c <= 'Z') ? static_cast<char>(c | 0x20) : c;
}

bool iequals(std::string_view a, std::string_view b) noexcept {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(),
                                            [](char x, char y) { return lower(x) == lower(y); });
}

// Last words that make a key sensitive: "db_password", "x-api-key", "csrfToken".
constexpr std::array<std::string_view, 12> kSensitiveLastWords = {
    "password", "passwd",     "pwd",         "passphrase",    "secret", "token",
    "apikey",   "credential", "credentials", "authorization", "cookie", "ssn"};
// Whole keys (lower case, separators removed) that are sensitive as well.
constexpr std::array<std::string_view, 8> kSensitiveKeys = {
    "apikey",       "accesskey",  "privatekey", "secretkey",
    "clientsecret", "cardnumber", "setcookie",  "proxyauthorization"};
// Keys whose value is a whole header line ("Authorization: Basic abc").
constexpr std::array<std::string_view, 4> kHeaderKeys = {"authorization", "proxyauthorization",
                                                         "cookie", "setcookie"};

// The key lower-cased with separators dropped, and where each of its words
// starts, in a fixed buffer: deciding costs no allocation. Only the last
// kMaxKey characters of a longer key are looked at (the last words are what
// matter).
struct key_words {
  static constexpr std::size_t kMaxKey = 64;
  char buf[kMaxKey];
  std::uint8_t starts[kMaxKey];  // word starts in buf, ascending
  std::size_t size = 0;
  std::size_t words = 0;
  std::string_view last() const { return suffix(words - 1); }
  // Word w and every word after it, joined: "setcookie" in "x.set-cookie".
  std::string_view suffix(std::size_t w) const {
    return words == 0 ? std::string_view{} : std::string_view{buf + starts[w], size - starts[w]};
  }
};

key_words split_key(std::string_view key) {
  if (key.size() > key_words::kMaxKey) key = key.substr(key.size() - key_words::kMaxKey);
  key_words k;
  bool boundary = true;
  for (std::size_t i = 0; i < key.size(); ++i) {
    const char c = key[i];
    if (c == '_' || c == '-' || c == '.') {
      boundary = true;
      continue;
    }
    // camelCase boundary: "apiKey" -> "api" | "key"
    if (i > 0 && c >= 'A' && c <= 'Z' && key[i - 1] >= 'a' && key[i - 1] <= 'z') boundary = true;
    if (boundary) k.starts[k.words++] = static_cast<std::uint8_t>(k.size);
    boundary = false;
    k.buf[k.size++] = lower(c);
  }
  return k;
}

bool in(std::string_view word, const auto& list) noexcept {
  return std::find(list.begin(), list.end(), word) != list.end();
}

// Whether the key's last words, joined, are one of `list`. Only whole trailing
// words count, so what precedes them ("122-47-2767.set-cookie", or the same
// with its number masked) never changes the answer: redacting is idempotent.
bool ends_with_one_of(const key_words& k, const auto& list) noexcept {
  for (std::size_t w = 0; w < k.words; ++w) {
    if (in(k.suffix(w), list)) return true;
  }
  return false;
}

// Luhn checksum over the digits of s (separators ignored).
bool luhn_valid(std::string_view s) noexcept {
  int sum = 0;
  bool twice = false;
  for (auto it = s.rbegin(); it != s.rend(); ++it) {
    if (!is_digit(*it)) continue;
    int d = *it - '0';
    if (twice) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
    twice = !twice;
  }
  return sum % 10 == 0;
}

// A US SSN "AAA-GG-SSSS": area not 000, 666 or 9xx; group not 00; serial not 0000.
bool ssn_valid(std::string_view s) noexcept {
  if (s.size() != 11 || s[3] != '-' || s[6] != '-') return false;
  for (std::size_t i : {0, 1, 2, 4, 5, 7, 8, 9, 10}) {
    if (!is_digit(s[i])) return false;
  }
  const std::string_view area = s.substr(0, 3);
  if (area == "000" || area == "666" || area[0] == '9') return false;
  if (s.substr(4, 2) == "00" || s.substr(7, 4) == "0000") return false;
  return true;
}

}  // namespace

struct redactor::compiled {
  std::vector<std::regex> patterns;
  std::vector<std::string> field_names;  // lower case
  bool builtin_rules = true;

  bool sensitive_key(std::string_view key, char separator) const {
    if (key.empty()) return false;
    const key_words k = split_key(key);
    for (const auto& f : field_names) {
      if (iequals(key, f)) return true;
    }
    if (ends_with_one_of(k, kSensitiveKeys) || in(k.last(), kSensitiveLastWords)) return true;
    // A bare "key" is sensitive as "key=...", but "primary key: id" is prose.
    return k.last() == "key" && (separator == '=' || k.words > 1);
  }

  bool header_key(std::string_view key) const {
    return ends_with_one_of(split_key(key), kHeaderKeys);
  }

  void builtin(std::string_view in, std::string& out, bool& changed) const;
};

namespace {

// The key that ends just before the separator at `sep`: skips spaces and a
// closing quote, then takes key characters backwards.
std::string_view key_before(std::string_view in, std::size_t sep) {
  std::size_t end = sep;
  while (end > 0 && is_space(in[end - 1]))
    --end;
  if (end > 0 && (in[end - 1] == '"' || in[end - 1] == '\'')) --end;
  std::size_t start = end;
  while (start > 0 && is_key_char(in[start - 1]))
    --start;
  return in.substr(start, end - start);
}

struct span {
  std::size_t begin;
  std::size_t end;
};

// Bytes at which a built-in rule can begin: separators of key=value and
// key: value, digits (cards, SSNs) and the b of "bearer".
constexpr std::array<bool, 256> make_trigger_table() {
  std::array<bool, 256> t{};
  t['='] = t[':'] = t['b'] = t['B'] = true;
  for (int c = '0'; c <= '9'; ++c)
    t[c] = true;
  return t;
}
constexpr auto kTrigger = make_trigger_table();

// The value after the separator at `sep`: quoted (escapes honoured), a
// header value to the end of the line, or a bare token.
span value_after(std::string_view in, std::size_t sep, bool header) {
  std::size_t i = sep + 1;
  while (i < in.size() && is_space(in[i]))
    ++i;
  if (i < in.size() && (in[i] == '"' || in[i] == '\'')) {
    const char q = in[i];
    const std::size_t begin = ++i;
    while (i < in.size() && in[i] != q) {
      i += (in[i] == '\\' && i + 1 < in.size()) ? 2 : 1;
    }
    return {begin, std::min(i, in.size())};
  }
  const std::size_t begin = i;
  if (header) {
    while (i < in.size() && in[i] != '\r' && in[i] != '\n')
      ++i;
    while (i > begin && is_space(in[i - 1]))
      --i;
    return {begin, i};
  }
  while (i < in.size()) {
    const char c = in[i];
    if (is_space(c) || c == '&' || c == ',' || c == ';' || c == '"' || c == '\'' || c == ')' ||
        c == ']' || c == '}' || c == '<' || c == '>' || c == '\r' || c == '\n') {
      break;
    }
    ++i;
  }
  return {begin, i};
}

// Digits from `i` grouped by single spaces or dashes: the span and digit count.
span digit_run(std::string_view in, std::size_t i, int& digits) {
  const std::size_t begin = i;
  digits = 0;
  std::size_t end = i;
  while (i < in.size()) {
    if (is_digit(in[i])) {
      ++digits;
      end = ++i;
    } else if ((in[i] == ' ' || in[i] == '-') && i + 1 < in.size() && is_digit(in[i + 1]) &&
               digits > 0) {
      ++i;
    } else {
      break;
    }
  }
  return {begin, end};
}

}  // namespace

void redactor::compiled::builtin(std::string_view in, std::string& out, bool& changed) const {
  std::size_t copied = 0;
  auto mask_span = [&](std::size_t b, std::size_t e) {
    out.append(in.data() + copied, b - copied);
    out.append(redactor::mask);
    copied = e;
    changed = true;
  };
  const std::size_t n = in.size();
  for (std::size_t i = 0; i < n; ++i) {
    // Most bytes can start no rule: skip them with one table load each.
    while (i < n && !kTrigger[static_cast<unsigned char>(in[i])])
      ++i;
    if (i >= n) break;
    const char c = in[i];
    if (c == '=' || c == ':') {
      // scheme://user:password@host
      if (c == ':' && i + 2 < n && in[i + 1] == '/' && in[i + 2] == '/') {
        // Only RFC 3986 userinfo bytes (plus '@'): the mask's '[' ends the
        // authority, so a key rule's mask never opens a credential later.
        const std::size_t start = i + 3;
        std::size_t end = start;
        while (end < n && is_userinfo_char(in[end]))
          ++end;
        const std::string_view authority = in.substr(start, end - start);
        const std::size_t at = authority.rfind('@');
        const std::size_t colon = authority.find(':');
        if (at != std::string_view::npos && colon != std::string_view::npos && colon < at &&
            at > colon + 1) {
          mask_span(start + colon + 1, start + at);
          i = start + at;
        } else if (colon != std::string_view::npos && colon + 1 == authority.size() &&
                   in.substr(end).starts_with(redactor::mask) && end + redactor::mask.size() < n &&
                   in[end + redactor::mask.size()] == '@') {
          // "user:[REDACTED]@host", masked by this rule before: skip it as
          // the first pass did, so the key rule does not see it either.
          i = end + redactor::mask.size();
        } else {
          i += 2;
        }
        continue;
      }
      const std::string_view key = key_before(in, i);
      if (sensitive_key(key, c)) {
        const span v = value_after(in, i, header_key(key));
        if (in.substr(v.begin).starts_with(redactor::mask)) {
          i = v.begin + redactor::mask.size() - 1;  // already masked: idempotent
        } else if (v.end > v.begin) {
          mask_span(v.begin, v.end);
          i = v.end - 1;
        }
      }
    } else if ((c == 'b' || c == 'B') && (i == 0 || !is_key_char(in[i - 1])) && i + 7 < n &&
               iequals(in.substr(i, 6), "bearer") && is_space(in[i + 6])) {
      std::size_t b = i + 7;
      while (b < n && is_space(in[b]))
        ++b;
      std::size_t e = b;
      while (e < n && (is_alnum(in[e]) ||
                       std::string_view("-._~+/=").find(in[e]) != std::string_view::npos)) {
        ++e;
      }
      if (e > b && in.substr(b, e - b) != redactor::mask) {
        mask_span(b, e);
        i = e - 1;
      }
    } else if (is_digit(c) && (i == 0 || (!is_alnum(in[i - 1]) && in[i - 1] != '.'))) {
      int digits = 0;
      const span r = digit_run(in, i, digits);
      // Not part of a word or a decimal number on either side.
      const bool bounded =
          r.end == n ||
          (!is_alnum(in[r.end]) && !(in[r.end] == '.' && r.end + 1 < n && is_digit(in[r.end + 1])));
      const std::string_view text = in.substr(r.begin, r.end - r.begin);
      const bool card = digits >= 13 && digits <= 19 && luhn_valid(text);
      if (bounded && (card || ssn_valid(text))) mask_span(r.begin, r.end);
      i = r.end - 1;
    }
  }
  out.append(in.data() + copied, n - copied);
}

redactor::redactor() : redactor(redactor_config{}) {}

redactor::redactor(const redactor_config& config) {
  auto r = create(config);
  if (!r) throw keel::exception(std::move(r.error()));
  impl_ = std::move(r->impl_);
}

result<redactor> redactor::create(const redactor_config& config) {
  auto c = std::make_shared<compiled>();
  c->builtin_rules = config.builtin_rules;
  for (const auto& p : config.patterns) {
    if (p.empty() || p.size() > 1024) {
      return fail(codes::configuration_error, "redaction pattern must be 1..1024 characters");
    }
    try {
      c->patterns.emplace_back(p, std::regex::ECMAScript | std::regex::optimize);
    } catch (const std::regex_error& e) {
      return fail(codes::configuration_error,
                  fmt::format("invalid redaction pattern '{}': {}", p, e.what()));
    }
  }
  for (const auto& f : config.field_names) {
    std::string l;
    for (char ch : f)
      l.push_back(lower(ch));
    c->field_names.push_back(std::move(l));
  }
  redactor r(c);
  return r;
}

redactor::redactor(std::shared_ptr<const compiled> impl) : impl_(std::move(impl)) {}

const redactor& redactor::standard() {
  static const redactor r;
  return r;
}

bool redactor::redact_into(std::string_view text, std::string& out) const {
  bool changed = false;
  if (impl_->patterns.empty()) {
    if (impl_->builtin_rules) {
      impl_->builtin(text, out, changed);
    } else {
      out.append(text);
    }
    return changed;
  }
  std::string work;
  if (impl_->builtin_rules) {
    impl_->builtin(text, work, changed);
  } else {
    work.assign(text);
  }
  for (const auto& re : impl_->patterns) {
    std::string next = std::regex_replace(work, re, std::string(mask));
    if (next != work) {
      changed = true;
      work = std::move(next);
    }
  }
  out.append(work);
  return changed;
}

std::string redactor::redact(std::string_view text) const {
  std::string out;
  out.reserve(text.size());
  redact_into(text, out);
  return out;
}

bool redactor::is_sensitive_field(std::string_view key) const noexcept {
  try {
    return impl_->sensitive_key(key, '=');
  } catch (...) {
    return true;  // could not decide (allocation failed): mask
  }
}

void redactor::redact_json(nlohmann::ordered_json& value) const {
  if (value.is_object()) {
    for (auto it = value.begin(); it != value.end(); ++it) {
      if (is_sensitive_field(it.key())) {
        it.value() = std::string(mask);
      } else {
        redact_json(it.value());
      }
    }
  } else if (value.is_array()) {
    for (auto& v : value)
      redact_json(v);
  } else if (value.is_string()) {
    const auto& s = value.get_ref<const std::string&>();
    std::string out;
    if (redact_into(s, out)) value = std::move(out);
  }
}

}  // namespace keel
