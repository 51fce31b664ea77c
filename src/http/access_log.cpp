#include "keel/http/access_log.hpp"

#include <chrono>
#include <functional>
#include <source_location>
#include <string_view>
#include <utility>

namespace keel::http {

namespace {

// `s` cut to at most `max` bytes without splitting a UTF-8 sequence.
std::string_view bounded(std::string_view s, std::size_t max) noexcept {
  if (s.size() <= max) return s;
  std::size_t cut = max;
  while (cut > 0 && (static_cast<unsigned char>(s[cut]) & 0xC0u) == 0x80u)
    --cut;
  return s.substr(0, cut);
}

}  // namespace

access_log::access_log(access_log_options options)
    : options_(std::move(options)), clients_(std::make_unique<client_slot[]>(kClientSlots)) {}

bool access_log::admit_client_error(std::string_view client_ip, keel::clock::steady_time now,
                                    std::uint64_t& summary) noexcept {
  summary = 0;
  if (options_.client_error_lines == 0) return true;
  const std::uint64_t key = std::hash<std::string_view>{}(client_ip) | 1;  // never 0
  client_slot& s = clients_[key % kClientSlots];
  const auto now_ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count();
  std::uint64_t owner = s.key.load(std::memory_order_relaxed);
  if (owner != key) {
    // A newcomer (or a collision) takes the slot with a fresh interval.
    if (s.key.compare_exchange_strong(owner, key, std::memory_order_relaxed)) {
      s.interval_start_ms.store(now_ms, std::memory_order_relaxed);
      s.written.store(0, std::memory_order_relaxed);
      s.suppressed.store(0, std::memory_order_relaxed);
    }
  }
  std::int64_t start = s.interval_start_ms.load(std::memory_order_relaxed);
  if (now_ms - start >= options_.client_error_interval.count() &&
      s.interval_start_ms.compare_exchange_strong(start, now_ms, std::memory_order_relaxed)) {
    // This request opens the client's next interval: it reports the last.
    summary = s.suppressed.exchange(0, std::memory_order_relaxed);
    s.written.store(0, std::memory_order_relaxed);
  }
  if (s.written.fetch_add(1, std::memory_order_relaxed) < options_.client_error_lines) {
    return true;
  }
  s.suppressed.fetch_add(1, std::memory_order_relaxed);
  return false;
}

log::level access_log::level_for(int status, std::string_view route) const noexcept {
  if (status >= 500) return log::level::error;
  if (status >= 400) return log::level::warn;
  for (const std::string& quiet : options_.quiet_routes) {
    if (quiet == route) return options_.quiet_level;
  }
  return log::level::info;
}

void access_log::after(exchange& ex) {
  const request& req = ex.req();
  const int status = final_status(ex);
  const log::level lvl = level_for(status, req.route());
  if (lvl == log::level::off || !options_.logger.enabled(lvl)) return;
  if (status < 400 && options_.sample_successes > 1 &&
      successes_.fetch_add(1, std::memory_order_relaxed) % options_.sample_successes != 0) {
    return;
  }
  using log::kv;
  if (status >= 400 && status < 500) {
    std::uint64_t summarised = 0;
    const bool write = admit_client_error(req.client_ip(), ex.clock().steady_now(), summarised);
    if (summarised > 0) {
      options_.logger.log(
          log::level::warn, log::message("http client errors summarised", std::source_location{}),
          kv("client_ip", req.client_ip()), kv("suppressed", summarised),
          kv("interval_s", std::chrono::duration<double>(options_.client_error_interval).count()));
    }
    if (!write) return;
  }
  const auto elapsed = ex.clock().steady_now() - ex.start();
  const double duration_ms = std::chrono::duration<double, std::milli>(elapsed).count();
  const std::size_t bytes_out = req.verb() == method::head ? 0 : ex.res().body().size();
  const std::string_view user_agent = req.header("user-agent").value_or(std::string_view{});
  // No source location: it would name this file on every warn line.
  options_.logger.log(
      lvl, log::message("http request", std::source_location{}),
      kv("method", bounded(req.method_name(), options_.max_method_bytes)),
      kv("path", bounded(req.path(), options_.max_path_bytes)), kv("route", req.route()),
      kv("status", status), kv("duration_ms", duration_ms < 0 ? 0.0 : duration_ms),
      kv("bytes_in", ex.bytes_in()), kv("bytes_out", bytes_out), kv("client_ip", req.client_ip()),
      kv("user_agent", bounded(user_agent, options_.max_user_agent_bytes)));
}

}  // namespace keel::http
