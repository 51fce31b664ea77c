#include "keel/core/trace_context.hpp"

#include <gtest/gtest.h>

namespace keel {
namespace {

// Vectors from the W3C Trace Context specification and its test suite.
TEST(Traceparent, ParsesTheSpecExample) {
  auto tc = trace_context::parse("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01");
  ASSERT_TRUE(tc) << tc.error().message();
  EXPECT_EQ(tc->trace_id.hi, 0x4bf92f3577b34da6ULL);
  EXPECT_EQ(tc->trace_id.lo, 0xa3ce929d0e0e4736ULL);
  EXPECT_EQ(tc->span_id, 0x00f067aa0ba902b7ULL);
  EXPECT_TRUE(tc->sampled());
  EXPECT_EQ(tc->traceparent(), "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01");
}

TEST(Traceparent, ParsesNotSampled) {
  auto tc = trace_context::parse("00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-00");
  ASSERT_TRUE(tc);
  EXPECT_FALSE(tc->sampled());
}

TEST(Traceparent, AcceptsFutureVersionsWithMoreFields) {
  auto tc = trace_context::parse(
      "cc-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-what-the-future-will-be-like");
  ASSERT_TRUE(tc);
  EXPECT_TRUE(tc->sampled());
  EXPECT_TRUE(trace_context::parse("01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-09"));
  // ...whose unknown flags are not propagated.
  EXPECT_EQ(trace_context::parse("01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-09")->flags,
            1);
}

TEST(Traceparent, RejectsInvalidHeaders) {
  for (const char* bad : {
           "",
           "00",
           "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",    // version ff
           "00-00000000000000000000000000000000-00f067aa0ba902b7-01",    // zero trace id
           "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",    // zero parent id
           "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01",    // uppercase
           "00-4bf92f3577b34da6a3ce929d0e0e4736-00F067AA0BA902B7-01",    // uppercase
           "0g-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",    // bad version
           "00-4bf92f3577b34da6a3ce929d0e0e473-600f067aa0ba902b7-01",    // wrong split
           "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-0",     // short flags
           "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-",   // v00 extra
           "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01x",   // v00 extra
           "00_4bf92f3577b34da6a3ce929d0e0e4736_00f067aa0ba902b7_01",    // separators
           "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-g1",    // bad flags
           "cc-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01.x",  // future: no '-'
           " 00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",   // leading space
           "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01\r\n",
       }) {
    auto tc = trace_context::parse(bad);
    EXPECT_FALSE(tc) << bad;
    if (!tc) {
      EXPECT_EQ(tc.error(), codes::validation_error);
    }
  }
}

TEST(TraceContext, GenerateAndChild) {
  auto root = trace_context::generate();
  EXPECT_TRUE(root.is_valid());
  EXPECT_TRUE(root.sampled());
  auto child = root.child();
  EXPECT_EQ(child.trace_id, root.trace_id);
  EXPECT_NE(child.span_id, root.span_id);
  auto round = trace_context::parse(child.traceparent());
  ASSERT_TRUE(round);
  EXPECT_EQ(*round, child);
}

}  // namespace
}  // namespace keel
