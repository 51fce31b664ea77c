#include "keel/resilience/breaker_registry.hpp"

#include <gtest/gtest.h>

namespace keel::resilience {
namespace {

using namespace std::chrono_literals;

TEST(BreakerRegistry, GetOrCreateReturnsTheSameBreakerForAName) {
  manual_clock clk;
  breaker_registry reg({}, clk);
  auto a = reg.get_or_create("payments", {.minimum_calls = 5}).value();
  auto b = reg.get_or_create("payments", {.minimum_calls = 50}).value();
  EXPECT_EQ(a.get(), b.get());
  EXPECT_EQ(a->config().minimum_calls, 5u);  // the first config stays
  EXPECT_EQ(a->name(), "payments");
  EXPECT_EQ(reg.size(), 1u);
}

TEST(BreakerRegistry, CreatesFromItsDefaultsByName) {
  manual_clock clk;
  breaker_registry reg({.defaults = {.window_size = 7}}, clk);
  EXPECT_EQ(reg.get_or_create("inventory").value()->config().window_size, 7u);
}

TEST(BreakerRegistry, ListsASnapshotOfEveryBreakerByName) {
  manual_clock clk;
  breaker_registry reg({}, clk);
  auto p = reg.get_or_create("payments", {.window_size = 2, .minimum_calls = 2}).value();
  (void)reg.get_or_create("inventory").value();
  (void)p->call([]() -> result<int> { return fail(codes::timeout); });
  (void)p->call([]() -> result<int> { return fail(codes::timeout); });
  const auto all = reg.snapshots();
  ASSERT_EQ(all.size(), 2u);
  EXPECT_EQ(all[0].name, "inventory");
  EXPECT_EQ(all[0].state, breaker_state::closed);
  EXPECT_EQ(all[1].name, "payments");
  EXPECT_EQ(all[1].state, breaker_state::open);
  EXPECT_EQ(all[1].failed_calls, 2u);
}

TEST(BreakerRegistry, ResetsForceOpensAndDisablesByName) {
  manual_clock clk;
  breaker_registry reg({}, clk);
  auto b = reg.get_or_create("payments").value();
  EXPECT_TRUE(reg.force_open("payments"));
  EXPECT_EQ(b->state(), breaker_state::forced_open);
  EXPECT_TRUE(reg.reset("payments"));
  EXPECT_EQ(b->state(), breaker_state::closed);
  EXPECT_TRUE(reg.disable("payments"));
  EXPECT_EQ(b->state(), breaker_state::disabled);
  EXPECT_EQ(reg.reset("nope").error(), codes::resource_not_found);
}

TEST(BreakerRegistry, RejectsInvalidNames) {
  breaker_registry reg;
  EXPECT_EQ(reg.get_or_create("").error(), codes::validation_error);
  EXPECT_EQ(reg.get_or_create("has space").error(), codes::validation_error);
  EXPECT_EQ(reg.get_or_create(std::string(129, 'a')).error(), codes::validation_error);
  EXPECT_TRUE(reg.get_or_create("svc.payments:v2-eu_1"));
}

TEST(BreakerRegistry, IsBoundedInSize) {
  breaker_registry reg({.max_breakers = 2});
  EXPECT_TRUE(reg.get_or_create("a"));
  EXPECT_TRUE(reg.get_or_create("b"));
  EXPECT_EQ(reg.get_or_create("c").error(), codes::resource_exhausted);
  EXPECT_TRUE(reg.get_or_create("a"));  // existing names still resolve
}

TEST(BreakerRegistry, RejectsAnInvalidConfig) {
  breaker_registry reg;
  EXPECT_EQ(reg.get_or_create("x", {.failure_rate_threshold = 2}).error(),
            codes::configuration_error);
  EXPECT_EQ(reg.size(), 0u);
}

TEST(BreakerRegistry, GivesItsListenerToBreakersWithoutOne) {
  manual_clock clk;
  auto events = std::make_shared<recording_listener>();
  breaker_registry reg({.listener = events}, clk);
  reg.get_or_create("payments").value()->force_open();
  EXPECT_EQ(events->count(event_kind::breaker_state_changed), 1u);
}

TEST(BreakerRegistry, RemoveDropsOnlyTheRegistrysReference) {
  breaker_registry reg;
  auto b = reg.get_or_create("a").value();
  EXPECT_TRUE(reg.remove("a"));
  EXPECT_FALSE(reg.remove("a"));
  EXPECT_EQ(reg.find("a"), nullptr);
  EXPECT_TRUE(b->call([] { return 1; }));
}

TEST(BreakerRegistry, TheProcessWideRegistryIsOne) { EXPECT_EQ(&breakers(), &breakers()); }

}  // namespace
}  // namespace keel::resilience
