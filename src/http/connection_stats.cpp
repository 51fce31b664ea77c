#include "keel/http/connection_stats.hpp"

#include <memory>
#include <mutex>

namespace keel::http {
namespace {

std::string counted(std::uint64_t n, std::string_view what) {
  return std::to_string(n) + " " + std::string(what) + (n == 1 ? "" : "s");
}

}  // namespace

std::vector<std::string> connection_collector::describe() const {
  return {"keel_http_connections_open",     "keel_http_connections_max",
          "keel_http_connections_accepted", "keel_http_connections_shed",
          "keel_http_connections_rejected", "keel_http_accept_failures"};
}

void connection_collector::collect(keel::metrics::metric_sink& out) const {
  using keel::metrics::metric_type;
  const server_stats s = counters_->load();
  const auto one = [&](std::string_view name, std::string_view help, metric_type type,
                       double value) {
    out.begin_family({.name = name, .help = help, .type = type});
    out.sample("", value);
    out.end_family();
  };
  one("keel_http_connections_open", "HTTP connections open now.", metric_type::gauge,
      static_cast<double>(s.open_connections));
  one("keel_http_connections_max",
      "The connection cap in force: max_connections, or less when the open-file limit leaves "
      "less.",
      metric_type::gauge, static_cast<double>(s.max_connections));
  one("keel_http_connections_accepted", "HTTP connections accepted.", metric_type::counter,
      static_cast<double>(s.accepted));
  one("keel_http_connections_shed",
      "Idle keep-alive connections closed to admit another at the cap or out of descriptors.",
      metric_type::counter, static_cast<double>(s.shed_idle));
  one("keel_http_connections_rejected",
      "Connections answered 503 at the cap because none was idle.", metric_type::counter,
      static_cast<double>(s.rejected_busy));
  one("keel_http_accept_failures", "accept() failures (EMFILE, ENFILE, ENOBUFS...).",
      metric_type::counter, static_cast<double>(s.accept_failures));
}

keel::health::check_fn connection_check(std::shared_ptr<const connection_counters> counters,
                                        std::chrono::milliseconds window) {
  struct seen {
    std::mutex mutex;
    std::uint64_t rejected = 0;
    std::uint64_t failures = 0;
    std::uint64_t rejected_in_window = 0;
    std::uint64_t failures_in_window = 0;
    keel::clock::steady_time last_trouble{};
    bool troubled = false;
  };
  return [counters = std::move(counters), window,
          state = std::make_shared<seen>()](const keel::health::check_context& ctx) {
    const server_stats s = counters->load();
    const auto now = ctx.clock->steady_now();
    std::lock_guard lock(state->mutex);
    const std::uint64_t new_rejected = s.rejected_busy - state->rejected;
    const std::uint64_t new_failures = s.accept_failures - state->failures;
    state->rejected = s.rejected_busy;
    state->failures = s.accept_failures;
    if (new_rejected + new_failures > 0) {
      if (!state->troubled || now - state->last_trouble >= window) {
        state->rejected_in_window = state->failures_in_window = 0;
      }
      state->rejected_in_window += new_rejected;
      state->failures_in_window += new_failures;
      state->last_trouble = now;
      state->troubled = true;
    }
    const double open = static_cast<double>(s.open_connections);
    if (!state->troubled || now - state->last_trouble >= window) {
      state->troubled = false;
      return keel::health::check_result::pass(open, "connections");
    }
    std::string why;
    if (state->rejected_in_window > 0) {
      why = counted(state->rejected_in_window, "connection") + " refused with 503 at the cap of " +
            std::to_string(s.max_connections);
    }
    if (state->failures_in_window > 0) {
      if (!why.empty()) why += "; ";
      why += counted(state->failures_in_window, "accept() failure") + " (out of file descriptors?)";
    }
    return keel::health::check_result::warn(std::move(why), open, "connections");
  };
}

}  // namespace keel::http
