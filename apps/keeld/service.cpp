#include "service.hpp"

#include <sys/stat.h>

#include <filesystem>
#include <fstream>

#include "keel/alert/alerts_collector.hpp"
#include "keel/alert/receiver.hpp"
#include "keel/alert/resilient_delivery_policy.hpp"
#include "keel/core/ids.hpp"
#include "keel/health/checks.hpp"
#include "keel/http/access_log.hpp"
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

constexpr std::string_view kVersion = "0.1.0";

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
  std::error_code ec;
  fs::create_directories(cfg_.data_dir / "logs", ec);
  const bool dir_ok = !ec;
  keel::log::log_config lc{.service = cfg_.service_name,
                           .version = std::string(kVersion),
                           .environment = cfg_.environment,
                           .default_level = cfg_.log_level,
                           .on_full = keel::log::queue_full_policy::drop};
  if (cfg_.log_stdout != log_output::off) {
    lc.sinks.push_back(keel::log::stream_sink::stdout_sink(
        {.format = cfg_.log_stdout == log_output::console ? keel::log::format::console
                                                          : keel::log::format::json}));
  }
  if (cfg_.log_files && dir_ok) {
    auto file = keel::log::rotating_file_sink::create(
        {.path = (cfg_.data_dir / "logs" / "keeld.log").string(),
         .max_bytes = cfg_.log_file_max_bytes,
         .max_files = cfg_.log_file_max_files});
    if (file) lc.sinks.push_back(std::move(*file));
  }
  if (lc.sinks.empty()) lc.sinks.push_back(keel::log::stream_sink::stderr_sink());
  if (auto r = keel::log::configure(std::move(lc)); !r) return r;

  admin_token_ = admin_token_for(cfg_, dir_ok, log_);

  // Metrics and health.
  if (auto r = metrics_.add_collector(std::make_shared<keel::metrics::process_collector>()); !r) {
    return r;
  }
  if (auto r = metrics_.add_collector(
          std::make_shared<keel::metrics::build_info_collector>(keel::metrics::build_info_options{
              .name = "keeld_build_info", .labels = {{"version", std::string(kVersion)}}}));
      !r) {
    return r;
  }
  if (auto r =
          metrics_.add_collector(std::make_shared<keel::reporting::breaker_collector>(breakers_));
      !r) {
    return r;
  }
  health_ = std::make_unique<keel::health::registry>(
      keel::health::registry_options{.cache_interval = 1s, .metrics = &metrics_});

  // Alerting state. The store may fail to open: keeld then runs degraded.
  tracker_ = std::make_unique<keel::alert::error_tracker>(clock_, keel::alert::tracker_options{},
                                                          &store_sink_);
  if (auto r = open_store(); !r) {
    log_.error("store unavailable, starting degraded; retrying every second",
               kv("error", r.error()));
  }
  metrics_source_ = std::make_unique<keel::alert::metrics_source>(metrics_);
  engine_ = std::make_unique<keel::alert::rule_engine>(
      std::vector<const keel::alert::series_source*>{&tracker_->series(), metrics_source_.get()},
      clock_, keel::alert::engine_options{.interval = cfg_.evaluation_interval});
  if (auto r = metrics_.add_collector(std::make_shared<keel::alert::alerts_collector>(*engine_));
      !r) {
    return r;
  }
  delivery_metrics_ = std::make_shared<keel::alert::delivery_collector>(clock_);
  if (auto r = metrics_.add_collector(delivery_metrics_); !r) return r;
  dispatcher_ = std::make_unique<keel::alert::dispatcher>(
      cfg_.alerting.root.value_or(keel::alert::route{.receiver = ""}), clock_);
  // The incident policy (escalation, on_open) is read once, at start: a
  // reload does not move open incidents between policies.
  keel::alert::incident_options io;
  io.ack_timeout = cfg_.alerting.incidents.ack_timeout;
  io.escalation = cfg_.alerting.incidents.escalation;
  io.on_open = cfg_.alerting.incidents.on_open;
  io.breaker_opener = [this](std::string_view name) -> keel::result<void> {
    auto b = breakers_.find(name);
    if (!b) return keel::fail(keel::codes::resource_not_found, "no breaker " + std::string(name));
    b->force_open();
    return {};
  };
  incidents_ = std::make_unique<keel::alert::incident_manager>(clock_, std::move(io));
  sync_silences();
  if (auto r = reload(cfg_); !r) return r;

  auto* svc = this;
  health_
      ->add({.name = "store", .component_type = "datastore", .critical = false},
            [svc](const keel::health::check_context&) {
              auto d = svc->store();
              if (!d) return keel::health::check_result::fail("store not open (degraded)");
              return keel::health::check_result::pass();
            })
      .value();
  health_
      ->add({.name = "disk", .component_type = "system", .critical = false},
            keel::health::disk_space_check(
                dir_ok ? cfg_.data_dir.string() : std::string("."),
                {.fail_below_bytes = 64ull << 20, .warn_below_bytes = 512ull << 20}))
      .value();
  health_
      ->add({.name = "targets", .component_type = "component", .critical = true},
            [svc](const keel::health::check_context&) { return svc->prober_->health(); })
      .value();
  health_
      ->add({.name = "alert_loop",
             .component_type = "component",
             .probes = keel::health::probe::liveness | keel::health::probe::readiness},
            [svc](const keel::health::check_context&) {
              return svc->loop_thread_.joinable() || !svc->started_
                         ? keel::health::check_result::pass()
                         : keel::health::check_result::fail("alert loop not running");
            })
      .value();

  workers_ = std::make_unique<keel::http::worker_pool>(2);

  keel::http::router routes;
  add_routes(routes, *this);

  auto http_metrics = keel::http::http_metrics::create(metrics_, routes);
  if (!http_metrics) return keel::fail(std::move(http_metrics.error()));

  // The order, outermost first: context, access log, metrics (both
  // see the final status), error boundary, X-Response-Time, security
  // headers, rate limit, then the admin token.
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
      }}));
  chain.push_back(std::make_shared<keel::http::response_time>());
  chain.push_back(std::make_shared<keel::http::security_headers>());
  chain.push_back(std::make_shared<keel::http::rate_limit>(keel::http::rate_limit_options{
      .requests_per_second = cfg_.rate_limit_rps, .burst = cfg_.rate_limit_burst}));
  chain.push_back(make_admin_auth(*this));

  keel::http::server_config sc{.host = cfg_.listen_host,
                               .port = cfg_.listen_port,
                               .io_threads = cfg_.io_threads,
                               .max_body_bytes = cfg_.max_body_bytes,
                               .max_connections = cfg_.max_connections};
  if (!cfg_.tls_certificate.empty()) {
    sc.tls = keel::http::tls_config{.certificate_chain_file = cfg_.tls_certificate,
                                    .private_key_file = cfg_.tls_private_key};
  }
  auto srv = keel::http::server::create(std::move(sc), std::move(routes), std::move(chain));
  if (!srv) return keel::fail(std::move(srv.error()));
  server_ = std::move(*srv);
  return {};
}

void service::sync_silences() {
  auto d = store();
  if (!d || !dispatcher_) return;
  // The dispatcher forgets a silence an hour after it ends; so does the store.
  auto saved = d->store->load_silences(clock_.system_now() - 1h);
  if (!saved) {
    log_.error("silences not loaded from the store", kv("error", saved.error()));
    return;
  }
  auto known = dispatcher_->silences();
  for (auto& s : *saved) {
    const bool have = std::any_of(known.begin(), known.end(),
                                  [&](const keel::alert::silence& k) { return k.id == s.id; });
    if (have) continue;
    if (auto r = dispatcher_->add_silence(s); !r) {
      log_.error("saved silence not restored", kv("silence", s.id), kv("error", r.error()));
    }
  }
  for (const auto& s : known) {
    if (auto r = d->store->save_silence(s); !r) {
      log_.error("silence not saved", kv("silence", s.id), kv("error", r.error()));
    }
  }
  if (!saved->empty()) log_.info("silences restored", kv("count", saved->size()));
}

keel::result<std::string> service::add_silence(keel::alert::silence s) {
  auto id = dispatcher_->add_silence(s);
  if (!id) return id;
  s.id = *id;
  // While degraded the silence lives in memory; sync_silences saves it when
  // the store opens. A save that fails is reported, never silently dropped.
  if (auto d = store()) {
    if (auto r = d->store->save_silence(s); !r) {
      log_.error("silence not saved: it ends at the next restart", kv("silence", s.id),
                 kv("error", r.error()));
    }
  }
  return id;
}

keel::result<void> service::expire_silence(std::string_view id) {
  if (auto r = dispatcher_->expire_silence(id); !r) return r;
  auto d = store();
  if (!d) return {};
  for (const auto& s : dispatcher_->silences()) {
    if (s.id != id) continue;
    if (auto r = d->store->save_silence(s); !r) {
      log_.error("expired silence not saved: it returns at the next restart", kv("silence", s.id),
                 kv("error", r.error()));
    }
  }
  return {};
}

keel::result<void> service::open_store() {
  auto st = keel::alert::store::open({.data_dir = cfg_.data_dir}, clock_);
  if (!st) return keel::fail(std::move(st.error()));
  auto groups = (*st)->load_groups();
  if (!groups) return keel::fail(std::move(groups.error()));
  for (const auto& g : *groups)
    tracker_->restore(g);
  auto d = std::make_shared<durable>();
  d->store = std::move(*st);
  d->outbox = std::make_unique<keel::alert::outbox>(*d->store);
  d->audit = std::make_unique<keel::alert::audit_log>(*d->store);
  std::atomic_store(&durable_, d);
  log_.info("store open", kv("path", d->store->path().string()), kv("groups", groups->size()));
  if (dispatcher_) sync_silences();  // a reopen after a degraded start
  std::lock_guard lock(delivery_mu_);
  restart_delivery_locked();
  return {};
}

void service::restart_delivery_locked() {
  if (delivery_metrics_) delivery_metrics_->bind(nullptr, nullptr);  // before the worker goes
  if (delivery_) delivery_->stop();
  delivery_.reset();
  notifier_.reset();
  auto d = store();
  if (!d || receivers_.empty()) return;
  if (!transport_) transport_ = std::make_unique<keel::alert::curl_transport>();
  if (!policy_) {
    // A circuit breaker per receiver (in the service's registry, so the
    // admin API lists and resets them) and jittered exponential backoff.
    keel::alert::resilient_delivery_options options;
    options.max_attempts = 20;  // then a dead letter, kept for an operator to requeue
    policy_ = std::make_unique<keel::alert::resilient_delivery_policy>(breakers_, random_,
                                                                       std::move(options));
  }
  notifier_ = std::make_unique<keel::alert::notifier>(*d->outbox, receivers_, clock_);
  delivery_ = std::make_unique<keel::alert::delivery_worker>(*d->outbox, *transport_, *policy_,
                                                             clock_, receivers_);
  if (started_) delivery_->start();
}

keel::result<void> service::reload(const config& cfg) {
  // Validate everything before changing anything.
  for (const auto& r : cfg.alerting.rules) {
    if (auto c = keel::alert::compile(r); !c) return keel::fail(std::move(c.error()));
  }
  std::vector<std::string> old_names;
  for (const auto& r : engine_->rules())
    old_names.push_back(r.name);
  for (const auto& r : cfg.alerting.rules) {
    if (auto u = engine_->upsert(r); !u) return u;
  }
  for (const auto& n : old_names) {
    const bool kept = std::any_of(cfg.alerting.rules.begin(), cfg.alerting.rules.end(),
                                  [&](const auto& r) { return r.name == n; });
    if (!kept) (void)engine_->remove(n);
  }
  if (cfg.alerting.root) {
    if (auto r = dispatcher_->set_route(*cfg.alerting.root); !r) return r;
  }
  dispatcher_->set_inhibit_rules(cfg.alerting.inhibit_rules);
  {
    std::lock_guard lock(delivery_mu_);
    receivers_ = cfg.alerting.receivers;
    restart_delivery_locked();
  }
  if (!prober_)
    prober_ = std::make_unique<target_prober>(clock_, metrics_, breakers_, resilience_events_);
  prober_->set_targets(cfg.targets);
  cfg_.alerting = cfg.alerting;
  cfg_.targets = cfg.targets;
  log_.info("configuration loaded", kv("rules", engine_->rule_count()),
            kv("receivers", cfg.alerting.receivers.size()), kv("targets", cfg.targets.size()));
  return {};
}

void service::start() {
  if (started_.exchange(true)) return;
  server_->start();
  prober_->start();
  {
    std::lock_guard lock(delivery_mu_);
    if (delivery_) delivery_->start();
  }
  loop_thread_ = std::thread([this] { loop(); });
  health_->mark_started();
  log_.info("keeld listening", kv("host", cfg_.listen_host), kv("port", port()),
            kv("io_threads", cfg_.io_threads));
}

void service::stop() {
  if (!started_ || stopped_.exchange(true)) return;
  log_.info("keeld stopping", kv("grace_ms", cfg_.shutdown_grace.count()));
  server_->stop(cfg_.shutdown_grace);
  {
    std::lock_guard lock(loop_mu_);
    stopping_ = true;
  }
  loop_cv_.notify_all();
  if (loop_thread_.joinable()) loop_thread_.join();
  prober_->stop();
  {
    std::lock_guard lock(delivery_mu_);
    if (delivery_) delivery_->stop();
  }
  workers_->join();
  if (auto d = store()) {
    if (auto r = d->store->flush(); !r) log_.error("final flush failed", kv("error", r.error()));
  }
  log_.info("keeld stopped");
  keel::log::flush();
}

std::uint16_t service::port() const noexcept { return server_ ? server_->port() : 0; }

void service::loop() {
  // Three periodic duties on one thread, each on its own period: rule
  // evaluation, dispatching (grouping timers, notifications) and the store's
  // flush or, while degraded, its reopening.
  const auto t0 = clock_.steady_now();
  auto next_eval = t0 + cfg_.evaluation_interval;
  auto next_dispatch = t0 + cfg_.dispatch_interval;
  auto next_flush = t0 + 1s;
  std::unique_lock lock(loop_mu_);
  while (!stopping_) {
    lock.unlock();
    const auto now = clock_.steady_now();
    if (now >= next_eval) {
      evaluate_once();
      next_eval = now + cfg_.evaluation_interval;
    }
    if (now >= next_dispatch) {
      dispatch_once();
      next_dispatch = now + cfg_.dispatch_interval;
    }
    if (now >= next_flush) {
      next_flush = now + 1s;
      if (auto d = store()) {
        if (auto r = d->store->flush(); !r)
          log_.error("store flush failed", kv("error", r.error()));
      } else if (auto r = open_store(); r) {
        log_.info("store recovered: no longer degraded");
      }
    }
    const auto wake = std::min({next_eval, next_dispatch, next_flush});
    lock.lock();
    loop_cv_.wait_for(lock, wake - clock_.steady_now(), [this] { return stopping_; });
  }
}

void service::evaluate_once() {
  keel::alert::evaluation ev;
  engine_->evaluate(ev);
  for (const auto& a : ev.fired) {
    log_.warn("alert firing", kv("alertname", a.rule), kv("value", a.value),
              kv("labels", a.labels.to_string()));
    (void)dispatcher_->put(a);
    send_incident_notices(incidents_->on_alert(a));
  }
  for (const auto& a : ev.resolved) {
    log_.info("alert resolved", kv("alertname", a.rule), kv("labels", a.labels.to_string()));
    (void)dispatcher_->put(a);
  }
  send_incident_notices(incidents_->tick());
}

void service::send_incident_notices(const std::vector<keel::alert::incident_notice>& notices) {
  if (notices.empty()) return;
  std::lock_guard lock(delivery_mu_);
  for (const auto& notice : notices) {
    const auto inc = incidents_->get(notice.incident_id);
    if (!inc) continue;
    log_.warn("incident notice", kv("incident", inc->id), kv("reason", notice.reason),
              kv("receiver", notice.receiver));
    if (!notifier_) {
      log_.error("incident notice not sent: store unavailable (degraded)", kv("incident", inc->id),
                 kv("receiver", notice.receiver));
      continue;
    }
    // An incident reads as one firing alert to every receiver kind; its id
    // and the escalation level keep each notice distinct and each retry of
    // one notice deduplicated.
    keel::alert::alert a;
    a.rule = "Incident";
    a.labels = keel::alert::label_set{{"alertname", "Incident"},
                                      {"incident", inc->id},
                                      {"key", inc->key},
                                      {"reason", notice.reason},
                                      {"service", cfg_.service_name}};
    a.annotations =
        keel::alert::label_set{{"summary", inc->title},
                               {"description", "incident " + inc->id + " " + notice.reason +
                                                   "; acknowledge with POST /api/v1/incidents/" +
                                                   inc->id + "/acknowledge"}};
    a.state = keel::alert::alert_state::firing;
    a.active_since = inc->opened_at;
    a.fired_at = clock_.system_now();
    keel::alert::notification n{
        .receiver = notice.receiver,
        .group_key = "incident:" + inc->id,
        .id = inc->id + "-" + notice.reason + "-" + std::to_string(inc->escalation_level),
        .group_labels = a.labels,
        .common_labels = a.labels,
        .common_annotations = a.annotations,
        .alerts = {a},
        .created_at = a.fired_at};
    if (auto r = notifier_->enqueue(n); !r) {
      log_.error("incident notice not queued", kv("incident", inc->id),
                 kv("receiver", notice.receiver), kv("error", r.error()));
    }
  }
  if (delivery_) delivery_->wake();
}

void service::dispatch_once() {
  std::vector<keel::alert::notification> out;
  dispatcher_->tick(out);
  if (out.empty()) return;
  std::lock_guard lock(delivery_mu_);
  for (const auto& n : out) {
    if (!notifier_ || n.receiver.empty()) {
      log_.warn("notification not sent: no receiver configured", kv("group", n.group_key),
                kv("alerts", n.alerts.size()));
      continue;
    }
    if (auto r = notifier_->enqueue(n); !r) {
      log_.error("notification not queued", kv("receiver", n.receiver), kv("error", r.error()));
    }
  }
  if (delivery_) delivery_->wake();
}

keel::result<void> service::flush_store() {
  auto d = store();
  if (!d) {
    return keel::fail(keel::error(keel::codes::service_unavailable, "store unavailable (degraded)")
                          .with_retry_after(std::chrono::seconds(1)));
  }
  return d->store->flush();
}

void service::audit(std::string_view action, std::string_view resource,
                    nlohmann::ordered_json details) {
  const auto ctx = keel::current_context();
  log_.info("audit", kv("action", action), kv("resource", resource));
  auto d = store();
  if (!d) return;
  auto r = d->audit->append({.actor = "admin",
                             .action = std::string(action),
                             .resource = std::string(resource),
                             .request_id = ctx ? std::string(ctx->request_id.view()) : "",
                             .details = std::move(details)});
  if (!r) log_.error("audit append failed", kv("error", r.error()));
}

keel::result<nlohmann::json> service::send_test_alert(std::string_view message) {
  keel::alert::alert a;
  a.rule = "TestAlert";
  a.labels = keel::alert::label_set{
      {"alertname", "TestAlert"}, {"severity", "info"}, {"service", cfg_.service_name}};
  a.annotations = keel::alert::label_set{{"summary", std::string(message)}};
  a.state = keel::alert::alert_state::firing;
  a.active_since = a.fired_at = clock_.system_now();
  log_.warn("test alert", kv("text", message));
  auto queued = nlohmann::json::array();
  std::lock_guard lock(delivery_mu_);
  if (notifier_) {
    for (const auto& r : receivers_) {
      keel::alert::notification n{.receiver = r.name,
                                  .group_key = "test",
                                  .id = hex_id(),
                                  .common_labels = a.labels,
                                  .common_annotations = a.annotations,
                                  .alerts = {a},
                                  .created_at = a.fired_at};
      auto id = notifier_->enqueue(n);
      if (!id) return keel::fail(std::move(id.error()));
      queued.push_back({{"receiver", r.name}, {"outbox_id", *id}});
    }
    if (delivery_) delivery_->wake();
  }
  return nlohmann::json{{"status", "sent"}, {"message", message}, {"queued", queued}};
}

std::shared_ptr<const service::rendered_health> service::health_view(keel::health::view v) {
  auto& slot = health_cache_[static_cast<std::size_t>(v)];
  const auto now = clock_.steady_now();
  auto cached = slot.load(std::memory_order_acquire);
  if (cached && now - cached->rendered_at < health_render_interval) return cached;
  // Concurrent misses may each render once; the last store wins. Harmless,
  // and it keeps the hit path free of any lock.
  const auto report = health_->run(v);
  auto fresh = std::make_shared<rendered_health>(
      rendered_health{.body = report.to_health_json(
                          {.service_id = cfg_.service_name, .version = std::string(kVersion)}),
                      .status = report.http_status(),
                      .rendered_at = now});
  slot.store(fresh, std::memory_order_release);
  return fresh;
}

nlohmann::json service::target_states() const { return prober_->states(); }

std::vector<keel::alert::receiver_config> service::receivers() const {
  std::lock_guard lock(delivery_mu_);
  return receivers_;
}

}  // namespace keeld
