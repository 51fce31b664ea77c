// Naming rules: what registration accepts and rejects, and label escaping.
#include "keel/metrics/names.hpp"

#include <gtest/gtest.h>

namespace keel::metrics {
namespace {

TEST(MetricName, AcceptsSnakeCaseWithBaseUnits) {
  EXPECT_TRUE(validate_metric_name("http_request_duration_seconds", metric_type::histogram));
  EXPECT_TRUE(validate_metric_name("queue_depth", metric_type::gauge));
  EXPECT_TRUE(validate_metric_name("_leading_underscore", metric_type::gauge));
}

TEST(MetricName, CounterMayEndInTotal) {
  EXPECT_TRUE(validate_metric_name("http_requests_total", metric_type::counter));
  EXPECT_TRUE(validate_metric_name("http_requests", metric_type::counter));
  EXPECT_FALSE(validate_metric_name("_total", metric_type::counter));
}

TEST(MetricName, RejectsEmptyAndOverlong) {
  EXPECT_FALSE(validate_metric_name("", metric_type::gauge));
  EXPECT_FALSE(validate_metric_name(std::string(201, 'a'), metric_type::gauge));
}

TEST(MetricName, RejectsCharactersOutsideSnakeCase) {
  EXPECT_FALSE(validate_metric_name("latencyMs", metric_type::gauge));
  EXPECT_FALSE(validate_metric_name("job:rate5m", metric_type::gauge));
  EXPECT_FALSE(validate_metric_name("with-dash", metric_type::gauge));
  EXPECT_FALSE(validate_metric_name("9lives", metric_type::gauge));
  EXPECT_FALSE(validate_metric_name("caf\xc3\xa9", metric_type::gauge));
}

TEST(MetricName, RejectsReservedPrefixAndEmptyWords) {
  EXPECT_FALSE(validate_metric_name("__internal", metric_type::gauge));
  EXPECT_FALSE(validate_metric_name("a__b", metric_type::gauge));
  EXPECT_FALSE(validate_metric_name("trailing_", metric_type::gauge));
}

TEST(MetricName, RejectsSuffixesOfOtherTypes) {
  EXPECT_FALSE(validate_metric_name("jobs_total", metric_type::gauge));
  EXPECT_FALSE(validate_metric_name("jobs_count", metric_type::gauge));
  EXPECT_FALSE(validate_metric_name("latency_seconds_sum", metric_type::histogram));
  EXPECT_FALSE(validate_metric_name("latency_bucket", metric_type::counter));
  EXPECT_FALSE(validate_metric_name("jobs_created", metric_type::counter));
}

TEST(MetricName, RejectsItsOwnTypeInTheName) {
  EXPECT_FALSE(validate_metric_name("request_counter_total", metric_type::counter));
  EXPECT_FALSE(validate_metric_name("memory_gauge", metric_type::gauge));
  EXPECT_FALSE(validate_metric_name("latency_histogram_seconds", metric_type::histogram));
}

TEST(MetricName, RejectsNonBaseUnits) {
  EXPECT_FALSE(validate_metric_name("latency_milliseconds", metric_type::histogram));
  EXPECT_FALSE(validate_metric_name("latency_ms", metric_type::histogram));
  EXPECT_FALSE(validate_metric_name("uptime_hours", metric_type::gauge));
  EXPECT_FALSE(validate_metric_name("heap_mb", metric_type::gauge));
}

TEST(MetricName, ErrorCarriesNameAndReason) {
  auto r = validate_metric_name("bad-name", metric_type::gauge);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error(), codes::validation_error);
  EXPECT_EQ(r.error().details()["name"], "bad-name");
  EXPECT_TRUE(r.error().details().contains("reason"));
}

TEST(LabelName, AcceptsIdentifiers) {
  EXPECT_TRUE(validate_label_name("method"));
  EXPECT_TRUE(validate_label_name("statusCode"));
  EXPECT_TRUE(validate_label_name("_x1"));
}

TEST(LabelName, RejectsReservedAndInvalid) {
  EXPECT_FALSE(validate_label_name("le"));
  EXPECT_FALSE(validate_label_name("quantile"));
  EXPECT_FALSE(validate_label_name("__name__"));
  EXPECT_FALSE(validate_label_name(""));
  EXPECT_FALSE(validate_label_name("1st"));
  EXPECT_FALSE(validate_label_name("a-b"));
}

TEST(Help, MustBePresentAndBounded) {
  EXPECT_TRUE(validate_help("Requests served."));
  EXPECT_FALSE(validate_help(""));
  EXPECT_FALSE(validate_help(std::string(kMaxHelpBytes + 1, 'x')));
}

TEST(RenderLabels, EscapesBackslashQuoteAndNewline) {
  std::string out;
  render_labels({"path", "msg"}, {"C:\\dir", "say \"hi\"\nbye"}, out);
  EXPECT_EQ(out, R"(path="C:\\dir",msg="say \"hi\"\nbye")");
}

TEST(RenderLabels, KeepsValidUtf8) {
  std::string out;
  append_label_value("gr\xc3\xbc\xc3\x9f \xe2\x82\xac \xf0\x9f\x98\x80", out);
  EXPECT_EQ(out, "gr\xc3\xbc\xc3\x9f \xe2\x82\xac \xf0\x9f\x98\x80");
}

TEST(RenderLabels, ReplacesInvalidUtf8WithReplacementCharacter) {
  std::string out;
  append_label_value(
      "a\xff"
      "b\xc0\xaf"
      "c\xed\xa0\x80",
      out);  // stray, overlong, surrogate
  EXPECT_EQ(out,
            "a\xEF\xBF\xBD"
            "b\xEF\xBF\xBD\xEF\xBF\xBD"
            "c\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD");
}

TEST(RenderLabels, EmptyListRendersNothing) {
  std::string out;
  render_labels(std::span<const std::string>{}, std::span<const std::string_view>{}, out);
  EXPECT_EQ(out, "");
}

}  // namespace
}  // namespace keel::metrics
