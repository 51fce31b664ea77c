#include "keel/http/health_endpoint.hpp"

#include <atomic>
#include <memory>
#include <string>

namespace keel::http {

namespace {

struct rendered {
  std::string body;
  int status = 200;
  keel::clock::steady_time at{};
};

}  // namespace

std::function<void(request&, response&)> health_endpoint(keel::health::registry& registry,
                                                         keel::health::view v,
                                                         health_endpoint_options o) {
  auto cache = std::make_shared<std::atomic<std::shared_ptr<const rendered>>>();
  return [&registry, v, o = std::move(o), cache](request&, response& res) {
    const auto now = o.clock->steady_now();
    auto r = cache->load(std::memory_order_acquire);
    if (!r || now - r->at >= o.render_interval) {
      const auto report = registry.run(v);
      r = std::make_shared<const rendered>(rendered{
          .body = report.to_health_json(o.service), .status = report.http_status(), .at = now});
      cache->store(r, std::memory_order_release);
    }
    res.set_body(r->body, keel::health::kHealthJsonContentType);
    res.set_status(r->status);
  };
}

}  // namespace keel::http
