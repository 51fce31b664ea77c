#include "keel/core/result.hpp"

#include <gtest/gtest.h>

#include <stdexcept>
#include <string>

namespace keel {
namespace {

result<int> parse_positive(int v) {
  if (v <= 0) return fail(codes::validation_error, "must be positive");
  return v;
}

result<void> check(bool ok_) {
  if (!ok_) return fail(error(codes::conflict));
  return ok();
}

TEST(Result, CarriesValueOrError) {
  auto good = parse_positive(3);
  ASSERT_TRUE(good);
  EXPECT_EQ(*good, 3);
  auto bad = parse_positive(-1);
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error(), codes::validation_error);
  EXPECT_EQ(bad.error().message(), "must be positive");
  EXPECT_TRUE(check(true));
  EXPECT_EQ(check(false).error().name(), "CONFLICT");
}

TEST(Result, ConvertsFromAPlainExpected) {
  std::expected<int, error> plain = std::unexpected(error(codes::timeout));
  result<int> r = plain;
  EXPECT_EQ(r.error(), codes::timeout);
  result<int> v = std::expected<int, error>(5);
  EXPECT_EQ(*v, 5);
}

TEST(Result, IsSmall) {
  // An error is one shared pointer: result<int> must not carry a whole error
  // record on the success path.
  EXPECT_LE(sizeof(result<int>), 3 * sizeof(void*));
}

TEST(TryCall, PassesValuesThrough) {
  auto r = try_call([] { return 7; });
  ASSERT_TRUE(r);
  EXPECT_EQ(*r, 7);
  auto v = try_call([] {});
  EXPECT_TRUE(v);
  auto passthrough = try_call([] { return parse_positive(-5); });
  EXPECT_EQ(passthrough.error(), codes::validation_error);
}

TEST(TryCall, TurnsExceptionsIntoErrors) {
  auto r = try_call([]() -> int { throw std::runtime_error("boom"); });
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error(), codes::internal_error);
  auto k = try_call([]() -> int { throw exception(error(codes::timeout)); });
  EXPECT_EQ(k.error(), codes::timeout);
}

}  // namespace
}  // namespace keel
