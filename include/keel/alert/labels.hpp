// keel/alert/labels.hpp
//
// label_set and matcher: the name=value pairs that identify a series or an
// alert, and the Prometheus/Alertmanager matchers that select them
// (`name="v"`, `name!="v"`, `name=~"re"`, `name!~"re"`; regexes match the
// whole value, as in Prometheus).
//
//   keel::alert::label_set l{{"service", "checkout"}, {"severity", "high"}};
//   auto m = keel::alert::parse_matcher(R"(severity=~"high|critical")").value();
//   bool hit = m.matches(l);                                     // true
//
// Thread safety: plain values; a matcher's compiled regex is shared and
// immutable. Cost: label lookups are a binary search over a sorted vector.
#pragma once

#include <cstddef>
#include <initializer_list>
#include <memory>
#include <regex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "keel/core/result.hpp"

namespace keel::alert {

// label_set
//
// Pairs kept sorted by name with unique names, so equal sets compare equal
// and hash the same whatever order they were built in.
class label_set {
 public:
  using pair = std::pair<std::string, std::string>;

  label_set() = default;
  label_set(std::initializer_list<pair> pairs);
  explicit label_set(std::vector<pair> pairs);

  // The value of `name`, or "" (as Prometheus: a missing label is empty).
  std::string_view get(std::string_view name) const noexcept;
  bool has(std::string_view name) const noexcept;
  // Sets (or replaces) a label; an empty value removes it.
  void set(std::string_view name, std::string_view value);

  std::size_t size() const noexcept { return pairs_.size(); }
  bool empty() const noexcept { return pairs_.empty(); }
  auto begin() const noexcept { return pairs_.begin(); }
  auto end() const noexcept { return pairs_.end(); }

  // Only the named labels (for group_by / by).
  label_set project(const std::vector<std::string>& names) const;
  // {a="x", b="y"}, for messages and keys.
  std::string to_string() const;
  // A stable 64-bit hash of the pairs.
  std::uint64_t hash() const noexcept;

  friend bool operator==(const label_set&, const label_set&) = default;
  friend auto operator<=>(const label_set&, const label_set&) = default;

 private:
  std::vector<pair> pairs_;
};

// Label names: [a-zA-Z_][a-zA-Z0-9_]*, at most 128 characters.
bool is_valid_label_name(std::string_view n) noexcept;

// {"name": "value", ...}, for views.
nlohmann::ordered_json to_json(const label_set& l);

// matcher
//
// One condition on one label.
struct matcher {
  enum class op { equal, not_equal, regex, not_regex };
  std::string name{};
  op kind = op::equal;
  std::string value{};
  std::shared_ptr<const std::regex> re{};  // set for regex / not_regex

  bool matches(const label_set& l) const;
  // name="value" etc., as parse_matcher reads it.
  std::string to_string() const;
};

// Builds a matcher, compiling the regex (anchored). VALIDATION_ERROR for a
// bad name or regex, or a regex longer than 512 bytes.
[[nodiscard]] result<matcher> make_matcher(std::string_view name, matcher::op kind,
                                           std::string_view value);
// Parses `name="value"`, `name!="v"`, `name=~"re"`, `name!~"re"`; the value
// may also be unquoted. VALIDATION_ERROR with the reason otherwise.
[[nodiscard]] result<matcher> parse_matcher(std::string_view text);

// True when every matcher matches.
bool matches_all(const std::vector<matcher>& ms, const label_set& l);

}  // namespace keel::alert
