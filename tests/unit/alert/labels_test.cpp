#include "keel/alert/labels.hpp"

#include <gtest/gtest.h>

#include "keel/alert/series.hpp"

namespace keel::alert {
namespace {

TEST(LabelSet, OrderOfConstructionDoesNotMatter) {
  label_set a{{"b", "2"}, {"a", "1"}};
  label_set b{{"a", "1"}, {"b", "2"}};
  EXPECT_EQ(a, b);
  EXPECT_EQ(a.hash(), b.hash());
  EXPECT_EQ(a.to_string(), R"({a="1", b="2"})");
}

TEST(LabelSet, EmptyValueMeansAbsent) {
  label_set a{{"a", "1"}, {"b", ""}};
  EXPECT_EQ(a.size(), 1u);
  a.set("a", "");
  EXPECT_TRUE(a.empty());
}

TEST(LabelSet, ProjectKeepsOnlyNamedLabels) {
  label_set a{{"a", "1"}, {"b", "2"}, {"c", "3"}};
  EXPECT_EQ(a.project({"c", "a", "zz"}), (label_set{{"a", "1"}, {"c", "3"}}));
}

TEST(Matcher, ParsesEveryOperator) {
  label_set l{{"severity", "high"}, {"service", "api"}};
  EXPECT_TRUE(parse_matcher(R"(severity="high")")->matches(l));
  EXPECT_TRUE(parse_matcher(R"(severity!="low")")->matches(l));
  EXPECT_TRUE(parse_matcher(R"(severity=~"high|critical")")->matches(l));
  EXPECT_FALSE(parse_matcher(R"(severity!~"hi.*")")->matches(l));
  EXPECT_TRUE(parse_matcher("service = api")->matches(l));
}

TEST(Matcher, DoubledOperatorIsRefusedSayingWhyAndAQuotedValueMayStartWithIt) {
  for (const char* typo : {"status==5", "code=~~x", "status!==5"}) {
    auto m = parse_matcher(typo);
    ASSERT_FALSE(m) << typo << " was read as " << m->to_string();
    EXPECT_EQ(m.error(), codes::validation_error);
    const auto problem = m.error().details().value("problem", "");
    EXPECT_NE(problem.find("no such operator"), std::string::npos) << problem;
  }
  const label_set l{{"status", "=5"}};
  EXPECT_TRUE(parse_matcher(R"(status="=5")")->matches(l));
  EXPECT_NE(parse_matcher("status").error().details().value("problem", "").find("no operator"),
            std::string::npos);
}

TEST(Matcher, RegexMatchesTheWholeValue) {
  label_set l{{"path", "/api/orders"}};
  EXPECT_FALSE(parse_matcher(R"(path=~"/api")")->matches(l));
  EXPECT_TRUE(parse_matcher(R"(path=~"/api/.*")")->matches(l));
}

TEST(Matcher, RefusesRegexesThatStdRegexCannotCompileSafely) {
  // Found by fuzz_matcher: a long back-reference number overflowed inside
  // std::regex; a huge repetition bound would exhaust memory.
  EXPECT_FALSE(parse_matcher(R"(a=~"x\\44444444444444444444")"));
  EXPECT_FALSE(parse_matcher(R"(a=~"x{99999}")"));
  EXPECT_FALSE(parse_matcher(R"(a=~"x{1,5000}")"));
  EXPECT_TRUE(parse_matcher(R"(a=~"(x)\\1{2,1000}")"));
  EXPECT_TRUE(parse_matcher(R"(status=~"5..")"));
}

TEST(Matcher, MissingLabelIsEmpty) {
  label_set l;
  EXPECT_TRUE(parse_matcher(R"(team="")")->matches(l));
  EXPECT_FALSE(parse_matcher(R"(team="x")")->matches(l));
}

TEST(Matcher, BadInputIsAValidationError) {
  EXPECT_EQ(parse_matcher("novalue").error(), codes::validation_error);
  EXPECT_EQ(parse_matcher(R"(1bad="x")").error(), codes::validation_error);
  EXPECT_EQ(parse_matcher(R"(a=~"(")").error(), codes::validation_error);
  EXPECT_EQ(parse_matcher(R"(a="unclosed)").error(), codes::validation_error);
}

TEST(Matcher, RoundTripsThroughToString) {
  auto m = parse_matcher(R"(a=~"x\"y")").value();
  EXPECT_EQ(parse_matcher(m.to_string())->value, m.value);
}

TEST(SeriesTable, SameNameAndLabelsIsTheSameSeries) {
  series_table t;
  auto a = t.counter("x", {{"k", "v"}});
  auto gen = t.generation();
  auto b = t.counter("x", {{"k", "v"}});
  EXPECT_EQ(a, b);
  EXPECT_EQ(t.generation(), gen);
  t.counter("x", {{"k", "w"}});
  EXPECT_GT(t.generation(), gen);
  std::vector<std::shared_ptr<const series>> out;
  t.select("x", out);
  EXPECT_EQ(out.size(), 2u);
}

TEST(SeriesTable, HistogramBucketsAreLessOrEqual) {
  series_table t;
  auto h = t.histogram("lat", {}, {1, 2, 5});
  h->observe(1);
  h->observe(1.5);
  h->observe(10);
  histogram_snapshot s;
  h->read_histogram(s);
  EXPECT_EQ(s.count, 3u);
  EXPECT_DOUBLE_EQ(s.sum, 12.5);
  EXPECT_EQ(s.cumulative, (std::vector<std::uint64_t>{1, 2, 2, 3}));
}

}  // namespace
}  // namespace keel::alert
