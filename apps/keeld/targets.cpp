#include "targets.hpp"

#include "keel/core/rfc3339.hpp"
#include "keel/health/checks.hpp"
#include "keel/resilience/retry.hpp"

namespace keeld {

using namespace std::chrono_literals;

struct target_prober::target {
  target_config cfg;
  keel::health::check_fn check;
  std::shared_ptr<keel::resilience::circuit_breaker> breaker;
  keel::metrics::gauge* success = nullptr;
  keel::metrics::gauge* duration = nullptr;
  keel::clock::steady_time next_due{};
  // Guarded by target_prober::mu_.
  bool probed = false;
  bool up = false;
  std::string error;
  double duration_ms = 0;
  std::chrono::system_clock::time_point last_checked{};
  std::uint64_t failures_in_a_row = 0;
};

target_prober::target_prober(const keel::clock& clock, keel::metrics::registry& metrics,
                             keel::resilience::breaker_registry& breakers,
                             std::shared_ptr<keel::resilience::event_listener> events,
                             retry_config retry)
    : clock_(clock), breakers_(breakers), events_(std::move(events)), retry_(retry) {
  success_ = metrics
                 .add_gauge({.name = "probe_success",
                             .help = "1 when the last probe of the target succeeded.",
                             .labels = {"target"}})
                 .value();
  duration_ = metrics
                  .add_gauge({.name = "probe_duration_seconds",
                              .help = "How long the last probe of the target took.",
                              .labels = {"target"}})
                  .value();
}

target_prober::~target_prober() { stop(); }

void target_prober::set_targets(std::vector<target_config> targets) {
  std::vector<std::shared_ptr<target>> next;
  std::lock_guard lock(mu_);
  for (auto& c : targets) {
    auto t = std::make_shared<target>();
    for (const auto& old : targets_) {
      if (old->cfg.name == c.name) {
        t->probed = old->probed;
        t->up = old->up;
        t->error = old->error;
        t->duration_ms = old->duration_ms;
        t->last_checked = old->last_checked;
        t->failures_in_a_row = old->failures_in_a_row;
      }
    }
    t->check = c.url.empty() ? keel::health::tcp_check(c.tcp_host, c.tcp_port)
                             : keel::health::http_check(c.url);
    // Opens after 3 failed probes of the last 5; tries again after 30 s.
    t->breaker = breakers_.get_or_create("target:" + c.name).value();
    t->success = &success_->labels(c.name);
    t->duration = &duration_->labels(c.name);
    t->next_due = clock_.steady_now();
    t->cfg = std::move(c);
    next.push_back(std::move(t));
  }
  targets_ = std::move(next);
  cv_.notify_all();
}

void target_prober::start() {
  std::lock_guard lock(mu_);
  if (thread_.joinable()) return;
  stopping_ = false;
  thread_ = std::thread([this] { run(); });
}

void target_prober::stop() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void target_prober::run() {
  std::unique_lock lock(mu_);
  while (!stopping_) {
    auto now = clock_.steady_now();
    auto wake = now + 1s;
    for (auto t : targets_) {
      if (t->next_due <= now) {
        lock.unlock();
        probe(*t);
        lock.lock();
        if (stopping_) return;
        t->next_due = clock_.steady_now() + t->cfg.interval;
      }
      wake = std::min(wake, t->next_due);
    }
    cv_.wait_for(lock,
                 std::max<std::chrono::steady_clock::duration>(wake - clock_.steady_now(), 10ms));
  }
}

void target_prober::probe(target& t) {
  keel::resilience::retry attempts(
      {.name = "target:" + t.cfg.name,
       .max_attempts = retry_.max_attempts,
       .wait = {.initial = retry_.initial_delay, .max = retry_.max_delay},
       .max_duration = t.cfg.interval,
       .listener = events_});
  const auto start = clock_.steady_now();
  auto outcome = t.breaker->call([&] {
    return attempts.call([&]() -> keel::result<void> {
      keel::health::check_context ctx{.timeout = t.cfg.timeout,
                                      .deadline = clock_.steady_now() + t.cfg.timeout,
                                      .clock = &clock_};
      auto r = t.check(ctx);
      if (r.status == keel::health::check_status::fail) {
        return keel::fail(keel::codes::service_unavailable, r.output);
      }
      return {};
    });
  });
  const double seconds = std::chrono::duration<double>(clock_.steady_now() - start).count();
  t.success->set(outcome ? 1 : 0);
  t.duration->set(seconds);
  std::lock_guard lock(mu_);
  t.probed = true;
  t.up = outcome.has_value();
  t.error = outcome ? std::string() : std::string(outcome.error().message());
  t.duration_ms = seconds * 1000;
  t.last_checked = clock_.system_now();
  t.failures_in_a_row = outcome ? 0 : t.failures_in_a_row + 1;
}

nlohmann::json target_prober::states() const {
  auto out = nlohmann::json::array();
  std::lock_guard lock(mu_);
  for (const auto& t : targets_) {
    nlohmann::json j{
        {"name", t->cfg.name},
        {"kind", t->cfg.url.empty() ? "tcp" : "http"},
        {"address",
         t->cfg.url.empty() ? t->cfg.tcp_host + ":" + std::to_string(t->cfg.tcp_port) : t->cfg.url},
        {"critical", t->cfg.critical},
        {"status", !t->probed ? "unknown" : (t->up ? "up" : "down")},
        {"failures_in_a_row", t->failures_in_a_row},
        {"breaker", to_string(t->breaker->state())}};
    if (t->probed) {
      j["last_checked"] = keel::format_rfc3339(t->last_checked);
      j["duration_ms"] = t->duration_ms;
      if (!t->up) j["error"] = t->error;
    }
    out.push_back(std::move(j));
  }
  return out;
}

keel::health::check_result target_prober::health() const {
  std::lock_guard lock(mu_);
  std::string down_critical, down_other;
  for (const auto& t : targets_) {
    if (!t->probed || t->up) continue;
    auto& list = t->cfg.critical ? down_critical : down_other;
    list += (list.empty() ? "" : ", ") + t->cfg.name;
  }
  if (!down_critical.empty()) return keel::health::check_result::fail("down: " + down_critical);
  if (!down_other.empty()) return keel::health::check_result::warn("down: " + down_other);
  return keel::health::check_result::pass(static_cast<double>(targets_.size()), "targets");
}

}  // namespace keeld
