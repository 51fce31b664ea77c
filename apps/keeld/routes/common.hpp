// apps/keeld/routes/common.hpp
//
// What every route file of keeld shares: the route tags it uses, and the
// few request and response helpers that are keeld's own (the generic ones
// are keel::http's: params.hpp, bearer_auth.hpp).
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "keel/core/error.hpp"
#include "keel/core/json_member.hpp"
#include "keel/http/params.hpp"
#include "keel/http/router.hpp"
#include "keel/http/task.hpp"
#include "service.hpp"

namespace keeld::routes {

namespace http = keel::http;
using http::request;
using http::response;
using http::task;
using json = nlohmann::ordered_json;
using keel::result;

inline constexpr http::route_options kAdmin{.tags = http::route_tags::admin};
inline constexpr http::route_options kPublic{.tags = http::route_tags::public_api};

// ?limit=N within [1, 1000], `dflt` when absent.
inline result<std::uint64_t> limit_of(const request& req, std::uint64_t dflt) {
  return http::count_query(req, "limit", {.dflt = dflt, .min = 1, .max = 1000});
}

inline keel::error not_found(std::string_view what, std::string_view id) {
  return keel::error(keel::codes::resource_not_found, std::string(what) + " not found")
      .with_detail("id", std::string(id));
}

// A handler whose body runs on a worker thread: what it writes to the store
// (the audit trail, silences) never blocks an I/O thread. `f` is a
// sync handler, result<void>(request&, response&).
template <class F>
auto on_worker(service& svc, F f) {
  return [&svc, f = std::move(f)](request& req, response& res) -> task<result<void>> {
    co_return co_await svc.workers().run([&]() -> result<void> { return f(req, res); });
  };
}

using keel::string_member;

// The body as a JSON object (415/400 problems otherwise).
result<json> object_body(const request& req);

void add_exercise_routes(http::router& r, service& svc);
void add_issue_routes(http::router& r, service& svc);
void add_alerting_routes(http::router& r, service& svc);
void add_admin_routes(http::router& r, service& svc);

}  // namespace keeld::routes
