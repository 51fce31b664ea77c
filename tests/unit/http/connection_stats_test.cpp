// The connection collector and health check over a server's counters.
#include "keel/http/connection_stats.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "keel/metrics/exposition.hpp"

namespace keel::http {
namespace {

using ::testing::HasSubstr;
using namespace std::chrono_literals;

TEST(ConnectionCollector, ExposesTheCountersAsGaugesAndCounters) {
  auto counters = std::make_shared<connection_counters>();
  counters->max_connections = 174;
  counters->open = 12;
  counters->accepted = 302;
  counters->shed_idle = 127;
  counters->rejected_busy = 3;
  counters->accept_failures = 5;
  const std::string text = keel::metrics::expose(connection_collector(counters));
  EXPECT_THAT(
      text, HasSubstr("# TYPE keel_http_connections_open gauge\nkeel_http_connections_open 12\n"));
  EXPECT_THAT(text, HasSubstr("keel_http_connections_max 174\n"));
  EXPECT_THAT(text, HasSubstr("# TYPE keel_http_connections_accepted_total counter\n"
                              "keel_http_connections_accepted_total 302\n"));
  EXPECT_THAT(text, HasSubstr("keel_http_connections_shed_total 127\n"));
  EXPECT_THAT(text, HasSubstr("keel_http_connections_rejected_total 3\n"));
  EXPECT_THAT(text, HasSubstr("keel_http_accept_failures_total 5\n"));
}

TEST(ConnectionCheck, WarnsForAWindowAfterARefusalOrAFailedAcceptThenPasses) {
  auto counters = std::make_shared<connection_counters>();
  counters->max_connections = 2;
  manual_clock clock;
  const keel::health::check_context ctx{.clock = &clock};
  auto check = connection_check(counters, 60s);

  counters->shed_idle = 40;  // shedding idle connections is normal at the cap
  EXPECT_EQ(check(ctx).status, keel::health::check_status::pass);

  counters->rejected_busy = 3;
  auto r = check(ctx);
  EXPECT_EQ(r.status, keel::health::check_status::warn);
  EXPECT_EQ(r.output, "3 connections refused with 503 at the cap of 2");

  clock.advance(30s);
  counters->accept_failures = 2;
  r = check(ctx);
  EXPECT_EQ(r.status, keel::health::check_status::warn);
  EXPECT_EQ(r.output,
            "3 connections refused with 503 at the cap of 2; 2 accept() failures (out of file "
            "descriptors?)");

  clock.advance(59s);  // within a minute of the last trouble
  EXPECT_EQ(check(ctx).status, keel::health::check_status::warn);
  clock.advance(1s);
  EXPECT_EQ(check(ctx).status, keel::health::check_status::pass);

  counters->rejected_busy = 4;  // a new episode counts from zero
  r = check(ctx);
  EXPECT_EQ(r.output, "1 connection refused with 503 at the cap of 2");
}

}  // namespace
}  // namespace keel::http
