#include "logq/expr.hpp"

#include <gtest/gtest.h>

#include <string>

namespace keel::cli::logq {
namespace {

// Parses `expr`, scans `line` and says whether it matches.
bool match(std::string_view expr, std::string_view line) {
  field_set f;
  auto e = expression::parse(expr, f);
  EXPECT_TRUE(e) << expr << ": " << (e ? "" : e.error().message());
  if (!e) return false;
  line_scanner scan(f);
  EXPECT_EQ(scan.scan(line), scan_status::ok) << line;
  return e->matches(scan);
}

// The error message of a failed parse.
std::string parse_error(std::string_view expr) {
  field_set f;
  auto e = expression::parse(expr, f);
  EXPECT_FALSE(e) << expr;
  return e ? "" : e.error().message();
}

std::size_t error_column(std::string_view expr) {
  field_set f;
  auto e = expression::parse(expr, f);
  if (e) return 0;
  return e.error().details().at("column").get<std::size_t>();
}

constexpr std::string_view kLine =
    R"({"timestamp":"2026-11-23T06:00:01.000000Z","level":"error","request_id":"7f3d2a1b",)"
    R"("error":{"code":"DATABASE_ERROR","retryable":true},"duration_ms":1500,"status":"503",)"
    R"("path":"/api/v1/orders","note":null,"msg":"say \"hi\""})";

TEST(LogqExpr, EmptyExpressionMatchesEverything) {
  EXPECT_TRUE(match("", kLine));
  EXPECT_TRUE(match("   ", kLine));
}

TEST(LogqExpr, EqualityOnStringsQuotedOrBare) {
  EXPECT_TRUE(match(R"(request_id = "7f3d2a1b")", kLine));
  EXPECT_TRUE(match("request_id == 7f3d2a1b", kLine));
  EXPECT_TRUE(match(R"(request_id: "7f3d2a1b")", kLine));
  EXPECT_FALSE(match(R"(request_id = "7f3d")", kLine));
  EXPECT_TRUE(match(R"(msg = "say \"hi\"")", kLine));
  EXPECT_TRUE(match("msg = 'say \"hi\"'", kLine));
}

TEST(LogqExpr, NestedFieldsWithDots) {
  EXPECT_TRUE(match("error.code = DATABASE_ERROR", kLine));
  EXPECT_FALSE(match("error.code = TIMEOUT", kLine));
  EXPECT_TRUE(match("error.retryable = true", kLine));
  EXPECT_FALSE(match("error.retryable = false", kLine));
}

TEST(LogqExpr, Inequality) {
  EXPECT_TRUE(match("error.code != TIMEOUT", kLine));
  EXPECT_FALSE(match("error.code != DATABASE_ERROR", kLine));
  EXPECT_TRUE(match("missing.field != x", kLine));  // the negation of '='
}

TEST(LogqExpr, NumericComparison) {
  EXPECT_TRUE(match("duration_ms > 1000", kLine));
  EXPECT_TRUE(match("duration_ms >= 1500", kLine));
  EXPECT_FALSE(match("duration_ms > 1500", kLine));
  EXPECT_TRUE(match("duration_ms < 1.5e4", kLine));
  EXPECT_TRUE(match("duration_ms <= 1500.0", kLine));
  EXPECT_TRUE(match("duration_ms = 1500", kLine));
  EXPECT_TRUE(match("status >= 500", kLine));  // a string holding a number compares as one
  EXPECT_TRUE(match(R"(status = "503")", kLine));
  EXPECT_FALSE(match("path > 5", kLine));  // not a number: no ordering
}

TEST(LogqExpr, LevelsCompareBySeverity) {
  EXPECT_TRUE(match("level >= warn", kLine));
  EXPECT_TRUE(match("level > info", kLine));
  EXPECT_TRUE(match("level >= ERROR", kLine));
  EXPECT_FALSE(match("level >= critical", kLine));
  EXPECT_TRUE(match("level < critical", kLine));
  EXPECT_TRUE(match("level = error", kLine));
  EXPECT_TRUE(match("level >= warning", R"({"level":"WARN"})"));
  EXPECT_FALSE(match("level >= warn", R"({"level":"debug"})"));
  EXPECT_TRUE(match("level <= debug", R"({"level":"trace"})"));
}

TEST(LogqExpr, StringOrderingIsLexicographic) {
  EXPECT_TRUE(match(R"(timestamp >= "2026-11-23T06:00:00Z")", kLine));
  EXPECT_FALSE(match(R"(timestamp < "2026-11-23T06:00:00Z")", kLine));
}

TEST(LogqExpr, RegexMatches) {
  EXPECT_TRUE(match("path =~ /^\\/api\\/v1\\//", kLine));
  EXPECT_TRUE(match(R"(path =~ "orders$")", kLine));
  EXPECT_FALSE(match("error.code =~ /timeout/", kLine));
  EXPECT_TRUE(match("error.code =~ /database/i", kLine));
  EXPECT_TRUE(match("error.code !~ /TIMEOUT/", kLine));
  EXPECT_FALSE(match("nothing =~ /./", kLine));
  EXPECT_TRUE(match("nothing !~ /./", kLine));
  EXPECT_TRUE(match("duration_ms =~ /^15/", kLine));  // numbers match by their text
}

TEST(LogqExpr, Existence) {
  EXPECT_TRUE(match("error.code", kLine));
  EXPECT_TRUE(match("exists error", kLine));
  EXPECT_TRUE(match("exists(note)", kLine));  // present even though null
  EXPECT_FALSE(match("exists user_id", kLine));
  EXPECT_TRUE(match("not user_id", kLine));
  EXPECT_TRUE(match("note = null", kLine));
}

TEST(LogqExpr, BooleanOperatorsAndPrecedence) {
  EXPECT_TRUE(match("duration_ms > 1000 and level >= warn", kLine));
  EXPECT_FALSE(match("duration_ms > 1000 and level >= critical", kLine));
  EXPECT_TRUE(match("duration_ms > 9999 or level = error", kLine));
  // and binds tighter than or
  EXPECT_TRUE(match("level = info and x = 1 or error.code = DATABASE_ERROR", kLine));
  EXPECT_FALSE(match("level = info and (x = 1 or error.code = DATABASE_ERROR)", kLine));
  EXPECT_TRUE(match("not (level = info) && !missing || x", kLine));
  EXPECT_TRUE(match("NOT level = info AND duration_ms > 1", kLine));
  EXPECT_TRUE(match("((((level = error))))", kLine));
}

TEST(LogqExpr, MissingFieldsFailComparisons) {
  EXPECT_FALSE(match("missing = x", kLine));
  EXPECT_FALSE(match("missing > 1", kLine));
  EXPECT_FALSE(match("missing < 1", kLine));
}

TEST(LogqExpr, ErrorsNameTheColumn) {
  EXPECT_EQ(parse_error("duration_ms >"), "column 14: expected a value after '>', found the end");
  EXPECT_EQ(error_column("level = info and"), 17u);
  EXPECT_EQ(error_column("(level = info"), 14u);
  EXPECT_EQ(error_column("level = info)"), 13u);
  EXPECT_EQ(error_column("level = info level"), 14u);
  EXPECT_EQ(error_column("= 5"), 1u);
  EXPECT_EQ(error_column("a. = 1"), 3u);
  EXPECT_EQ(error_column("msg = \"unterminated"), 7u);
  EXPECT_EQ(error_column("msg =~ /(unclosed/"), 8u);
  EXPECT_EQ(error_column("msg =~ /x/q"), 11u);
  EXPECT_EQ(error_column("and = 1"), 1u);
  EXPECT_EQ(error_column("x > and"), 5u);
  EXPECT_EQ(error_column("x > true"), 3u);
}

TEST(LogqExpr, InjectionLookingInputIsJustText) {
  // Quotes, SQL and shell text inside literals are values, nothing more.
  EXPECT_FALSE(match(R"(request_id = "' OR 1=1 --")", kLine));
  EXPECT_FALSE(match(R"x(request_id = "$(rm -rf /)")x", kLine));
  EXPECT_TRUE(match(R"(msg != "\"; DROP TABLE logs; --")", kLine));
  // Unbalanced quote tricks and control bytes are errors with a column.
  EXPECT_NE(parse_error(R"(request_id = "7f3d" or "1"="1)").find("column"), std::string::npos);
  EXPECT_NE(parse_error("level = info\x1b[2J or").find("column"), std::string::npos);
  EXPECT_NE(parse_error("level = \"a\\q\"").find("invalid escape"), std::string::npos);
}

TEST(LogqExpr, LimitsDepthLengthAndTerms) {
  std::string deep(40, '(');
  deep += "a" + std::string(40, ')');
  EXPECT_NE(parse_error(deep).find("nested deeper than 32"), std::string::npos);
  std::string nots;
  for (int i = 0; i < 100; ++i)
    nots += "not ";
  EXPECT_NE(parse_error(nots + "a").find("nested deeper"), std::string::npos);
  EXPECT_NE(parse_error(std::string(5000, 'a')).find("longer than 4096"), std::string::npos);
  std::string many = "a = 1";
  for (int i = 0; i < 200; ++i)
    many += " or a = 1";
  EXPECT_NE(parse_error(many).find("more than 256 terms"), std::string::npos);
  EXPECT_NE(parse_error("m =~ /" + std::string(2000, 'x') + "/").find("regex longer"),
            std::string::npos);
}

TEST(LogqExpr, CatastrophicRegexDoesNotHang) {
  const std::string line = "{\"m\":\"" + std::string(40, 'a') + "!\"}";
  EXPECT_FALSE(match("m =~ /^(a+)+$/", line));
}

TEST(LogqExpr, LevelRankKnowsAliases) {
  EXPECT_EQ(level_rank("trace"), 0);
  EXPECT_EQ(level_rank("DEBUG"), 1);
  EXPECT_EQ(level_rank("info"), 2);
  EXPECT_EQ(level_rank("warning"), 3);
  EXPECT_EQ(level_rank("err"), 4);
  EXPECT_EQ(level_rank("fatal"), 5);
  EXPECT_EQ(level_rank("verbose"), -1);
  EXPECT_EQ(level_rank(""), -1);
}

}  // namespace
}  // namespace keel::cli::logq
