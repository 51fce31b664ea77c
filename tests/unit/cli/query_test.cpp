#include "logq/query.hpp"

#include <gtest/gtest.h>

#include <string>

#include "keel/core/rfc3339.hpp"
#include "temp_dir.hpp"

namespace keel::cli::logq {
namespace {

using keel::cli::testing::temp_dir;
using keel::cli::testing::write_gzip;

std::string line(std::string_view ts, std::string_view level, std::string_view rid,
                 std::string_view extra = "") {
  std::string s = "{\"timestamp\":\"";
  s.append(ts).append("\",\"level\":\"").append(level).append("\",\"request_id\":\"");
  s.append(rid).append("\"");
  if (!extra.empty()) s.append(",").append(extra);
  s.append("}\n");
  return s;
}

struct run_result {
  std::string out;
  query_stats stats;
};

run_result run(const query_options& o) {
  run_result r;
  std::atomic<bool> stop{false};
  auto st = run_query(
      o, [&](std::string_view s) { r.out += s; }, stop);
  EXPECT_TRUE(st) << (st ? "" : st.error().message());
  if (st) r.stats = *st;
  return r;
}

TEST(LogqQuery, PrintsMatchingLinesVerbatim) {
  temp_dir d;
  const std::string a = line("2026-11-23T06:00:00Z", "info", "r1", "\"duration_ms\":5");
  const std::string b = line("2026-11-23T06:00:01Z", "warn", "r2", "\"duration_ms\":1500");
  const auto p = d.write("app.log", a + b);
  const auto r = run({.inputs = {p}, .expression = "duration_ms > 1000 and level >= warn"});
  EXPECT_EQ(r.out, b);
  EXPECT_EQ(r.stats.lines, 2u);
  EXPECT_EQ(r.stats.matched, 1u);
}

TEST(LogqQuery, CountsAndSkipsMalformedLines) {
  temp_dir d;
  const std::string good = line("2026-11-23T06:00:00Z", "info", "r1");
  const auto p = d.write("app.log", "garbage\n" + good + "{\"level\":\n[1]\n" + good);
  const auto r = run({.inputs = {p}});
  EXPECT_EQ(r.out, good + good);
  EXPECT_EQ(r.stats.malformed, 3u);
  EXPECT_EQ(r.stats.matched, 2u);
}

TEST(LogqQuery, CountsOversizedLinesSeparately) {
  temp_dir d;
  const std::string good = line("2026-11-23T06:00:00Z", "info", "r1");
  const auto p = d.write("app.log", "{\"m\":\"" + std::string(10000, 'x') + "\"}\n" + good);
  const auto r = run({.inputs = {p}, .max_line_bytes = 1024});
  EXPECT_EQ(r.out, good);
  EXPECT_EQ(r.stats.oversized, 1u);
}

TEST(LogqQuery, ReadsPlainAndGzipFilesInOrder) {
  temp_dir d;
  const std::string a = line("2026-11-23T06:00:00Z", "error", "r1");
  const std::string b = line("2026-11-23T06:00:01Z", "error", "r2");
  const auto gz = write_gzip(d, "app.log.1.gz", a);
  const auto plain = d.write("app.log", b);
  EXPECT_EQ(run({.inputs = {gz, plain}}).out, a + b);
}

TEST(LogqQuery, RotatedFlagReadsSiblingsOldestFirst) {
  temp_dir d;
  const std::string a = line("2026-11-23T06:00:00Z", "info", "r1");
  const std::string b = line("2026-11-23T06:00:01Z", "info", "r2");
  const std::string c = line("2026-11-23T06:00:02Z", "info", "r3");
  write_gzip(d, "app.log.2.gz", a);
  d.write("app.log.1", b);
  const auto cur = d.write("app.log", c);
  namespace fs = std::filesystem;
  const auto t = fs::file_time_type::clock::now();
  fs::last_write_time(d.file("app.log.2.gz"), t - std::chrono::minutes(2));
  fs::last_write_time(d.file("app.log.1"), t - std::chrono::minutes(1));
  EXPECT_EQ(run({.inputs = {cur}, .rotated = true}).out, a + b + c);
}

TEST(LogqQuery, RequestShowsOneRequestAcrossFilesInTimeOrder) {
  temp_dir d;
  const std::string r1a = line("2026-11-23T06:00:00.100000Z", "info", "7f3d", "\"n\":1");
  const std::string r1b = line("2026-11-23T06:00:00.300000Z", "error", "7f3d", "\"n\":3");
  const std::string r1c = line("2026-11-23T06:00:00.200000Z", "info", "7f3d", "\"n\":2");
  const std::string other = line("2026-11-23T06:00:00.150000Z", "info", "aaaa");
  const auto f1 = d.write("api.log", r1a + other + r1b);
  const auto f2 = d.write("worker.log", other + r1c);
  const auto r = run({.inputs = {f1, f2}, .request_id = "7f3d"});
  EXPECT_EQ(r.out, r1a + r1c + r1b);
}

TEST(LogqQuery, SinceAndUntilBoundTheTimestamp) {
  temp_dir d;
  const std::string a = line("2026-11-23T06:00:00Z", "info", "r1");
  const std::string b = line("2026-11-23T06:10:00Z", "info", "r2");
  const std::string c = line("2026-11-23T06:20:00+01:00", "info", "r3");  // 05:20Z
  const std::string no_ts = "{\"level\":\"info\"}\n";
  const auto p = d.write("app.log", a + b + c + no_ts);
  const auto since = *parse_rfc3339("2026-11-23T06:05:00Z");
  EXPECT_EQ(run({.inputs = {p}, .since = since}).out, b);
  EXPECT_EQ(run({.inputs = {p}, .until = since}).out, a + c);
}

TEST(LogqQuery, RelativeTimesCountBackFromNow) {
  const auto now = *parse_rfc3339("2026-11-23T06:00:00Z");
  EXPECT_EQ(*parse_time_arg("15m", now), *parse_rfc3339("2026-11-23T05:45:00Z"));
  EXPECT_EQ(*parse_time_arg("1h30m", now), *parse_rfc3339("2026-11-23T04:30:00Z"));
  EXPECT_EQ(*parse_time_arg("2d", now), *parse_rfc3339("2026-11-21T06:00:00Z"));
  EXPECT_EQ(*parse_time_arg("2026-11-23T01:00:00Z", now), *parse_rfc3339("2026-11-23T01:00:00Z"));
  EXPECT_EQ(*parse_time_arg("now", now), now);
  for (const char* bad : {"", "15", "15x", "m", "-5m", "99999999999999999999s", "yesterday"}) {
    EXPECT_FALSE(parse_time_arg(bad, now)) << bad;
  }
}

TEST(LogqQuery, FieldsMakeAnAlignedTable) {
  temp_dir d;
  const auto p = d.write("app.log", line("2026-11-23T06:00:00Z", "error", "r1",
                                         R"("error":{"code":"DATABASE_ERROR"})") +
                                        line("2026-11-23T06:00:01Z", "info", "r22"));
  const auto r = run({.inputs = {p}, .fields = {"request_id", "error.code", "level"}});
  EXPECT_EQ(r.out,
            "request_id  error.code      level\n"
            "r1          DATABASE_ERROR  error\n"
            "r22         -               info\n");
}

TEST(LogqQuery, TableCellsCannotDriveTheTerminal) {
  temp_dir d;
  const auto p = d.write("app.log", R"({"msg":"evil\u001b[2J\u0007\nnext"})"
                                    "\n");
  const auto r = run({.inputs = {p}, .fields = {"msg"}});
  EXPECT_EQ(r.out, "msg\nevil\\x1b[2J\\x07\\x0anext\n");
}

TEST(LogqQuery, FieldsAsJsonObjects) {
  temp_dir d;
  const auto p = d.write("app.log", R"({"a":"x\"y","b":{"c":[1]},"n":2})"
                                    "\n");
  const auto r = run({.inputs = {p}, .fields = {"a", "b", "n", "zz"}, .json = true});
  EXPECT_EQ(r.out, R"({"a":"x\"y","b":{"c":[1]},"n":2,"zz":null})"
                   "\n");
}

TEST(LogqQuery, CountByGroupsAndSortsByCount) {
  temp_dir d;
  std::string content;
  for (int i = 0; i < 3; ++i)
    content += line("2026-11-23T06:00:00Z", "error", "r", R"("error":{"code":"DATABASE_ERROR"})");
  content += line("2026-11-23T06:00:00Z", "error", "r", R"("error":{"code":"TIMEOUT"})");
  content += line("2026-11-23T06:00:00Z", "info", "r");
  const auto p = d.write("app.log", content);
  EXPECT_EQ(run({.inputs = {p}, .count_by = {"error.code"}}).out,
            "error.code      count\n"
            "DATABASE_ERROR  3\n"
            "-               1\n"
            "TIMEOUT         1\n");
  EXPECT_EQ(run({.inputs = {p},
                 .expression = "level = error",
                 .count_by = {"error.code", "level"},
                 .json = true})
                .out,
            "{\"error.code\":\"DATABASE_ERROR\",\"level\":\"error\",\"count\":3}\n"
            "{\"error.code\":\"TIMEOUT\",\"level\":\"error\",\"count\":1}\n");
}

TEST(LogqQuery, ColourFollowsTheLevel) {
  temp_dir d;
  const std::string e = line("2026-11-23T06:00:00Z", "error", "r1");
  const auto p = d.write("app.log", e);
  const auto r = run({.inputs = {p}, .color = true});
  EXPECT_EQ(r.out, "\x1b[31m" + e.substr(0, e.size() - 1) + "\x1b[0m\n");
}

TEST(LogqQuery, LimitStopsAfterThatManyMatches) {
  temp_dir d;
  std::string content;
  for (int i = 0; i < 10; ++i)
    content += line("2026-11-23T06:00:00Z", "info", "r");
  const auto p = d.write("app.log", content);
  EXPECT_EQ(run({.inputs = {p}, .limit = 3}).stats.matched, 3u);
}

TEST(LogqQuery, UnreadableInputIsReportedAndOthersStillRead) {
  temp_dir d;
  const std::string a = line("2026-11-23T06:00:00Z", "info", "r1");
  const auto p = d.write("app.log", a);
  const auto r = run({.inputs = {d.file("missing.log"), p}});
  EXPECT_EQ(r.out, a);
  ASSERT_EQ(r.stats.input_errors.size(), 1u);
  EXPECT_NE(r.stats.input_errors[0].find("missing.log"), std::string::npos);
}

TEST(LogqQuery, BadExpressionIsAnErrorBeforeReading) {
  std::atomic<bool> stop{false};
  auto r = run_query(
      {.inputs = {"/nonexistent"}, .expression = "level >"}, [](std::string_view) {}, stop);
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message().find("column 8"), std::string::npos);
}

TEST(LogqQuery, BadFieldNamesAreRefused) {
  std::atomic<bool> stop{false};
  EXPECT_FALSE(run_query(
      {.fields = {"a..b"}}, [](std::string_view) {}, stop));
  EXPECT_FALSE(run_query(
      {.count_by = {""}}, [](std::string_view) {}, stop));
}

}  // namespace
}  // namespace keel::cli::logq
