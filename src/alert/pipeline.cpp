#include "keel/alert/pipeline.hpp"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <deque>
#include <functional>
#include <set>

#include "alert/internal/crypto.hpp"
#include "alert/internal/nanos.hpp"
#include "keel/alert/alerts_collector.hpp"
#include "keel/alert/delivery_collector.hpp"
#include "keel/alert/receiver.hpp"
#include "keel/alert/resilient_delivery_policy.hpp"
#include "keel/core/ids.hpp"
#include "keel/log/logger.hpp"
#include "keel/metrics/names.hpp"
#include "keel/metrics/registry.hpp"
#include "keel/resilience/breaker_registry.hpp"

namespace keel::alert {

using keel::log::kv;
using namespace std::chrono_literals;

namespace {

keel::log::logger& log() {
  static keel::log::logger l{"keel.alert"};
  return l;
}

std::string hex_id() {
  char buf[32];
  keel::new_id128().to_hex(buf);
  return std::string(buf, sizeof buf);
}

}  // namespace

// ---- the pipeline's own metrics ----

class pipeline_metrics {
 public:
  static std::shared_ptr<pipeline_metrics> create(keel::metrics::registry* reg) {
    auto m = std::make_shared<pipeline_metrics>();
    if (reg == nullptr) return m;
    // keel's own names on a registry the caller gave: a clash is a
    // programming error, reported once at create() by the caller's value().
    m->accepted_ = reg->add_counter({.name = "keel_alert_events_accepted_total",
                                     .help = "Error events stored and counted."})
                       .value_or(nullptr);
    m->rejected_ = reg->add_counter({.name = "keel_alert_events_rejected_total",
                                     .help = "Error events refused, by reason.",
                                     .labels = {"reason"}})
                       .value_or(nullptr);
    m->evaluations_ = reg->add_counter({.name = "keel_alert_rule_evaluations_total",
                                        .help = "Rule evaluation cycles run."})
                          .value_or(nullptr);
    m->evaluation_seconds_ =
        reg->add_histogram({.name = "keel_alert_rule_evaluation_duration_seconds",
                            .help = "Time one rule evaluation cycle took.",
                            .buckets = {0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1, 5}})
            .value_or(nullptr);
    m->evaluation_failures_ =
        reg->add_counter({.name = "keel_alert_rule_evaluation_failures_total",
                          .help = "Rules a cycle could not evaluate in full or whose alert the "
                                  "dispatcher refused, one per rule and cycle, by reason.",
                          .labels = {"reason"}})
            .value_or(nullptr);
    m->store_failures_ = reg->add_counter({.name = "keel_alert_store_write_failures_total",
                                           .help = "Writes the store refused, by operation.",
                                           .labels = {"operation"}})
                             .value_or(nullptr);
    m->reloads_ = reg->add_counter({.name = "keel_alert_reloads_total",
                                    .help = "Alerting configuration reloads, by outcome.",
                                    .labels = {"outcome"}})
                      .value_or(nullptr);
    m->delivery_seconds_ =
        reg->add_histogram(
               {.name = "keel_alert_notification_delivery_seconds",
                .help = "Time from a notification's enqueue to its receiver accepting it "
                        "(retries included), by receiver.",
                .labels = {"receiver"},
                .buckets = {0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600}})
            .value_or(nullptr);
    m->self_dropped_ = reg->add_counter({.name = "keel_alert_self_events_dropped_total",
                                         .help = "Own error events not recorded (queue full)."})
                           .value_or(nullptr);
    return m;
  }

  void accepted(std::uint64_t n) {
    if (accepted_) accepted_->labels().inc(n);
  }
  void rejected(std::string_view reason, std::uint64_t n) {
    if (rejected_) rejected_->labels(reason).inc(n);
  }
  void evaluated(double seconds) {
    if (evaluations_) evaluations_->labels().inc();
    if (evaluation_seconds_) evaluation_seconds_->labels().observe(seconds);
  }
  void store_failure(std::string_view operation) {
    if (store_failures_) store_failures_->labels(operation).inc();
  }
  void rule_failed(std::string_view reason) {
    if (evaluation_failures_) evaluation_failures_->labels(reason).inc();
  }
  void reload(bool ok) {
    if (reloads_) reloads_->labels(ok ? "ok" : "error").inc();
  }
  void delivered(std::string_view receiver, double seconds) {
    if (delivery_seconds_) delivery_seconds_->labels(receiver).observe(seconds);
  }
  void self_dropped() {
    if (self_dropped_) self_dropped_->labels().inc();
  }

 private:
  keel::metrics::counter_family* accepted_ = nullptr;
  keel::metrics::counter_family* rejected_ = nullptr;
  keel::metrics::counter_family* evaluations_ = nullptr;
  keel::metrics::histogram_family* evaluation_seconds_ = nullptr;
  keel::metrics::counter_family* evaluation_failures_ = nullptr;
  keel::metrics::counter_family* store_failures_ = nullptr;
  keel::metrics::counter_family* reloads_ = nullptr;
  keel::metrics::counter_family* self_dropped_ = nullptr;
  keel::metrics::histogram_family* delivery_seconds_ = nullptr;
};

// ---- what the pipeline holds, at scrape time ----

// Error events by service, code, category and severity (the series event
// rules watch), and incidents by state with their mean times to acknowledge
// and to resolve.
class pipeline_collector final : public keel::metrics::collector {
 public:
  pipeline_collector(const error_tracker& t, const incident_manager& i)
      : tracker_(t), incidents_(i) {}
  std::vector<std::string> describe() const override {
    return {"keel_error_events", "keel_alert_incidents", "keel_alert_incident_mtta_seconds",
            "keel_alert_incident_mttr_seconds"};
  }
  void collect(keel::metrics::metric_sink& out) const override {
    std::vector<std::shared_ptr<const series>> found;
    tracker_.series().select("keel_error_events_total", found);
    std::vector<std::string> names;
    std::vector<std::string_view> values;
    std::string labels;
    out.begin_family({.name = "keel_error_events",
                      .help = "Error events counted, by service, code, category and severity.",
                      .type = keel::metrics::metric_type::counter});
    for (const auto& s : found) {
      names.clear();
      values.clear();
      for (const auto& [k, v] : s->labels()) {
        names.push_back(k);
        values.push_back(v);
      }
      labels.clear();
      keel::metrics::render_labels(names, values, labels);
      out.sample(labels, s->value());
    }
    out.end_family();
    const auto sum = incidents_.summary();
    out.begin_family({.name = "keel_alert_incidents",
                      .help = "Incidents kept, by state.",
                      .type = keel::metrics::metric_type::gauge});
    out.sample("state=\"open\"", static_cast<double>(sum.open));
    out.sample("state=\"acknowledged\"", static_cast<double>(sum.acknowledged));
    out.sample("state=\"resolved\"", static_cast<double>(sum.resolved));
    out.end_family();
    out.begin_family({.name = "keel_alert_incident_mtta_seconds",
                      .help = "Mean time from opening to acknowledgement, over incidents kept.",
                      .type = keel::metrics::metric_type::gauge});
    out.sample("", sum.acknowledged_total
                       ? sum.seconds_to_acknowledge / static_cast<double>(sum.acknowledged_total)
                       : 0);
    out.end_family();
    out.begin_family({.name = "keel_alert_incident_mttr_seconds",
                      .help = "Mean time from opening to resolution, over incidents kept.",
                      .type = keel::metrics::metric_type::gauge});
    out.sample("", sum.resolved ? sum.seconds_to_resolve / static_cast<double>(sum.resolved) : 0);
    out.end_family();
  }

 private:
  const error_tracker& tracker_;
  const incident_manager& incidents_;
};

// ---- what delivery tells the pipeline ----

// Failing receivers are logged at warn at most once per interval each,
// with the number of failures since the previous line; a dead letter is an
// error line every time (each is a notification nobody got).
struct pipeline::delivery_events final : delivery_listener {
  explicit delivery_events(pipeline& p) : owner(p) {}

  void on_failure(const receiver_config& r, const outbox_message& m, const send_result& res,
                  const receiver_health& h, bool dead) override {
    if (dead) {
      log().error("notification dead-lettered: it will not be sent", kv("receiver", r.name),
                  kv("outbox_id", m.id), kv("attempts", m.attempts + 1), kv("reason", res.detail));
      owner.report(error(codes::external_service_error,
                         "notification to " + r.name + " dead-lettered: " + res.detail),
                   "delivery");
      return;
    }
    const auto now = owner.clock_.steady_now();
    std::uint64_t suppressed = 0;
    {
      std::lock_guard lock(mu);
      auto& st = by_receiver[r.name];
      ++st.since_line;
      if (st.logged_once && now - st.last_line < owner.opts_.receiver_log_interval) return;
      suppressed = st.since_line - 1;
      st.since_line = 0;
      st.last_line = now;
      st.logged_once = true;
    }
    log().warn("receiver failing: notification will be retried", kv("receiver", r.name),
               kv("reason", res.detail), kv("consecutive_failures", h.consecutive_failures),
               kv("failures_not_logged", suppressed));
    owner.report(
        error(codes::external_service_error, "receiver " + r.name + " failing: " + res.detail),
        "delivery");
  }

  void on_delivered(const receiver_config& r, const outbox_message& m, bool recovered) override {
    const auto waited = owner.clock_.system_now() - m.created_at;
    owner.metrics_->delivered(r.name, std::max(0.0, std::chrono::duration<double>(waited).count()));
    if (!recovered) return;
    {
      std::lock_guard lock(mu);
      by_receiver.erase(r.name);
    }
    log().info("receiver recovered", kv("receiver", r.name));
  }

  struct line_state {
    keel::clock::steady_time last_line{};
    std::uint64_t since_line = 0;
    bool logged_once = false;
  };
  pipeline& owner;
  std::mutex mu;
  std::map<std::string, line_state, std::less<>> by_receiver;
};

// ---- life cycle ----

pipeline::pipeline(const keel::clock& clock, pipeline_options opts)
    : clock_(clock), opts_(std::move(opts)) {
  if (opts_.evaluation_interval <= 0ms) opts_.evaluation_interval = 30s;
  if (opts_.dispatch_interval <= 0ms) opts_.dispatch_interval = 1s;
  if (opts_.store_interval <= 0ms) opts_.store_interval = 1s;
}

pipeline::~pipeline() {
  stop();
  std::lock_guard lock(delivery_mu_);
  if (delivery_metrics_) delivery_metrics_->bind(nullptr, nullptr);
  if (delivery_) delivery_->stop();
}

result<std::unique_ptr<pipeline>> pipeline::create(const keel::clock& clock, pipeline_options opts,
                                                   const alerting_config& cfg) {
  std::unique_ptr<pipeline> p(new pipeline(clock, std::move(opts)));
  if (auto r = p->build(cfg); !r) return fail(std::move(r.error()));
  return p;
}

// Forwards the tracker's group changes to the store once it is open (it
// may open after the tracker, when the pipeline started degraded).
namespace {
struct store_forwarder final : event_sink {
  explicit store_forwarder(std::function<std::shared_ptr<pipeline::durable>()> f)
      : current(std::move(f)) {}
  void on_event(const error_event& e, std::string_view fp) override {
    if (auto d = current()) d->store->on_event(e, fp);
  }
  void on_group(const error_group& g) override {
    if (auto d = current()) d->store->on_group(g);
  }
  std::function<std::shared_ptr<pipeline::durable>()> current;
};
}  // namespace

result<void> pipeline::build(const alerting_config& cfg) {
  if (!opts_.breakers) {
    own_breakers_ = std::make_unique<keel::resilience::breaker_registry>();
    opts_.breakers = own_breakers_.get();
  }
  if (!opts_.random) opts_.random = &keel::random_source::thread_safe();
  lock_ = opts_.lock;
  metrics_ = pipeline_metrics::create(opts_.metrics);
  forwarder_ = std::make_unique<store_forwarder>([this] { return store(); });
  tracker_ = std::make_unique<error_tracker>(clock_, opts_.tracker, forwarder_.get());
  if (!opts_.data_dir.empty()) {
    if (auto r = open_store(); !r) {
      if (r.error() == codes::conflict) return r;  // another process holds the directory
      log().error("store unavailable, starting degraded; retrying", kv("error", r.error()),
                  kv("retry_ms", opts_.store_interval.count()));
      std::lock_guard lock(store_mu_);
      store_problem_ = std::string(r.error().message());
    }
  }
  std::vector<const series_source*> sources{&tracker_->series()};
  sources.insert(sources.end(), opts_.series.begin(), opts_.series.end());
  rules_ = std::make_unique<rule_engine>(std::move(sources), clock_,
                                         engine_options{.interval = opts_.evaluation_interval});
  dispatcher_ = std::make_unique<dispatcher>(cfg.root.value_or(route{.receiver = ""}), clock_);
  incident_options io;
  io.ack_timeout = cfg.incidents.ack_timeout;
  io.escalation = cfg.incidents.escalation;
  io.on_open = cfg.incidents.on_open;
  io.policies = cfg.incidents.policies;
  io.breaker_opener = [this](std::string_view name) -> result<void> {
    auto b = opts_.breakers->find(name);
    if (!b) return fail(codes::resource_not_found, "no breaker " + std::string(name));
    b->force_open();
    return {};
  };
  incidents_ = std::make_unique<incident_manager>(clock_, std::move(io));
  if (opts_.metrics) {
    if (auto r = opts_.metrics->add_collector(std::make_shared<alerts_collector>(*rules_)); !r) {
      return r;
    }
    delivery_metrics_ = std::make_shared<delivery_collector>(clock_);
    if (auto r = opts_.metrics->add_collector(delivery_metrics_); !r) return r;
    if (auto r = opts_.metrics->add_collector(
            std::make_shared<pipeline_collector>(*tracker_, *incidents_));
        !r) {
      return r;
    }
  }
  delivery_events_ = std::make_unique<delivery_events>(*this);
  {
    std::lock_guard lock(file_cfg_mu_);
    file_cfg_ = cfg;
  }
  sync_silences();
  // The file's configuration, with what was changed through the API since
  // (kept in the store) on top.
  const auto effective = layered(cfg);
  auto applied = effective ? apply(*effective) : apply(cfg);
  if (!applied && effective) {
    log().error("saved API configuration does not apply: using the file's",
                kv("error", applied.error()));
    applied = apply(cfg);
  }
  if (!applied) return applied;
  restore_alert_state(effective ? *effective : cfg);
  restore_incidents();
  return {};
}

result<void> pipeline::open_store() {
  if (!lock_) {
    auto lock = data_dir_lock::take(opts_.data_dir);
    if (!lock) return fail(std::move(lock.error()));
    lock_ = std::move(*lock);
  }
  auto so = opts_.store;
  so.data_dir = opts_.data_dir;
  auto st = store::open(so, clock_);
  if (!st) return fail(std::move(st.error()));
  auto groups = (*st)->load_groups();
  if (!groups) return fail(std::move(groups.error()));
  for (const auto& g : *groups)
    tracker_->restore(g);
  // What the API shows of recent events comes back from the store too.
  if (auto recent = (*st)->recent_events(opts_.tracker.recent_global)) {
    std::vector<error_event> events;
    for (auto& e : *recent)
      events.push_back(std::move(e.event));
    tracker_->restore_recent(events);
  }
  for (const auto& g : *groups) {
    if (auto ring = (*st)->events_of(g.fingerprint, opts_.tracker.recent_per_group)) {
      std::vector<error_event> events;
      for (auto& e : *ring)
        events.push_back(std::move(e.event));
      tracker_->restore_ring(g.fingerprint, events);
    }
  }
  auto d = std::make_shared<durable>();
  d->store = std::move(*st);
  d->outbox = std::make_unique<outbox>(*d->store);
  d->audit = std::make_unique<audit_log>(*d->store);
  std::atomic_store(&durable_, d);
  {
    std::lock_guard lock(store_mu_);
    store_problem_.clear();
  }
  store_failing_ = false;
  log().info("store open", kv("path", d->store->path().string()), kv("groups", groups->size()));
  if (dispatcher_) sync_silences();  // a reopen after a degraded start
  std::lock_guard lock(delivery_mu_);
  restart_delivery_locked();
  return {};
}

void pipeline::sync_silences() {
  auto d = store();
  if (!d || !dispatcher_) return;
  // The dispatcher forgets a silence an hour after it ends; so does the store.
  auto saved = d->store->load_silences(clock_.system_now() - 1h);
  if (!saved) {
    log().error("silences not loaded from the store", kv("error", saved.error()));
    return;
  }
  const auto known = dispatcher_->silences();
  for (auto& s : *saved) {
    const bool have =
        std::any_of(known.begin(), known.end(), [&](const silence& k) { return k.id == s.id; });
    if (have) continue;
    if (auto r = dispatcher_->add_silence(s); !r) {
      log().error("saved silence not restored", kv("silence", s.id), kv("error", r.error()));
    }
  }
  if (!saved->empty()) log().info("silences restored", kv("count", saved->size()));
}

void pipeline::restart_delivery_locked() {
  if (delivery_metrics_) delivery_metrics_->bind(nullptr, nullptr);  // before the worker goes
  if (delivery_) delivery_->stop();
  delivery_.reset();
  notifier_.reset();
  auto d = store();
  if (!d || receivers_.empty()) return;
  if (!opts_.http && !own_transport_) own_transport_ = std::make_unique<curl_transport>();
  transport& t = opts_.http ? *opts_.http : *own_transport_;
  if (!policy_) {
    // A circuit breaker per receiver (in the caller's registry, so its
    // admin API lists and resets them) and jittered exponential backoff.
    resilient_delivery_options options;
    options.max_attempts = opts_.delivery_max_attempts;
    options.backoff.initial = opts_.delivery_initial_delay;
    options.backoff.max = opts_.delivery_max_delay;
    policy_ = std::make_unique<resilient_delivery_policy>(*opts_.breakers, *opts_.random,
                                                          std::move(options));
  }
  notifier_ = std::make_unique<notifier>(*d->outbox, receivers_, clock_);
  delivery_ =
      std::make_unique<delivery_worker>(*d->outbox, t, *policy_, clock_, receivers_,
                                        delivery_options{.listener = delivery_events_.get()});
  if (delivery_metrics_) delivery_metrics_->bind(delivery_.get(), d->outbox.get());
  if (started_ && !stopped_) delivery_->start();
}

namespace {
constexpr std::string_view kAlertingKey = "api.alerting";
constexpr std::string_view kRulePrefix = "api.rule:";
// A posted rules document, stored once however many rules it holds (each
// rule's key names it: "doc:<sha256>"), so a document of many rules costs
// its size once, not once per rule.
constexpr std::string_view kDocPrefix = "api.doc:";
constexpr std::string_view kApiPrefix = "api.";
}  // namespace

std::optional<alerting_config> pipeline::layered(const alerting_config& file_cfg) {
  auto d = store();
  if (!d) return std::nullopt;
  auto saved = d->store->load_settings(kApiPrefix);
  if (!saved) {
    log().error("configuration changes made through the API not loaded",
                kv("error", saved.error()));
    return std::nullopt;
  }
  if (saved->empty()) return std::nullopt;
  alerting_config cfg = file_cfg;
  // A saved text this version cannot read is skipped (and said), never fatal.
  for (const auto& [key, doc] : *saved) {
    if (key != kAlertingKey) continue;
    if (auto parsed = load_config_yaml(doc)) {
      cfg = std::move(*parsed);
    } else {
      log().error("saved alerting configuration unreadable: using the file's",
                  kv("error", parsed.error()));
    }
  }
  std::map<std::string, std::string, std::less<>> docs;
  for (const auto& [key, doc] : *saved) {
    if (key.starts_with(kDocPrefix)) docs.emplace(key.substr(kDocPrefix.size()), doc);
  }
  std::size_t rules = 0;
  for (const auto& [key, ref] : *saved) {
    if (!key.starts_with(kRulePrefix)) continue;
    const std::string name = key.substr(kRulePrefix.size());
    std::erase_if(cfg.rules, [&](const rule& r) { return r.name == name; });
    ++rules;
    if (ref.empty()) continue;  // deleted through the API
    const auto doc = docs.find(std::string_view(ref).substr(ref.starts_with("doc:") ? 4 : 0));
    if (doc == docs.end()) {
      log().error("saved rule's document missing: skipped", kv("rule", name));
      continue;
    }
    auto parsed = load_rules_yaml(doc->second);
    if (!parsed) {
      log().error("saved rule unreadable: skipped", kv("rule", name), kv("error", parsed.error()));
      continue;
    }
    for (auto& r : *parsed) {
      if (r.name == name) cfg.rules.push_back(std::move(r));
    }
  }
  if (rules > 0) log().info("rule changes made through the API restored", kv("rules", rules));
  return cfg;
}

namespace {
// Deletes the stored rules documents no rule names any more.
void drop_unreferenced_docs(store& st) {
  auto saved = st.load_settings(kApiPrefix);
  if (!saved) return;
  std::set<std::string, std::less<>> referenced;
  for (const auto& [key, ref] : *saved) {
    if (key.starts_with(kRulePrefix) && ref.starts_with("doc:")) referenced.insert(ref.substr(4));
  }
  for (const auto& [key, doc] : *saved) {
    if (!key.starts_with(kDocPrefix)) continue;
    if (referenced.contains(std::string_view(key).substr(kDocPrefix.size()))) continue;
    (void)st.save_settings({}, key);
  }
}
}  // namespace

result<void> pipeline::reconfigure(const alerting_config& cfg) {
  if (auto r = apply(cfg); !r) {
    // The operator's file did not apply: an own failure, paged like any.
    log().error("alerting configuration refused: the previous one stays", kv("error", r.error()));
    report(r.error(), "reload");
    return r;
  }
  {
    std::lock_guard lock(file_cfg_mu_);
    file_cfg_ = cfg;
  }
  // The file's configuration is now the whole of it.
  if (auto d = store()) {
    auto cleared = d->store->save_settings({}, kApiPrefix);
    on_store_write(cleared, "settings");
    if (!cleared) {
      log().error("API configuration changes not cleared: they return at the next restart",
                  kv("error", cleared.error()));
    }
  }
  return {};
}

result<alerting_config> pipeline::configure(std::string_view alerting_yaml) {
  auto d = store();
  if (!d) return fail(store_unavailable());
  auto parsed = load_config_yaml(alerting_yaml);
  if (!parsed) return fail(std::move(parsed.error()));
  // Validated whole before it is saved: a document that cannot apply is
  // never kept to fail again at the next start.
  for (const auto& r : parsed->rules) {
    if (auto c = compile(r); !c) return fail(std::move(c.error()));
  }
  auto saved = d->store->save_settings({{std::string(kAlertingKey), std::string(alerting_yaml)}},
                                       kApiPrefix);
  on_store_write(saved, "settings");
  if (!saved) return fail(store_unavailable());
  if (auto r = apply(*parsed); !r) return fail(std::move(r.error()));
  return std::move(*parsed);
}

result<std::vector<std::string>> pipeline::put_rules(std::string_view rules_yaml) {
  auto d = store();
  if (!d) return fail(store_unavailable());
  auto parsed = load_rules_yaml(rules_yaml);
  if (!parsed) return fail(std::move(parsed.error()));
  const std::string doc_id = internal::to_hex(internal::sha256(rules_yaml));
  std::vector<std::pair<std::string, std::string>> set{
      {std::string(kDocPrefix) + doc_id, std::string(rules_yaml)}};
  std::vector<std::string> names;
  for (const auto& r : *parsed) {
    if (auto c = compile(r); !c) return fail(std::move(c.error()));
    set.emplace_back(std::string(kRulePrefix) + r.name, "doc:" + doc_id);
    names.push_back(r.name);
  }
  auto saved = d->store->save_settings(set);
  on_store_write(saved, "settings");
  if (!saved) return fail(store_unavailable());
  drop_unreferenced_docs(*d->store);
  for (auto& r : *parsed) {
    if (auto u = rules_->upsert(std::move(r)); !u) return fail(std::move(u.error()));
  }
  refresh_event_filters();
  return names;
}

result<void> pipeline::delete_rule(std::string_view name) {
  auto d = store();
  if (!d) return fail(store_unavailable());
  const auto all = rules_->rules();
  if (std::none_of(all.begin(), all.end(), [&](const rule& r) { return r.name == name; })) {
    return fail(codes::resource_not_found, "no rule " + std::string(name));
  }
  auto saved = d->store->save_settings({{std::string(kRulePrefix) + std::string(name), ""}});
  on_store_write(saved, "settings");
  if (!saved) return fail(store_unavailable());
  drop_unreferenced_docs(*d->store);
  auto removed = rules_->remove(name);
  refresh_event_filters();
  return removed;
}

result<void> pipeline::apply(const alerting_config& cfg) {
  auto failed = [this](keel::error e) -> result<void> {
    metrics_->reload(false);
    return fail(std::move(e));
  };
  // Validate everything before changing anything.
  for (const auto& r : cfg.rules) {
    if (auto c = compile(r); !c) return failed(std::move(c.error()));
  }
  if (cfg.root) {
    if (auto r = dispatcher_->set_route(*cfg.root); !r) return failed(std::move(r.error()));
  }
  std::vector<std::string> old_names;
  for (const auto& r : rules_->rules())
    old_names.push_back(r.name);
  for (const auto& r : cfg.rules) {
    if (auto u = rules_->upsert(r); !u) return failed(std::move(u.error()));
  }
  for (const auto& n : old_names) {
    const bool kept =
        std::any_of(cfg.rules.begin(), cfg.rules.end(), [&](const auto& r) { return r.name == n; });
    if (!kept) (void)rules_->remove(n);
  }
  dispatcher_->set_inhibit_rules(cfg.inhibit_rules);
  incidents_->set_policies({.ack_timeout = cfg.incidents.ack_timeout,
                            .escalation = cfg.incidents.escalation,
                            .on_open = cfg.incidents.on_open},
                           cfg.incidents.policies);
  refresh_event_filters();
  {
    std::lock_guard lock(delivery_mu_);
    receivers_ = cfg.receivers;
    restart_delivery_locked();
  }
  metrics_->reload(true);
  return {};
}

void pipeline::refresh_event_filters() {
  std::vector<event_filter> filters;
  for (const auto& r : rules_->rules()) {
    if (r.cond.kind == condition_kind::events && !r.cond.fields.empty()) {
      filters.push_back({r.name, r.cond.fields});
    }
  }
  tracker_->set_event_filters(std::move(filters));
}

void pipeline::start() {
  if (started_.exchange(true)) return;
  const auto t0 = clock_.steady_now();
  next_eval_ = t0 + opts_.evaluation_interval;
  next_dispatch_ = t0 + opts_.dispatch_interval;
  next_store_ = t0 + opts_.store_interval;
  loop_beat_ = t0.time_since_epoch().count();
  {
    std::lock_guard lock(delivery_mu_);
    if (delivery_) delivery_->start();
  }
  loop_thread_ = std::thread([this] { loop(); });
}

void pipeline::stop() {
  if (stopped_.exchange(true)) return;
  {
    std::lock_guard lock(loop_mu_);
    stopping_ = true;
  }
  loop_cv_.notify_all();
  if (loop_thread_.joinable()) loop_thread_.join();
  {
    std::lock_guard lock(delivery_mu_);
    if (delivery_) delivery_->stop();
  }
  if (!incidents_) return;  // create() failed part way: nothing of it ran
  drain_self_events();
  save_incidents();
  if (auto d = store()) {
    if (auto r = d->store->flush(); !r) log().error("final flush failed", kv("error", r.error()));
  }
}

// ---- the loop ----

void pipeline::loop() {
  // Three duties on one thread, each on its own period: rule evaluation,
  // dispatching (grouping timers, notifications, incident escalation) and
  // the store's upkeep (flush, probe after a failure, or reopen).
  std::unique_lock lock(loop_mu_);
  while (!stopping_) {
    lock.unlock();
    const auto now = clock_.steady_now();
    loop_beat_ = now.time_since_epoch().count();
    if (now >= next_eval_) {
      evaluate_once();
      next_eval_ = now + opts_.evaluation_interval;
    }
    if (now >= next_dispatch_) {
      dispatch_once();
      next_dispatch_ = now + opts_.dispatch_interval;
    }
    if (now >= next_store_) {
      upkeep_store();
      next_store_ = now + opts_.store_interval;
    }
    const auto wake = std::min({next_eval_, next_dispatch_, next_store_});
    lock.lock();
    loop_cv_.wait_for(lock, wake - clock_.steady_now(), [this] { return stopping_; });
  }
}

void pipeline::run_once() {
  evaluate_once();
  dispatch_once();
  if (!started_) {
    // No delivery threads: one round for each receiver, here.
    std::lock_guard lock(delivery_mu_);
    if (delivery_) {
      for (const auto& r : delivery_->receivers())
        (void)delivery_->run_once(r);
    }
  }
  upkeep_store();
}

void pipeline::evaluate_once() {
  const auto t0 = std::chrono::steady_clock::now();  // real time: what a cycle costs
  evaluation ev;
  rules_->evaluate(ev);
  metrics_->evaluated(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
  if (alerts_restored_) {
    // The first cycle since alerts were restored: their receivers were paged
    // before the restart, so the dispatcher takes them as notified (a
    // resolution, even in this cycle, is then sent; a firing is not re-sent).
    alerts_restored_ = false;
    for (const auto& a : rules_->active()) {
      if (a.state == alert_state::firing) dispatcher_->restore_notified(a);
    }
    for (const auto& a : ev.resolved)
      dispatcher_->restore_notified(a);
  }
  auto dispatch = [&](const alert& a) {
    if (auto r = dispatcher_->put(a); !r) {
      metrics_->rule_failed("dispatch");
      log().error("alert not dispatched", kv("alertname", a.rule), kv("error", r.error()));
    }
  };
  for (const auto& a : ev.fired) {
    log().warn("alert firing", kv("alertname", a.rule), kv("value", a.value),
               kv("labels", a.labels.to_string()));
    dispatch(a);
    send_incident_notices(incidents_->on_alert(a));
  }
  for (const auto& a : ev.resolved) {
    log().info("alert resolved", kv("alertname", a.rule), kv("labels", a.labels.to_string()));
    dispatch(a);
    if (auto id = incidents_->on_resolved(a)) {
      log().info("incident resolved: its alerts resolved", kv("incident", *id));
    }
  }
  note_rule_failures(std::move(ev.failures));
  send_incident_notices(incidents_->tick());
  save_alert_state();
  save_incidents();
}

// Counted every cycle; logged when a rule starts and stops failing, so a
// rule that stays incomplete writes two lines, not one per cycle.
void pipeline::note_rule_failures(std::vector<rule_failure> failures) {
  auto same = [](const rule_failure& a, const rule_failure& b) {
    return a.rule == b.rule && a.reason == b.reason;
  };
  std::lock_guard lock(rule_failures_mu_);
  for (const auto& f : failures) {
    metrics_->rule_failed(f.reason);
    if (std::ranges::none_of(rule_failures_, [&](const auto& o) { return same(o, f); })) {
      log().warn("rule not evaluated in full", kv("alertname", f.rule), kv("reason", f.reason),
                 kv("series_left_out", f.series));
    }
  }
  for (const auto& o : rule_failures_) {
    if (std::ranges::none_of(failures, [&](const auto& f) { return same(o, f); })) {
      log().info("rule evaluated in full again", kv("alertname", o.rule), kv("reason", o.reason));
    }
  }
  rule_failures_ = std::move(failures);
}

namespace {
constexpr std::string_view kIncidentPrefix = "engine.incident:";
}  // namespace

void pipeline::save_incidents() {
  // Changed incidents (and their escalation timers), at most a store
  // interval after the change: an incident's event count can lag by that
  // much after a SIGKILL, its state changes are saved by the cycle that
  // made them.
  std::lock_guard lock(incidents_save_mu_);
  for (auto& c : incidents_->take_changes())
    unsaved_incidents_[c.id] = std::move(c);
  if (unsaved_incidents_.empty()) return;
  auto d = store();
  if (!d) return;
  std::vector<std::pair<std::string, std::string>> set;
  for (const auto& [id, c] : unsaved_incidents_) {
    if (!c.current) {
      auto r = d->store->save_settings({}, std::string(kIncidentPrefix) + id);
      on_store_write(r, "incidents");
      if (!r) return;
      continue;
    }
    set.emplace_back(std::string(kIncidentPrefix) + id,
                     to_record(*c.current, c.level_since)
                         .dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
  }
  auto r = d->store->save_settings(set);
  on_store_write(r, "incidents");
  if (r) unsaved_incidents_.clear();
}

void pipeline::restore_incidents() {
  auto d = store();
  if (!d) return;
  auto saved = d->store->load_settings(kIncidentPrefix);
  if (!saved) {
    log().error("incidents not loaded from the store", kv("error", saved.error()));
    return;
  }
  std::vector<incident_change> incidents;
  for (const auto& [key, doc] : *saved) {
    auto parsed = incident_from_record(nlohmann::json::parse(doc, nullptr, false));
    if (!parsed) {
      log().error("saved incident unreadable: skipped", kv("key", key),
                  kv("error", parsed.error()));
      continue;
    }
    incidents.push_back(std::move(*parsed));
  }
  if (incidents.empty()) return;
  const auto n = incidents.size();
  incidents_->restore(std::move(incidents));
  log().info("incidents restored", kv("incidents", n));
}

namespace {
constexpr std::string_view kAlertStateKey = "engine.alerts";
}  // namespace

void pipeline::save_alert_state() {
  // On every change of state, and once a minute while alerts are active
  // (their keep_firing_for counts from the last time they held).
  const auto changes = rules_->state_changes();
  const auto now = clock_.steady_now();
  const bool due = changes != saved_changes_ ||
                   (has_active_alerts_ && now - last_state_save_ >= std::chrono::minutes(1));
  if (!due) return;
  auto d = store();
  if (!d) return;
  nlohmann::json doc = nlohmann::json::array();
  for (const auto& a : rules_->saved()) {
    nlohmann::json key = nlohmann::json::object();
    for (const auto& [k, v] : a.key)
      key[k] = v;
    doc.push_back({{"rule", a.rule},
                   {"key", std::move(key)},
                   {"state", to_string(a.state)},
                   {"active_since", internal::to_ns(a.active_since)},
                   {"fired_at", internal::to_ns(a.fired_at)},
                   {"last_true", internal::to_ns(a.last_true)}});
  }
  has_active_alerts_ = !doc.empty();
  auto r = d->store->save_settings(
      {{std::string(kAlertStateKey),
        doc.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace)}});
  on_store_write(r, "alert_state");
  if (r) {
    saved_changes_ = changes;
    last_state_save_ = now;
  }
}

void pipeline::restore_alert_state(const alerting_config& cfg) {
  auto d = store();
  if (!d) return;
  // Event rules' windows span the restart: the events of the longest window
  // count again, as if recorded before the first cycle (rules present then
  // count from zero). They stay in the window up to that long after the
  // restart, not after they happened: a window may run long by the downtime.
  std::chrono::milliseconds lookback{0};
  for (const auto& r : cfg.rules) {
    if (r.cond.kind == condition_kind::events ||
        r.cond.series.metric == "keel_error_events_total") {
      lookback = std::max(lookback, r.cond.window);
    }
  }
  if (lookback > std::chrono::milliseconds::zero()) {
    if (auto counts = d->store->event_counts_since(clock_.system_now() - lookback)) {
      for (const auto& c : *counts)
        tracker_->count_earlier(c.service, c.code, c.category, c.severity, c.events);
    }
  }
  auto saved = d->store->load_settings(kAlertStateKey);
  if (!saved || saved->empty()) return;
  const auto doc = nlohmann::json::parse(saved->front().second, nullptr, false);
  if (!doc.is_array()) {
    log().error("saved alert state unreadable: alerts start inactive");
    return;
  }
  std::vector<saved_alert> alerts;
  for (const auto& a : doc) {
    if (!a.is_object() || !a.contains("key") || !a["key"].is_object()) continue;
    saved_alert s;
    s.rule = a.value("rule", "");
    std::vector<label_set::pair> pairs;
    for (const auto& [k, v] : a["key"].items()) {
      if (v.is_string()) pairs.emplace_back(k, v.get<std::string>());
    }
    s.key = label_set(std::move(pairs));
    const auto st = a.value("state", "");
    s.state = st == "firing"    ? alert_state::firing
              : st == "pending" ? alert_state::pending
                                : alert_state::inactive;
    s.active_since = internal::from_ns(a.value("active_since", std::int64_t{0}));
    s.fired_at = internal::from_ns(a.value("fired_at", std::int64_t{0}));
    s.last_true = internal::from_ns(a.value("last_true", std::int64_t{0}));
    alerts.push_back(std::move(s));
  }
  rules_->restore(alerts);
  alerts_restored_ = std::any_of(alerts.begin(), alerts.end(), [](const saved_alert& a) {
    return a.state == alert_state::firing;
  });
  if (!alerts.empty()) log().info("alert state restored", kv("alerts", alerts.size()));
}

void pipeline::dispatch_once() {
  std::vector<notification> out;
  dispatcher_->tick(out);
  if (out.empty()) return;
  std::lock_guard lock(delivery_mu_);
  for (const auto& n : out)
    enqueue_locked(n);
  if (delivery_) delivery_->wake();
}

void pipeline::enqueue_locked(const notification& n) {
  if (n.receiver.empty()) {
    log().warn("notification not sent: no receiver configured", kv("group", n.group_key),
               kv("alerts", n.alerts.size()));
    return;
  }
  if (!notifier_) {
    log().error("notification not sent: store unavailable (degraded)", kv("group", n.group_key),
                kv("receiver", n.receiver));
    metrics_->store_failure("outbox");
    return;
  }
  if (auto r = notifier_->enqueue(n); !r) {
    log().error("notification not queued", kv("receiver", n.receiver), kv("error", r.error()));
    metrics_->store_failure("outbox");
    report(r.error(), "outbox");
  }
}

void pipeline::send_incident_notices(const std::vector<incident_notice>& notices) {
  if (notices.empty()) return;
  std::lock_guard lock(delivery_mu_);
  for (const auto& notice : notices) {
    const auto inc = incidents_->get(notice.incident_id);
    if (!inc) continue;
    log().warn("incident notice", kv("incident", inc->id), kv("reason", notice.reason),
               kv("receiver", notice.receiver));
    // An incident reads as one firing alert to every receiver kind; its id
    // and the escalation level keep each notice distinct and each retry of
    // one notice deduplicated.
    alert a;
    a.rule = "Incident";
    a.labels = label_set{{"alertname", "Incident"},
                         {"incident", inc->id},
                         {"key", inc->key},
                         {"reason", notice.reason},
                         {"service", opts_.self_service}};
    a.annotations = label_set{{"summary", inc->title},
                              {"description", "incident " + inc->id + " " + notice.reason +
                                                  "; acknowledge with POST /api/v1/incidents/" +
                                                  inc->id + "/acknowledge"}};
    a.state = alert_state::firing;
    a.active_since = inc->opened_at;
    a.fired_at = clock_.system_now();
    enqueue_locked(notification{
        .receiver = notice.receiver,
        .group_key = "incident:" + inc->id,
        .id = inc->id + "-" + notice.reason + "-" + std::to_string(inc->escalation_level),
        .group_labels = a.labels,
        .common_labels = a.labels,
        .common_annotations = a.annotations,
        .alerts = {a},
        .created_at = a.fired_at});
  }
  if (delivery_) delivery_->wake();
}

// After a degraded start the store opened late: what it kept (changes made
// through the API, alert state, incidents) is applied now, as a start with
// the store would have. Alert state and incidents only where the degraded
// run has none of its own, so nothing live is overwritten.
void pipeline::recover_saved_state() {
  alerting_config file;
  {
    std::lock_guard lock(file_cfg_mu_);
    file = file_cfg_;
  }
  const auto effective = layered(file);
  if (effective) {
    if (auto r = apply(*effective); !r) {
      log().error("saved API configuration does not apply: keeping the file's",
                  kv("error", r.error()));
    }
  }
  if (rules_->active().empty()) restore_alert_state(effective ? *effective : file);
  if (incidents_->list(true).empty()) restore_incidents();
}

void pipeline::upkeep_store() {
  drain_self_events();
  save_incidents();
  prune_old();
  auto d = store();
  if (!d) {
    if (opts_.data_dir.empty()) return;
    if (auto r = open_store(); r) {
      log().info("store recovered: no longer degraded");
      recover_saved_state();
    }
    return;
  }
  if (store_failing_) {
    // Nothing else may write for a while: ask the disk ourselves, and
    // leave the buffered group states for when it answers.
    auto probe = d->store->probe_write();
    on_store_write(probe, "probe");
    if (!probe) return;
  }
  // A flush with nothing buffered writes nothing: only its failure says
  // anything about the store.
  if (auto r = d->store->flush(); !r) on_store_write(r, "flush");
}

void pipeline::on_store_write(const result<void>& r, std::string_view what) {
  if (r) {
    if (store_failing_.exchange(false)) {
      {
        std::lock_guard lock(store_mu_);
        store_problem_.clear();
      }
      log().info("store writes succeed again", kv("operation", what));
    }
    return;
  }
  metrics_->store_failure(what);
  std::string problem = std::string(what) + ": " + std::string(r.error().message());
  const bool first = !store_failing_.exchange(true);
  {
    std::lock_guard lock(store_mu_);
    store_problem_ = problem;
  }
  // Once per run of failures: the metric counts each one.
  if (first) log().error("store write failed", kv("operation", what), kv("error", r.error()));
}

void pipeline::prune_old() {
  if (opts_.retention <= 0ms && opts_.audit_retention <= 0ms && opts_.idempotency_window <= 0ms)
    return;
  const auto now = clock_.steady_now();
  if (next_prune_ && now < *next_prune_) return;
  next_prune_ = now + opts_.prune_interval;
  auto d = store();
  if (!d || store_failing_) return;
  // Bounded statements, so ingest waits at most one batch for the store's
  // lock; a backlog (after a long stop) drains over several rounds.
  auto drain = [&](auto&& prune_batch) -> std::optional<std::uint64_t> {
    std::uint64_t total = 0;
    for (int round = 0; round < 20; ++round) {
      result<std::uint64_t> n = prune_batch();
      if (!n) {
        on_store_write(result<void>(keel::fail(n.error())), "prune");
        return std::nullopt;
      }
      total += *n;
      if (*n < opts_.prune_batch) break;
    }
    return total;
  };
  const auto wall = clock_.system_now();
  if (opts_.retention > 0ms) {
    const auto cutoff = wall - opts_.retention;
    auto events = drain([&] { return d->store->prune_events_before(cutoff, opts_.prune_batch); });
    if (!events) return;
    auto notes = drain([&] { return d->outbox->prune_delivered(cutoff, opts_.prune_batch); });
    if (!notes) return;
    if (*events > 0 || *notes > 0) {
      log().info("pruned past retention", kv("events", *events), kv("notifications", *notes),
                 kv("retention_s",
                    std::chrono::duration_cast<std::chrono::seconds>(opts_.retention).count()));
    }
  }
  if (opts_.idempotency_window > 0ms) {
    const auto cutoff = wall - opts_.idempotency_window;
    if (!drain([&] { return d->store->prune_ingest_keys_before(cutoff, opts_.prune_batch); })) {
      return;
    }
  }
  if (opts_.audit_retention > 0ms) {
    const auto cutoff = wall - opts_.audit_retention;
    auto entries = drain([&] { return d->audit->prune_before(cutoff, opts_.prune_batch); });
    if (!entries || *entries == 0) return;
    // The anchor in the log too: outside the database, as the chain's head.
    auto anchor = d->audit->anchor();
    log().info("audit entries pruned past retention", kv("entries", *entries),
               kv("anchor_seq", anchor ? anchor->seq : 0),
               kv("anchor_hash", anchor ? anchor->hash : std::string()));
  }
}

keel::error pipeline::store_unavailable() const {
  std::string why;
  {
    std::lock_guard lock(store_mu_);
    why = store_problem_;
  }
  if (!store()) why = why.empty() ? "store not open (degraded)" : "store not open: " + why;
  return error(codes::service_unavailable, why.empty() ? "store unavailable" : why)
      .with_retry_after(opts_.store_retry_after);
}

// ---- ingest ----

namespace {

// The Idempotency-Key as sent (an sf-string, or the bare token many clients
// send), or a VALIDATION_ERROR saying what is wrong.
result<std::string_view> idempotency_key_of(std::string_view raw) {
  if (raw.size() >= 2 && raw.front() == '"' && raw.back() == '"')
    raw = raw.substr(1, raw.size() - 2);
  const bool visible =
      std::ranges::all_of(raw, [](char c) { return c > 0x20 && c < 0x7f && c != '"'; });
  if (raw.empty() || raw.size() > 255 || !visible) {
    static constexpr std::string_view why = "Idempotency-Key is 1-255 visible ASCII characters";
    return fail(error(codes::validation_error, std::string(why))
                    .with_detail("field", "Idempotency-Key")
                    .with_detail("problem", why));
  }
  return raw;
}

}  // namespace

result<std::vector<ingest_outcome>> pipeline::ingest(std::vector<error_event> events,
                                                     std::string_view idempotency_key,
                                                     std::string_view body) {
  ingest_key batch;
  if (!idempotency_key.empty()) {
    auto key = idempotency_key_of(idempotency_key);
    if (!key) {
      metrics_->rejected("invalid", events.size());
      return fail(std::move(key.error()));
    }
    batch.key = std::string(*key);
    batch.digest = internal::to_hex(internal::sha256(body));
  }
  auto d = store();
  if (!d) {
    metrics_->rejected("store_unavailable", events.size());
    return fail(store_unavailable());
  }
  std::vector<std::string> fps;
  fps.reserve(events.size());
  for (auto& e : events) {
    auto fp = tracker_->admit(e);
    if (!fp) {
      metrics_->rejected(fp.error() == codes::resource_exhausted ? "too_many_groups" : "invalid",
                         events.size());
      return fail(std::move(fp.error()));
    }
    fps.push_back(std::move(*fp));
  }
  // Stored first, counted after: nothing in memory moves for an event the
  // store did not take.
  auto stored = d->store->append(events, fps, batch);
  if (!stored && stored.error() == codes::field_validation_error) {  // a reused key
    metrics_->rejected("invalid", events.size());
    return fail(std::move(stored.error()));
  }
  on_store_write(stored ? result<void>() : result<void>(fail(stored.error())), "events");
  if (!stored) {
    metrics_->rejected("store_unavailable", events.size());
    return fail(error(codes::service_unavailable,
                      "events not stored: " + std::string(stored.error().message()))
                    .with_retry_after(opts_.store_retry_after));
  }
  std::vector<ingest_outcome> out;
  out.reserve(events.size());
  std::size_t counted = 0;
  for (std::size_t i = 0; i < events.size(); ++i) {
    if (!(*stored)[i]) {
      const auto g = tracker_->group(fps[i]);
      out.push_back(
          {.fingerprint = std::move(fps[i]), .count = g ? g->count : 0, .duplicate = true});
      continue;
    }
    out.push_back(tracker_->count_admitted(events[i], std::move(fps[i])));
    incidents_->on_event(events[i]);
    ++counted;
  }
  metrics_->accepted(counted);
  if (counted < events.size()) metrics_->rejected("duplicate", events.size() - counted);
  return out;
}

void pipeline::report(const keel::error& e, std::string_view where) {
  error_event ev;
  ev.service = opts_.self_service;
  ev.code = std::string(e.name());
  ev.category = e.category();
  ev.severity = e.code().severity;
  ev.message = std::string(where) + ": " + std::string(e.message());
  if (ev.message.size() > 1024) ev.message.resize(1024);
  ev.timestamp = clock_.system_now();
  std::lock_guard lock(self_mu_);
  if (self_events_.size() >= kMaxSelfEvents) {
    metrics_->self_dropped();
    return;
  }
  self_events_.push_back(std::move(ev));
}

void pipeline::drain_self_events() {
  std::vector<error_event> batch;
  {
    std::lock_guard lock(self_mu_);
    batch.swap(self_events_);
  }
  if (batch.empty()) return;
  // Its own failures go through the same door as anyone's; a store that
  // refuses them is already counted and logged by ingest().
  if (auto r = ingest(std::move(batch)); !r) metrics_->self_dropped();
}

// ---- silences, audit, test notifications ----

result<void> pipeline::set_issue_status(std::string_view fingerprint, issue_action action,
                                        ignore_options ignore) {
  auto d = store();
  if (!d) return fail(store_unavailable());
  result<void> done = action == issue_action::resolve  ? tracker_->resolve(fingerprint)
                      : action == issue_action::reopen ? tracker_->reopen(fingerprint)
                                                       : tracker_->ignore(fingerprint, ignore);
  if (!done) return done;
  auto flushed = d->store->flush();
  on_store_write(flushed, "flush");
  if (!flushed) return fail(store_unavailable());
  return ok();
}

result<std::string> pipeline::add_silence(silence s) {
  auto d = store();
  if (!d) return fail(store_unavailable());
  auto id = dispatcher_->add_silence(s);  // validates
  if (!id) return id;
  s.id = *id;
  auto saved = d->store->save_silence(s);
  on_store_write(saved, "silence");
  if (!saved) {
    // Not kept across a restart: not kept at all. The caller is told to retry.
    (void)dispatcher_->expire_silence(s.id);
    return fail(store_unavailable());
  }
  return id;
}

result<void> pipeline::expire_silence(std::string_view id) {
  auto d = store();
  if (!d) return fail(store_unavailable());
  const auto all = dispatcher_->silences();
  auto it = std::find_if(all.begin(), all.end(), [&](const silence& s) { return s.id == id; });
  if (it == all.end()) return fail(codes::resource_not_found, "no silence " + std::string(id));
  silence ended = *it;
  const auto now = clock_.system_now();
  if (ended.ends_at > now) ended.ends_at = now;
  auto saved = d->store->save_silence(ended);
  on_store_write(saved, "silence");
  if (!saved) return fail(store_unavailable());
  return dispatcher_->expire_silence(id);
}

void pipeline::audit(std::string_view actor, std::string_view action, std::string_view resource,
                     std::string_view request_id, nlohmann::ordered_json details) {
  log().info("audit", kv("actor", actor), kv("action", action), kv("resource", resource));
  auto d = store();
  if (!d) {
    log().error("audit entry not stored: store unavailable", kv("action", action));
    metrics_->store_failure("audit");
    return;
  }
  auto r = d->audit->append({.actor = std::string(actor),
                             .action = std::string(action),
                             .resource = std::string(resource),
                             .request_id = std::string(request_id),
                             .details = std::move(details)});
  if (!r) {
    log().error("audit append failed", kv("action", action), kv("error", r.error()));
    metrics_->store_failure("audit");
  }
}

result<nlohmann::json> pipeline::send_test_notification(std::string_view message) {
  alert a;
  a.rule = "TestAlert";
  a.labels =
      label_set{{"alertname", "TestAlert"}, {"severity", "info"}, {"service", opts_.self_service}};
  a.annotations = label_set{{"summary", std::string(message)}};
  a.state = alert_state::firing;
  a.active_since = a.fired_at = clock_.system_now();
  log().warn("test notification", kv("text", message));
  auto queued = nlohmann::json::array();
  std::lock_guard lock(delivery_mu_);
  if (!notifier_) {
    if (receivers_.empty()) {
      return nlohmann::json{{"status", "no receivers"}, {"message", message}, {"queued", queued}};
    }
    return fail(store_unavailable());
  }
  for (const auto& r : receivers_) {
    notification n{.receiver = r.name,
                   .group_key = "test",
                   .id = hex_id(),
                   .common_labels = a.labels,
                   .common_annotations = a.annotations,
                   .alerts = {a},
                   .created_at = a.fired_at};
    auto id = notifier_->enqueue(n);
    if (!id) return fail(std::move(id.error()));
    queued.push_back({{"receiver", r.name}, {"outbox_id", *id}});
  }
  if (delivery_) delivery_->wake();
  return nlohmann::json{{"status", queued.empty() ? "no receivers" : "queued"},
                        {"message", message},
                        {"queued", queued}};
}

// ---- state ----

std::vector<receiver_state> pipeline::receiver_states() const {
  std::lock_guard lock(delivery_mu_);
  std::vector<receiver_state> out;
  for (const auto& r : receivers_) {
    receiver_state s{.name = r.name};
    if (delivery_) {
      const auto h = delivery_->health(r.name);
      s.failing = h.failing;
      s.consecutive_failures = h.consecutive_failures;
      s.last_error = h.last_error;
      s.failing_since = h.failing_since;
    }
    out.push_back(std::move(s));
  }
  return out;
}

pipeline_health pipeline::health() const {
  pipeline_health h;
  h.store_open = store() != nullptr;
  {
    std::lock_guard lock(store_mu_);
    h.store_problem = store_problem_;
  }
  for (auto& r : receiver_states()) {
    if (r.failing) h.failing_receivers.push_back(std::move(r));
  }
  {
    std::lock_guard lock(rule_failures_mu_);
    h.failing_rules = rule_failures_;
  }
  h.loop_started = started_;
  const auto beat = keel::clock::steady_time(keel::clock::steady_time::duration(loop_beat_.load()));
  h.since_loop_beat =
      std::chrono::duration_cast<std::chrono::milliseconds>(clock_.steady_now() - beat);
  const auto longest =
      std::max({opts_.evaluation_interval, opts_.dispatch_interval, opts_.store_interval});
  const auto stall_limit =
      std::max<std::chrono::milliseconds>(3 * longest, std::chrono::minutes(1));
  h.loop_running = started_ && !stopped_ && h.since_loop_beat < stall_limit;
  return h;
}

std::vector<receiver_config> pipeline::receivers() const {
  std::lock_guard lock(delivery_mu_);
  return receivers_;
}

}  // namespace keel::alert
