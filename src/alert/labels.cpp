#include "keel/alert/labels.hpp"

#include <algorithm>

namespace keel::alert {

label_set::label_set(std::initializer_list<pair> pairs) : label_set(std::vector<pair>(pairs)) {}

label_set::label_set(std::vector<pair> pairs) : pairs_(std::move(pairs)) {
  std::stable_sort(pairs_.begin(), pairs_.end(),
                   [](const pair& a, const pair& b) { return a.first < b.first; });
  // The last of duplicate names wins; empty values are absent labels.
  std::vector<pair> out;
  out.reserve(pairs_.size());
  for (auto& p : pairs_) {
    if (!out.empty() && out.back().first == p.first) {
      out.back().second = std::move(p.second);
    } else {
      out.push_back(std::move(p));
    }
  }
  std::erase_if(out, [](const pair& p) { return p.second.empty(); });
  pairs_ = std::move(out);
}

std::string_view label_set::get(std::string_view name) const noexcept {
  auto it = std::lower_bound(pairs_.begin(), pairs_.end(), name,
                             [](const pair& p, std::string_view n) { return p.first < n; });
  if (it != pairs_.end() && it->first == name) return it->second;
  return {};
}

bool label_set::has(std::string_view name) const noexcept { return !get(name).empty(); }

void label_set::set(std::string_view name, std::string_view value) {
  auto it = std::lower_bound(pairs_.begin(), pairs_.end(), name,
                             [](const pair& p, std::string_view n) { return p.first < n; });
  if (it != pairs_.end() && it->first == name) {
    if (value.empty()) {
      pairs_.erase(it);
    } else {
      it->second = value;
    }
  } else if (!value.empty()) {
    pairs_.insert(it, pair(std::string(name), std::string(value)));
  }
}

label_set label_set::project(const std::vector<std::string>& names) const {
  label_set out;
  for (const auto& n : names) {
    const auto v = get(n);
    if (!v.empty()) out.set(n, v);
  }
  return out;
}

std::string label_set::to_string() const {
  std::string s = "{";
  for (const auto& [k, v] : pairs_) {
    if (s.size() > 1) s += ", ";
    s += k;
    s += "=\"";
    for (char c : v) {
      if (c == '"' || c == '\\') s.push_back('\\');
      s.push_back(c);
    }
    s += '"';
  }
  s += '}';
  return s;
}

std::uint64_t label_set::hash() const noexcept {
  std::uint64_t h = 0xcbf29ce484222325ULL;  // FNV-1a
  auto mix = [&h](std::string_view s) {
    for (unsigned char c : s) {
      h ^= c;
      h *= 0x100000001b3ULL;
    }
    h ^= 0xff;
    h *= 0x100000001b3ULL;
  };
  for (const auto& [k, v] : pairs_) {
    mix(k);
    mix(v);
  }
  return h;
}

bool is_valid_label_name(std::string_view n) noexcept {
  if (n.empty() || n.size() > 128) return false;
  for (std::size_t i = 0; i < n.size(); ++i) {
    const char c = n[i];
    const bool alpha = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
    if (!alpha && !(i > 0 && c >= '0' && c <= '9')) return false;
  }
  return true;
}

bool matcher::matches(const label_set& l) const {
  const auto v = l.get(name);
  switch (kind) {
    case op::equal:
      return v == value;
    case op::not_equal:
      return v != value;
    case op::regex:
      return std::regex_match(v.begin(), v.end(), *re);
    case op::not_regex:
      return !std::regex_match(v.begin(), v.end(), *re);
  }
  return false;
}

std::string matcher::to_string() const {
  static constexpr const char* kOps[] = {"=", "!=", "=~", "!~"};
  std::string s = name + kOps[static_cast<int>(kind)] + '"';
  for (char c : value) {
    if (c == '"' || c == '\\') s.push_back('\\');
    s.push_back(c);
  }
  return s + '"';
}

namespace {

// std::regex (libstdc++) reads a back-reference number or a {n,m} bound
// into a `long` without an overflow check, and expands {n} into n copies of
// its operand: a hostile pattern ("\\99999999999999999999", "a{9999999}")
// means undefined behaviour or exhausted memory before any regex_error.
// Refuse them first: back-references of at most two digits, repetition
// bounds of at most 1000.
bool bounded_regex(std::string_view re) noexcept {
  auto digits_at = [&](std::size_t i) {
    std::size_t n = 0;
    while (i + n < re.size() && re[i + n] >= '0' && re[i + n] <= '9')
      ++n;
    return n;
  };
  for (std::size_t i = 0; i < re.size(); ++i) {
    if (re[i] == '\\' && i + 1 < re.size()) {
      if (digits_at(i + 1) > 2) return false;
      ++i;  // the escaped character
    } else if (re[i] == '{') {
      for (std::size_t j = i + 1; j < re.size() && re[j] != '}';) {
        const std::size_t n = digits_at(j);
        if (n > 4) return false;
        if (n > 0) {
          if (std::stoi(std::string(re.substr(j, n))) > 1000) return false;
          j += n;
        } else {
          ++j;
        }
      }
    }
  }
  return true;
}

}  // namespace

result<matcher> make_matcher(std::string_view name, matcher::op kind, std::string_view value) {
  if (!is_valid_label_name(name)) {
    return fail(codes::validation_error, "invalid label name '" + std::string(name) + "'");
  }
  matcher m{.name = std::string(name), .kind = kind, .value = std::string(value)};
  if (kind == matcher::op::regex || kind == matcher::op::not_regex) {
    if (value.size() > 512) return fail(codes::validation_error, "regex longer than 512 bytes");
    if (!bounded_regex(value)) {
      return fail(codes::validation_error,
                  "regex back-references are limited to two digits and repetition bounds to "
                  "1000");
    }
    try {
      m.re = std::make_shared<const std::regex>(std::string(value),
                                                std::regex::ECMAScript | std::regex::optimize);
    } catch (const std::regex_error& e) {
      return fail(codes::validation_error,
                  "invalid regex '" + std::string(value) + "': " + e.what());
    }
  }
  return m;
}

namespace {

// A matcher the API refuses: the reason in details.problem too, which
// problem+json shows (its detail is the code's generic text).
keel::error bad_matcher(std::string_view t, std::string_view why) {
  std::string text = "matcher '";
  text += t;
  text += "' ";
  text += why;
  return error(codes::validation_error, text).with_detail("problem", text);
}

}  // namespace

result<matcher> parse_matcher(std::string_view t) {
  auto trim = [](std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t'))
      s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t'))
      s.remove_suffix(1);
    return s;
  };
  t = trim(t);
  if (t.size() > 1024) return fail(bad_matcher(t.substr(0, 32), "... is longer than 1024 bytes"));
  std::size_t i = 0;
  while (i < t.size() && t[i] != '=' && t[i] != '!')
    ++i;
  if (i == t.size()) {
    return fail(bad_matcher(t, "has no operator (=, !=, =~, !~)"));
  }
  const auto name = trim(t.substr(0, i));
  matcher::op kind;
  if (t.substr(i, 2) == "=~") {
    kind = matcher::op::regex;
    i += 2;
  } else if (t.substr(i, 2) == "!~") {
    kind = matcher::op::not_regex;
    i += 2;
  } else if (t.substr(i, 2) == "!=") {
    kind = matcher::op::not_equal;
    i += 2;
  } else if (t[i] == '=') {
    kind = matcher::op::equal;
    i += 1;
  } else {
    return fail(bad_matcher(t, "has no operator (=, !=, =~, !~)"));
  }
  auto raw = trim(t.substr(i));
  std::string value;
  if (!raw.empty() && raw.front() == '"') {
    if (raw.size() < 2 || raw.back() != '"') {
      return fail(bad_matcher(t, "has an unclosed quote"));
    }
    raw = raw.substr(1, raw.size() - 2);
    for (std::size_t k = 0; k < raw.size(); ++k) {
      if (raw[k] == '\\' && k + 1 < raw.size()) {
        const char n = raw[++k];
        // Prometheus unescapes \" and \\ ; keep other escapes for the regex.
        if (n != '"' && n != '\\') value.push_back('\\');
        value.push_back(n);
      } else {
        value.push_back(raw[k]);
      }
    }
  } else {
    // `status==5` or `code=~~x` is a typo for an operator, not a value
    // starting with '=' (which would never match): such a value is quoted.
    if (!raw.empty() && (raw.front() == '=' || raw.front() == '~')) {
      return fail(bad_matcher(t, "has no such operator as '" + std::string(t.substr(i - 1, 2)) +
                                     "' (=, !=, =~, !~); quote a value that starts with '=' or "
                                     "'~'"));
    }
    value = std::string(raw);
  }
  return make_matcher(name, kind, value);
}

bool matches_all(const std::vector<matcher>& ms, const label_set& l) {
  for (const auto& m : ms) {
    if (!m.matches(l)) return false;
  }
  return true;
}

}  // namespace keel::alert
