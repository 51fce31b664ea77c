#include "keel/core/json_writer.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <nlohmann/json.hpp>

namespace keel {
namespace {

std::string json_quoted(std::string_view s) {
  std::string out;
  append_json_string(out, s);
  return out;
}

TEST(JsonString, EscapesQuotesBackslashesAndControls) {
  EXPECT_EQ(json_quoted("plain"), R"("plain")");
  EXPECT_EQ(json_quoted("a\"b\\c"), R"("a\"b\\c")");
  EXPECT_EQ(json_quoted("l1\nl2\r\t"), R"("l1\nl2\r\t")");
  EXPECT_EQ(json_quoted(std::string_view("\x00\x01\x1f", 3)), R"("\u0000\u0001\u001f")");
  EXPECT_EQ(json_quoted("\b\f"), R"("\b\f")");
  EXPECT_EQ(json_quoted("\x7f"), "\"\x7f\"");
}

TEST(JsonString, KeepsValidUtf8) { EXPECT_EQ(json_quoted("héllo €  𝄞"), "\"héllo €  𝄞\""); }

TEST(JsonString, ReplacesInvalidUtf8) {
  const std::string r = "\xEF\xBF\xBD";
  EXPECT_EQ(json_quoted("a\xff"
                        "b"),
            "\"a" + r + "b\"");
  EXPECT_EQ(json_quoted("\xc3"), "\"" + r + "\"") << "truncated sequence";
  EXPECT_EQ(json_quoted("\xc0\xaf"), "\"" + r + r + "\"") << "overlong";
  EXPECT_EQ(json_quoted("\xed\xa0\x80"), "\"" + r + r + r + "\"") << "surrogate";
  EXPECT_EQ(json_quoted("\xf4\x90\x80\x80"), "\"" + r + r + r + r + "\"") << "above U+10FFFF";
  EXPECT_EQ(json_quoted("\x80"), "\"" + r + "\"") << "lone continuation";
}

TEST(JsonString, OutputAlwaysParses) {
  std::string all;
  for (int i = 0; i < 256; ++i)
    all.push_back(static_cast<char>(i));
  for (int i = 255; i >= 0; --i)
    all.push_back(static_cast<char>(i));
  const std::string out = json_quoted(all);
  EXPECT_TRUE(is_valid_utf8(out));
  EXPECT_TRUE(nlohmann::json::accept(out));
}

TEST(Utf8, Validation) {
  EXPECT_TRUE(is_valid_utf8("ascii"));
  EXPECT_TRUE(is_valid_utf8("日本語"));
  EXPECT_FALSE(is_valid_utf8("\xff"));
  EXPECT_FALSE(is_valid_utf8("\xe6\x97"));
}

TEST(JsonNumber, ShortestRoundTripAndNullForNonFinite) {
  std::string out;
  append_json_number(out, 0.1);
  EXPECT_EQ(out, "0.1");
  out.clear();
  append_json_number(out, std::numeric_limits<double>::quiet_NaN());
  EXPECT_EQ(out, "null");
  out.clear();
  append_json_number(out, -std::numeric_limits<double>::infinity());
  EXPECT_EQ(out, "null");
  out.clear();
  append_json_number(out, std::numeric_limits<std::int64_t>::min());
  EXPECT_EQ(out, "-9223372036854775808");
  out.clear();
  append_json_number(out, std::numeric_limits<std::uint64_t>::max());
  EXPECT_EQ(out, "18446744073709551615");
}

TEST(JsonWriter, WritesNestedStructures) {
  std::string out;
  json_writer w(out);
  w.begin_object();
  w.key("a");
  w.value(1);
  w.key("b");
  w.begin_array();
  w.value(true);
  w.null();
  w.value("x");
  w.begin_object();
  w.end_object();
  w.end_array();
  w.key("c");
  w.json(nlohmann::ordered_json{{"k", "v\xff"}});
  w.key("d");
  w.value(2.5);
  w.end_object();
  EXPECT_EQ(out, "{\"a\":1,\"b\":[true,null,\"x\",{}],\"c\":{\"k\":\"v\xEF\xBF\xBD\"},\"d\":2.5}");
}

}  // namespace
}  // namespace keel
