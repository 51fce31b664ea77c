#include "keel/config/yaml_reader.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <set>

namespace keel::config {

std::optional<std::chrono::milliseconds> parse_duration(std::string_view s) noexcept {
  if (s == "0") return std::chrono::milliseconds(0);
  if (s.empty() || s.size() > 32) return std::nullopt;
  std::int64_t total = 0;
  std::size_t i = 0;
  while (i < s.size()) {
    std::int64_t n = 0;
    auto [p, ec] = std::from_chars(s.data() + i, s.data() + s.size(), n);
    if (ec != std::errc() || p == s.data() + i || n < 0) return std::nullopt;
    i = static_cast<std::size_t>(p - s.data());
    std::int64_t unit = 0;
    if (s.substr(i, 2) == "ms") {
      unit = 1;
      i += 2;
    } else if (i < s.size()) {
      switch (s[i]) {
        case 's':
          unit = 1000;
          break;
        case 'm':
          unit = 60'000;
          break;
        case 'h':
          unit = 3'600'000;
          break;
        case 'd':
          unit = 86'400'000;
          break;
        case 'w':
          unit = 7 * 86'400'000LL;
          break;
        default:
          return std::nullopt;
      }
      ++i;
    } else {
      return std::nullopt;
    }
    if (n > (INT64_MAX / 4) / unit) return std::nullopt;
    total += n * unit;
  }
  return std::chrono::milliseconds(total);
}

void bad(const YAML::Node& n, const std::string& path, std::string what) {
  throw yaml_error{n.Mark(), path, std::move(what)};
}

std::string child_path(std::string_view path, std::string_view key) {
  if (path.empty()) return std::string(key);
  std::string p(path);
  if (p.back() != '.') p += '.';
  p += key;
  return p;
}

void allow_keys(const YAML::Node& n, const std::string& path,
                std::initializer_list<std::string_view> keys) {
  if (!n.IsMap()) bad(n, path, "expected a mapping");
  std::set<std::string, std::less<>> seen;
  for (const auto& kv : n) {
    if (!kv.first.IsScalar()) bad(kv.first, path, "a key must be a plain string");
    const auto& k = kv.first.Scalar();
    if (std::find(keys.begin(), keys.end(), k) == keys.end()) {
      bad(kv.first, child_path(path, k), "unknown key '" + k + "'");
    }
    if (!seen.insert(k).second) bad(kv.first, child_path(path, k), "duplicate key '" + k + "'");
  }
}

std::string text(const YAML::Node& n, const std::string& path, std::size_t max_bytes) {
  if (!n.IsScalar()) bad(n, path, "expected a string");
  const auto& s = n.Scalar();
  if (s.size() > max_bytes) bad(n, path, "longer than " + std::to_string(max_bytes) + " bytes");
  return s;
}

double number(const YAML::Node& n, const std::string& path, double lo, double hi) {
  if (!n.IsScalar()) bad(n, path, "expected a number");
  const auto& s = n.Scalar();
  double v = 0;
  const auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc{} || p != s.data() + s.size() || s.empty()) {
    bad(n, path, "expected a number, got '" + s.substr(0, 64) + "'");
  }
  if (!std::isfinite(v)) bad(n, path, "must be finite");
  if (!(v >= lo && v <= hi)) {
    bad(n, path, "must be between " + std::to_string(lo) + " and " + std::to_string(hi));
  }
  return v;
}

bool boolean(const YAML::Node& n, const std::string& path) {
  bool v = false;
  if (!n.IsScalar() || !YAML::convert<bool>::decode(n, v)) bad(n, path, "expected true or false");
  return v;
}

std::chrono::milliseconds duration(const YAML::Node& n, const std::string& path) {
  const auto d = parse_duration(text(n, path, 64));
  if (!d) bad(n, path, "bad duration '" + n.Scalar() + "' (e.g. 500ms, 30s, 5m, 1h30m)");
  return *d;
}

std::vector<std::string> text_list(const YAML::Node& n, const std::string& path) {
  if (!n.IsSequence()) bad(n, path, "expected a list");
  std::vector<std::string> out;
  out.reserve(n.size());
  for (std::size_t i = 0; i < n.size(); ++i)
    out.push_back(text(n[i], path + "[" + std::to_string(i) + "]"));
  return out;
}

namespace {

// The bounds, checked on the text: brackets nest flow collections (quoted
// text is not told apart, so a bracket inside a string counts too — a
// configuration has no reason to hold 64 unclosed ones), and entries are
// what starts a collection item: '[', '{', ',', "- " and ": ".
result<void> within_bounds(std::string_view text, const yaml_limits& l) {
  std::size_t depth = 0, deepest = 0, entries = 0;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    const bool spaced = i + 1 == text.size() || text[i + 1] == ' ' || text[i + 1] == '\n';
    if (c == '[' || c == '{') {
      deepest = std::max(deepest, ++depth);
      ++entries;
    } else if ((c == ']' || c == '}') && depth > 0) {
      --depth;
    } else if (c == ',' || ((c == '-' || c == ':') && spaced)) {
      ++entries;
    }
  }
  auto refuse = [&](std::string problem, std::size_t limit) {
    return fail(error(codes::validation_error, problem)
                    .with_detail("problem", problem)
                    .with_detail("limit", limit));
  };
  if (deepest > l.max_depth) {
    return refuse(
        std::string(l.what) + " nests deeper than " + std::to_string(l.max_depth) + " levels",
        l.max_depth);
  }
  if (entries > l.max_nodes) {
    return refuse(
        std::string(l.what) + " has more than " + std::to_string(l.max_nodes) + " entries",
        l.max_nodes);
  }
  return {};
}

}  // namespace

result<YAML::Node> load_bounded(std::string_view text, const yaml_limits& l) {
  if (text.size() > l.max_bytes) {
    return fail(error(codes::payload_too_large, std::string(l.what) + " larger than " +
                                                    std::to_string(l.max_bytes) + " bytes")
                    .with_detail("limit_bytes", l.max_bytes));
  }
  if (auto b = within_bounds(text, l); !b) return fail(std::move(b.error()));
  try {
    return YAML::Load(std::string(text));
  } catch (const YAML::Exception& e) {
    return fail(positioned(e.mark, "", e.msg));
  }
}

keel::error positioned(const YAML::Mark& m, std::string_view path, std::string_view what) {
  const int line = m.line + 1, column = m.column + 1;
  std::string msg = "line " + std::to_string(line) + ", column " + std::to_string(column) + ": ";
  if (!path.empty()) msg += std::string(path) + ": ";
  msg += what;
  // The problem is the client's own text, said back: safe in a response,
  // and what makes a 400 actionable.
  auto e = error(codes::validation_error, std::move(msg))
               .with_detail("line", line)
               .with_detail("column", column);
  if (!path.empty()) e.with_detail("path", std::string(path));
  e.with_detail("problem", std::string(what.substr(0, 512)));
  return e;
}

}  // namespace keel::config
