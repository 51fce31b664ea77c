#include "logq/expr.hpp"

#include <boost/regex.hpp>
#include <charconv>
#include <optional>

#include <fmt/format.h>

namespace keel::cli::logq {

int level_rank(std::string_view name) noexcept {
  char buf[10];
  if (name.empty() || name.size() > sizeof(buf)) return -1;
  for (std::size_t i = 0; i < name.size(); ++i) {
    const char c = name[i];
    buf[i] = (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
  }
  const std::string_view n(buf, name.size());
  if (n == "trace") return 0;
  if (n == "debug") return 1;
  if (n == "info" || n == "notice") return 2;
  if (n == "warn" || n == "warning") return 3;
  if (n == "error" || n == "err") return 4;
  if (n == "critical" || n == "crit" || n == "fatal" || n == "alert" || n == "emergency" ||
      n == "emerg")
    return 5;
  return -1;
}

namespace {

enum class op : std::uint8_t { eq, ne, lt, le, gt, ge, match, not_match };

enum class node_kind : std::uint8_t { always, all_of, any_of, negate, exists, compare, regex };

struct literal {
  enum class type : std::uint8_t { string, number, boolean, null } kind = type::string;
  std::string text{};
  bool has_number = false;
  double number = 0;
  int rank = -1;  // severity, when compared against the level field
};

struct node {
  node_kind kind = node_kind::always;
  op oper = op::eq;
  int a = -1;
  int b = -1;
  std::size_t slot = 0;
  std::size_t index = 0;  // literal or regex
};

std::optional<double> to_number(std::string_view s) noexcept {
  if (s.empty()) return std::nullopt;
  double d = 0;
  const char* first = s.data();
  if (*first == '+') return std::nullopt;
  const auto [ptr, ec] = std::from_chars(first, s.data() + s.size(), d);
  if (ec != std::errc() || ptr != s.data() + s.size()) return std::nullopt;
  return d;
}

bool apply(op o, int cmp) noexcept {
  switch (o) {
    case op::eq:
      return cmp == 0;
    case op::ne:
      return cmp != 0;
    case op::lt:
      return cmp < 0;
    case op::le:
      return cmp <= 0;
    case op::gt:
      return cmp > 0;
    case op::ge:
      return cmp >= 0;
    default:
      return false;
  }
}

int three_way(double x, double y) noexcept { return x < y ? -1 : (x > y ? 1 : 0); }
int three_way(std::string_view x, std::string_view y) noexcept {
  const int c = x.compare(y);
  return c < 0 ? -1 : (c > 0 ? 1 : 0);
}

bool is_name_char(char c) noexcept {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
         c == '@' || c == '$' || c == '-';
}

const char* op_text(op o) noexcept {
  switch (o) {
    case op::eq:
      return "=";
    case op::ne:
      return "!=";
    case op::lt:
      return "<";
    case op::le:
      return "<=";
    case op::gt:
      return ">";
    case op::ge:
      return ">=";
    case op::match:
      return "=~";
    case op::not_match:
      return "!~";
  }
  return "?";
}

}  // namespace

struct expression::impl {
  std::vector<node> nodes{};
  std::vector<literal> literals{};
  std::vector<boost::regex> regexes{};
  int root = -1;

  bool eval(int i, const line_scanner& s, std::string& scratch) const;
  bool compare(const node& n, const field_value& v, std::string& scratch) const;
};

bool expression::impl::compare(const node& n, const field_value& v, std::string& scratch) const {
  const literal& lit = literals[n.index];
  const op o = n.oper;
  if (v.kind == value_kind::missing) return o == op::ne;
  if (lit.rank >= 0 && v.kind == value_kind::string) {
    const int r = level_rank(decoded(v, scratch));
    if (r >= 0) return apply(o, three_way(static_cast<double>(r), static_cast<double>(lit.rank)));
  }
  switch (lit.kind) {
    case literal::type::number: {
      std::optional<double> x;
      if (v.kind == value_kind::number) {
        x = to_number(v.raw);
      } else if (v.kind == value_kind::string) {
        x = to_number(decoded(v, scratch));
      }
      if (!x) return o == op::ne;
      return apply(o, three_way(*x, lit.number));
    }
    case literal::type::string:
      if (v.kind == value_kind::string) return apply(o, three_way(decoded(v, scratch), lit.text));
      if (v.kind == value_kind::number && lit.has_number) {
        if (const auto x = to_number(v.raw)) return apply(o, three_way(*x, lit.number));
      }
      if (o == op::eq || o == op::ne) return apply(o, three_way(v.raw, lit.text));
      return false;
    case literal::type::boolean:
    case literal::type::null: {
      const bool same_type =
          (lit.kind == literal::type::boolean && v.kind == value_kind::boolean) ||
          (lit.kind == literal::type::null && v.kind == value_kind::null);
      if (o == op::eq) return same_type && v.raw == lit.text;
      if (o == op::ne) return !(same_type && v.raw == lit.text);
      return false;
    }
  }
  return false;
}

bool expression::impl::eval(int i, const line_scanner& s, std::string& scratch) const {
  const node& n = nodes[static_cast<std::size_t>(i)];
  switch (n.kind) {
    case node_kind::always:
      return true;
    case node_kind::all_of:
      return eval(n.a, s, scratch) && eval(n.b, s, scratch);
    case node_kind::any_of:
      return eval(n.a, s, scratch) || eval(n.b, s, scratch);
    case node_kind::negate:
      return !eval(n.a, s, scratch);
    case node_kind::exists:
      return s.value(n.slot).kind != value_kind::missing;
    case node_kind::compare:
      return compare(n, s.value(n.slot), scratch);
    case node_kind::regex: {
      const field_value& v = s.value(n.slot);
      if (v.kind == value_kind::missing) return n.oper == op::not_match;
      const std::string_view text = decoded(v, scratch);
      bool found = false;
      try {
        found = boost::regex_search(text.begin(), text.end(), regexes[n.index]);
      } catch (const std::exception&) {
        found = false;  // Boost's complexity bound: treat a runaway match as no match
      }
      return n.oper == op::match ? found : !found;
    }
  }
  return false;
}

namespace {

class parser {
 public:
  parser(std::string_view text, field_set& fields, std::string_view level_field,
         const expression_limits& limits, expression::impl& out)
      : text_(text), fields_(fields), level_field_(level_field), limits_(limits), out_(out) {}

  result<void> run() {
    if (text_.size() > limits_.max_length) {
      return fail_at(limits_.max_length,
                     fmt::format("expression longer than {} bytes", limits_.max_length));
    }
    skip_ws();
    if (pos_ == text_.size()) {
      out_.root = add({.kind = node_kind::always});
      return error_ ? result<void>(fail(*error_)) : ok();
    }
    const int root = parse_or(0);
    if (!error_) {
      skip_ws();
      if (pos_ != text_.size()) {
        if (text_[pos_] == ')') {
          set_error(pos_, "unbalanced ')'");
        } else {
          set_error(pos_, fmt::format("expected 'and', 'or' or the end, found {}", found()));
        }
      }
    }
    if (error_) return fail(*error_);
    out_.root = root;
    return ok();
  }

 private:
  result<void> fail_at(std::size_t pos, std::string msg) {
    set_error(pos, std::move(msg));
    return fail(*error_);
  }

  void set_error(std::size_t pos, std::string msg) {
    if (error_) return;
    const std::size_t column = pos + 1;
    error_.emplace(keel::error(codes::validation_error, fmt::format("column {}: {}", column, msg))
                       .with_detail("column", column)
                       .with_detail("reason", msg));
  }

  std::string found() const {
    if (pos_ >= text_.size()) return "the end";
    std::size_t n = 0;
    while (pos_ + n < text_.size() && n < 16 && text_[pos_ + n] != ' ')
      ++n;
    std::string shown;
    for (std::size_t i = 0; i < n; ++i) {
      const auto c = static_cast<unsigned char>(text_[pos_ + i]);
      if (c < 0x20 || c == 0x7f) {
        shown += fmt::format("\\x{:02x}", c);
      } else {
        shown.push_back(static_cast<char>(c));
      }
    }
    return "'" + shown + "'";
  }

  int add(node n) {
    if (out_.nodes.size() >= limits_.max_nodes) {
      set_error(pos_, fmt::format("expression has more than {} terms", limits_.max_nodes));
      return -1;
    }
    out_.nodes.push_back(n);
    return static_cast<int>(out_.nodes.size() - 1);
  }

  void skip_ws() {
    while (pos_ < text_.size() && (text_[pos_] == ' ' || text_[pos_] == '\t' ||
                                   text_[pos_] == '\n' || text_[pos_] == '\r'))
      ++pos_;
  }

  bool keyword(std::string_view k) {
    if (text_.size() - pos_ < k.size()) return false;
    for (std::size_t i = 0; i < k.size(); ++i) {
      char c = text_[pos_ + i];
      if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
      if (c != k[i]) return false;
    }
    if (pos_ + k.size() < text_.size() && is_name_char(text_[pos_ + k.size()])) return false;
    pos_ += k.size();
    return true;
  }

  bool symbol(std::string_view s) {
    if (text_.substr(pos_, s.size()) != s) return false;
    pos_ += s.size();
    return true;
  }

  int parse_or(int depth) {
    int left = parse_and(depth);
    while (!error_) {
      skip_ws();
      if (!keyword("or") && !symbol("||")) break;
      const int right = parse_and(depth);
      if (error_) break;
      left = add({.kind = node_kind::any_of, .a = left, .b = right});
    }
    return left;
  }

  int parse_and(int depth) {
    int left = parse_unary(depth);
    while (!error_) {
      skip_ws();
      if (!keyword("and") && !symbol("&&")) break;
      const int right = parse_unary(depth);
      if (error_) break;
      left = add({.kind = node_kind::all_of, .a = left, .b = right});
    }
    return left;
  }

  int parse_unary(int depth) {
    if (depth >= limits_.max_depth) {
      set_error(pos_, fmt::format("expression nested deeper than {}", limits_.max_depth));
      return -1;
    }
    skip_ws();
    if (pos_ >= text_.size()) {
      set_error(pos_, "expected a field, 'not' or '(', found the end");
      return -1;
    }
    const std::size_t start = pos_;
    if ((text_[pos_] == '!' &&
         (pos_ + 1 >= text_.size() || (text_[pos_ + 1] != '=' && text_[pos_ + 1] != '~'))) ||
        keyword("not")) {
      if (pos_ == start) ++pos_;  // '!'
      const int inner = parse_unary(depth + 1);
      if (error_) return -1;
      return add({.kind = node_kind::negate, .a = inner});
    }
    if (text_[pos_] == '(') {
      ++pos_;
      const int inner = parse_or(depth + 1);
      if (error_) return -1;
      skip_ws();
      if (pos_ >= text_.size() || text_[pos_] != ')') {
        set_error(pos_, fmt::format("expected ')' to close the '(' at column {}, found {}",
                                    start + 1, found()));
        return -1;
      }
      ++pos_;
      return inner;
    }
    if (keyword("exists")) {
      skip_ws();
      const bool paren = pos_ < text_.size() && text_[pos_] == '(';
      if (paren) ++pos_;
      skip_ws();
      const auto slot = parse_field();
      if (!slot) return -1;
      if (paren) {
        skip_ws();
        if (!symbol(")")) {
          set_error(pos_, fmt::format("expected ')' after the field, found {}", found()));
          return -1;
        }
      }
      return add({.kind = node_kind::exists, .slot = *slot});
    }
    const std::size_t field_pos = pos_;
    const std::size_t path_start = pos_;
    const auto slot = parse_field();
    if (!slot) return -1;
    const std::string_view path = text_.substr(path_start, pos_ - path_start);
    skip_ws();
    const std::size_t op_pos = pos_;
    std::optional<op> o;
    if (symbol("=="))
      o = op::eq;
    else if (symbol("=~"))
      o = op::match;
    else if (symbol("!="))
      o = op::ne;
    else if (symbol("!~"))
      o = op::not_match;
    else if (symbol("<="))
      o = op::le;
    else if (symbol(">="))
      o = op::ge;
    else if (symbol("="))
      o = op::eq;
    else if (symbol(":"))
      o = op::eq;
    else if (symbol("<"))
      o = op::lt;
    else if (symbol(">"))
      o = op::gt;
    if (!o) return add({.kind = node_kind::exists, .slot = *slot});
    (void)field_pos;
    return parse_comparison(*slot, path, *o, op_pos);
  }

  std::optional<std::size_t> parse_field() {
    const std::size_t start = pos_;
    while (true) {
      const std::size_t seg = pos_;
      while (pos_ < text_.size() && is_name_char(text_[pos_]))
        ++pos_;
      if (pos_ == seg) {
        if (seg == start) {
          set_error(pos_, fmt::format("expected a field name, found {}", found()));
        } else {
          set_error(pos_, "empty field name segment after '.'");
        }
        return std::nullopt;
      }
      if (pos_ < text_.size() && text_[pos_] == '.') {
        ++pos_;
        continue;
      }
      break;
    }
    const std::string_view path = text_.substr(start, pos_ - start);
    for (const std::string_view kw : {"and", "or", "not", "exists"}) {
      if (path.size() == kw.size()) {
        bool same = true;
        for (std::size_t i = 0; i < kw.size(); ++i) {
          char c = path[i];
          if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
          same = same && c == kw[i];
        }
        if (same) {
          set_error(start, fmt::format("expected a field name, found the keyword '{}'", path));
          return std::nullopt;
        }
      }
    }
    if (fields_.size() >= field_set::max_fields) {
      set_error(start, fmt::format("more than {} distinct fields", field_set::max_fields));
      return std::nullopt;
    }
    return fields_.add(path);
  }

  int parse_comparison(std::size_t slot, std::string_view path, op o, std::size_t op_pos) {
    skip_ws();
    const std::size_t value_pos = pos_;
    if (pos_ >= text_.size() || text_[pos_] == ')') {
      set_error(pos_, fmt::format("expected a value after '{}', found {}", op_text(o), found()));
      return -1;
    }
    literal lit;
    bool quoted = false;
    bool regex_literal = false;
    bool icase = false;
    const char c = text_[pos_];
    if (c == '"' || c == '\'') {
      quoted = true;
      const std::size_t close = find_closing(c);
      if (close == std::string_view::npos) {
        set_error(value_pos, "unterminated string");
        return -1;
      }
      const std::string_view body = text_.substr(pos_ + 1, close - pos_ - 1);
      if (c == '"') {
        if (!unescape_json(body, lit.text)) {
          set_error(value_pos, "invalid escape in string");
          return -1;
        }
      } else {
        for (std::size_t i = 0; i < body.size(); ++i) {
          if (body[i] == '\\' && i + 1 < body.size()) ++i;
          lit.text.push_back(body[i]);
        }
      }
      pos_ = close + 1;
    } else if (c == '/' && (o == op::match || o == op::not_match)) {
      regex_literal = true;
      const std::size_t close = find_closing('/');
      if (close == std::string_view::npos) {
        set_error(value_pos, "unterminated regex: expected a closing '/'");
        return -1;
      }
      // `\/` stands for '/', every other escape is the regex's own.
      const std::string_view body = text_.substr(pos_ + 1, close - pos_ - 1);
      for (std::size_t i = 0; i < body.size(); ++i) {
        if (body[i] == '\\' && i + 1 < body.size() && body[i + 1] == '/') {
          lit.text.push_back('/');
          ++i;
        } else {
          lit.text.push_back(body[i]);
        }
      }
      pos_ = close + 1;
      if (pos_ < text_.size() && text_[pos_] == 'i') {
        icase = true;
        ++pos_;
      }
      if (pos_ < text_.size() && is_name_char(text_[pos_])) {
        set_error(pos_, fmt::format("unknown regex flag {} (only 'i')", found()));
        return -1;
      }
    } else {
      while (pos_ < text_.size()) {
        const char d = text_[pos_];
        if (d == ' ' || d == '\t' || d == '\n' || d == '\r' || d == '(' || d == ')' || d == '"' ||
            d == '\'')
          break;
        ++pos_;
      }
      lit.text = std::string(text_.substr(value_pos, pos_ - value_pos));
      for (const std::string_view kw : {"and", "or", "not", "exists", "AND", "OR", "NOT"}) {
        if (lit.text == kw) {
          set_error(value_pos, fmt::format("expected a value after '{}', found the keyword '{}' "
                                           "(quote it to compare with the word)",
                                           op_text(o), kw));
          return -1;
        }
      }
      if (lit.text.empty()) {
        set_error(value_pos,
                  fmt::format("expected a value after '{}', found {}", op_text(o), found()));
        return -1;
      }
    }

    if (o == op::match || o == op::not_match) {
      (void)quoted;
      (void)regex_literal;
      if (lit.text.size() > limits_.max_regex_length) {
        set_error(value_pos, fmt::format("regex longer than {} bytes", limits_.max_regex_length));
        return -1;
      }
      try {
        boost::regex::flag_type flags = boost::regex::perl;
        if (icase) flags = static_cast<boost::regex::flag_type>(flags | boost::regex::icase);
        out_.regexes.emplace_back(lit.text, flags);
      } catch (const std::exception& e) {
        set_error(value_pos, fmt::format("invalid regex: {}", e.what()));
        return -1;
      }
      return add(
          {.kind = node_kind::regex, .oper = o, .slot = slot, .index = out_.regexes.size() - 1});
    }

    if (const auto n = to_number(lit.text)) {
      lit.has_number = true;
      lit.number = *n;
      if (!quoted) lit.kind = literal::type::number;
    }
    if (!quoted && (lit.text == "true" || lit.text == "false")) lit.kind = literal::type::boolean;
    if (!quoted && lit.text == "null") lit.kind = literal::type::null;
    if (path == level_field_) lit.rank = level_rank(lit.text);
    if (lit.kind != literal::type::number && lit.kind != literal::type::string && o != op::eq &&
        o != op::ne) {
      set_error(op_pos, fmt::format("'{}' needs a number, a string or a level, not {}", op_text(o),
                                    lit.text));
      return -1;
    }
    out_.literals.push_back(std::move(lit));
    return add(
        {.kind = node_kind::compare, .oper = o, .slot = slot, .index = out_.literals.size() - 1});
  }

  // Index of the unescaped `quote` closing the literal that opens at pos_.
  std::size_t find_closing(char quote) const {
    for (std::size_t i = pos_ + 1; i < text_.size(); ++i) {
      if (text_[i] == '\\') {
        ++i;
        continue;
      }
      if (text_[i] == quote) return i;
    }
    return std::string_view::npos;
  }

  std::string_view text_;
  field_set& fields_;
  std::string_view level_field_;
  const expression_limits& limits_;
  expression::impl& out_;
  std::size_t pos_ = 0;
  std::optional<keel::error> error_{};
};

}  // namespace

expression::expression() : impl_(std::make_unique<impl>()) {
  impl_->nodes.push_back({.kind = node_kind::always});
  impl_->root = 0;
}
expression::expression(std::unique_ptr<impl> p) : impl_(std::move(p)) {}
expression::~expression() = default;
expression::expression(expression&&) noexcept = default;
expression& expression::operator=(expression&&) noexcept = default;

result<expression> expression::parse(std::string_view text, field_set& fields,
                                     std::string_view level_field,
                                     const expression_limits& limits) {
  auto p = std::make_unique<impl>();
  parser ps(text, fields, level_field, limits, *p);
  if (auto r = ps.run(); !r) return fail(r.error());
  return expression(std::move(p));
}

bool expression::matches(const line_scanner& scan) const {
  thread_local std::string scratch;
  return impl_->eval(impl_->root, scan, scratch);
}

bool expression::matches_all() const noexcept {
  return impl_->nodes[static_cast<std::size_t>(impl_->root)].kind == node_kind::always;
}

}  // namespace keel::cli::logq
