#include "keel/core/rfc3339.hpp"

#include <gtest/gtest.h>

namespace keel {
namespace {

using namespace std::chrono;

system_clock::time_point at(sys_days d, microseconds t) { return system_clock::time_point(d) + t; }

TEST(Rfc3339, FormatsUtcWithMicroseconds) {
  EXPECT_EQ(format_rfc3339(
                at(2026y / 11 / 23, hours(6) + minutes(43) + seconds(8) + microseconds(123456))),
            "2026-11-23T06:43:08.123456Z");
  EXPECT_EQ(format_rfc3339(system_clock::time_point{}), "1970-01-01T00:00:00.000000Z");
  EXPECT_EQ(format_rfc3339(at(2024y / 2 / 29, microseconds(1))), "2024-02-29T00:00:00.000001Z");
  EXPECT_EQ(format_rfc3339(
                at(1969y / 12 / 31, hours(23) + minutes(59) + seconds(59) + microseconds(999999))),
            "1969-12-31T23:59:59.999999Z");
}

TEST(Rfc3339, ParsesOffsetsAndFractions) {
  auto t = parse_rfc3339("2026-11-23T07:43:08.5+01:00");
  ASSERT_TRUE(t);
  EXPECT_EQ(format_rfc3339(*t), "2026-11-23T06:43:08.500000Z");
  EXPECT_EQ(format_rfc3339(*parse_rfc3339("2026-11-23t06:43:08z")), "2026-11-23T06:43:08.000000Z");
  EXPECT_EQ(format_rfc3339(*parse_rfc3339("2026-11-22T23:00:00-07:30")),
            "2026-11-23T06:30:00.000000Z");
}

TEST(Rfc3339, RefusesInstantsSystemClockCannotHold) {
  // Found by fuzz_event_json: year 3174 overflowed the nanosecond count.
  EXPECT_FALSE(parse_rfc3339("3174-11-23T10:00:00Z"));
  EXPECT_FALSE(parse_rfc3339("9999-12-31T23:59:59Z"));
  EXPECT_FALSE(parse_rfc3339("1000-01-01T00:00:00Z"));
  EXPECT_TRUE(parse_rfc3339("2261-12-31T23:59:59Z"));
  EXPECT_TRUE(parse_rfc3339("1970-01-01T00:00:00Z"));
}

TEST(Rfc3339, RoundTrips) {
  const auto now = time_point_cast<microseconds>(system_clock::now());
  EXPECT_EQ(parse_rfc3339(format_rfc3339(now)), now);
}

TEST(Rfc3339, RejectsMalformed) {
  for (const char* bad :
       {"", "2026-11-23", "2026-13-01T00:00:00Z", "2026-02-30T00:00:00Z", "2025-02-29T00:00:00Z",
        "2026-11-23T24:00:00Z", "2026-11-23T06:43:08", "2026-11-23T06:43:08.Z",
        "2026-11-23T06:43:08+1:00", "2026-11-23T06:43:08Zjunk", "20a6-11-23T06:43:08Z"}) {
    EXPECT_FALSE(parse_rfc3339(bad)) << bad;
  }
}

}  // namespace
}  // namespace keel
