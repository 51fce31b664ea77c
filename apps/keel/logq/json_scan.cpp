#include "logq/json_scan.hpp"

#include <array>
#include <cstring>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace keel::cli::logq {

std::size_t field_set::add(std::string_view dotted_path) {
  int node = 0;
  std::size_t start = 0;
  while (true) {
    const std::size_t dot = dotted_path.find('.', start);
    const std::string_view seg = dotted_path.substr(
        start, dot == std::string_view::npos ? std::string_view::npos : dot - start);
    int next = child_segment(node, seg);
    if (next < 0) {
      next = static_cast<int>(nodes_.size());
      nodes_.push_back(node_t{std::string(seg), -1, {}});
      nodes_[static_cast<std::size_t>(node)].children.push_back(next);
    }
    node = next;
    if (dot == std::string_view::npos) break;
    start = dot + 1;
  }
  auto& n = nodes_[static_cast<std::size_t>(node)];
  if (n.slot < 0) {
    n.slot = static_cast<int>(paths_.size());
    paths_.emplace_back(dotted_path);
  }
  return static_cast<std::size_t>(n.slot);
}

int field_set::child_segment(int node, std::string_view segment) const noexcept {
  for (const int c : nodes_[static_cast<std::size_t>(node)].children) {
    if (nodes_[static_cast<std::size_t>(c)].key == segment) return c;
  }
  return -1;
}

int field_set::child(int node, std::string_view key) const noexcept {
  // Flat keys holding dots ("error.code") walk several trie levels at once.
  std::size_t start = 0;
  while (node >= 0) {
    const std::size_t dot = key.find('.', start);
    if (dot == std::string_view::npos) return child_segment(node, key.substr(start));
    node = child_segment(node, key.substr(start, dot - start));
    start = dot + 1;
  }
  return -1;
}

line_scanner::line_scanner(const field_set& fields, int max_depth)
    : fields_(fields), max_depth_(max_depth), values_(fields.size()) {}

namespace {

// 1 for bytes that end the fast path inside a string: quote, backslash, C0.
constexpr std::array<std::uint8_t, 256> make_string_stops() {
  std::array<std::uint8_t, 256> t{};
  for (int c = 0; c < 0x20; ++c)
    t[static_cast<std::size_t>(c)] = 1;
  t['"'] = 1;
  t['\\'] = 1;
  return t;
}
constexpr auto kStringStop = make_string_stops();

inline bool is_ws(char c) noexcept { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }
inline bool is_digit(char c) noexcept { return c >= '0' && c <= '9'; }
inline bool is_hex(char c) noexcept {
  return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

}  // namespace

void line_scanner::skip_ws() noexcept {
  while (p_ < end_ && is_ws(*p_))
    ++p_;
}

scan_status line_scanner::scan(std::string_view line) noexcept {
  for (auto& v : values_)
    v = field_value{};
  p_ = line.data();
  end_ = line.data() + line.size();
  too_deep_ = false;
  skip_ws();
  if (p_ >= end_ || *p_ != '{') return scan_status::malformed;
  const int root = fields_.has_children(0) ? 0 : -1;
  if (!parse_object(root, 1)) {
    for (auto& v : values_)
      v = field_value{};
    return too_deep_ ? scan_status::too_deep : scan_status::malformed;
  }
  skip_ws();
  if (p_ != end_) {
    for (auto& v : values_)
      v = field_value{};
    return scan_status::malformed;
  }
  return scan_status::ok;
}

bool line_scanner::parse_string(std::string_view& content, bool& escaped) noexcept {
  // *p_ == '"'
  ++p_;
  const char* start = p_;
  escaped = false;
  while (true) {
#if defined(__SSE2__)
    const __m128i quote = _mm_set1_epi8('"');
    const __m128i bslash = _mm_set1_epi8('\\');
    const __m128i ctl = _mm_set1_epi8(0x1f);
    while (end_ - p_ >= 16) {
      const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p_));
      const __m128i stop =
          _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(v, quote), _mm_cmpeq_epi8(v, bslash)),
                       _mm_cmpeq_epi8(_mm_max_epu8(v, ctl), ctl));  // v <= 0x1f
      const int mask = _mm_movemask_epi8(stop);
      if (mask != 0) {
        p_ += __builtin_ctz(static_cast<unsigned>(mask));
        break;
      }
      p_ += 16;
    }
#endif
    while (p_ < end_ && kStringStop[static_cast<unsigned char>(*p_)] == 0)
      ++p_;
    if (p_ >= end_) return false;
    const char c = *p_;
    if (c == '"') {
      content = std::string_view(start, static_cast<std::size_t>(p_ - start));
      ++p_;
      return true;
    }
    if (c != '\\') return false;  // raw control byte
    escaped = true;
    if (end_ - p_ < 2) return false;
    const char e = p_[1];
    switch (e) {
      case '"':
      case '\\':
      case '/':
      case 'b':
      case 'f':
      case 'n':
      case 'r':
      case 't':
        p_ += 2;
        break;
      case 'u':
        if (end_ - p_ < 6 || !is_hex(p_[2]) || !is_hex(p_[3]) || !is_hex(p_[4]) || !is_hex(p_[5]))
          return false;
        p_ += 6;
        break;
      default:
        return false;
    }
  }
}

bool line_scanner::parse_number() noexcept {
  if (p_ < end_ && *p_ == '-') ++p_;
  if (p_ >= end_) return false;
  if (*p_ == '0') {
    ++p_;
  } else if (is_digit(*p_)) {
    while (p_ < end_ && is_digit(*p_))
      ++p_;
  } else {
    return false;
  }
  if (p_ < end_ && *p_ == '.') {
    ++p_;
    if (p_ >= end_ || !is_digit(*p_)) return false;
    while (p_ < end_ && is_digit(*p_))
      ++p_;
  }
  if (p_ < end_ && (*p_ == 'e' || *p_ == 'E')) {
    ++p_;
    if (p_ < end_ && (*p_ == '+' || *p_ == '-')) ++p_;
    if (p_ >= end_ || !is_digit(*p_)) return false;
    while (p_ < end_ && is_digit(*p_))
      ++p_;
  }
  return true;
}

bool line_scanner::parse_literal(std::string_view word) noexcept {
  if (static_cast<std::size_t>(end_ - p_) < word.size() ||
      std::memcmp(p_, word.data(), word.size()) != 0)
    return false;
  p_ += word.size();
  return true;
}

bool line_scanner::parse_value(int node, int depth) noexcept {
  skip_ws();
  if (p_ >= end_) return false;
  const char* start = p_;
  field_value v;
  switch (*p_) {
    case '{':
      if (!parse_object(node >= 0 && fields_.has_children(node) ? node : -1, depth + 1))
        return false;
      v.kind = value_kind::object;
      break;
    case '[':
      if (!parse_array(depth + 1)) return false;
      v.kind = value_kind::array;
      break;
    case '"': {
      std::string_view content;
      bool escaped = false;
      if (!parse_string(content, escaped)) return false;
      if (node >= 0) {
        if (const int slot = fields_.slot_of(node); slot >= 0) {
          values_[static_cast<std::size_t>(slot)] = {value_kind::string, escaped, content};
        }
      }
      return true;
    }
    case 't':
      if (!parse_literal("true")) return false;
      v.kind = value_kind::boolean;
      break;
    case 'f':
      if (!parse_literal("false")) return false;
      v.kind = value_kind::boolean;
      break;
    case 'n':
      if (!parse_literal("null")) return false;
      v.kind = value_kind::null;
      break;
    default:
      if (!parse_number()) return false;
      v.kind = value_kind::number;
      break;
  }
  if (node >= 0) {
    if (const int slot = fields_.slot_of(node); slot >= 0) {
      v.raw = std::string_view(start, static_cast<std::size_t>(p_ - start));
      values_[static_cast<std::size_t>(slot)] = v;
    }
  }
  return true;
}

bool line_scanner::parse_object(int node, int depth) noexcept {
  if (depth > max_depth_) {
    too_deep_ = true;
    return false;
  }
  ++p_;  // '{'
  skip_ws();
  if (p_ < end_ && *p_ == '}') {
    ++p_;
    return true;
  }
  std::string key_buf;  // only used for keys holding escapes (rare)
  while (true) {
    skip_ws();
    if (p_ >= end_ || *p_ != '"') return false;
    std::string_view key;
    bool escaped = false;
    if (!parse_string(key, escaped)) return false;
    skip_ws();
    if (p_ >= end_ || *p_ != ':') return false;
    ++p_;
    int child = -1;
    if (node >= 0) {
      if (escaped) {
        key_buf.clear();
        if (!unescape_json(key, key_buf)) return false;
        key = key_buf;
      }
      child = fields_.child(node, key);
    }
    if (!parse_value(child, depth)) return false;
    skip_ws();
    if (p_ >= end_) return false;
    if (*p_ == ',') {
      ++p_;
      continue;
    }
    if (*p_ == '}') {
      ++p_;
      return true;
    }
    return false;
  }
}

bool line_scanner::parse_array(int depth) noexcept {
  if (depth > max_depth_) {
    too_deep_ = true;
    return false;
  }
  ++p_;  // '['
  skip_ws();
  if (p_ < end_ && *p_ == ']') {
    ++p_;
    return true;
  }
  while (true) {
    if (!parse_value(-1, depth)) return false;
    skip_ws();
    if (p_ >= end_) return false;
    if (*p_ == ',') {
      ++p_;
      continue;
    }
    if (*p_ == ']') {
      ++p_;
      return true;
    }
    return false;
  }
}

namespace {

void append_utf8(std::string& out, std::uint32_t cp) {
  if (cp < 0x80) {
    out.push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out.push_back(static_cast<char>(0xc0 | (cp >> 6)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3f)));
  } else if (cp < 0x10000) {
    out.push_back(static_cast<char>(0xe0 | (cp >> 12)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3f)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3f)));
  } else {
    out.push_back(static_cast<char>(0xf0 | (cp >> 18)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3f)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3f)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3f)));
  }
}

int hex_value(char c) noexcept {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

bool read_u16(std::string_view s, std::size_t i, std::uint32_t& out) noexcept {
  if (i + 4 > s.size()) return false;
  out = 0;
  for (std::size_t k = 0; k < 4; ++k) {
    const int h = hex_value(s[i + k]);
    if (h < 0) return false;
    out = out * 16 + static_cast<std::uint32_t>(h);
  }
  return true;
}

}  // namespace

bool unescape_json(std::string_view s, std::string& out) {
  std::size_t i = 0;
  while (i < s.size()) {
    const char c = s[i];
    if (c != '\\') {
      const std::size_t next = s.find('\\', i);
      const std::size_t stop = next == std::string_view::npos ? s.size() : next;
      out.append(s.data() + i, stop - i);
      i = stop;
      continue;
    }
    if (i + 1 >= s.size()) return false;
    const char e = s[i + 1];
    i += 2;
    switch (e) {
      case '"':
        out.push_back('"');
        break;
      case '\\':
        out.push_back('\\');
        break;
      case '/':
        out.push_back('/');
        break;
      case 'b':
        out.push_back('\b');
        break;
      case 'f':
        out.push_back('\f');
        break;
      case 'n':
        out.push_back('\n');
        break;
      case 'r':
        out.push_back('\r');
        break;
      case 't':
        out.push_back('\t');
        break;
      case 'u': {
        std::uint32_t cp = 0;
        if (!read_u16(s, i, cp)) return false;
        i += 4;
        if (cp >= 0xd800 && cp < 0xdc00) {
          std::uint32_t lo = 0;
          if (i + 6 <= s.size() && s[i] == '\\' && s[i + 1] == 'u' && read_u16(s, i + 2, lo) &&
              lo >= 0xdc00 && lo < 0xe000) {
            cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
            i += 6;
          } else {
            cp = 0xfffd;
          }
        } else if (cp >= 0xdc00 && cp < 0xe000) {
          cp = 0xfffd;
        }
        append_utf8(out, cp);
        break;
      }
      default:
        return false;
    }
  }
  return true;
}

std::string_view decoded(const field_value& v, std::string& scratch) {
  if (v.kind != value_kind::string || !v.escaped) return v.raw;
  scratch.clear();
  if (!unescape_json(v.raw, scratch)) return v.raw;
  return scratch;
}

}  // namespace keel::cli::logq
