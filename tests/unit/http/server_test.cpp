// The server in-process on a loopback port chosen by the kernel, driven by
// a blocking client: protocol behaviour, limits, timeouts (on a manual
// clock), TLS, graceful stop and request-context propagation.
#include "keel/http/server.hpp"

#include <gtest/gtest.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <poll.h>
#include <sys/resource.h>

#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <future>
#include <mutex>
#include <thread>

#include "http_client.hpp"
#include "keel/core/context.hpp"
#include "keel/http/error_boundary.hpp"
#include "keel/http/rate_limit.hpp"
#include "keel/http/request_context_middleware.hpp"
#include "keel/http/response_time.hpp"
#include "keel/http/security_headers.hpp"
#include "support/temp_dir.hpp"

namespace keel::http {
namespace {

using testing::client;
using testing::http_reply;
using namespace std::chrono_literals;

std::string current_request_id() {
  const request_context* c = current_context();
  return c != nullptr ? c->request_id.str() : std::string("<none>");
}

// A test gate a handler's worker-thread job waits on.
struct gate {
  std::promise<void> entered;
  std::promise<void> release;
  std::shared_future<void> released = release.get_future().share();
};

struct harness {
  manual_clock clock;
  worker_pool pool{2};
  gate block;
  std::shared_ptr<rate_limit> limiter;
  std::unique_ptr<server> srv;

  explicit harness(server_config cfg = {}, bool with_clock = true) {
    router r;
    r.get("/health",
          [](request&, response& res) { res.set_body(R"({"status":"ok"})", "application/json"); });
    r.post("/echo", [](request& req, response& res) { res.set_body(req.body(), "text/plain"); });
    r.post("/json", [](request& req, response& res) -> result<void> {
      auto j = req.json();
      if (!j) return fail(j.error());
      res.set_json({{"got", *j}});
      return {};
    });
    r.get("/items/{id}", [](request& req, response& res) {
      res.set_json({{"id", *req.param("id")}, {"q", req.query("q").value_or("")}});
    });
    r.get("/throw", [](request&, response&) {
      throw std::runtime_error("db password=hunter2 at /var/lib/secret.db");
    });
    r.get("/conflict", [](request&, response&) -> result<void> {
      return fail(codes::conflict, "row 17 locked by txn 99");
    });
    r.get("/limited", [](request&, response& res) { res.set_text("ok"); },
          {.tags = route_tags::public_api});
    r.get("/ctx", [this](request&, response& res) -> task<void> {
      nlohmann::json seen = nlohmann::json::array();
      seen.push_back(current_request_id());
      co_await sleep_for(1ms);
      seen.push_back(current_request_id());
      seen.push_back(co_await pool.run([] { return current_request_id(); }));
      seen.push_back(current_request_id());
      res.set_json(seen);
    });
    r.get("/block", [this](request&, response& res) -> task<void> {
      co_await pool.run([this] {
        block.entered.set_value();
        block.released.wait();
      });
      res.set_text("finished");
    });
    limiter = std::make_shared<rate_limit>(rate_limit_options{
        .requests_per_second = 1, .burst = 2, .slots = 64, .tag_mask = route_tags::public_api});
    cfg.host = "127.0.0.1";
    cfg.port = 0;
    if (cfg.io_threads == 0) cfg.io_threads = 1;
    if (with_clock) cfg.clock = &clock;
    auto created = server::create(
        std::move(cfg), std::move(r),
        {std::make_shared<request_context_middleware>(), std::make_shared<error_boundary>(),
         std::make_shared<response_time>(), std::make_shared<security_headers>(), limiter});
    if (!created) throw keel::exception(created.error());
    srv = std::move(*created);
    srv->start();
  }
  ~harness() {
    if (srv) srv->stop(0ms);
  }
  std::uint16_t port() const { return srv->port(); }
};

nlohmann::json body_json(const http_reply& r) { return nlohmann::json::parse(r.body); }

// Pins a deadline on both sides: nothing happens `margin` before it, and
// the server answers or closes once the clock is `margin` past it (the
// sweep checks every timer_resolution of real time, so each side waits a
// few of those).
void expect_deadline(manual_clock& clock, const client& c, std::chrono::milliseconds deadline,
                     std::chrono::milliseconds margin = 100ms) {
  clock.advance(deadline - margin);
  pollfd before{.fd = c.fd(), .events = POLLIN, .revents = 0};
  EXPECT_EQ(::poll(&before, 1, 100), 0) << "acted before its deadline";
  clock.advance(2 * margin);
  pollfd after{.fd = c.fd(), .events = POLLIN, .revents = 0};
  EXPECT_EQ(::poll(&after, 1, 5'000), 1) << "did not act once past its deadline";
}

TEST(Server, KeepAliveServesSeveralRequestsOnOneConnection) {
  harness h;
  client c(h.port());
  ASSERT_TRUE(c.connected());
  for (int i = 0; i < 3; ++i) {
    auto r = c.get("/health");
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 200);
    EXPECT_EQ(r->body, R"({"status":"ok"})");
    EXPECT_EQ(r->header("content-type"), "application/json");
    EXPECT_EQ(r->header("connection"), std::nullopt);
    EXPECT_TRUE(r->header("date"));
  }
  EXPECT_EQ(h.srv->connections(), 1u);
}

TEST(Server, PipelinedRequestsAreAnsweredInOrder) {
  harness h;
  client c(h.port());
  ASSERT_TRUE(
      c.send("GET /items/1 HTTP/1.1\r\nHost: t\r\n\r\nGET /items/2 HTTP/1.1\r\nHost: t\r\n\r\n"));
  auto a = c.read_reply();
  auto b = c.read_reply();
  ASSERT_TRUE(a && b);
  EXPECT_EQ(body_json(*a)["id"], "1");
  EXPECT_EQ(body_json(*b)["id"], "2");
}

TEST(Server, PathAndQueryParametersAreDecoded) {
  harness h;
  client c(h.port());
  auto r = c.get("/items/a%20b?q=x+y&other=1");
  ASSERT_TRUE(r);
  EXPECT_EQ(body_json(*r), (nlohmann::json{{"id", "a b"}, {"q", "x y"}}));
}

TEST(Server, UnknownRouteIs404ProblemJson) {
  harness h;
  client c(h.port());
  auto r = c.get("/nope");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 404);
  EXPECT_EQ(r->header("content-type"), "application/problem+json");
  const auto j = body_json(*r);
  EXPECT_EQ(j["code"], "RESOURCE_NOT_FOUND");
  EXPECT_EQ(j["instance"], "/nope");
  EXPECT_EQ(j["request_id"], *r->header("x-request-id"));
}

TEST(Server, WrongMethodIs405ProblemJsonWithAllow) {
  harness h;
  client c(h.port());
  ASSERT_TRUE(c.send("DELETE /health HTTP/1.1\r\nHost: t\r\n\r\n"));
  auto r = c.read_reply();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 405);
  EXPECT_EQ(r->header("allow"), "GET, HEAD, OPTIONS");
  EXPECT_EQ(body_json(*r)["code"], "METHOD_NOT_ALLOWED");
}

// RFC 9112 §3.2: exactly one Host in HTTP/1.1, at most one in 1.0.
TEST(Server, MissingOrRepeatedHostIs400AndAnHttp10RequestMayOmitIt) {
  harness h;
  for (const char* req :
       {"GET /health HTTP/1.1\r\n\r\n", "GET /health HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n",
        "GET /health HTTP/1.0\r\nHost: a\r\nhost: a\r\n\r\n"}) {
    client c(h.port());
    ASSERT_TRUE(c.send(req));
    auto r = c.read_reply();
    ASSERT_TRUE(r) << req;
    EXPECT_EQ(r->status, 400) << req;
    EXPECT_NE(body_json(*r)["details"]["problem"].get<std::string>().find("Host"),
              std::string::npos)
        << r->body;
  }
  client c(h.port());
  ASSERT_TRUE(c.send("GET /health HTTP/1.0\r\n\r\n"));
  auto r = c.read_reply();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
}

TEST(Server, HeadAnswersLikeGetWithoutBody) {
  harness h;
  client c(h.port());
  ASSERT_TRUE(c.send("HEAD /health HTTP/1.1\r\nHost: t\r\n\r\n"));
  auto r = c.read_reply(/*head_request=*/true);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->header("content-length"), "15");
  // Had a body been sent, it would be read as the next response's start.
  auto next = c.get("/health");
  ASSERT_TRUE(next);
  EXPECT_EQ(next->status, 200);
}

TEST(Server, OversizedBodyIs413AndClosesTheConnection) {
  harness h({.max_body_bytes = 1024});
  client c(h.port());
  ASSERT_TRUE(c.send("POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 5000000\r\n\r\n"));
  auto r = c.read_reply();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 413);
  EXPECT_EQ(r->header("connection"), "close");
  EXPECT_EQ(body_json(*r)["code"], "PAYLOAD_TOO_LARGE");
  EXPECT_TRUE(c.wait_closed());
}

TEST(Server, OversizedBodyAlreadyInFlightStillDeliversThe413) {
  harness h({.max_body_bytes = 1024});
  client c(h.port());
  // The client pushes body bytes before reading: the server must not reset
  // the connection (closing with unread input) before the 413 is read.
  ASSERT_TRUE(c.send("POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 5000000\r\n\r\n" +
                     std::string(256 * 1024, 'x')));
  auto r = c.read_reply();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 413);
}

TEST(Server, OversizedChunkedBodyIs413) {
  harness h({.max_body_bytes = 16});
  client c(h.port());
  ASSERT_TRUE(
      c.send("POST /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n"
             "20\r\n0123456789abcdef0123456789abcdef\r\n0\r\n\r\n"));
  auto r = c.read_reply();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 413);
}

TEST(Server, BodyWithinLimitIsEchoed) {
  harness h({.max_body_bytes = 1024});
  client c(h.port());
  ASSERT_TRUE(c.send("POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\n\r\nhello"));
  auto r = c.read_reply();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->body, "hello");
}

TEST(Server, ExpectContinueGetsInterimResponse) {
  harness h;
  client c(h.port());
  ASSERT_TRUE(c.send(
      "POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 3\r\nExpect: 100-continue\r\n\r\n"));
  auto interim = c.read_reply();
  ASSERT_TRUE(interim);
  EXPECT_EQ(interim->status, 100);
  ASSERT_TRUE(c.send("abc"));
  auto r = c.read_reply();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->body, "abc");
}

// Issue 19 #4: the shape of a body is bounded by a scan before a tree is
// built, so a body of tiny values or an object of many members costs a scan.
TEST(Server, JsonBodyOverItsShapeLimitsIsRefusedNamingTheLimit) {
  harness h({.max_body_bytes = 4 << 20});
  client c(h.port());
  const auto post = [&](const std::string& body) {
    EXPECT_TRUE(
        c.send("POST /json HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\n"
               "Content-Length: " +
               std::to_string(body.size()) + "\r\n\r\n" + body));
    return c.read_reply();
  };
  const auto items = [](int n, const std::string& item) {
    std::string out;
    for (int i = 0; i < n; ++i)
      out += (i ? "," : "") + item;
    return out;
  };
  auto array = post("[" + items(10'001, "0") + "]");
  ASSERT_TRUE(array);
  EXPECT_EQ(array->status, 400);
  EXPECT_EQ(body_json(*array)["details"]["problem"], "a JSON array holds more than 10000 items");
  std::string members = "{";
  for (int i = 0; i < 1'001; ++i)
    members += (i ? ",\"k" : "\"k") + std::to_string(i) + "\":0";
  auto object = post(members + "}");
  ASSERT_TRUE(object);
  EXPECT_EQ(object->status, 400);
  EXPECT_EQ(body_json(*object)["details"]["problem"], "a JSON object holds more than 1000 members");
  // Separators inside strings are text, not items.
  auto in_string = post("[\"" + std::string(20'000, ',') + "\", \"[{\\\"\"]");
  ASSERT_TRUE(in_string);
  EXPECT_EQ(in_string->status, 200) << in_string->body;
  // At the limits exactly: accepted.
  auto at_limit = post("[" + items(10'000, "{}") + "]");
  ASSERT_TRUE(at_limit);
  EXPECT_EQ(at_limit->status, 200);
}

TEST(Server, JsonBodyHelperAnswersProblemsForBadInput) {
  harness h;
  client c(h.port());
  ASSERT_TRUE(
      c.send("POST /json HTTP/1.1\r\nHost: t\r\nContent-Type: text/plain\r\n"
             "Content-Length: 2\r\n\r\n{}"));
  auto wrong_type = c.read_reply();
  ASSERT_TRUE(wrong_type);
  EXPECT_EQ(wrong_type->status, 415);
  ASSERT_TRUE(
      c.send("POST /json HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\n"
             "Content-Length: 5\r\n\r\n{\"a\":"));
  auto malformed = c.read_reply();
  ASSERT_TRUE(malformed);
  EXPECT_EQ(malformed->status, 400);
  const std::string deep(200, '[');
  ASSERT_TRUE(
      c.send("POST /json HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\n"
             "Content-Length: 200\r\n\r\n" +
             deep));
  auto too_deep = c.read_reply();
  ASSERT_TRUE(too_deep);
  EXPECT_EQ(too_deep->status, 400);
  EXPECT_EQ(body_json(*too_deep)["details"]["problem"], "JSON nested deeper than 64 levels");
  ASSERT_TRUE(
      c.send("POST /json HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\n"
             "Content-Length: 7\r\n\r\n{\"a\":1}"));
  auto good = c.read_reply();
  ASSERT_TRUE(good);
  EXPECT_EQ(body_json(*good)["got"]["a"], 1);
}

TEST(Server, OversizedHeadersAre431) {
  harness h({.max_header_bytes = 4096});
  client c(h.port());
  const std::string big(8000, 'a');
  ASSERT_TRUE(c.send("GET /health HTTP/1.1\r\nHost: t\r\nX-Big: " + big + "\r\n\r\n"));
  auto r = c.read_reply();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 431);
  EXPECT_EQ(body_json(*r)["code"], "HEADER_FIELDS_TOO_LARGE");
}

TEST(Server, TooManyHeaderFieldsAre431) {
  harness h({.max_header_count = 8});
  client c(h.port());
  std::string req = "GET /health HTTP/1.1\r\nHost: t\r\n";
  for (int i = 0; i < 10; ++i)
    req += "X-H" + std::to_string(i) + ": v\r\n";
  ASSERT_TRUE(c.send(req + "\r\n"));
  auto r = c.read_reply();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 431);
}

TEST(Server, MalformedRequestIs400AndCloses) {
  harness h;
  client c(h.port());
  ASSERT_TRUE(c.send("GET /health HTTP/9.9 garbage\r\n\r\n"));
  auto r = c.read_reply();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 400);
  EXPECT_TRUE(c.wait_closed());
}

TEST(Server, ValidRequestIdIsEchoed) {
  harness h;
  client c(h.port());
  auto r = c.get("/health", "X-Request-ID: order-42.retry_1\r\n");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->header("x-request-id"), "order-42.retry_1");
  auto corr = c.get("/health", "X-Correlation-ID: corr-7\r\n");
  ASSERT_TRUE(corr);
  EXPECT_EQ(corr->header("x-request-id"), "corr-7");
}

TEST(Server, InjectedRequestIdIsNeverEchoed) {
  harness h;
  client c(h.port());
  // Characters outside the id alphabet (a header-splitting attempt through
  // an encoded CR/LF, spaces, a second header name) are dropped and a fresh
  // id is used instead.
  auto r = c.get("/health", "X-Request-ID: abc%0d%0aX-Evil: 1\r\n");
  ASSERT_TRUE(r);
  const auto id = r->header("x-request-id");
  ASSERT_TRUE(id);
  EXPECT_EQ(id->size(), 32u);
  EXPECT_EQ(id->find("abc"), std::string::npos);
  EXPECT_EQ(r->header("x-evil"), std::nullopt);

  // A bare CR inside the value is a malformed request: refused, not echoed.
  client raw(h.port());
  ASSERT_TRUE(raw.send("GET /health HTTP/1.1\r\nHost: t\r\nX-Request-ID: abc\rX-Evil: 1\r\n\r\n"));
  auto bad = raw.read_reply();
  ASSERT_TRUE(bad);
  EXPECT_EQ(bad->status, 400);
  EXPECT_EQ(bad->header("x-evil"), std::nullopt);
  EXPECT_NE(bad->header("x-request-id").value_or("abc").substr(0, 3), "abc");
}

TEST(Server, TraceparentContinuesTheCallersTrace) {
  harness h;
  client c(h.port());
  auto r =
      c.get("/ctx", "traceparent: 00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01\r\n");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
}

TEST(Server, ThrownExceptionIs500WithoutInternals) {
  harness h;
  client c(h.port());
  auto r = c.get("/throw");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 500);
  EXPECT_EQ(body_json(*r)["code"], "INTERNAL_ERROR");
  EXPECT_EQ(r->body.find("hunter2"), std::string::npos);
  EXPECT_EQ(r->body.find("secret"), std::string::npos);
  EXPECT_EQ(r->body.find("runtime_error"), std::string::npos);
  auto after = c.get("/health");  // the connection survives
  ASSERT_TRUE(after);
  EXPECT_EQ(after->status, 200);
}

TEST(Server, FailedResultKeepsItsCodesStatus) {
  harness h;
  client c(h.port());
  auto r = c.get("/conflict");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 409);
  EXPECT_EQ(body_json(*r)["code"], "CONFLICT");
  EXPECT_EQ(r->body.find("txn 99"), std::string::npos);
}

TEST(Server, SecurityHeadersAndResponseTimeOnEveryResponse) {
  harness h;
  client c(h.port());
  for (const char* path : {"/health", "/nope"}) {
    auto r = c.get(path);
    ASSERT_TRUE(r);
    EXPECT_EQ(r->header("x-content-type-options"), "nosniff") << path;
    EXPECT_EQ(r->header("x-frame-options"), "DENY") << path;
    EXPECT_EQ(r->header("cache-control"), "no-store") << path;
    EXPECT_TRUE(r->header("content-security-policy")) << path;
    EXPECT_EQ(r->header("strict-transport-security"), std::nullopt) << path;  // plain HTTP
    // The manual clock stands still while serving.
    EXPECT_EQ(r->header("x-response-time"), "0.000ms") << path;
  }
}

TEST(Server, RateLimitAppliesToPublicRoutesOnly) {
  harness h;
  client c(h.port());
  EXPECT_EQ(c.get("/limited")->status, 200);
  EXPECT_EQ(c.get("/limited")->status, 200);
  auto refused = c.get("/limited");
  ASSERT_TRUE(refused);
  EXPECT_EQ(refused->status, 429);
  EXPECT_EQ(refused->header("retry-after"), "1");
  EXPECT_EQ(body_json(*refused)["code"], "RATE_LIMITED");
  for (int i = 0; i < 5; ++i)
    EXPECT_EQ(c.get("/health")->status, 200);
  h.clock.advance(1s);  // one token back
  EXPECT_EQ(c.get("/limited")->status, 200);
  EXPECT_EQ(h.limiter->rejected(), 1u);
}

TEST(Server, SlowLorisIsCutOffWith408AfterRequestReadTimeout) {
  harness h({.request_read_timeout = 5s, .idle_timeout = 1h, .timer_resolution = 10ms});
  client c(h.port());
  ASSERT_TRUE(c.send("GET /health HTTP/1.1\r\nHost: t\r\nX-Slow: "));
  std::this_thread::sleep_for(50ms);  // the bytes reach the server: the request has started
  expect_deadline(h.clock, c, 5s);
  auto r = c.read_reply();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 408);
  EXPECT_EQ(body_json(*r)["code"], "REQUEST_TIMEOUT");
  EXPECT_TRUE(c.wait_closed());
}

TEST(Server, IdleKeepAliveConnectionIsClosedAfterIdleTimeout) {
  harness h({.request_read_timeout = 1h, .idle_timeout = 30s, .timer_resolution = 10ms});
  client c(h.port());
  ASSERT_TRUE(c.get("/health"));
  std::this_thread::sleep_for(50ms);  // the server has gone idle: its deadline is set
  expect_deadline(h.clock, c, 30s);
  EXPECT_TRUE(c.wait_closed());
}

// Issue 19 #3: at the cap, the oldest idle keep-alive connection makes
// room, so a new client (a health probe) is served.
TEST(Server, ConnectionAtTheCapClosesTheOldestIdleOneAndIsServed) {
  harness h({.max_connections = 2});
  client a(h.port());
  client b(h.port());
  ASSERT_TRUE(a.get("/health"));
  ASSERT_TRUE(b.get("/health"));  // b went idle after a
  ASSERT_TRUE(a.get("/health"));  // now a is the newer idle one
  client third(h.port());
  const auto r = third.get("/health");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_TRUE(b.wait_closed());              // the oldest idle one
  EXPECT_EQ(a.get("/health")->status, 200);  // the other goes on
  const server_stats st = h.srv->stats();
  EXPECT_EQ(st.shed_idle, 1u);
  EXPECT_EQ(st.rejected_busy, 0u);
  EXPECT_EQ(st.accepted, 3u);
  EXPECT_EQ(st.max_connections, 2u);
  EXPECT_LE(st.open_connections, 2u);
}

TEST(Server, ConnectionsBeyondTheLimitGet503WhenNoneIsIdle) {
  std::vector<keel::error> reported;
  std::mutex m;
  harness h({.max_connections = 2, .on_overload = [&](const keel::error& e) {
               std::lock_guard lock(m);
               reported.push_back(e);
             }});
  client busy(h.port());
  ASSERT_TRUE(busy.send("GET /block HTTP/1.1\r\nHost: t\r\n\r\n"));
  h.block.entered.get_future().wait();  // in its handler
  client reading(h.port());
  ASSERT_TRUE(reading.send("GET /health HTTP/1.1\r\nHost: t\r\n"));  // half a request
  for (int i = 0; i < 200 && h.srv->connections() < 2; ++i)
    std::this_thread::sleep_for(5ms);  // waiting for the server to accept, not a timing rule
  for (int i = 0; i < 3; ++i) {
    client third(h.port());
    const auto r = third.read_reply();
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 503);
    EXPECT_EQ(r->header("Retry-After"), "1");
    EXPECT_TRUE(third.wait_closed());
  }
  EXPECT_EQ(h.srv->stats().rejected_busy, 3u);
  EXPECT_EQ(h.srv->stats().shed_idle, 0u);
  {
    std::lock_guard lock(m);
    ASSERT_EQ(reported.size(), 1u);  // once per second of the server's (manual) clock
    EXPECT_TRUE(reported[0] == codes::service_unavailable);
    EXPECT_NE(reported[0].message().find("max_connections"), std::string::npos);
    EXPECT_EQ(reported[0].details().value("rejected_busy", 0), 1);
  }
  h.clock.advance(1s);
  client fourth(h.port());
  ASSERT_TRUE(fourth.read_reply());
  {
    std::lock_guard lock(m);
    EXPECT_EQ(reported.size(), 2u);
  }
  h.block.release.set_value();
  const auto done = busy.read_reply();
  ASSERT_TRUE(done);
  EXPECT_EQ(done->status, 200);  // the admitted ones go on
  ASSERT_TRUE(reading.send("\r\n"));
  EXPECT_EQ(reading.read_reply()->status, 200);
}

// The cap follows the open-file limit: a server never admits connections
// it has no descriptor for.
TEST(Server, MaxConnectionsIsCappedByTheOpenFileLimit) {
  rlimit saved{};
  ASSERT_EQ(::getrlimit(RLIMIT_NOFILE, &saved), 0);
  std::size_t open_now = 0;
  for (const auto& e : std::filesystem::directory_iterator("/proc/self/fd")) {
    (void)e;
    ++open_now;
  }
  rlimit low = saved;
  low.rlim_cur = open_now + 200;
  ASSERT_EQ(::setrlimit(RLIMIT_NOFILE, &low), 0);
  struct restore {
    rlimit r;
    ~restore() { ::setrlimit(RLIMIT_NOFILE, &r); }
  } restored{saved};
  {
    harness h({.max_connections = 10'000, .reserved_fds = 64});
    // The server's own descriptors (epoll, eventfds, the listener) count too.
    EXPECT_LT(h.srv->max_connections(), 200u - 64u);
    EXPECT_GT(h.srv->max_connections(), 100u);
    EXPECT_EQ(h.srv->stats().max_connections, h.srv->max_connections());
  }
  {
    harness h({.max_connections = 50, .reserved_fds = 64});
    EXPECT_EQ(h.srv->max_connections(), 50u);  // a lower configured cap stays
  }
  try {
    harness h({.max_connections = 50, .reserved_fds = 400});
    ADD_FAILURE() << "a limit that leaves no descriptor was accepted";
  } catch (const keel::exception& e) {
    EXPECT_TRUE(e.error() == codes::configuration_error);
    EXPECT_NE(e.error().message().find("RLIMIT_NOFILE"), std::string::npos);
  }
}

TEST(Server, RaiseOpenFileLimitLiftsTheSoftLimitToTheHardOne) {
  rlimit saved{};
  ASSERT_EQ(::getrlimit(RLIMIT_NOFILE, &saved), 0);
  if (saved.rlim_max != RLIM_INFINITY && saved.rlim_max < 512) GTEST_SKIP() << "hard limit too low";
  rlimit low = saved;
  low.rlim_cur = 256;
  ASSERT_EQ(::setrlimit(RLIMIT_NOFILE, &low), 0);
  const open_file_limit l = raise_open_file_limit();
  rlimit now{};
  ::getrlimit(RLIMIT_NOFILE, &now);
  ::setrlimit(RLIMIT_NOFILE, &saved);
  EXPECT_EQ(l.was_soft, 256u);
  EXPECT_GT(l.soft, 256u);
  EXPECT_EQ(l.soft, now.rlim_cur);
  if (saved.rlim_max != RLIM_INFINITY) {
    EXPECT_EQ(l.soft, saved.rlim_max);
  }
}

TEST(Server, ContextIsCurrentAfterCoAwaitAndOnWorkerThreads) {
  harness h;
  client c(h.port());
  auto r = c.get("/ctx", "X-Request-ID: trace-me-1\r\n");
  ASSERT_TRUE(r);
  EXPECT_EQ(body_json(*r),
            (nlohmann::json{"trace-me-1", "trace-me-1", "trace-me-1", "trace-me-1"}));
}

TEST(Server, ContextNeverLeaksAcrossInterleavedRequests) {
  harness h({.io_threads = 2});
  constexpr int clients = 6;
  constexpr int per_client = 25;
  std::atomic<int> mismatches{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < clients; ++t) {
    threads.emplace_back([&, t] {
      client c(h.port());
      for (int i = 0; i < per_client; ++i) {
        const std::string id = "c" + std::to_string(t) + "-r" + std::to_string(i);
        auto r = c.get("/ctx", "X-Request-ID: " + id + "\r\n");
        if (!r || body_json(*r) != nlohmann::json{id, id, id, id} ||
            r->header("x-request-id") != id) {
          if (mismatches.fetch_add(1) == 0) {
            ADD_FAILURE() << id << " got " << (r ? r->body : std::string("no reply"));
          }
        }
      }
    });
  }
  for (auto& t : threads)
    t.join();
  EXPECT_EQ(mismatches.load(), 0);
}

TEST(Server, GracefulStopFinishesInFlightRequestsAndRefusesNewOnes) {
  harness h;
  client inflight(h.port());
  ASSERT_TRUE(inflight.send("GET /block HTTP/1.1\r\nHost: t\r\n\r\n"));
  h.block.entered.get_future().wait();
  client idle(h.port());
  ASSERT_TRUE(idle.get("/health"));

  std::thread stopper([&] { h.srv->stop(30s); });
  // begin_stop() has run once idle connections are closed.
  EXPECT_TRUE(idle.wait_closed());
  client late(h.port());
  EXPECT_FALSE(late.connected() && late.get("/health").has_value());

  h.block.release.set_value();
  auto r = inflight.read_reply();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->body, "finished");
  EXPECT_EQ(r->header("connection"), "close");
  stopper.join();
  EXPECT_EQ(h.srv->connections(), 0u);
}

// Past the grace, a request still in its handler gets a 503 and a clean
// close, and stop() returns without waiting for the handler to end.
TEST(Server, StopPastTheGraceAnswers503AndReturnsWithoutWaitingForTheHandler) {
  harness h;
  client inflight(h.port());
  ASSERT_TRUE(inflight.send("GET /block HTTP/1.1\r\nHost: t\r\n\r\n"));
  h.block.entered.get_future().wait();
  const auto t0 = std::chrono::steady_clock::now();
  h.srv->stop(0ms);  // the handler is still blocked in its pool job
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 5s);
  auto r = inflight.read_reply();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 503);
  EXPECT_EQ(r->header("connection"), "close");
  EXPECT_EQ(r->header("retry-after"), "1");
  EXPECT_EQ(body_json(*r)["code"], "SERVICE_UNAVAILABLE");
  EXPECT_TRUE(inflight.wait_closed());
  h.block.release.set_value();
  h.pool.join();  // its job resumes the handler's loop: it ends before the server goes
}

// ---- TLS ---------------------------------------------------------------------

using ::keel::testing::temp_dir;

TEST(Server, ServesTlsWithASelfSignedCertificate) {
  temp_dir dir;
  const auto cert = dir.path() / "cert.pem";
  const auto key = dir.path() / "key.pem";
  const std::string cmd =
      "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 1 "
      "-subj /CN=localhost -keyout " +
      key.string() + " -out " + cert.string() + " 2>/dev/null";
  ASSERT_EQ(std::system(cmd.c_str()), 0);

  harness h({.tls = tls_config{.certificate_chain_file = cert.string(),
                               .private_key_file = key.string()}});
  client tcp(h.port());
  ASSERT_TRUE(tcp.connected());
  SSL_CTX* ctx = SSL_CTX_new(TLS_client_method());
  ASSERT_EQ(SSL_CTX_load_verify_locations(ctx, cert.string().c_str(), nullptr), 1);
  SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, nullptr);
  SSL* ssl = SSL_new(ctx);
  SSL_set_fd(ssl, tcp.fd());
  ASSERT_EQ(SSL_connect(ssl), 1);
  const std::string req = "GET /health HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n";
  ASSERT_EQ(SSL_write(ssl, req.data(), static_cast<int>(req.size())), static_cast<int>(req.size()));
  std::string reply;
  char buf[4096];
  int n;
  while ((n = SSL_read(ssl, buf, sizeof buf)) > 0)
    reply.append(buf, static_cast<std::size_t>(n));
  SSL_free(ssl);
  SSL_CTX_free(ctx);
  EXPECT_EQ(reply.rfind("HTTP/1.1 200 OK\r\n", 0), 0u) << reply;
  EXPECT_NE(reply.find("Strict-Transport-Security: max-age="), std::string::npos);
  EXPECT_NE(reply.find(R"({"status":"ok"})"), std::string::npos);
}

TEST(Server, CreateFailsOnMissingTlsFiles) {
  router r;
  auto s = server::create({.port = 0,
                           .tls = tls_config{.certificate_chain_file = "/nonexistent.pem",
                                             .private_key_file = "/nonexistent.key"}},
                          std::move(r));
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error(), codes::configuration_error);
}

TEST(Server, CreateFailsOnInvalidConfig) {
  EXPECT_FALSE(server::create({.port = 0, .max_header_bytes = 10}, router{}));
  EXPECT_FALSE(server::create({.host = "not-an-ip", .port = 0}, router{}));
}

}  // namespace
}  // namespace keel::http

namespace keel::http {
namespace {

// Records the hooks it sees, in order, into a shared log.
class recorder final : public middleware {
 public:
  recorder(std::string name, std::vector<std::string>& log, std::mutex& m)
      : name_(std::move(name)), log_(log), m_(m) {}
  std::function<result<next_step>(exchange&)> on_before{};
  bool renders = false;

  result<next_step> before(exchange& ex) override {
    note("before");
    return on_before ? on_before(ex) : next_step::proceed;
  }
  void after(exchange& ex) override { note(ex.failure() != nullptr ? "after(failing)" : "after"); }
  bool on_error(exchange& ex, const keel::error& e) override {
    note("on_error");
    if (!renders) return false;
    ex.res().set_problem(e, ex.req().path());
    return true;
  }

 private:
  void note(const char* what) {
    std::lock_guard lock(m_);
    log_.push_back(name_ + "." + what);
  }
  std::string name_;
  std::vector<std::string>& log_;
  std::mutex& m_;
};

struct chain_fixture {
  std::vector<std::string> log;
  std::mutex m;
  std::shared_ptr<recorder> outer = std::make_shared<recorder>("outer", log, m);
  std::shared_ptr<recorder> middle = std::make_shared<recorder>("middle", log, m);
  std::shared_ptr<recorder> inner = std::make_shared<recorder>("inner", log, m);
  std::unique_ptr<server> srv;

  void start() {
    router r;
    r.get("/ok", [this](request&, response& res) {
      {
        std::lock_guard lock(m);
        log.push_back("handler");
      }
      res.set_text("ok");
    });
    r.get("/boom", [](request&, response&) { throw std::logic_error("boom"); });
    srv = std::move(
        *server::create({.port = 0, .io_threads = 1}, std::move(r), {outer, middle, inner}));
    srv->start();
  }
  std::vector<std::string> taken() {
    std::lock_guard lock(m);
    return std::exchange(log, {});
  }
};

TEST(Middleware, BeforeRunsOutermostFirstAndAfterInnermostFirst) {
  chain_fixture f;
  f.start();
  testing::client c(f.srv->port());
  ASSERT_EQ(c.get("/ok")->status, 200);
  EXPECT_EQ(f.taken(),
            (std::vector<std::string>{"outer.before", "middle.before", "inner.before", "handler",
                                      "inner.after", "middle.after", "outer.after"}));
}

TEST(Middleware, LayerThatRespondsSkipsInnerLayersAndTheHandler) {
  chain_fixture f;
  f.middle->on_before = [](exchange& ex) -> result<next_step> {
    ex.res().set_text("short-circuit", 202);
    return next_step::respond;
  };
  f.start();
  testing::client c(f.srv->port());
  auto r = c.get("/ok");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 202);
  EXPECT_EQ(f.taken(), (std::vector<std::string>{"outer.before", "middle.before", "middle.after",
                                                 "outer.after"}));
}

TEST(Middleware, FailureIsOfferedOutwardUntilALayerRendersIt) {
  chain_fixture f;
  f.middle->renders = true;
  f.start();
  testing::client c(f.srv->port());
  auto r = c.get("/boom");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 500);
  EXPECT_EQ(nlohmann::json::parse(r->body)["code"], "INTERNAL_ERROR");
  EXPECT_EQ(f.taken(),
            (std::vector<std::string>{"outer.before", "middle.before", "inner.before",
                                      "inner.on_error", "inner.after(failing)", "middle.on_error",
                                      "middle.after", "outer.after"}));
}

TEST(Middleware, FailedBeforeSkipsThatLayersOwnHooks) {
  chain_fixture f;
  f.middle->on_before = [](exchange&) -> result<next_step> {
    return fail(codes::authorization_denied, "no");
  };
  f.start();
  testing::client c(f.srv->port());
  auto r = c.get("/ok");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 403);  // nobody rendered it: the server's fallback did
  EXPECT_EQ(f.taken(), (std::vector<std::string>{"outer.before", "middle.before", "outer.on_error",
                                                 "outer.after(failing)"}));
}

}  // namespace
}  // namespace keel::http
