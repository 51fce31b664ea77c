#include "keel/core/context.hpp"

#include <gtest/gtest.h>

#include <thread>

namespace keel {
namespace {

request_id rid(std::string_view s) { return *request_id::parse(s); }

TEST(Context, NoneByDefault) { EXPECT_EQ(current_context(), nullptr); }

TEST(Context, ScopeMakesCurrentAndRestores) {
  {
    context_scope outer({.request_id = rid("r1"), .user_id = "u1"});
    ASSERT_NE(current_context(), nullptr);
    EXPECT_EQ(current_context()->request_id.view(), "r1");
    EXPECT_EQ(current_context()->user_id, "u1");
  }
  EXPECT_EQ(current_context(), nullptr);
}

TEST(Context, NestedScopesMergeFields) {
  auto trace = trace_context::generate();
  context_scope outer(
      {.request_id = rid("r1"), .trace = trace, .fields = {{"a", "1"}, {"b", "2"}}});
  {
    context_scope inner({.user_id = "u9", .fields = {{"b", "20"}, {"c", "3"}}});
    const request_context* c = current_context();
    EXPECT_EQ(c->request_id.view(), "r1");
    EXPECT_EQ(c->trace, trace);
    EXPECT_EQ(c->user_id, "u9");
    ASSERT_EQ(c->fields.size(), 3u);
    EXPECT_EQ(*c->field("a"), "1");
    EXPECT_EQ(*c->field("b"), "20");
    EXPECT_EQ(*c->field("c"), "3");
    EXPECT_EQ(c->field("zzz"), nullptr);
  }
  EXPECT_EQ(current_context()->user_id, "");
  EXPECT_EQ(*current_context()->field("b"), "2");
}

TEST(Context, InnerRequestIdReplacesOuter) {
  context_scope outer({.request_id = rid("r1")});
  context_scope inner({.request_id = rid("r2")});
  EXPECT_EQ(current_context()->request_id.view(), "r2");
}

TEST(Context, IsPerThread) {
  context_scope scope({.request_id = rid("main-thread")});
  const request_context* seen = reinterpret_cast<const request_context*>(1);
  std::thread([&] { seen = current_context(); }).join();
  EXPECT_EQ(seen, nullptr);
}

TEST(Context, CarriedToAnotherThreadExplicitly) {
  std::string seen;
  std::function<void()> task;
  {
    context_scope scope({.request_id = rid("carried")});
    task = bind_context([&] { seen = std::string(current_context()->request_id.view()); });
  }
  std::thread(task).join();
  EXPECT_EQ(seen, "carried");
}

TEST(Context, CaptureOutlivesTheScope) {
  context_ptr kept;
  {
    context_scope scope({.request_id = rid("kept")});
    kept = capture_context();
  }
  ASSERT_NE(kept, nullptr);
  EXPECT_EQ(kept->request_id.view(), "kept");
  EXPECT_EQ(capture_context(), nullptr);
}

TEST(Context, BoundCallableRestoresTheCallersContext) {
  auto f = [] {
    context_scope scope({.request_id = rid("inside")});
    return bind_context([] { return std::string(current_context()->request_id.view()); });
  }();
  context_scope mine({.request_id = rid("caller")});
  EXPECT_EQ(f(), "inside");
  EXPECT_EQ(current_context()->request_id.view(), "caller");
}

}  // namespace
}  // namespace keel

namespace keel {
namespace {

TEST(Context, SlotScopeFollowsTheSlotAsItChanges) {
  context_ptr slot;
  {
    context_slot_scope scope(&slot);
    EXPECT_EQ(current_context(), nullptr);
    slot = std::make_shared<const request_context>(
        request_context{.request_id = *request_id::parse("first")});
    EXPECT_EQ(current_context()->request_id.view(), "first");
    slot = std::make_shared<const request_context>(
        request_context{.request_id = *request_id::parse("second")});
    EXPECT_EQ(current_context()->request_id.view(), "second");
    {
      context_scope inner(request_context{.user_id = "u-1"});
      EXPECT_EQ(current_context()->request_id.view(), "second");
      EXPECT_EQ(current_context()->user_id, "u-1");
    }
    EXPECT_EQ(current_context()->user_id, "");
  }
  EXPECT_EQ(current_context(), nullptr);
}

}  // namespace
}  // namespace keel
