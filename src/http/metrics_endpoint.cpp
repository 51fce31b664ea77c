#include "keel/http/metrics_endpoint.hpp"

#include "keel/metrics/exposition.hpp"

namespace keel::http {

std::function<void(request&, response&)> metrics_endpoint(const keel::metrics::collector& c) {
  return [&c](request& req, response& res) {
    const auto n = keel::metrics::negotiate(req.header("accept").value_or(""));
    auto& body = res.body();
    body.clear();
    keel::metrics::expose(c, n.fmt, body);
    res.set_header("Content-Type", n.content_type);
  };
}

}  // namespace keel::http
