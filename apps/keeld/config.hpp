// apps/keeld/config.hpp
//
// keeld's configuration: one YAML file (config/keeld.yaml is the embedded
// default and the reference), overridden by KEEL_* environment variables,
// overridden by command-line flags.
//
//   auto cfg = keeld::load_config({.file = "keeld.yaml", .env = environ_map(),
//                                  .flags = {.listen = "127.0.0.1:0"}});
//   if (!cfg) { print(cfg.error().message()); return 2; }   // "line 7, column 3: ..."
//
// Every error names the line and column (and the path) it was found at;
// unknown keys are errors, so a typo never silently falls back to a default.
// `keeld check-config FILE` runs exactly this validation.
//
// Thread safety: plain values and pure functions.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "keel/alert/config.hpp"
#include "keel/core/result.hpp"
#include "keel/http/cors.hpp"
#include "keel/log/level.hpp"

namespace keeld {

// The configuration text keeld runs with when given no --config: the bytes
// of config/keeld.yaml, embedded at build time.
std::string_view default_config_text() noexcept;

// target_config — a monitored service: an HTTP health URL or a TCP port.
struct target_config {
  std::string name{};
  std::string url{};       // http(s)://... : healthy on 2xx
  std::string tcp_host{};  // or host + port: healthy when it accepts
  std::uint16_t tcp_port = 0;
  std::chrono::milliseconds interval{15'000};
  std::chrono::milliseconds timeout{2'000};
  bool critical = false;  // a failing critical target makes /health unhealthy
};

// retry_config — attempts and their jittered, exponential backoff (seed
// 004's DEFAULT_MAX_RETRIES, INITIAL_DELAY, MAX_DELAY). retries.delivery,
// retries.targets.
struct retry_config {
  std::uint32_t max_attempts = 2;  // delivery: 0 retries for ever (no dead letter)
  std::chrono::milliseconds initial_delay{100};
  std::chrono::milliseconds max_delay{1'000};
};

// log_output — how lines reach stdout.
enum class log_output : std::uint8_t { json, console, off };

struct config {
  // server
  std::string listen_host = "127.0.0.1";
  std::uint16_t listen_port = 8000;
  unsigned io_threads = 0;  // 0: one per core
  std::size_t max_body_bytes = 1 << 20;
  std::size_t max_connections = 10'000;
  std::chrono::milliseconds shutdown_grace{10'000};
  std::string tls_certificate{};
  std::string tls_private_key{};
  double rate_limit_rps = 100;  // per client, public API routes
  double rate_limit_burst = 200;
  // Browser pages allowed to call the API (server.cors); no origin by
  // default, so no page can.
  keel::http::cors_options cors{
      .allowed_origins = {},
      .allowed_methods = {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"},
      .allowed_headers = {"Authorization", "Content-Type", "Idempotency-Key", "traceparent",
                          "X-Request-ID"},
      .exposed_headers = {"Location", "Retry-After", "X-Request-ID", "X-Response-Time"}};

  // storage
  std::filesystem::path data_dir = "./var";
  // Events, delivered notifications and dead letters older than this are
  // pruned (groups keep their counts; dead letters stay). storage.retention.
  std::chrono::milliseconds retention{30LL * 24 * 3600 * 1000};
  // Audit entries older than this are pruned, the chain anchored at the
  // last one removed. storage.audit_retention.
  std::chrono::milliseconds audit_retention{365LL * 24 * 3600 * 1000};
  // Event ids and Idempotency-Keys are remembered this long: a retry
  // within it is answered as a duplicate. storage.idempotency_window.
  std::chrono::milliseconds idempotency_window{24LL * 3600 * 1000};

  // logging
  keel::log::level log_level = keel::log::level::info;
  log_output log_stdout = log_output::json;
  bool log_files = true;  // rotating files under <data_dir>/logs
  std::uint64_t log_file_max_bytes = 10 << 20;
  std::uint32_t log_file_max_files = 5;
  bool access_log = true;

  // service identity, on every log line and in /health
  std::string service_name = "keeld";
  std::string environment = "development";

  // the Exercise 6 simulation endpoints
  double simulate_error_rate = 0.8;
  std::chrono::milliseconds simulate_slow_min{1'000};
  std::chrono::milliseconds simulate_slow_max{5'000};

  // alerting
  std::chrono::milliseconds evaluation_interval{30'000};
  std::chrono::milliseconds dispatch_interval{1'000};
  keel::alert::alerting_config alerting{};
  std::vector<target_config> targets{};
  // Notifications: after max_attempts failed attempts, a dead letter.
  retry_config delivery_retry{.max_attempts = 20,
                              .initial_delay = std::chrono::seconds(5),
                              .max_delay = std::chrono::minutes(10)};
  // Each probe of a target, within its interval.
  retry_config target_retry{};

  // From KEEL_ADMIN_TOKEN only (never from a file that might be committed).
  std::string admin_token{};

  // The file this came from ("" for the embedded default), for SIGHUP.
  std::string source_file{};
};

// flag_overrides — what the command line set.
struct flag_overrides {
  std::optional<std::string> listen{};
  std::optional<std::string> data_dir{};
  std::optional<unsigned> io_threads{};
  std::optional<std::string> log_level{};
};

struct load_options {
  std::string file{};                        // "" : KEEL_CONFIG, else the embedded default
  std::map<std::string, std::string> env{};  // KEEL_* variables
  flag_overrides flags{};
};

// Parses and validates one configuration text (no environment, no flags).
// VALIDATION_ERROR with details line, column, path.
[[nodiscard]] keel::result<config> parse_config(std::string_view yaml);

// File, then environment, then flags. CONFIGURATION_ERROR when the file
// cannot be read; VALIDATION_ERROR for a bad value anywhere (environment and
// flag errors name the variable or flag).
[[nodiscard]] keel::result<config> load_config(const load_options& o);

// The settings that differ between `running` and `next` and that a reload
// does not apply (everything but alerting and targets), by their YAML
// paths: "server.listen", "storage.data_dir", ...
std::vector<std::string> restart_needed(const config& running, const config& next);

// "HOST:PORT", "[v6]:PORT". VALIDATION_ERROR otherwise.
[[nodiscard]] keel::result<std::pair<std::string, std::uint16_t>> parse_listen(std::string_view s);

// `check-config FILE` (keeld's and keel's): validates the file as keeld
// loads it, prints "FILE: OK (...)" on stdout or the error on stderr, and
// returns the exit code (0 valid, 1 invalid or unreadable).
int check_config_command(const std::string& file);

// The KEEL_* variables of this process's environment.
std::map<std::string, std::string> keel_environment();

}  // namespace keeld
