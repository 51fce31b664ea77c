#include "keel/core/ids.hpp"

#include <gtest/gtest.h>

#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

namespace keel {
namespace {

TEST(RequestId, AcceptsOneTo128SafeCharacters) {
  EXPECT_TRUE(request_id::is_valid("a"));
  EXPECT_TRUE(request_id::is_valid("7f3d2c1a-9b8e_4f6d.A5"));
  EXPECT_TRUE(request_id::is_valid(std::string(128, 'x')));
  auto id = request_id::parse("abc-123");
  ASSERT_TRUE(id);
  EXPECT_EQ(id->view(), "abc-123");
}

TEST(RequestId, RejectsInjectionAttempts) {
  for (std::string bad : {
           std::string(""),
           std::string(129, 'x'),
           std::string("abc\r\nSet-Cookie: x=1"),
           std::string("abc\ndef"),
           std::string("a\"b"),
           std::string("a'b"),
           std::string("a b"),
           std::string("<script>"),
           std::string("a%0d%0a"),
           std::string("a/b"),
           std::string("a\\b"),
           std::string("a;b"),
           std::string("\x00", 1),
           std::string("id\xc3\xa9"),
           std::string("{{7*7}}"),
       }) {
    EXPECT_FALSE(request_id::is_valid(bad)) << bad;
    EXPECT_FALSE(request_id::parse(bad)) << bad;
  }
}

TEST(AcceptRequestId, PrefersValidRequestIdThenCorrelationIdThenFresh) {
  EXPECT_EQ(accept_request_id("req-1", "corr-1").view(), "req-1");
  EXPECT_EQ(accept_request_id("bad\r\nvalue", "corr-1").view(), "corr-1");
  EXPECT_EQ(accept_request_id("", "corr-1").view(), "corr-1");
  auto fresh = accept_request_id("bad value", "also bad\n");
  EXPECT_EQ(fresh.size(), 32u);
  EXPECT_TRUE(request_id::is_valid(fresh.view()));
  EXPECT_EQ(fresh.view().find("bad"), std::string_view::npos) << "an invalid id is never echoed";
}

TEST(NewRequestId, Is32LowercaseHex) {
  auto id = new_request_id();
  ASSERT_EQ(id.size(), 32u);
  for (char c : id.view())
    EXPECT_TRUE((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')) << c;
}

TEST(NewRequestId, UniqueAcrossThreads) {
  constexpr int kThreads = 4;
  constexpr int kPerThread = 50000;
  std::vector<std::vector<std::string>> ids(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      ids[t].reserve(kPerThread);
      for (int i = 0; i < kPerThread; ++i)
        ids[t].push_back(new_request_id().str());
    });
  }
  for (auto& th : threads)
    th.join();
  std::set<std::string> all;
  for (auto& v : ids)
    all.insert(v.begin(), v.end());
  EXPECT_EQ(all.size(), static_cast<std::size_t>(kThreads * kPerThread));
}

TEST(NewId, NeverZero) {
  for (int i = 0; i < 1000; ++i) {
    EXPECT_FALSE(new_id128().is_zero());
    EXPECT_NE(new_id64(), 0u);
  }
}

}  // namespace
}  // namespace keel
