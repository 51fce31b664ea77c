#include "keel/alert/delivery.hpp"

#include "keel/client/http_client.hpp"
#include "keel/core/version.hpp"

#include <algorithm>
#include <charconv>
#include <cstring>

namespace keel::alert {

verdict classify_http(const send_result& r) noexcept {
  if (r.status >= 200 && r.status < 300) return verdict::delivered;
  if (r.status == 0 || r.status == 408 || r.status == 429 || r.status >= 500) {
    return verdict::retry;
  }
  return verdict::reject;
}

verdict classify_smtp(const send_result& r) noexcept {
  if (r.status >= 200 && r.status < 400) return verdict::delivered;
  if (r.status == 0 || (r.status >= 400 && r.status < 500)) return verdict::retry;
  return verdict::reject;
}

std::optional<std::chrono::milliseconds> fixed_delay_policy::next_delay(
    std::string_view, std::uint32_t attempts,
    std::optional<std::chrono::milliseconds> retry_after) {
  if (o_.max_attempts > 0 && attempts >= o_.max_attempts) return std::nullopt;
  auto d = o_.delay;
  if (retry_after) d = std::max(d, std::min(*retry_after, o_.max_retry_after));
  return d;
}

// ---- curl_transport ----

namespace {

std::string http_url(const receiver_config& r) {
  switch (r.kind) {
    case receiver_kind::pagerduty:
      return r.url.empty() ? "https://events.pagerduty.com/v2/enqueue" : r.url;
    case receiver_kind::alertmanager: {
      std::string u = r.url;
      while (!u.empty() && u.back() == '/')
        u.pop_back();
      return u + "/api/v2/alerts";
    }
    default:
      return r.url;
  }
}

send_result to_send_result(const keel::client::response& r) {
  send_result out{.status = r.status, .timed_out = r.timed_out};
  if (r.retry_after) out.retry_after = *r.retry_after;
  if (r.error.empty()) {
    out.detail = "status " + std::to_string(r.status);
  } else {
    out.detail = r.error;
    if (r.status > 0) out.detail += " (status " + std::to_string(r.status) + ")";
  }
  return out;
}

}  // namespace

curl_transport::curl_transport() = default;
curl_transport::~curl_transport() = default;

send_result curl_transport::send(const receiver_config& r, const outbox_message& m,
                                 std::chrono::system_clock::time_point now) {
  if (r.kind == receiver_kind::email) {
    return to_send_result(keel::client::send(keel::client::mail_request{.url = r.url,
                                                                        .from = r.from,
                                                                        .to = r.to,
                                                                        .user = r.smtp_user,
                                                                        .password = r.smtp_password,
                                                                        .message = m.body,
                                                                        .timeout = r.timeout}));
  }
  keel::client::http_request req{
      .method = "POST",
      .url = http_url(r),
      .headers = {"Content-Type: " + m.content_type, "X-Keel-Dedup-Key: " + m.dedup_key},
      .body = m.body,
      .timeout = r.timeout,
      .user_agent = "keel-alert/" + std::string(keel::version())};
  if (r.kind == receiver_kind::webhook && !r.secret.empty()) {
    const auto secs =
        std::chrono::duration_cast<std::chrono::seconds>(now.time_since_epoch()).count();
    req.headers.push_back("X-Keel-Signature: " + webhook_signature(r.secret, m.body, secs));
  }
  return to_send_result(keel::client::send(req));
}

// ---- notifier ----

notifier::notifier(outbox& box, std::vector<receiver_config> receivers, const keel::clock& clock)
    : box_(box), clock_(clock) {
  for (auto& r : receivers)
    receivers_.emplace(r.name, std::move(r));
}

result<std::int64_t> notifier::enqueue(const notification& n) {
  auto it = receivers_.find(n.receiver);
  if (it == receivers_.end()) {
    return fail(codes::resource_not_found, "no receiver " + n.receiver);
  }
  if (!n.firing() && !it->second.send_resolved) return std::int64_t{0};
  auto r = render(it->second, n, clock_.system_now());
  if (!r) return fail(r.error());
  return box_.enqueue({.receiver = n.receiver,
                       .dedup_key = std::move(r->dedup_key),
                       .content_type = std::move(r->content_type),
                       .body = std::move(r->body)});
}

// ---- delivery_worker ----

delivery_worker::delivery_worker(outbox& box, transport& t, delivery_policy& policy,
                                 const keel::clock& clock, std::vector<receiver_config> receivers,
                                 delivery_options opts)
    : box_(box), transport_(t), policy_(policy), clock_(clock), opts_(opts) {
  for (auto& r : receivers) {
    counters_[r.name] = {};
    receivers_.emplace(r.name, std::move(r));
  }
}

delivery_worker::~delivery_worker() { stop(); }

std::size_t delivery_worker::run_once(std::string_view receiver) {
  auto rit = receivers_.find(receiver);
  if (rit == receivers_.end()) return 0;
  const receiver_config& cfg = rit->second;
  auto count = [&](auto member) {
    std::lock_guard lock(mu_);
    ++(counters_[cfg.name].*member);
  };
  // A failed attempt (or a refused round): the run of failures goes on.
  auto failed = [&](std::string_view why) {
    std::lock_guard lock(mu_);
    auto& h = health_[cfg.name];
    if (!h.failing) h.failing_since = clock_.system_now();
    h.failing = true;
    ++h.consecutive_failures;
    h.last_error.assign(why);
    return h;
  };
  auto tell_failure = [&](const outbox_message& m, const send_result& res, bool dead) {
    const auto h = failed(res.detail);
    if (opts_.listener != nullptr) opts_.listener->on_failure(cfg, m, res, h, dead);
  };
  auto due = box_.due(cfg.name, clock_.system_now(), opts_.batch);
  if (!due) return 0;
  std::size_t attempted = 0;
  for (const auto& m : *due) {
    if (!policy_.allow(cfg.name)) {
      count(&delivery_counters::blocked);
      (void)failed("circuit breaker open");
      break;
    }
    const auto res = transport_.send(cfg, m, clock_.system_now());
    const verdict v = cfg.kind == receiver_kind::email ? classify_smtp(res) : classify_http(res);
    policy_.on_result(cfg.name, v, res);
    ++attempted;
    count(&delivery_counters::attempts);
    if (v == verdict::delivered) {
      (void)box_.delivered(m.id);
      count(&delivery_counters::delivered);
      bool recovered = false;
      {
        std::lock_guard lock(mu_);
        auto& h = health_[cfg.name];
        recovered = h.failing;
        h = receiver_health{};
      }
      if (opts_.listener != nullptr) opts_.listener->on_delivered(cfg, m, recovered);
      continue;
    }
    count(&delivery_counters::failures);
    if (v == verdict::retry) {
      const auto delay = policy_.next_delay(cfg.name, m.attempts + 1, res.retry_after);
      if (delay) {
        const auto at = clock_.system_now() + *delay;
        (void)box_.retry_later(m.id, at, res.detail);
        tell_failure(m, res, false);
        // The receiver is unhealthy: the rest of the batch waits with this
        // message, so order is kept and a down receiver costs one attempt
        // per delay, not one per message.
        for (const auto& rest : *due) {
          if (rest.id > m.id) (void)box_.postpone(rest.id, at);
        }
        break;
      }
      (void)box_.dead_letter(m.id, "retries exhausted: " + res.detail);
    } else {
      (void)box_.dead_letter(m.id, res.detail);
    }
    count(&delivery_counters::dead);
    tell_failure(m, res, true);
  }
  return attempted;
}

void delivery_worker::loop(const receiver_config* r) {
  std::uint64_t seen = 0;
  for (;;) {
    {
      std::lock_guard lock(mu_);
      if (stopping_) return;
      seen = wakeups_;
    }
    const std::size_t n = run_once(r->name);
    if (n > 0) continue;
    std::unique_lock lock(mu_);
    cv_.wait_for(lock, opts_.poll_interval, [&] { return stopping_ || wakeups_ != seen; });
  }
}

void delivery_worker::start() {
  std::lock_guard lock(mu_);
  if (!threads_.empty()) return;
  stopping_ = false;
  for (const auto& [name, cfg] : receivers_)
    threads_.emplace_back([this, p = &cfg] { loop(p); });
}

void delivery_worker::stop() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  for (auto& t : threads_)
    t.join();
  threads_.clear();
}

void delivery_worker::wake() {
  {
    std::lock_guard lock(mu_);
    ++wakeups_;
  }
  cv_.notify_all();
}

delivery_counters delivery_worker::counters(std::string_view receiver) const {
  std::lock_guard lock(mu_);
  auto it = counters_.find(receiver);
  return it == counters_.end() ? delivery_counters{} : it->second;
}

receiver_health delivery_worker::health(std::string_view receiver) const {
  std::lock_guard lock(mu_);
  auto it = health_.find(receiver);
  return it == health_.end() ? receiver_health{} : it->second;
}

std::vector<std::string> delivery_worker::receivers() const {
  std::vector<std::string> out;
  out.reserve(receivers_.size());
  for (const auto& [name, cfg] : receivers_)
    out.push_back(name);
  return out;
}

}  // namespace keel::alert
