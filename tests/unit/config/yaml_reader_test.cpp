#include "keel/config/yaml_reader.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <string>

namespace keel::config {
namespace {

using namespace std::chrono_literals;

struct sample {
  std::string name;
  double weight = 0;
  bool on = false;
  std::chrono::milliseconds every{0};
};

result<sample> read(std::string_view text) {
  return read_yaml(text, [](const YAML::Node& doc) {
    allow_keys(doc, "", {"name", "weight", "on", "every", "nested"});
    sample s;
    if (doc["name"]) s.name = config::text(doc["name"], "name", 16);
    if (doc["weight"]) s.weight = number(doc["weight"], "weight", 0, 10);
    if (doc["on"]) s.on = boolean(doc["on"], "on");
    if (doc["every"]) s.every = duration(doc["every"], "every");
    if (doc["nested"]) allow_keys(doc["nested"], "nested.", {"x"});
    return s;
  });
}

TEST(YamlReader, ReadsCheckedValues) {
  auto s = read("name: api\nweight: 2.5\non: true\nevery: 1h30m\n");
  ASSERT_TRUE(s) << s.error().message();
  EXPECT_EQ(s->name, "api");
  EXPECT_EQ(s->weight, 2.5);
  EXPECT_TRUE(s->on);
  EXPECT_EQ(s->every, 90min);
}

TEST(YamlReader, FirstProblemIsPositionedWithItsPath) {
  auto s = read("name: api\nweight: 11\n");
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error(), codes::validation_error);
  EXPECT_NE(s.error().message().find("line 2, column 9: weight: must be between"),
            std::string::npos)
      << s.error().message();
  EXPECT_EQ(s.error().details().at("line"), 2);
  EXPECT_EQ(s.error().details().at("path"), "weight");
}

TEST(YamlReader, UnknownAndDuplicateKeysAreRefused) {
  auto unknown = read("nmae: api\n");
  ASSERT_FALSE(unknown);
  EXPECT_NE(unknown.error().message().find("nmae: unknown key 'nmae'"), std::string::npos);
  auto twice = read("name: a\nname: b\n");
  ASSERT_FALSE(twice);
  EXPECT_NE(twice.error().message().find("duplicate key 'name'"), std::string::npos)
      << twice.error().message();
}

TEST(YamlReader, PathsNeverCarryADoubleDot) {
  auto s = read("nested: {y: 1}\n");
  ASSERT_FALSE(s);
  EXPECT_NE(s.error().message().find("nested.y: unknown key"), std::string::npos)
      << s.error().message();
  EXPECT_EQ(s.error().message().find(".."), std::string::npos);
}

TEST(YamlReader, WrongTypesSayWhatWasExpected) {
  EXPECT_NE(read("weight: heavy\n").error().message().find("expected a number, got 'heavy'"),
            std::string::npos);
  EXPECT_NE(read("on: maybe\n").error().message().find("expected true or false"),
            std::string::npos);
  EXPECT_NE(read("every: 2 hours\n").error().message().find("bad duration '2 hours'"),
            std::string::npos);
  EXPECT_NE(read("name: [a]\n").error().message().find("expected a string"), std::string::npos);
  EXPECT_NE(read("name: this-is-longer-than-16\n").error().message().find("longer than 16"),
            std::string::npos);
  EXPECT_FALSE(read("weight: .nan\n"));
}

TEST(YamlReader, MalformedYamlIsPositioned) {
  auto s = read("name: [a\n");
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error(), codes::validation_error);
  EXPECT_TRUE(s.error().details().contains("line"));
}

// Issue 19 #5: a 600 KB "[[[...]]]" cost 100 MB of nodes; it is refused
// from the text before yaml-cpp builds anything.
TEST(YamlReader, DeepOrHugeDocumentsAreRefusedBeforeParsing) {
  const std::string deep = std::string(300'000, '[') + std::string(300'000, ']');
  auto d = read(deep);
  ASSERT_FALSE(d);
  EXPECT_NE(d.error().message().find("nests deeper than 64"), std::string::npos);
  std::string wide = "[";
  for (int i = 0; i < 150'000; ++i)
    wide += "[],";
  wide += "]";
  auto w = read(wide);
  ASSERT_FALSE(w);
  EXPECT_NE(w.error().message().find("more than 100000 entries"), std::string::npos);
  auto big = read_yaml(std::string(2 << 20, ' '), [](const YAML::Node&) { return 0; });
  ASSERT_FALSE(big);
  EXPECT_EQ(big.error(), codes::payload_too_large);
  // 64 levels are fine.
  EXPECT_TRUE(read_yaml("x: " + std::string(64, '[') + std::string(64, ']'),
                        [](const YAML::Node& doc) { return doc.IsMap(); }));
}

TEST(Duration, ParsesPrometheusStyle) {
  EXPECT_EQ(parse_duration("0"), 0ms);
  EXPECT_EQ(parse_duration("500ms"), 500ms);
  EXPECT_EQ(parse_duration("1h30m"), 90min);
  EXPECT_EQ(parse_duration("1w"), std::chrono::hours(24 * 7));
  EXPECT_FALSE(parse_duration(""));
  EXPECT_FALSE(parse_duration("1x"));
  EXPECT_FALSE(parse_duration("-1s"));
  EXPECT_FALSE(parse_duration("99999999999999999999d"));
}

}  // namespace
}  // namespace keel::config
