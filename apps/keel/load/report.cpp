#include "load/report.hpp"

#include <fmt/format.h>

#include "keel/core/json_writer.hpp"

namespace keel::cli::load {

std::string format_ns(std::uint64_t ns) {
  const double v = static_cast<double>(ns);
  if (ns < 1'000) return fmt::format("{}ns", ns);
  if (ns < 1'000'000) return fmt::format("{:.1f}us", v / 1e3);
  if (ns < 1'000'000'000) return fmt::format("{:.2f}ms", v / 1e6);
  return fmt::format("{:.2f}s", v / 1e9);
}

namespace {

std::string latency_line(const latency_histogram& h) {
  return fmt::format("p50 {}  p90 {}  p99 {}  p99.9 {}  max {}", format_ns(h.percentile(50)),
                     format_ns(h.percentile(90)), format_ns(h.percentile(99)),
                     format_ns(h.percentile(99.9)), format_ns(h.max()));
}

void latency_json(json_writer& w, const latency_histogram& h) {
  w.begin_object();
  w.key("p50_ms");
  w.value(static_cast<double>(h.percentile(50)) / 1e6);
  w.key("p90_ms");
  w.value(static_cast<double>(h.percentile(90)) / 1e6);
  w.key("p99_ms");
  w.value(static_cast<double>(h.percentile(99)) / 1e6);
  w.key("p99_9_ms");
  w.value(static_cast<double>(h.percentile(99.9)) / 1e6);
  w.key("max_ms");
  w.value(static_cast<double>(h.max()) / 1e6);
  w.key("mean_ms");
  w.value(h.mean() / 1e6);
  w.end_object();
}

}  // namespace

std::string render_text(const load_report& r) {
  std::string out;
  auto it = std::back_inserter(out);
  const double seconds = std::chrono::duration<double>(r.elapsed).count();
  fmt::format_to(it, "\nLoad Test Results: {} ({} connections, {} threads{})\n", r.target,
                 r.concurrency, r.threads,
                 r.rate > 0 ? fmt::format(", open loop at {:.0f} req/s", r.rate) : "");
  fmt::format_to(it, "Total Requests: {}\n", r.total);
  fmt::format_to(it, "Successful: {}\n", r.successful);
  fmt::format_to(it, "Failed: {}\n", r.failed);
  fmt::format_to(it, "Success Rate: {:.1f}%\n", r.success_rate() * 100.0);
  fmt::format_to(it, "Total Duration: {:.2f}s\n", seconds);
  fmt::format_to(it, "Requests/Second: {:.2f}\n", r.requests_per_second());
  fmt::format_to(it, "Latency: {}\n", latency_line(r.latency));
  out += "Status codes:";
  for (const auto& [code, n] : r.status_counts) {
    if (code == 0) {
      fmt::format_to(it, "  no response: {}", n);
    } else {
      fmt::format_to(it, "  {}: {}", code, n);
    }
  }
  out += '\n';
  if (!r.errors.empty()) {
    out += "Errors:";
    for (const auto& [kind, n] : r.errors)
      fmt::format_to(it, "  {}: {}", kind, n);
    out += '\n';
  }
  std::size_t width = 8;
  for (const auto& e : r.endpoints)
    width = std::max(width, e.name.size());
  fmt::format_to(it, "\n{:<{}}  {:>9}  {:>9}  {:>7}  {:>9}  {:>9}  {:>9}\n", "Endpoint", width,
                 "requests", "failed", "share", "p50", "p99", "max");
  for (const auto& e : r.endpoints) {
    const double share =
        r.total ? 100.0 * static_cast<double>(e.requests) / static_cast<double>(r.total) : 0.0;
    fmt::format_to(it, "{:<{}}  {:>9}  {:>9}  {:>6.1f}%  {:>9}  {:>9}  {:>9}\n", e.name, width,
                   e.requests, e.failed, share, format_ns(e.latency.percentile(50)),
                   format_ns(e.latency.percentile(99)), format_ns(e.latency.max()));
  }
  return out;
}

std::string render_json(const load_report& r) {
  std::string out;
  json_writer w(out);
  w.begin_object();
  w.key("target");
  w.value(r.target);
  w.key("concurrency");
  w.value(r.concurrency);
  w.key("threads");
  w.value(r.threads);
  w.key("rate");
  w.value(r.rate);
  w.key("total");
  w.value(r.total);
  w.key("successful");
  w.value(r.successful);
  w.key("failed");
  w.value(r.failed);
  w.key("success_rate");
  w.value(r.success_rate());
  w.key("duration_s");
  w.value(std::chrono::duration<double>(r.elapsed).count());
  w.key("requests_per_second");
  w.value(r.requests_per_second());
  w.key("latency");
  latency_json(w, r.latency);
  w.key("status_counts");
  w.begin_object();
  for (const auto& [code, n] : r.status_counts) {
    w.key(code == 0 ? std::string("none") : std::to_string(code));
    w.value(n);
  }
  w.end_object();
  w.key("errors");
  w.begin_object();
  for (const auto& [kind, n] : r.errors) {
    w.key(kind);
    w.value(n);
  }
  w.end_object();
  w.key("retried_idle_closes");
  w.value(r.retried_idle_closes);
  w.key("endpoints");
  w.begin_array();
  for (const auto& e : r.endpoints) {
    w.begin_object();
    w.key("name");
    w.value(e.name);
    w.key("requests");
    w.value(e.requests);
    w.key("successful");
    w.value(e.successful);
    w.key("failed");
    w.value(e.failed);
    w.key("latency");
    latency_json(w, e.latency);
    w.end_object();
  }
  w.end_array();
  w.end_object();
  return out;
}

}  // namespace keel::cli::load
