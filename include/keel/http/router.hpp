// keel/http/router.hpp
//
// router maps a method and a path to a handler. Patterns are literal
// segments and `{name}` parameters, each matching one non-empty segment:
//
//   keel::http::router r;
//   r.get("/health", [](auto& req, auto& res) { res.set_json({{"status", "ok"}}); });
//   r.get("/api/v1/issues/{id}", get_issue, {.tags = keel::http::route_tags::public_api});
//   r.post("/api/v1/issues/{id}/resolve", resolve);    // handler may return result<void>
//   r.get("/simulate/slow", slow);                     // or task<void> (task.hpp)
//
// Matching: literal segments win over parameters at each level (with
// backtracking), so /issues/stats and /issues/{id} coexist. A path that
// matches no pattern is 404 RESOURCE_NOT_FOUND; a pattern matched with a
// method it lacks is 405 METHOD_NOT_ALLOWED with an Allow header. HEAD
// falls back to the GET handler (the server then sends no body); OPTIONS
// without a handler answers 204 with Allow. Paths are matched per segment
// after percent-decoding; a malformed escape is 400 VALIDATION_ERROR.
//
// Handlers never see Beast types. A handler is one of
//   void(request&, response&)                 result<void>(request&, response&)
//   task<void>(request&, response&)           task<result<void>>(request&, response&)
// Failures (a failed result, a thrown keel::exception or any exception)
// travel the middleware chain as keel::error to the error boundary.
//
// Thread safety: build the router before the server starts; matching is
// read-only and safe from any number of threads.
// Cost: matching walks one trie node per segment, comparing literal
// children linearly; no allocation (parameters are views).
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <variant>
#include <vector>

#include "keel/core/result.hpp"
#include "keel/http/method.hpp"
#include "keel/http/request.hpp"
#include "keel/http/response.hpp"
#include "keel/http/task.hpp"

namespace keel::http {

// route_tags
//
// Bits a route carries for middleware to select on (the rate limiter applies
// to public_api routes by default). Bits 16 and up are the application's.
namespace route_tags {
inline constexpr std::uint32_t public_api = 1u << 0;
inline constexpr std::uint32_t admin = 1u << 1;
}  // namespace route_tags

struct route_options {
  std::uint32_t tags = 0;
};

// The handler forms, after registration.
using sync_handler = std::function<result<void>(request&, response&)>;
using async_handler = std::function<task<void>(request&, response&)>;
using async_result_handler = std::function<task<result<void>>(request&, response&)>;
using any_handler = std::variant<sync_handler, async_handler, async_result_handler>;

// route
//
// A registered method + pattern; what middleware sees of the match.
struct route {
  std::string pattern{};
  http::method verb = http::method::get;
  std::uint32_t tags = 0;
  any_handler handler{};
};

// match
//
// The router's answer for one request.
struct match {
  enum class kind : std::uint8_t { found, not_found, method_not_allowed, bad_path, options };
  kind outcome = kind::not_found;
  const route* matched = nullptr;        // set when found (HEAD may yield the GET route)
  std::uint32_t allowed = 0;             // bit per method, for 405 and OPTIONS
  const std::string* pattern = nullptr;  // the matched pattern, also for 405/OPTIONS
};

class router {
 public:
  router();
  ~router();
  router(router&&) noexcept;
  router& operator=(router&&) noexcept;

  // Registers a handler. Throws keel::exception (CONFIGURATION_ERROR) on a
  // malformed pattern or a duplicate method + pattern: routes are built at
  // start-up, where a mistake must stop the program.
  template <class H>
  router& add(http::method m, std::string_view pattern, H&& handler, route_options opts = {}) {
    return add_route(m, pattern, wrap(std::forward<H>(handler)), opts);
  }
  template <class H>
  router& get(std::string_view p, H&& h, route_options o = {}) {
    return add(method::get, p, std::forward<H>(h), o);
  }
  template <class H>
  router& post(std::string_view p, H&& h, route_options o = {}) {
    return add(method::post, p, std::forward<H>(h), o);
  }
  template <class H>
  router& put(std::string_view p, H&& h, route_options o = {}) {
    return add(method::put, p, std::forward<H>(h), o);
  }
  template <class H>
  router& patch(std::string_view p, H&& h, route_options o = {}) {
    return add(method::patch, p, std::forward<H>(h), o);
  }
  template <class H>
  router& del(std::string_view p, H&& h, route_options o = {}) {
    return add(method::delete_, p, std::forward<H>(h), o);
  }

  // Matches req.verb() and req.path(), filling req's path parameters.
  match find(request& req) const;

  // The distinct route patterns, in the order first registered; index i is
  // what request::route_index() reports for a request matching pattern(i).
  // Per-route tables (http_metrics) size and label themselves from these
  // once, so the hot path indexes instead of hashing the pattern.
  std::size_t pattern_count() const noexcept { return patterns_.size(); }
  std::string_view pattern(std::size_t i) const noexcept { return *patterns_[i]; }

  // "GET, HEAD, POST" for an allowed-method mask.
  static std::string allow_header(std::uint32_t allowed);

 private:
  struct node;
  router& add_route(http::method m, std::string_view pattern, any_handler h, route_options opts);

  template <class H>
  static any_handler wrap(H&& h) {
    using F = std::decay_t<H>;
    using R = std::invoke_result_t<F&, request&, response&>;
    if constexpr (std::is_same_v<R, void>) {
      return sync_handler(
          [f = F(std::forward<H>(h))](request& q, response& s) mutable -> result<void> {
            f(q, s);
            return {};
          });
    } else if constexpr (std::is_same_v<R, result<void>>) {
      return sync_handler(std::forward<H>(h));
    } else if constexpr (std::is_same_v<R, task<void>>) {
      return async_handler(std::forward<H>(h));
    } else {
      static_assert(std::is_same_v<R, task<result<void>>>,
                    "a handler returns void, result<void>, task<void> or task<result<void>>");
      return async_result_handler(std::forward<H>(h));
    }
  }

  std::unique_ptr<node> root_;
  std::vector<std::unique_ptr<route>> routes_;
  std::vector<const std::string*> patterns_;  // into the trie's nodes (stable)
};

}  // namespace keel::http
