// apps/keel/logq/expr.hpp
//
// A logq filter expression, parsed once and evaluated per line against the
// fields a line_scanner extracted.
//
//   keel::cli::logq::field_set fields;
//   auto e = expression::parse(R"(duration_ms > 1000 and level >= warn)", fields);
//   if (!e) { print(e.error().message()); }          // "column 17: expected a value ..."
//   line_scanner scan(fields);
//   if (scan.scan(line) == scan_status::ok && e->matches(scan)) ...
//
// Grammar (keywords in either case; `&&`, `||`, `!` also accepted):
//
//   expr    := and_expr ("or" and_expr)*
//   and_expr:= unary ("and" unary)*
//   unary   := "not" unary | "(" expr ")" | "exists" field | field [op value]
//   op      := "=" | "==" | ":" | "!=" | "<" | "<=" | ">" | ">=" | "=~" | "!~"
//   value   := "string" | number | bareword | true | false | null | /regex/[i]
//   field   := name ("." name)*        name: [A-Za-z0-9_@$-]+
//
// A field alone tests existence. Comparisons follow the value's type: a
// number compares numerically (a string field holding a number too), a
// string compares as text, and the level field (default "level") compares by
// severity when the value is a level name: trace < debug < info < warn <
// error < critical. A missing field makes every comparison false except `!=`
// and `!~`, which are the negations of `=` and `=~`. Regexes (Perl syntax,
// Boost.Regex) are compiled once; one that exceeds Boost's complexity bound
// on a line does not match.
//
// Limits: expression ≤ 4096 bytes, nesting ≤ 32, ≤ 256 nodes, regex ≤ 1024
// bytes. Errors are VALIDATION_ERROR with the 1-based column in the message
// and in details["column"].
//
// Thread safety: a parsed expression is immutable; matches() may be called
// from several threads with their own scanners. Cost: no allocation per line
// except when decoding a string field that holds escapes.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "keel/core/result.hpp"
#include "logq/json_scan.hpp"

namespace keel::cli::logq {

struct expression_limits {
  std::size_t max_length = 4096;
  int max_depth = 32;
  std::size_t max_nodes = 256;
  std::size_t max_regex_length = 1024;
};

// The severity rank of a level name (case-insensitive; warning, err, fatal,
// crit accepted), or -1.
int level_rank(std::string_view name) noexcept;

class expression {
 public:
  // An expression that matches every line.
  expression();
  ~expression();
  expression(expression&&) noexcept;
  expression& operator=(expression&&) noexcept;

  // Parses `text`, adding the fields it references to `fields`. An empty or
  // all-blank text matches everything. `level_field` is the field compared by
  // severity.
  static result<expression> parse(std::string_view text, field_set& fields,
                                  std::string_view level_field = "level",
                                  const expression_limits& limits = {});

  // True when the line last scanned by `scan` satisfies the expression.
  bool matches(const line_scanner& scan) const;

  bool matches_all() const noexcept;

  struct impl;

 private:
  explicit expression(std::unique_ptr<impl> p);
  std::unique_ptr<impl> impl_;
};

}  // namespace keel::cli::logq
