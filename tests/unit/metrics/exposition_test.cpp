// Prometheus text 0.0.4 and OpenMetrics 1.0 output, and format negotiation.
#include "keel/metrics/exposition.hpp"

#include <gtest/gtest.h>

#include <limits>

#include "keel/metrics/registry.hpp"

namespace keel::metrics {
namespace {

std::string num(double v) {
  std::string s;
  append_number(s, v);
  return s;
}

TEST(Number, IntegersAreWrittenWithoutFraction) {
  EXPECT_EQ(num(0), "0");
  EXPECT_EQ(num(42), "42");
  EXPECT_EQ(num(-7), "-7");
  EXPECT_EQ(num(9007199254740991.0), "9007199254740991");
}

TEST(Number, FractionsUseShortestRoundTripForm) {
  EXPECT_EQ(num(0.1), "0.1");
  EXPECT_EQ(num(2.5), "2.5");
  EXPECT_EQ(num(1e-7), "1e-07");
  EXPECT_EQ(num(1.5e300), "1.5e+300");
}

TEST(Number, SpecialValuesUsePrometheusSpelling) {
  EXPECT_EQ(num(std::numeric_limits<double>::infinity()), "+Inf");
  EXPECT_EQ(num(-std::numeric_limits<double>::infinity()), "-Inf");
  EXPECT_EQ(num(std::numeric_limits<double>::quiet_NaN()), "NaN");
}

struct small_registry {
  registry reg;
  small_registry() {
    auto* c = *reg.add_counter({.name = "http_requests_total",
                                .help = "Requests \"served\".\nSecond line \\ here.",
                                .labels = {"method"}});
    c->labels("GET").inc(3);
    c->labels("POST").add(1.5);
    (*reg.add_gauge({.name = "temperature_celsius", .help = "T."}))->labels().set(-2.5);
    auto* h = *reg.add_histogram(
        {.name = "latency_seconds", .help = "L.", .labels = {"route"}, .buckets = {0.5, 1, 2}});
    h->labels("/a").observe(0.25);
    h->labels("/a").observe(1.5);
    h->labels("/a").observe(9);
  }
};

TEST(TextFormat, WritesHelpTypeAndSamplesOfEveryType) {
  small_registry r;
  EXPECT_EQ(expose(r.reg, format::prometheus_text_0_0_4),
            "# HELP http_requests_total Requests \"served\".\\nSecond line \\\\ here.\n"
            "# TYPE http_requests_total counter\n"
            "http_requests_total{method=\"GET\"} 3\n"
            "http_requests_total{method=\"POST\"} 1.5\n"
            "# HELP temperature_celsius T.\n"
            "# TYPE temperature_celsius gauge\n"
            "temperature_celsius -2.5\n"
            "# HELP latency_seconds L.\n"
            "# TYPE latency_seconds histogram\n"
            "latency_seconds_bucket{route=\"/a\",le=\"0.5\"} 1\n"
            "latency_seconds_bucket{route=\"/a\",le=\"1\"} 1\n"
            "latency_seconds_bucket{route=\"/a\",le=\"2\"} 2\n"
            "latency_seconds_bucket{route=\"/a\",le=\"+Inf\"} 3\n"
            "latency_seconds_sum{route=\"/a\"} 10.75\n"
            "latency_seconds_count{route=\"/a\"} 3\n");
}

TEST(OpenMetrics, NamesCounterFamilyWithoutTotalAndEndsWithEof) {
  small_registry r;
  EXPECT_EQ(expose(r.reg, format::openmetrics_1_0),
            "# TYPE http_requests counter\n"
            "# HELP http_requests Requests \\\"served\\\".\\nSecond line \\\\ here.\n"
            "http_requests_total{method=\"GET\"} 3\n"
            "http_requests_total{method=\"POST\"} 1.5\n"
            "# TYPE temperature_celsius gauge\n"
            "# HELP temperature_celsius T.\n"
            "temperature_celsius -2.5\n"
            "# TYPE latency_seconds histogram\n"
            "# HELP latency_seconds L.\n"
            "latency_seconds_bucket{route=\"/a\",le=\"0.5\"} 1\n"
            "latency_seconds_bucket{route=\"/a\",le=\"1.0\"} 1\n"
            "latency_seconds_bucket{route=\"/a\",le=\"2.0\"} 2\n"
            "latency_seconds_bucket{route=\"/a\",le=\"+Inf\"} 3\n"
            "latency_seconds_sum{route=\"/a\"} 10.75\n"
            "latency_seconds_count{route=\"/a\"} 3\n"
            "# EOF\n");
}

TEST(OpenMetrics, EmptyRegistryIsJustEof) {
  registry reg;
  EXPECT_EQ(expose(reg, format::openmetrics_1_0), "# EOF\n");
  EXPECT_EQ(expose(reg, format::prometheus_text_0_0_4), "");
}

TEST(TextFormat, FamilyWithoutChildrenHasHeaderOnly) {
  registry reg;
  ASSERT_TRUE(reg.add_counter({.name = "x_total", .help = "X.", .labels = {"a"}}));
  EXPECT_EQ(expose(reg), "# HELP x_total X.\n# TYPE x_total counter\n");
}

TEST(TextFormat, LabelValuesAreEscaped) {
  registry reg;
  auto* g = *reg.add_gauge({.name = "odd", .help = "Odd.", .labels = {"v"}});
  g->labels("a\"b\\c\nd").set(1);
  EXPECT_NE(expose(reg).find("odd{v=\"a\\\"b\\\\c\\nd\"} 1\n"), std::string::npos);
}

TEST(TextFormat, HistogramBucketsAreCumulativeAndInfEqualsCount) {
  registry reg;
  auto* h = *reg.add_histogram({.name = "d_seconds", .help = "D.", .buckets = {1, 2}});
  for (double v : {0.5, 0.5, 1.5, 3.0, 4.0})
    h->labels().observe(v);
  const std::string text = expose(reg);
  EXPECT_NE(text.find("d_seconds_bucket{le=\"1\"} 2\n"
                      "d_seconds_bucket{le=\"2\"} 3\n"
                      "d_seconds_bucket{le=\"+Inf\"} 5\n"
                      "d_seconds_sum 9.5\n"
                      "d_seconds_count 5\n"),
            std::string::npos);
}

TEST(OpenMetrics, CanonicalLeForNegativeAndFractionalBounds) {
  registry reg;
  auto* h = *reg.add_histogram({.name = "t_celsius", .help = "T.", .buckets = {-10, 0, 0.5, 1e20}});
  h->labels().observe(1);
  const std::string text = expose(reg, format::openmetrics_1_0);
  EXPECT_NE(text.find("le=\"-10.0\""), std::string::npos);
  EXPECT_NE(text.find("le=\"0.0\""), std::string::npos);
  EXPECT_NE(text.find("le=\"0.5\""), std::string::npos);
  EXPECT_NE(text.find("le=\"1e+20\""), std::string::npos);
}

TEST(Negotiate, DefaultsToText) {
  EXPECT_EQ(negotiate("").fmt, format::prometheus_text_0_0_4);
  EXPECT_EQ(negotiate("").content_type, kTextContentType);
  EXPECT_EQ(negotiate("application/json").fmt, format::prometheus_text_0_0_4);
  EXPECT_EQ(negotiate(";;;,,,=q").fmt, format::prometheus_text_0_0_4);
}

TEST(Negotiate, PicksOpenMetricsForPrometheusScrapeHeader) {
  auto n = negotiate(
      "application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;"
      "q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1");
  EXPECT_EQ(n.fmt, format::openmetrics_1_0);
  EXPECT_EQ(n.content_type, kOpenMetricsContentType);
}

TEST(Negotiate, HigherQualityWins) {
  EXPECT_EQ(negotiate("application/openmetrics-text;q=0.2, text/plain;q=0.9").fmt,
            format::prometheus_text_0_0_4);
  EXPECT_EQ(negotiate("text/plain;q=0.2, Application/OpenMetrics-Text; q=0.9").fmt,
            format::openmetrics_1_0);
}

TEST(Negotiate, IgnoresZeroQualityAndUnknownVersions) {
  EXPECT_EQ(negotiate("application/openmetrics-text;q=0").fmt, format::prometheus_text_0_0_4);
  EXPECT_EQ(negotiate("application/openmetrics-text;version=2.0.0").fmt,
            format::prometheus_text_0_0_4);
}

TEST(Negotiate, OverlongHeaderIsCutNotRejected) {
  std::string h(10000, ' ');
  h += "application/openmetrics-text";
  EXPECT_EQ(negotiate(h).fmt, format::prometheus_text_0_0_4);
  EXPECT_EQ(negotiate("application/openmetrics-text" + std::string(10000, ' ')).fmt,
            format::openmetrics_1_0);
}

}  // namespace
}  // namespace keel::metrics
