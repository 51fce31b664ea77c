#include "service.hpp"

#include <sys/stat.h>

#include <filesystem>
#include <fstream>

#include "keel/alert/alerts_collector.hpp"
#include "keel/alert/pipeline_checks.hpp"
#include "keel/alert/receiver.hpp"
#include "keel/alert/resilient_delivery_policy.hpp"
#include "keel/core/ids.hpp"
#include "keel/core/version.hpp"
#include "keel/health/checks.hpp"
#include "keel/http/access_log.hpp"
#include "keel/http/bearer_auth.hpp"
#include "keel/http/connection_stats.hpp"
#include "keel/http/cors.hpp"
#include "keel/http/error_boundary.hpp"
#include "keel/http/http_metrics.hpp"
#include "keel/http/rate_limit.hpp"
#include "keel/http/request_context_middleware.hpp"
#include "keel/http/response_time.hpp"
#include "keel/http/security_headers.hpp"
#include "keel/log/backend.hpp"
#include "keel/log/log.hpp"
#include "keel/log/rotating_file_sink.hpp"
#include "keel/log/stream_sink.hpp"
#include "keel/metrics/process_collector.hpp"
#include "keel/reporting/resilience_log.hpp"
#include "keel/reporting/resilience_metrics.hpp"
#include "routes.hpp"
#include "targets.hpp"

namespace keeld {

using keel::log::kv;
using namespace std::chrono_literals;
namespace fs = std::filesystem;

namespace {

std::string hex_id() {
  char buf[32];
  keel::new_id128().to_hex(buf);
  return std::string(buf, sizeof buf);
}

// The admin token: KEEL_ADMIN_TOKEN, else <data_dir>/admin_token (0600),
// created with 256 random bits on first run and printed once.
std::string admin_token_for(const config& cfg, bool store_ok, keel::log::logger& log) {
  if (!cfg.admin_token.empty()) return cfg.admin_token;
  const fs::path file = cfg.data_dir / "admin_token";
  if (std::ifstream in(file); in) {
    std::string t;
    std::getline(in, t);
    if (t.size() >= 16) return t;
  }
  const std::string token = hex_id() + hex_id();  // 256 bits
  bool saved = false;
  if (store_ok) {
    const int fd = ::open(file.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd >= 0) {
      const std::string line = token + "\n";
      saved = ::write(fd, line.data(), line.size()) == static_cast<ssize_t>(line.size());
      ::close(fd);
    }
  }
  // Printed once, on stderr and not through the (redacting, shipped) log.
  std::fprintf(stderr,
               "keeld: admin token (%s): %s\n"
               "keeld: use it as: curl -H 'Authorization: Bearer <token>' ...\n",
               saved ? ("stored in " + file.string()).c_str() : "not stored: data dir unusable",
               token.c_str());
  log.info("admin token generated", kv("stored", saved));
  return token;
}

// Counters on `metrics` and log lines for every policy event. The names
// are keel's own, so registering them on a fresh registry cannot fail.
std::shared_ptr<keel::resilience::event_listener> resilience_listener(
    keel::metrics::registry& metrics) {
  return std::make_shared<keel::resilience::fanout_listener>(
      std::vector<std::shared_ptr<keel::resilience::event_listener>>{
          keel::reporting::resilience_metrics::create(metrics).value(),
          std::make_shared<keel::reporting::resilience_log>()});
}

}  // namespace

service::service(config cfg)
    : cfg_(std::move(cfg)),
      clock_(keel::clock::real()),
      random_(keel::random_source::thread_safe()),
      resilience_events_(resilience_listener(metrics_)),
      breakers_({.defaults = {.failure_rate_threshold = 0.6,
                              .window_size = 5,
                              .minimum_calls = 3,
                              .wait_in_open = 30s,
                              .permitted_calls_in_half_open = 1},
                 .listener = resilience_events_}) {}

service::~service() { stop(); }

keel::result<std::unique_ptr<service>> service::create(config cfg) {
  std::unique_ptr<service> s(new service(std::move(cfg)));
  if (auto r = s->build(); !r) return keel::fail(std::move(r.error()));
  return s;
}

keel::result<void> service::build() {
  // Logging first, so everything after can report. Files only when the data
  // directory is usable; stdout always (unless turned off).
  // The data directory before anything writes there: a second keeld on it
  // must leave no log line, token or file behind. One that cannot be made
  // now is not fatal (keeld starts degraded; the pipeline retries it).
  std::shared_ptr<keel::alert::data_dir_lock> lock;
  if (auto l = keel::alert::data_dir_lock::take(cfg_.data_dir)) {
    lock = std::move(*l);
  } else if (l.error() == keel::codes::conflict) {
    return keel::fail(std::move(l.error()));
  }
  // What works is kept: the token is saved when the data directory is
  // usable, even if its logs/ is not; the file sink makes logs/ itself
  // once it can, so file logging recovers without a restart.
  std::error_code ec;
  const bool data_ok = lock != nullptr;
  fs::create_directories(cfg_.data_dir / "logs", ec);
  const std::error_code logs_error = ec;
  keel::log::log_config lc{.service = cfg_.service_name,
                           .version = std::string(keel::version()),
                           .environment = cfg_.environment,
                           .default_level = cfg_.log_level,
                           .on_full = keel::log::queue_full_policy::drop};
  if (cfg_.log_stdout != log_output::off) {
    lc.sinks.push_back(keel::log::stream_sink::stdout_sink(
        {.format = cfg_.log_stdout == log_output::console ? keel::log::format::console
                                                          : keel::log::format::json}));
  }
  if (cfg_.log_files) {
    auto file = keel::log::rotating_file_sink::create(
        {.path = (cfg_.data_dir / "logs" / "keeld.log").string(),
         .max_bytes = cfg_.log_file_max_bytes,
         .max_files = cfg_.log_file_max_files,
         .create_directories = true});
    if (file) {
      log_file_ = *file;
      lc.sinks.push_back(std::move(*file));
    }
  }
  if (lc.sinks.empty()) lc.sinks.push_back(keel::log::stream_sink::stderr_sink());
  if (auto r = keel::log::configure(std::move(lc)); !r) return r;

  if (cfg_.log_files && logs_error) {
    log_.error("log files unavailable until the directory can be made; logging to stdout",
               kv("path", (cfg_.data_dir / "logs").string()), kv("error", logs_error.message()));
  }
  admin_token_ = admin_token_for(cfg_, data_ok, log_);

  // Metrics and health.
  if (auto r = metrics_.add_collector(std::make_shared<keel::metrics::process_collector>()); !r) {
    return r;
  }
  if (auto r = metrics_.add_collector(
          std::make_shared<keel::metrics::build_info_collector>(keel::metrics::build_info_options{
              .name = "keeld_build_info", .labels = {{"version", std::string(keel::version())}}}));
      !r) {
    return r;
  }
  if (auto r =
          metrics_.add_collector(std::make_shared<keel::reporting::breaker_collector>(breakers_));
      !r) {
    return r;
  }
  auto reloads = metrics_.add_counter({.name = "keeld_config_reloads_total",
                                       .help = "Configuration file reloads (SIGHUP), by outcome.",
                                       .labels = {"outcome"}});
  if (!reloads) return keel::fail(reloads.error());
  reloads_ = *reloads;
  auto last_ok = metrics_.add_gauge(
      {.name = "keeld_config_last_reload_successful",
       .help = "1 when the last reload applied the file (or none was tried), 0 when it failed."});
  if (!last_ok) return keel::fail(last_ok.error());
  last_reload_ok_ = *last_ok;
  last_reload_ok_->labels().set(1);
  health_ = std::make_unique<keel::health::registry>(
      keel::health::registry_options{.cache_interval = 1s, .metrics = &metrics_});

  // The alerting pipeline: events in, notifications out, with its store.
  metrics_source_ = std::make_unique<keel::alert::metrics_source>(metrics_);
  auto p = keel::alert::pipeline::create(
      clock_,
      keel::alert::pipeline_options{.data_dir = cfg_.data_dir,
                                    .self_service = cfg_.service_name,
                                    .evaluation_interval = cfg_.evaluation_interval,
                                    .dispatch_interval = cfg_.dispatch_interval,
                                    .retention = cfg_.retention,
                                    .audit_retention = cfg_.audit_retention,
                                    .idempotency_window = cfg_.idempotency_window,
                                    .delivery_max_attempts = cfg_.delivery_retry.max_attempts,
                                    .delivery_initial_delay = cfg_.delivery_retry.initial_delay,
                                    .delivery_max_delay = cfg_.delivery_retry.max_delay,
                                    .series = {metrics_source_.get()},
                                    .metrics = &metrics_,
                                    .breakers = &breakers_,
                                    .random = &random_,
                                    .lock = std::move(lock)},
      cfg_.alerting);
  if (!p) return keel::fail(std::move(p.error()));
  pipeline_ = std::move(*p);
  prober_ = std::make_unique<target_prober>(clock_, metrics_, breakers_, resilience_events_,
                                            cfg_.target_retry);
  prober_->set_targets(cfg_.targets);
  if (auto r = add_health_checks(data_ok); !r) return r;
  auto* svc = this;

  workers_ = std::make_unique<keel::http::worker_pool>(2);

  keel::http::router routes;
  add_routes(routes, *this);

  auto http_metrics = keel::http::http_metrics::create(metrics_, routes);
  if (!http_metrics) return keel::fail(std::move(http_metrics.error()));

  // The order, outermost first: context, access log, metrics (both
  // see the final status), error boundary, X-Response-Time, security
  // headers, CORS (outside the rate limit and the token, so a page can read
  // their refusals), rate limit, then the admin token.
  std::vector<keel::http::middleware_ptr> chain;
  chain.push_back(std::make_shared<keel::http::request_context_middleware>());
  if (cfg_.access_log) {
    // Probes and scrapes are logged at debug: a load balancer polling
    // /health every second must not drown the log.
    chain.push_back(std::make_shared<keel::http::access_log>(keel::http::access_log_options{
        .quiet_routes = {"/health", "/health/live", "/health/ready", "/metrics"}}));
  }
  chain.push_back(std::move(*http_metrics));
  chain.push_back(std::make_shared<keel::http::error_boundary>(keel::http::error_boundary_options{
      .report = [svc](const keel::http::exchange& ex, const keel::error& e) {
        svc->log_.error("request failed", kv("route", ex.req().route()), kv("error", e));
        // keeld's own 5xx are error events of its own, so its rules see them.
        svc->pipeline_->report(e, ex.req().route());
      }}));
  chain.push_back(std::make_shared<keel::http::response_time>());
  chain.push_back(std::make_shared<keel::http::security_headers>());
  chain.push_back(std::make_shared<keel::http::cors>(cfg_.cors));
  chain.push_back(std::make_shared<keel::http::rate_limit>(keel::http::rate_limit_options{
      .requests_per_second = cfg_.rate_limit_rps, .burst = cfg_.rate_limit_burst}));
  chain.push_back(std::make_shared<keel::http::bearer_auth>(keel::http::bearer_auth_options{
      .token = admin_token_, .realm = "keeld", .tag_mask = keel::http::route_tags::admin}));

  // Every connection is a descriptor: take what the hard limit allows
  // before the server sizes its cap on it.
  const keel::http::open_file_limit fds = keel::http::raise_open_file_limit();
  keel::http::server_config sc{.host = cfg_.listen_host,
                               .port = cfg_.listen_port,
                               .io_threads = cfg_.io_threads,
                               .max_body_bytes = cfg_.max_body_bytes,
                               .max_connections = cfg_.max_connections,
                               .on_overload = [svc](const keel::error& e) {
                                 svc->log_.warn("connections turned away", kv("error", e));
                               }};
  if (!cfg_.tls_certificate.empty()) {
    sc.tls = keel::http::tls_config{.certificate_chain_file = cfg_.tls_certificate,
                                    .private_key_file = cfg_.tls_private_key};
  }
  auto srv = keel::http::server::create(std::move(sc), std::move(routes), std::move(chain));
  if (!srv) return keel::fail(std::move(srv.error()));
  server_ = std::move(*srv);
  if (fds.soft != fds.was_soft) {
    log_.info("open-file limit raised to the hard limit", kv("from", fds.was_soft),
              kv("to", fds.soft));
  }
  if (server_->max_connections() < cfg_.max_connections) {
    log_.warn("max_connections capped by the open-file limit (RLIMIT_NOFILE)",
              kv("configured", cfg_.max_connections),
              kv("max_connections", server_->max_connections()), kv("open_file_limit", fds.soft),
              kv("hard_limit", fds.hard));
  }
  if (auto r = metrics_.add_collector(
          std::make_shared<keel::http::connection_collector>(server_->counters()));
      !r) {
    return keel::fail(std::move(r.error()));
  }
  if (auto r =
          health_->add({.name = "connections", .component_type = "component", .critical = false},
                       keel::http::connection_check(server_->counters()));
      !r) {
    return keel::fail(std::move(r.error()));
  }
  return {};
}

keel::result<void> service::add_health_checks(bool data_ok) {
  if (auto r = keel::alert::add_pipeline_checks(*health_, *pipeline_); !r) return r;
  auto add = [&](keel::health::check_options o, keel::health::check_fn f) -> keel::result<void> {
    if (auto r = health_->add(std::move(o), std::move(f)); !r) return keel::fail(r.error());
    return {};
  };
  if (auto r = add({.name = "disk", .component_type = "system", .critical = false},
                   keel::health::disk_space_check(
                       data_ok ? cfg_.data_dir.string() : std::string("."),
                       {.fail_below_bytes = 64ull << 20, .warn_below_bytes = 512ull << 20}));
      !r)
    return r;
  if (log_file_) {
    // A log file that cannot be written is a warning, naming why, until a
    // write succeeds again (the lines still reach stdout).
    if (auto r = add({.name = "log_files", .component_type = "component", .critical = false},
                     [file = log_file_](const keel::health::check_context&) {
                       const int err = file->stats().last_error.load(std::memory_order_relaxed);
                       if (err == 0) return keel::health::check_result::pass();
                       return keel::health::check_result::warn(
                           file->path() + ": " +
                           std::error_code(err, std::generic_category()).message());
                     });
        !r)
      return r;
  }
  return add({.name = "targets", .component_type = "component", .critical = true},
             [svc = this](const keel::health::check_context&) { return svc->prober_->health(); });
}

keel::result<void> service::reload(const keel::result<config>& next) {
  auto applied = [&]() -> keel::result<void> {
    if (!next) return keel::fail(next.error());
    if (auto r = pipeline_->reconfigure(next->alerting); !r) return r;
    prober_->set_targets(next->targets);
    return {};
  }();
  if (!applied) {
    reloads_->labels("error").inc();
    last_reload_ok_->labels().set(0);
    log_.error("configuration not reloaded: the running one stays", kv("error", applied.error()));
    pipeline_->report(applied.error(), "configuration reload");
    return applied;
  }
  const auto restart = restart_needed(cfg_, *next);
  cfg_.alerting = next->alerting;
  cfg_.targets = next->targets;
  reloads_->labels("ok").inc();
  last_reload_ok_->labels().set(1);
  log_.info("configuration reloaded", kv("rules", pipeline_->rules().rule_count()),
            kv("receivers", next->alerting.receivers.size()), kv("targets", next->targets.size()));
  if (!restart.empty()) {
    std::string names;
    for (const auto& n : restart) {
      if (!names.empty()) names += ", ";
      names += n;
    }
    log_.warn("configuration reloaded; these settings changed and take effect only at restart",
              kv("restart_needed", names));
  }
  return {};
}

void service::start() {
  if (started_.exchange(true)) return;
  server_->start();
  prober_->start();
  pipeline_->start();
  health_->mark_started();
  log_.info("keeld listening", kv("host", cfg_.listen_host), kv("port", port()),
            kv("io_threads", cfg_.io_threads));
}

void service::stop() {
  if (!started_ || stopped_.exchange(true)) return;
  log_.info("keeld stopping", kv("grace_ms", cfg_.shutdown_grace.count()));
  server_->stop(cfg_.shutdown_grace);
  prober_->stop();
  workers_->join();
  pipeline_->stop();  // flushes the store
  log_.info("keeld stopped");
  keel::log::flush();
}

std::uint16_t service::port() const noexcept { return server_ ? server_->port() : 0; }

void service::audit(std::string_view action, std::string_view resource,
                    nlohmann::ordered_json details) {
  const auto ctx = keel::current_context();
  pipeline_->audit("admin", action, resource, ctx ? ctx->request_id.view() : std::string_view{},
                   std::move(details));
}

nlohmann::json service::target_states() const { return prober_->states(); }

}  // namespace keeld
