// A server on a loopback port chosen by the kernel, with a manual clock and
// a caller-built chain, for the access_log and http_metrics tests. Routes:
//   GET  /health              200 {"status":"ok"}
//   GET  /items/{id}          200 JSON echoing the id
//   GET  /slow                advances the manual clock by 250 ms, then 200
//   GET  /conflict            409 (a failed result)
//   GET  /throw               500 (an exception)
//   GET  /status/{code}       answers with that status
//   GET  /probe               calls the test's probe(response&) while in flight
//   GET  /admin               200, tagged route_tags::admin
#pragma once

#include <charconv>
#include <functional>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "http_client.hpp"
#include "keel/core/clock.hpp"
#include "keel/core/error.hpp"
#include "keel/http/server.hpp"

namespace keel::http::testing {

inline router middleware_test_routes(manual_clock& clock, std::function<void(response&)>& probe) {
  router r;
  r.get("/health",
        [](request&, response& res) { res.set_body(R"({"status":"ok"})", "application/json"); });
  r.get("/items/{id}", [](request& req, response& res) {
    res.set_json({{"id", *req.param("id")}});
  });
  r.get("/slow", [&clock](request&, response& res) {
    clock.advance(std::chrono::milliseconds(250));
    res.set_text("slow");
  });
  r.get("/conflict",
        [](request&, response&) -> result<void> { return fail(codes::conflict, "row 17 locked"); });
  r.get("/throw", [](request&, response&) { throw std::runtime_error("boom"); });
  r.get("/status/{code}", [](request& req, response& res) {
    const std::string_view s = *req.param("code");
    int code = 200;
    std::from_chars(s.data(), s.data() + s.size(), code);
    res.set_status(code);
  });
  r.get("/probe", [&probe](request&, response& res) {
    if (probe) probe(res);
  });
  r.get("/admin", [](request&, response& res) { res.set_text("secret"); },
        {.tags = route_tags::admin});
  return r;
}

struct middleware_harness {
  manual_clock clock;
  std::function<void(response&)> probe;
  std::unique_ptr<server> srv;

  // `make_chain` receives the router before it moves into the server.
  explicit middleware_harness(
      const std::function<std::vector<middleware_ptr>(const router&)>& make_chain,
      unsigned io_threads = 1) {
    router r = middleware_test_routes(clock, probe);
    std::vector<middleware_ptr> chain = make_chain(r);
    auto created =
        server::create({.host = "127.0.0.1", .port = 0, .io_threads = io_threads, .clock = &clock},
                       std::move(r), std::move(chain));
    if (!created) throw keel::exception(created.error());
    srv = std::move(*created);
    srv->start();
  }
  ~middleware_harness() {
    if (srv) srv->stop(std::chrono::milliseconds(0));
  }
  std::uint16_t port() const { return srv->port(); }
};

}  // namespace keel::http::testing
