// keel::client against real loopback servers: what it sends, what it reads
// of the answer, and how it fails.
#include "keel/client/http_client.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <string>

#include "test_http_server.hpp"
#include "test_loopback_listener.hpp"

namespace keel::client {
namespace {

using namespace std::chrono_literals;
using keel::alert::testing::loopback_listener;
using keel::alert::testing::test_http_server;

TEST(HttpClient, PostSendsBodyAndHeadersAndReadsRetryAfter) {
  test_http_server srv;
  srv.listen();
  srv.respond_with(429, "Retry-After: 7\r\n");
  const std::string body = R"({"x":1})";
  const auto r = send(http_request{.method = "POST",
                                   .url = srv.url("/hook"),
                                   .headers = {"Content-Type: application/json", "X-A: b"},
                                   .body = body,
                                   .user_agent = "keel-test"});
  EXPECT_TRUE(r.error.empty()) << r.error;
  EXPECT_EQ(r.status, 429);
  ASSERT_TRUE(r.retry_after);
  EXPECT_EQ(*r.retry_after, 7s);
  const auto got = srv.requests();
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].method, "POST");
  EXPECT_EQ(got[0].target, "/hook");
  EXPECT_EQ(got[0].body, body);
  EXPECT_EQ(got[0].headers.at("x-a"), "b");
  EXPECT_EQ(got[0].headers.at("user-agent"), "keel-test");
  EXPECT_EQ(got[0].headers.count("expect"), 0u);
}

TEST(HttpClient, RefusedConnectionIsAnErrorWithoutStatus) {
  test_http_server srv;  // bound, not listening
  const auto r = send(http_request{.url = srv.url("/")});
  EXPECT_FALSE(r.answered());
  EXPECT_FALSE(r.error.empty());
  EXPECT_FALSE(r.timed_out);
}

TEST(HttpClient, HungServerTimesOut) {
  test_http_server srv;
  srv.listen();
  srv.hang();
  const auto t0 = std::chrono::steady_clock::now();
  const auto r = send(http_request{.url = srv.url("/"), .timeout = 300ms});
  EXPECT_TRUE(r.timed_out);
  EXPECT_FALSE(r.answered());
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 3s);
}

TEST(HttpClient, ALongAnswerIsCutAtTheLimitAndStillCounts) {
  loopback_listener l;
  l.listen(4, [](int c) {
    char buf[4096];
    (void)!::read(c, buf, sizeof buf);
    const std::string head =
        "HTTP/1.1 200 OK\r\nContent-Length: 10000000\r\nConnection: close\r\n\r\n";
    (void)!::write(c, head.data(), head.size());
    const std::string chunk(64 * 1024, 'x');
    for (int i = 0; i < 8; ++i) {
      if (::write(c, chunk.data(), chunk.size()) <= 0) break;
    }
    return true;
  });
  const auto r = send(http_request{.url = "http://127.0.0.1:" + std::to_string(l.port()) + "/",
                                   .timeout = 2s,
                                   .max_response_bytes = 16 * 1024});
  EXPECT_EQ(r.status, 200);
  EXPECT_TRUE(r.error.empty()) << r.error;
}

TEST(HttpClient, OnlyHttpAndHttpsAreSpoken) {
  const auto r = send(http_request{.url = "file:///etc/passwd"});
  EXPECT_FALSE(r.answered());
  EXPECT_FALSE(r.error.empty());
  const auto m = send(mail_request{.url = "http://127.0.0.1:1/", .from = "a@b", .to = {"c@d"}});
  EXPECT_FALSE(m.answered());
  EXPECT_FALSE(m.error.empty());
}

}  // namespace
}  // namespace keel::client
