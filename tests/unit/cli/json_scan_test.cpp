#include "logq/json_scan.hpp"

#include <gtest/gtest.h>

#include <string>

namespace keel::cli::logq {
namespace {

struct scanned {
  field_set fields;
  std::size_t level, code, duration, error, tags;
  scanned()
      : level(fields.add("level")),
        code(fields.add("error.code")),
        duration(fields.add("duration_ms")),
        error(fields.add("error")),
        tags(fields.add("tags")) {}
};

TEST(JsonScan, ExtractsTopLevelAndNestedFields) {
  scanned s;
  line_scanner scan(s.fields);
  ASSERT_EQ(
      scan.scan(
          R"({"level":"error","error":{"code":"DATABASE_ERROR","n":[1,2]},"duration_ms":1500.5})"),
      scan_status::ok);
  EXPECT_EQ(scan.value(s.level).kind, value_kind::string);
  EXPECT_EQ(scan.value(s.level).raw, "error");
  EXPECT_EQ(scan.value(s.code).raw, "DATABASE_ERROR");
  EXPECT_EQ(scan.value(s.duration).kind, value_kind::number);
  EXPECT_EQ(scan.value(s.duration).raw, "1500.5");
  EXPECT_EQ(scan.value(s.error).kind, value_kind::object);
  EXPECT_EQ(scan.value(s.error).raw, R"({"code":"DATABASE_ERROR","n":[1,2]})");
  EXPECT_EQ(scan.value(s.tags).kind, value_kind::missing);
}

TEST(JsonScan, MatchesFlatKeysHoldingDots) {
  scanned s;
  line_scanner scan(s.fields);
  ASSERT_EQ(scan.scan(R"({"error.code":"TIMEOUT"})"), scan_status::ok);
  EXPECT_EQ(scan.value(s.code).raw, "TIMEOUT");
}

TEST(JsonScan, ReportsEveryJsonType) {
  field_set f;
  const auto a = f.add("a"), b = f.add("b"), c = f.add("c"), d = f.add("d");
  line_scanner scan(f);
  ASSERT_EQ(scan.scan(R"(  {"a":true,"b":null,"c":[{"x":1}],"d":-0.5e+3}  )"), scan_status::ok);
  EXPECT_EQ(scan.value(a).kind, value_kind::boolean);
  EXPECT_EQ(scan.value(a).raw, "true");
  EXPECT_EQ(scan.value(b).kind, value_kind::null);
  EXPECT_EQ(scan.value(c).kind, value_kind::array);
  EXPECT_EQ(scan.value(d).raw, "-0.5e+3");
}

TEST(JsonScan, DecodesEscapedStringsOnDemand) {
  field_set f;
  const auto m = f.add("msg");
  line_scanner scan(f);
  ASSERT_EQ(scan.scan(R"({"msg":"a\"b\\c\n\u00e9\ud83d\ude00\ud800"})"), scan_status::ok);
  EXPECT_TRUE(scan.value(m).escaped);
  std::string scratch;
  EXPECT_EQ(decoded(scan.value(m), scratch), "a\"b\\c\n\xC3\xA9\xF0\x9F\x98\x80\xEF\xBF\xBD");
}

TEST(JsonScan, DecodesEscapedKeys) {
  field_set f;
  const auto m = f.add("msg");
  line_scanner scan(f);
  ASSERT_EQ(scan.scan(R"({"m\u0073g":"found"})"), scan_status::ok);
  EXPECT_EQ(scan.value(m).raw, "found");
}

TEST(JsonScan, LaterDuplicateKeyWins) {
  field_set f;
  const auto a = f.add("a");
  line_scanner scan(f);
  ASSERT_EQ(scan.scan(R"({"a":1,"a":2})"), scan_status::ok);
  EXPECT_EQ(scan.value(a).raw, "2");
}

TEST(JsonScan, RejectsMalformedLines) {
  scanned s;
  line_scanner scan(s.fields);
  for (const char* bad : {"",
                          "   ",
                          "not json",
                          "[1,2]",
                          "\"str\"",
                          "{",
                          "{\"a\":}",
                          "{\"a\" 1}",
                          "{\"a\":1,}",
                          "{\"a\":1} x",
                          "{\"a\":01}",
                          "{\"a\":1.}",
                          "{\"a\":-}",
                          "{\"a\":tru}",
                          "{\"a\":\"x}",
                          "{\"a\":\"\\x\"}",
                          "{\"a\":\"\\u12g4\"}",
                          "{\"a\":\"tab\there\"}",
                          "{'a':1}",
                          "{\"a\":[1,]}",
                          "{\"a\":{\"b\":1}",
                          "{\"level\":\"error\"}{}",
                          "{\"a\":1e}"}) {
    EXPECT_EQ(scan.scan(bad), scan_status::malformed) << bad;
    EXPECT_EQ(scan.value(s.level).kind, value_kind::missing) << bad;
  }
}

TEST(JsonScan, MalformedLineLeavesNoStaleValues) {
  scanned s;
  line_scanner scan(s.fields);
  ASSERT_EQ(scan.scan(R"({"level":"info"})"), scan_status::ok);
  EXPECT_EQ(scan.scan(R"({"level":"error",)"), scan_status::malformed);
  EXPECT_EQ(scan.value(s.level).kind, value_kind::missing);
}

TEST(JsonScan, BoundsNestingDepth) {
  field_set f;
  f.add("a");
  line_scanner scan(f, 8);
  std::string ok_line = "{\"x\":" + std::string(6, '[') + std::string(6, ']') + "}";
  EXPECT_EQ(scan.scan(ok_line), scan_status::ok);
  std::string deep = "{\"x\":" + std::string(100000, '[') + std::string(100000, ']') + "}";
  EXPECT_EQ(scan.scan(deep), scan_status::too_deep);
  std::string deep_obj;
  for (int i = 0; i < 100000; ++i)
    deep_obj += "{\"a\":";
  deep_obj += "1" + std::string(100000, '}');
  EXPECT_EQ(scan.scan(deep_obj), scan_status::too_deep);
}

TEST(JsonScan, LongStringsCrossTheVectorPathCorrectly) {
  field_set f;
  const auto m = f.add("m");
  line_scanner scan(f);
  for (std::size_t n = 0; n < 70; ++n) {
    const std::string body(n, 'x');
    const std::string line = "{\"m\":\"" + body + "\"}";  // values view into the line
    ASSERT_EQ(scan.scan(line), scan_status::ok) << n;
    EXPECT_EQ(scan.value(m).raw, body);
    ASSERT_EQ(scan.scan("{\"m\":\"" + body + "\\\"q\"}"), scan_status::ok) << n;
    EXPECT_EQ(scan.scan("{\"m\":\"" + body + "\x01\"}"), scan_status::malformed) << n;
  }
}

TEST(JsonScan, PassesNonAsciiBytesThrough) {
  field_set f;
  const auto m = f.add("m");
  line_scanner scan(f);
  ASSERT_EQ(scan.scan("{\"m\":\"caf\xC3\xA9 \xF0\x9F\x98\x80\"}"), scan_status::ok);
  EXPECT_EQ(scan.value(m).raw, "caf\xC3\xA9 \xF0\x9F\x98\x80");
}

}  // namespace
}  // namespace keel::cli::logq
