#include "keel/health/registry.hpp"

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <exception>
#include <optional>
#include <thread>

#include "keel/core/error.hpp"
#include "keel/metrics/registry.hpp"

namespace keel::health {

namespace {

constexpr std::size_t kMaxChecks = 256;
constexpr auto kMaxTimeout = std::chrono::minutes(10);

bool valid_name(std::string_view n, bool allow_empty) {
  if (n.empty()) return allow_empty;
  if (n.size() > 64) return false;
  return std::all_of(n.begin(), n.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '.' || c == '-';
  });
}

bool in_view(const check_options& o, view v) {
  switch (v) {
    case view::liveness:
      return includes(o.probes, probe::liveness);
    case view::readiness:
      return includes(o.probes, probe::readiness);
    case view::startup:
      return includes(o.probes, probe::startup);
    case view::all:
      return true;
  }
  return false;
}

std::string ms_text(std::chrono::nanoseconds d) {
  return std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(d).count()) + " ms";
}

check_report base_report(const check_options& o) {
  check_report r;
  r.name = o.name;
  r.measurement = o.measurement;
  r.component_type = o.component_type;
  r.component_id = o.component_id;
  r.critical = o.critical;
  return r;
}

}  // namespace

struct registry::execution {
  std::mutex mu;
  std::condition_variable cv;
  bool done = false;
  check_report result{};
  // Real time bounds the wait (a hung thread does not move a manual clock);
  // the registry's clock measures the check.
  std::chrono::steady_clock::time_point real_deadline{};
  keel::clock::steady_time started{};
};

struct registry::entry {
  check_options opts{};
  std::shared_ptr<const check_fn> fn{};
  std::chrono::nanoseconds cache_interval{0};
  // Metric children, or nullptr without a metrics registry.
  keel::metrics::gauge* status_gauge = nullptr;
  keel::metrics::histogram* duration = nullptr;
  keel::metrics::counter* timeouts = nullptr;

  std::mutex mu;  // guards the members below
  std::optional<check_report> cached{};
  keel::clock::steady_time cached_at{};
  std::shared_ptr<execution> in_flight{};
};

struct registry::metric_handles {
  keel::metrics::gauge_family* status = nullptr;
  keel::metrics::histogram_family* duration = nullptr;
  keel::metrics::counter_family* timeouts = nullptr;
  // Shared with detached check threads, which may outlive the registry.
  std::shared_ptr<std::atomic<std::size_t>> running = std::make_shared<std::atomic<std::size_t>>(0);
};

registry::registry(registry_options o) : o_(o), metrics_(std::make_unique<metric_handles>()) {
  if (o_.clock == nullptr) o_.clock = &keel::clock::real();
  if (o_.metrics != nullptr) {
    auto s =
        o_.metrics->add_gauge({.name = "health_check_status",
                               .help = "Last result of a health check: 1 pass, 0.5 warn, 0 fail.",
                               .labels = {"check"}});
    auto d =
        o_.metrics->add_histogram({.name = "health_check_duration_seconds",
                                   .help = "Time health checks took.",
                                   .labels = {"check"},
                                   .buckets = {0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 2.5, 5, 10}});
    auto t =
        o_.metrics->add_counter({.name = "health_check_timeouts_total",
                                 .help = "Health checks that did not finish within their timeout.",
                                 .labels = {"check"}});
    if (!s) throw exception(s.error());
    if (!d) throw exception(d.error());
    if (!t) throw exception(t.error());
    metrics_->status = *s;
    metrics_->duration = *d;
    metrics_->timeouts = *t;
  }
}

registry::~registry() = default;

result<void> registry::add(check_options options, check_fn fn) {
  if (!valid_name(options.name, false)) {
    return fail(error(codes::validation_error,
                      "health check name must be 1..64 characters of [A-Za-z0-9_.-]")
                    .with_detail("name", options.name));
  }
  if (!valid_name(options.measurement, true)) {
    return fail(codes::validation_error,
                "health check measurement must be up to 64 characters of [A-Za-z0-9_.-]");
  }
  if (options.timeout <= std::chrono::milliseconds::zero() || options.timeout > kMaxTimeout) {
    return fail(codes::validation_error, "health check timeout must be in (0, 10 min]");
  }
  if (options.cache_interval && *options.cache_interval < std::chrono::milliseconds::zero()) {
    return fail(codes::validation_error, "health check cache interval must not be negative");
  }
  if (!fn)
    return fail(codes::validation_error, "health check '" + options.name + "' has no function");

  auto e = std::make_shared<entry>();
  e->cache_interval = options.cache_interval.value_or(o_.cache_interval);
  e->fn = std::make_shared<const check_fn>(std::move(fn));
  if (metrics_->status != nullptr) {
    auto s = metrics_->status->try_labels({options.name});
    auto d = metrics_->duration->try_labels({options.name});
    auto t = metrics_->timeouts->try_labels({options.name});
    if (!s) return fail(s.error());
    if (!d) return fail(d.error());
    if (!t) return fail(t.error());
    e->status_gauge = *s;
    e->duration = *d;
    e->timeouts = *t;
  }
  e->opts = std::move(options);

  std::lock_guard<std::mutex> lock(mu_);
  if (entries_.size() >= kMaxChecks) {
    return fail(codes::resource_exhausted, "too many health checks (256)");
  }
  for (const auto& other : entries_) {
    if (other->opts.name == e->opts.name) {
      return fail(codes::conflict, "health check '" + e->opts.name + "' is already registered");
    }
  }
  entries_.push_back(std::move(e));
  return ok();
}

report registry::run(view v) {
  std::vector<std::shared_ptr<entry>> selected;
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (const auto& e : entries_)
      if (in_view(e->opts, v)) selected.push_back(e);
  }

  struct pending_run {
    std::shared_ptr<entry> e;
    std::shared_ptr<execution> x;
    bool owner = false;  // this call started the run (and records metrics)
  };
  report out;
  out.checks.resize(selected.size());
  std::vector<std::pair<std::size_t, pending_run>> pending;

  const keel::clock& clk = *o_.clock;
  for (std::size_t i = 0; i < selected.size(); ++i) {
    entry& e = *selected[i];
    const auto now = clk.steady_now();
    std::lock_guard<std::mutex> lock(e.mu);
    if (e.cached && now - e.cached_at < e.cache_interval) {
      out.checks[i] = *e.cached;
      out.checks[i].from_cache = true;
      continue;
    }
    if (e.in_flight) {
      pending.push_back({i, {selected[i], e.in_flight, false}});
      continue;
    }
    auto x = std::make_shared<execution>();
    x->started = now;
    x->real_deadline = std::chrono::steady_clock::now() + e.opts.timeout;
    auto running = metrics_->running;
    try {
      running->fetch_add(1);
      // The thread owns shared pointers to everything it touches, so it may
      // outlive this call, and the registry, when the check hangs.
      std::thread([ep = selected[i], x, clock = o_.clock, running] {
        const check_context ctx{ep->opts.timeout, x->started + ep->opts.timeout, clock};
        check_result r;
        try {
          r = (*ep->fn)(ctx);
        } catch (const std::exception& ex) {
          r = check_result::fail(std::string("check threw: ") + ex.what());
        } catch (...) {
          r = check_result::fail("check threw a non-standard exception");
        }
        const auto end = clock->steady_now();
        check_report rep = base_report(ep->opts);
        rep.status = r.status;
        rep.output = std::move(r.output);
        rep.observed_value = r.observed_value;
        rep.observed_unit = std::move(r.observed_unit);
        rep.duration = end - x->started;
        rep.time = clock->system_now();
        if (rep.duration > ep->opts.timeout) {
          rep.status = check_status::fail;
          rep.timed_out = true;
          rep.output = "timed out after " + ms_text(ep->opts.timeout) + " (took " +
                       ms_text(rep.duration) + ")";
        }
        // Cache first, then wake the waiters: a report that returns has its
        // result cached and the check no longer in flight.
        {
          std::lock_guard<std::mutex> el(ep->mu);
          if (ep->in_flight == x) ep->in_flight.reset();
          ep->cached = rep;
          ep->cached_at = end;
        }
        {
          std::lock_guard<std::mutex> xl(x->mu);
          x->result = std::move(rep);
          x->done = true;
        }
        x->cv.notify_all();
        running->fetch_sub(1);
      }).detach();
    } catch (const std::exception& ex) {
      running->fetch_sub(1);
      check_report rep = base_report(e.opts);
      rep.status = check_status::fail;
      rep.output = std::string("could not start the check: ") + ex.what();
      rep.time = clk.system_now();
      out.checks[i] = std::move(rep);
      continue;
    }
    e.in_flight = x;
    pending.push_back({i, {selected[i], x, true}});
  }

  // Deadlines are absolute, so waiting in turn takes no longer than the
  // largest timeout.
  for (auto& [i, p] : pending) {
    out.checks[i] = finish(*p.e, p.x);
    if (p.owner && p.e->status_gauge != nullptr) {
      const check_report& r = out.checks[i];
      p.e->status_gauge->set(r.status == check_status::pass   ? 1.0
                             : r.status == check_status::warn ? 0.5
                                                              : 0.0);
      p.e->duration->observe(std::chrono::duration<double>(r.duration).count());
      if (r.timed_out) p.e->timeouts->inc();
    }
  }

  out.status = aggregate(out.checks);
  std::string failing, warning;
  for (const auto& c : out.checks) {
    std::string& list = c.status == check_status::fail && c.critical ? failing : warning;
    if (c.status == check_status::pass) continue;
    if (!list.empty()) list += ", ";
    list += c.name;
  }
  if (!failing.empty()) out.output = "failing: " + failing;
  if (!warning.empty())
    out.output += (out.output.empty() ? "" : "; ") + std::string("degraded: ") + warning;
  return out;
}

check_report registry::finish(entry& e, const std::shared_ptr<execution>& x) {
  {
    std::unique_lock<std::mutex> lock(x->mu);
    if (x->cv.wait_until(lock, x->real_deadline, [&] { return x->done; })) return x->result;
  }
  // Still running at its deadline: report it failed now, and cache that so
  // reports within the cache interval do not wait again.
  const keel::clock& clk = *o_.clock;
  check_report rep = base_report(e.opts);
  rep.status = check_status::fail;
  rep.timed_out = true;
  rep.duration = clk.steady_now() - x->started;
  rep.time = clk.system_now();
  rep.output = "timed out after " + ms_text(e.opts.timeout) + "; still running";
  std::lock_guard<std::mutex> lock(e.mu);
  if (e.in_flight == x) {
    e.cached = rep;
    e.cached_at = clk.steady_now();
  }
  return rep;
}

report registry::startup() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (startup_passed_) return report{};
    if (!started_) {
      report r;
      r.status = health_status::unhealthy;
      r.output = "starting";
      return r;
    }
  }
  report r = run(view::startup);
  if (r.status != health_status::unhealthy) {
    std::lock_guard<std::mutex> lock(mu_);
    startup_passed_ = true;
  }
  return r;
}

void registry::mark_started() {
  std::lock_guard<std::mutex> lock(mu_);
  started_ = true;
}

std::size_t registry::running() const { return metrics_->running->load(); }

std::vector<std::string> registry::names() const {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<std::string> out;
  for (const auto& e : entries_)
    out.push_back(e->opts.name);
  return out;
}

}  // namespace keel::health
