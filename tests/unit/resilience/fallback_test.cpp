#include "keel/resilience/fallback.hpp"

#include <gtest/gtest.h>

#include <string>

namespace keel::resilience {
namespace {

TEST(Fallback, AValueReplacesADependencyFailure) {
  auto events = std::make_shared<recording_listener>();
  auto fb = fallback<std::string>::value("cached", {.name = "quotes", .listener = events});
  auto r = fb.call([]() -> result<std::string> { return fail(codes::service_unavailable); });
  EXPECT_EQ(r.value(), "cached");
  const auto used = events->of(event_kind::fallback_used);
  ASSERT_EQ(used.size(), 1u);
  EXPECT_EQ(used[0].code, "SERVICE_UNAVAILABLE");
  EXPECT_EQ(used[0].name, "quotes");
}

TEST(Fallback, SuccessPassesThrough) {
  auto fb = fallback<int>::value(0);
  EXPECT_EQ(fb.call([] { return 5; }).value(), 5);
}

TEST(Fallback, NeverHidesValidationOrBusinessErrors) {
  auto fb = fallback<int>::value(0);
  EXPECT_EQ(fb.call([]() -> result<int> { return fail(codes::validation_error); }).error(),
            codes::validation_error);
  EXPECT_EQ(fb.call([]() -> result<int> { return fail(codes::payment_required); }).error(),
            codes::payment_required);
}

TEST(Fallback, AFunctionOfTheErrorComputesTheReplacement) {
  auto fb = fallback<std::string>::function([](const keel::error& e) -> result<std::string> {
    return "queued after " + std::string(e.name());
  });
  EXPECT_EQ(fb.call([]() -> result<std::string> { return fail(codes::circuit_open); }).value(),
            "queued after CIRCUIT_OPEN");
}

TEST(Fallback, AFailingFallbackFunctionReturnsItsOwnError) {
  auto fb =
      fallback<int>::function([](const keel::error&) -> int { throw std::runtime_error("no"); });
  EXPECT_EQ(fb.call([]() -> result<int> { return fail(codes::timeout); }).error(),
            codes::internal_error);
}

TEST(Fallback, LastGoodReturnsTheMostRecentSuccess) {
  auto fb = fallback<int>::last_good();
  EXPECT_EQ(fb.call([] { return 1; }).value(), 1);
  EXPECT_EQ(fb.call([] { return 2; }).value(), 2);
  EXPECT_EQ(fb.call([]() -> result<int> { return fail(codes::timeout); }).value(), 2);
}

TEST(Fallback, LastGoodWithNothingSeenReturnsTheError) {
  auto fb = fallback<int>::last_good();
  EXPECT_EQ(fb.call([]() -> result<int> { return fail(codes::timeout); }).error(), codes::timeout);
}

TEST(Fallback, ThePredicateChoosesWhichErrorsAreReplaced) {
  auto fb = fallback<int>::value(
      -1, {.handle = [](const keel::error& e) { return e == codes::resource_not_found; }});
  EXPECT_EQ(fb.call([]() -> result<int> { return fail(codes::resource_not_found); }).value(), -1);
  EXPECT_EQ(fb.call([]() -> result<int> { return fail(codes::timeout); }).error(), codes::timeout);
}

TEST(Fallback, ReplacesThrownExceptions) {
  auto fb = fallback<int>::value(7);
  EXPECT_EQ(fb.call([]() -> int { throw std::runtime_error("x"); }).value(), 7);
}

}  // namespace
}  // namespace keel::resilience
