#include "keel/http/http_metrics.hpp"

#include <algorithm>
#include <charconv>
#include <chrono>
#include <utility>

#include "keel/core/error.hpp"

namespace keel::http {

http_metrics::http_metrics(tag, metrics::counter_family* requests,
                           metrics::histogram_family* duration, metrics::gauge* in_flight)
    : requests_(requests), duration_(duration), in_flight_(in_flight) {}

result<std::shared_ptr<http_metrics>> http_metrics::create(metrics::registry& registry,
                                                           const router& routes,
                                                           http_metrics_options options) {
  auto requests =
      registry.add_counter({.name = std::move(options.requests_name),
                            .help = "HTTP requests served, by method, route pattern and status.",
                            .labels = {"method", "route", "status"}});
  if (!requests) return fail(requests.error());
  auto duration =
      registry.add_histogram({.name = std::move(options.duration_name),
                              .help = "Time from a request's first byte to its response, seconds.",
                              .labels = {"route"},
                              .buckets = std::move(options.buckets)});
  if (!duration) return fail(duration.error());
  auto in_flight = registry.add_gauge(
      {.name = std::move(options.in_flight_name), .help = "HTTP requests being served."});
  if (!in_flight) return fail(in_flight.error());
  auto gauge = (*in_flight)->try_labels(std::initializer_list<std::string_view>{});
  if (!gauge) return fail(gauge.error());

  auto self = std::make_shared<http_metrics>(tag{}, *requests, *duration, *gauge);
  const std::size_t n = routes.pattern_count();
  self->pattern_count_ = n;
  self->entries_ = std::make_unique<route_entry[]>(n + 1);
  for (std::size_t i = 0; i <= n; ++i) {
    route_entry& e = self->entries_[i];
    e.label = i < n ? std::string(routes.pattern(i)) : std::string(unmatched_route);
    auto child = (*duration)->try_labels({std::string_view(e.label)});
    if (!child) return fail(child.error());
    e.duration = *child;
  }
  return self;
}

result<next_step> http_metrics::before(exchange&) {
  in_flight_->inc();
  return next_step::proceed;
}

metrics::counter* http_metrics::counter_for(route_entry& e, std::string_view route, method m,
                                            int status) {
  const auto mi = static_cast<std::uint32_t>(m);
  const auto si = static_cast<std::uint32_t>(status);
  const std::uint32_t key = ((mi + 1) << 16) | si;
  metrics::counter* resolved = nullptr;
  const auto resolve = [&]() -> metrics::counter* {
    if (resolved == nullptr) {
      char buf[8];
      const auto end = std::to_chars(buf, buf + sizeof buf, status).ptr;
      const std::string_view status_text(buf, static_cast<std::size_t>(end - buf));
      auto c = requests_->try_labels({to_string(m), route, status_text});
      if (c) resolved = *c;
    }
    return resolved;
  };

  const std::size_t start = (si * 31u + mi * 7u) & (table_size - 1);
  for (std::size_t i = 0; i < table_size; ++i) {
    slot& s = e.counters[(start + i) & (table_size - 1)];
    std::uint32_t k = s.key.load(std::memory_order_acquire);
    if (k == 0) {
      // First request with this pair on this route: resolve the child (the
      // family's lock, once), then claim the slot and publish it.
      if (resolve() == nullptr) return nullptr;
      if (s.key.compare_exchange_strong(k, key, std::memory_order_acq_rel)) {
        s.counter.store(resolved, std::memory_order_release);
        return resolved;
      }
      // Another thread claimed the slot meanwhile; k is now its key.
    }
    if (k == key) {
      if (auto* c = s.counter.load(std::memory_order_acquire)) return c;
      // Claimed but not yet published by the other thread.
      slow_lookups_.fetch_add(1, std::memory_order_relaxed);
      return resolve();
    }
  }
  // Table full: more (method, status) pairs on this route than slots.
  slow_lookups_.fetch_add(1, std::memory_order_relaxed);
  return resolve();
}

void http_metrics::after(exchange& ex) {
  in_flight_->dec();
  const request& req = ex.req();
  const int status = final_status(ex);
  const double seconds =
      std::max(0.0, std::chrono::duration<double>(ex.clock().steady_now() - ex.start()).count());

  const std::size_t idx = req.route_index();
  route_entry* e = nullptr;
  if (idx == request::no_route || req.route().empty()) {
    e = &entries_[pattern_count_];
  } else if (idx < pattern_count_ && entries_[idx].label == req.route()) {
    e = &entries_[idx];
  }
  if (e != nullptr) [[likely]] {
    e->duration->observe(seconds);
    if (metrics::counter* c = counter_for(*e, e->label, req.verb(), status)) c->inc();
    return;
  }

  // The request was routed by another router than the one given to create().
  slow_lookups_.fetch_add(1, std::memory_order_relaxed);
  if (auto h = duration_->try_labels({req.route()})) (*h)->observe(seconds);
  route_entry scratch;
  if (metrics::counter* c = counter_for(scratch, req.route(), req.verb(), status)) c->inc();
}

}  // namespace keel::http
