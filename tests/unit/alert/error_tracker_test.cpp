#include "keel/alert/error_tracker.hpp"

#include <gtest/gtest.h>

namespace keel::alert {
namespace {

using namespace std::chrono_literals;

class ErrorTracker : public ::testing::Test {
 protected:
  error_event ev(std::string code = "DATABASE_ERROR", std::string msg = "insert 17 failed",
                 std::string service = "checkout") {
    return error_event{.service = std::move(service),
                       .code = std::move(code),
                       .category = category::systemic,
                       .severity = severity::high,
                       .message = std::move(msg),
                       .timestamp = clock.system_now()};
  }
  manual_clock clock;
  error_tracker tracker{clock, {.recent_per_group = 3}};
};

TEST_F(ErrorTracker, SimilarEventsShareOneGroupWithCountAndTimes) {
  auto a = tracker.record(ev("DATABASE_ERROR", "insert 17 failed"));
  clock.advance(10s);
  auto b = tracker.record(ev("DATABASE_ERROR", "insert 99 failed"));
  ASSERT_TRUE(a && b);
  EXPECT_TRUE(a->new_group);
  EXPECT_FALSE(b->new_group);
  EXPECT_EQ(a->fingerprint, b->fingerprint);
  auto g = tracker.group(a->fingerprint).value();
  EXPECT_EQ(g.count, 2u);
  EXPECT_EQ(g.last_seen - g.first_seen, 10s);
  EXPECT_EQ(g.title, "insert <num> failed");
}

TEST_F(ErrorTracker, InvalidEventIsRefusedAndNotCounted) {
  auto r = tracker.record(error_event{.service = "x"});
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error(), codes::field_validation_error);
  EXPECT_EQ(tracker.stats().total, 0u);
}

TEST_F(ErrorTracker, MissingTimestampIsTheClockNow) {
  auto e = ev();
  e.timestamp = {};
  auto r = tracker.record(e);
  ASSERT_TRUE(r);
  EXPECT_EQ(tracker.group(r->fingerprint)->first_seen, clock.system_now());
}

TEST_F(ErrorTracker, RateWindowsCountTheLastMinuteAndHour) {
  auto fp = tracker.record(ev())->fingerprint;
  clock.advance(30s);
  (void)tracker.record(ev());
  EXPECT_EQ(tracker.group(fp)->events_1m, 2u);
  clock.advance(45s);  // the first event is now 75 s old
  EXPECT_EQ(tracker.group(fp)->events_1m, 1u);
  EXPECT_EQ(tracker.group(fp)->events_1h, 2u);
  clock.advance(61min);
  EXPECT_EQ(tracker.group(fp)->events_1m, 0u);
  EXPECT_EQ(tracker.group(fp)->events_1h, 0u);
  EXPECT_EQ(tracker.group(fp)->count, 2u);
}

TEST_F(ErrorTracker, RecentRingKeepsTheNewestEvents) {
  std::string fp;
  for (int i = 0; i < 5; ++i)
    fp = tracker.record(ev("X", "try " + std::to_string(i)))->fingerprint;
  auto g = tracker.group(fp).value();
  ASSERT_EQ(g.recent.size(), 3u);
  EXPECT_EQ(g.recent.front().message, "try 2");
  EXPECT_EQ(g.recent.back().message, "try 4");
}

TEST_F(ErrorTracker, ResolvedGroupReopensAsRegression) {
  auto fp = tracker.record(ev())->fingerprint;
  ASSERT_TRUE(tracker.resolve(fp));
  EXPECT_EQ(tracker.group(fp)->status, group_status::resolved);
  auto r = tracker.record(ev());
  EXPECT_TRUE(r->regression);
  auto g = tracker.group(fp).value();
  EXPECT_EQ(g.status, group_status::open);
  EXPECT_TRUE(g.regressed);
  EXPECT_EQ(g.regressions, 1u);
}

TEST_F(ErrorTracker, IgnoredUntilCountReopensWhenCountReached) {
  auto fp = tracker.record(ev())->fingerprint;
  ASSERT_TRUE(tracker.ignore(fp, {.for_count = 2}));
  (void)tracker.record(ev());
  EXPECT_EQ(tracker.group(fp)->status, group_status::ignored);
  (void)tracker.record(ev());
  EXPECT_EQ(tracker.group(fp)->status, group_status::open);
  EXPECT_FALSE(tracker.group(fp)->regressed);
}

TEST_F(ErrorTracker, IgnoredUntilTimeReopensOnFirstEventAfterIt) {
  auto fp = tracker.record(ev())->fingerprint;
  ASSERT_TRUE(tracker.ignore(fp, {.until = clock.system_now() + 1h}));
  clock.advance(59min);
  (void)tracker.record(ev());
  EXPECT_EQ(tracker.group(fp)->status, group_status::ignored);
  clock.advance(2min);
  (void)tracker.record(ev());
  EXPECT_EQ(tracker.group(fp)->status, group_status::open);
}

TEST_F(ErrorTracker, IgnoredGroupDoesNotCountTowardsTheAlertSeries) {
  auto fp = tracker.record(ev())->fingerprint;
  ASSERT_TRUE(tracker.ignore(fp));
  (void)tracker.record(ev());
  std::vector<std::shared_ptr<const series>> s;
  tracker.series().select("keel_error_events_total", s);
  ASSERT_EQ(s.size(), 1u);
  EXPECT_EQ(s[0]->value(), 1);
  EXPECT_EQ(s[0]->labels().get("code"), "DATABASE_ERROR");
  EXPECT_EQ(s[0]->labels().get("severity"), "high");
  EXPECT_EQ(tracker.group(fp)->count, 2u);
}

TEST_F(ErrorTracker, UnknownFingerprintIsNotFound) {
  EXPECT_EQ(tracker.resolve("nope").error(), codes::resource_not_found);
}

TEST_F(ErrorTracker, TopGroupsAreOrderedAndSkipClosedOnes) {
  for (int i = 0; i < 3; ++i)
    (void)tracker.record(ev("A"));
  for (int i = 0; i < 5; ++i)
    (void)tracker.record(ev("B"));
  auto c = tracker.record(ev("C"))->fingerprint;
  for (int i = 0; i < 9; ++i)
    (void)tracker.record(ev("C"));
  ASSERT_TRUE(tracker.resolve(c));
  auto top = tracker.top_groups(5);
  ASSERT_EQ(top.size(), 2u);
  EXPECT_EQ(top[0].code, "B");
  EXPECT_EQ(top[1].code, "A");
  EXPECT_EQ(tracker.top_groups(1, top_order::count, true).front().code, "B");
  EXPECT_EQ(tracker.top_groups(5, top_order::count, true).back().code, "C");
}

TEST_F(ErrorTracker, StatsCountByCodeServiceCategoryAndSeverity) {
  (void)tracker.record(ev("A", "m", "s1"));
  (void)tracker.record(ev("A", "m", "s2"));
  (void)tracker.record(ev("B", "m", "s1"));
  auto s = tracker.stats();
  EXPECT_EQ(s.total, 3u);
  EXPECT_EQ(s.groups, 3u);
  EXPECT_EQ(s.by_code.at("A"), 2u);
  EXPECT_EQ(s.by_service.at("s1"), 2u);
  EXPECT_EQ(s.by_category.at("systemic"), 3u);
  EXPECT_EQ(s.by_severity.at("high"), 3u);
}

TEST_F(ErrorTracker, RecentIsNewestFirstAcrossGroups) {
  (void)tracker.record(ev("A"));
  (void)tracker.record(ev("B"));
  auto r = tracker.recent(10);
  ASSERT_EQ(r.size(), 2u);
  EXPECT_EQ(r[0].code, "B");
}

TEST(ErrorTrackerLimits, NewGroupsBeyondTheCapAreRefused) {
  manual_clock clock;
  error_tracker t(clock, {.max_groups = 1});
  error_event e{.service = "s", .code = "A", .message = "m", .timestamp = clock.system_now()};
  ASSERT_TRUE(t.record(e));
  e.code = "B";
  EXPECT_EQ(t.record(e).error(), codes::resource_exhausted);
  e.code = "A";
  EXPECT_TRUE(t.record(e));
}

}  // namespace
}  // namespace keel::alert
