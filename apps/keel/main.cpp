// keel — the command line of the keel toolkit.
//
//   keel logq -w 'level >= error and error.code = DATABASE_ERROR' --since 15m app.log
//   keel logq --request 7f3d2a1b app.log app.log.1.gz
//   keel logq --count-by error.code --rotated app.log
//   keel load --scenario seed -c 20 -n 500 http://127.0.0.1:8000
//   keel load -c 64 -t 2 -d 30s --rate 20000 http://127.0.0.1:8080/
//   keel audit verify ./var
//   keel check-config config/keeld.yaml
//
// This file only parses arguments; the work is in logq/ and load/ (keel_cli_lib).
// docs/cli.md is the manual.
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <string>
#include <thread>
#include <vector>

#include <fmt/format.h>
#include <CLI/CLI.hpp>

#include "keel/core/version.hpp"

#include "audit_verify.hpp"
#include "load/engine.hpp"
#include "load/report.hpp"
#include "load/scenario.hpp"
#include "logq/query.hpp"

namespace {

std::atomic<bool> g_stop{false};

extern "C" void on_signal(int) { g_stop.store(true); }

void install_stop_handler() {
  struct sigaction sa {};
  sa.sa_handler = on_signal;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
}

void write_all(int fd, std::string_view s) {
  while (!s.empty()) {
    const ssize_t n = ::write(fd, s.data(), s.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return;
    }
    s.remove_prefix(static_cast<std::size_t>(n));
  }
}

int usage_error(const keel::error& e) {
  fmt::print(stderr, "keel: {}\n", e.message());
  return 2;
}

struct logq_args {
  keel::cli::logq::query_options q{};
  std::string since{};
  std::string until{};
  std::string color = "auto";
  int poll_ms = 200;
};

int run_logq(logq_args& a) {
  namespace lq = keel::cli::logq;
  const auto now = std::chrono::system_clock::now();
  if (!a.since.empty()) {
    auto t = lq::parse_time_arg(a.since, now);
    if (!t) return usage_error(t.error());
    a.q.since = *t;
  }
  if (!a.until.empty()) {
    auto t = lq::parse_time_arg(a.until, now);
    if (!t) return usage_error(t.error());
    a.q.until = *t;
  }
  a.q.color = a.color == "always" || (a.color == "auto" && ::isatty(1) == 1);
  a.q.poll_interval = std::chrono::milliseconds(a.poll_ms);
  if (a.q.follow) install_stop_handler();
  auto stats = lq::run_query(
      a.q, [](std::string_view s) { write_all(1, s); }, g_stop);
  if (!stats) return usage_error(stats.error());
  for (const auto& e : stats->input_errors)
    fmt::print(stderr, "keel logq: {}\n", e);
  if (stats->malformed + stats->oversized > 0) {
    fmt::print(stderr,
               "keel logq: skipped {} malformed line{} ({} not a JSON object or too deep, {} "
               "longer than {} bytes) of {}\n",
               stats->malformed + stats->oversized,
               stats->malformed + stats->oversized == 1 ? "" : "s", stats->malformed,
               stats->oversized, a.q.max_line_bytes, stats->lines);
  }
  if (!stats->input_errors.empty()) return 2;
  return stats->matched > 0 ? 0 : 1;
}

struct load_args {
  std::vector<std::string> urls{};
  std::string scenario{};
  double error_share = 0.3;
  std::uint32_t concurrency = 20;
  std::uint32_t threads = 1;
  std::uint64_t requests = 0;
  std::string duration{};
  std::string timeout = "10s";
  double rate = 0;
  bool json = false;
  bool allow_remote = false;
  bool no_progress = false;
  std::uint64_t seed = 0;
};

int run_load(load_args& a) {
  namespace ld = keel::cli::load;
  ld::load_options o{.concurrency = a.concurrency,
                     .threads = a.threads,
                     .requests = a.requests,
                     .rate = a.rate,
                     .allow_remote = a.allow_remote,
                     .seed = a.seed};
  if (!a.duration.empty()) {
    auto d = keel::cli::logq::parse_duration(a.duration);
    if (!d) return usage_error(d.error());
    o.duration = *d;
  }
  if (o.requests == 0 && o.duration.count() == 0) o.requests = 500;  // the seed's run
  auto t = keel::cli::logq::parse_duration(a.timeout);
  if (!t) return usage_error(t.error());
  o.timeout = std::chrono::duration_cast<std::chrono::milliseconds>(*t);

  keel::result<ld::scenario> s = keel::fail(keel::codes::validation_error, "no target");
  if (a.scenario == "seed") {
    if (a.urls.size() > 1) {
      return usage_error(
          keel::error(keel::codes::validation_error, "--scenario seed takes one base URL"));
    }
    s = ld::seed_scenario(a.urls.empty() ? "" : a.urls[0], a.error_share);
  } else if (!a.scenario.empty()) {
    if (a.urls.size() > 1) {
      return usage_error(
          keel::error(keel::codes::validation_error, "--scenario FILE takes at most one base URL"));
    }
    s = ld::scenario_from_yaml_file(a.scenario, a.urls.empty() ? "" : a.urls[0]);
  } else if (!a.urls.empty()) {
    s = ld::scenario_from_urls(a.urls);
  } else {
    return usage_error(keel::error(keel::codes::validation_error,
                                   "give a URL, --scenario FILE or --scenario seed"));
  }
  if (!s) return usage_error(s.error());

  install_stop_handler();
  ld::load_progress progress;
  const bool show_progress = !a.no_progress && ::isatty(2) == 1;
  std::atomic<bool> finished{false};
  std::jthread progress_thread;
  if (show_progress) {
    progress_thread = std::jthread([&] {
      const auto start = std::chrono::steady_clock::now();
      while (!finished.load()) {
        std::this_thread::sleep_for(std::chrono::milliseconds(250));
        const double el =
            std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
        const auto done = progress.done.load(std::memory_order_relaxed);
        const auto failed = progress.failed.load(std::memory_order_relaxed);
        const double rate = el > 0 ? static_cast<double>(done) / el : 0;
        std::string remaining;
        if (o.duration.count() > 0) {
          remaining = fmt::format(
              "{:.1f}s", std::max(0.0, std::chrono::duration<double>(o.duration).count() - el));
        } else if (rate > 0) {
          remaining = fmt::format(
              "~{:.1f}s", static_cast<double>(o.requests - std::min(done, o.requests)) / rate);
        } else {
          remaining = "?";
        }
        fmt::print(
            stderr,
            "\r\x1b[K[keel load] {} done  {:.0f} req/s  {} failed  elapsed {:.1f}s  remaining {}",
            done, rate, failed, el, remaining);
        std::fflush(stderr);
      }
      fmt::print(stderr, "\r\x1b[K");
    });
  } else if (!a.json) {
    fmt::print(stderr, "Starting load test: {} with {} connections on {} thread{}\n",
               o.requests
                   ? fmt::format("{} requests", o.requests)
                   : fmt::format("{:.1f}s", std::chrono::duration<double>(o.duration).count()),
               o.concurrency, o.threads, o.threads == 1 ? "" : "s");
  }
  auto report = ld::run_load(*s, o, g_stop, &progress);
  finished.store(true);
  if (progress_thread.joinable()) progress_thread.join();
  if (!report) return usage_error(report.error());
  const std::string text = a.json ? ld::render_json(*report) + "\n" : ld::render_text(*report);
  write_all(1, text);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"keel: query keel's JSON logs, load-test HTTP services, check keeld"};
  app.require_subcommand(1);

  logq_args lq;
  auto* logq = app.add_subcommand("logq", "Filter, tabulate and count JSON Lines logs");
  logq->add_option("files", lq.q.inputs, "Log files (plain or gzip); none or '-': stdin");
  logq->add_option("-w,--where", lq.q.expression,
                   "Filter, e.g. 'duration_ms > 1000 and level >= warn', 'error.code = "
                   "DATABASE_ERROR', 'message =~ /timeout/i'");
  logq->add_option("--since", lq.since, "Only lines at or after: RFC 3339 or a duration ago (15m)");
  logq->add_option("--until", lq.until, "Only lines before: RFC 3339 or a duration ago");
  logq->add_option("--request", lq.q.request_id,
                   "Every line of this request id, across all files, in time order");
  logq->add_option("--fields", lq.q.fields, "Show these fields as a table (a,b,c)")
      ->delimiter(',')
      ->allow_extra_args(false);
  logq->add_option("--count-by", lq.q.count_by, "Count matching lines grouped by fields")
      ->delimiter(',')
      ->allow_extra_args(false);
  logq->add_flag("--json", lq.q.json, "With --fields/--count-by: JSON objects instead of a table");
  logq->add_option("--color", lq.color, "auto, always or never")
      ->check(CLI::IsMember({"auto", "always", "never"}));
  logq->add_flag("-f,--follow", lq.q.follow, "Keep reading as the file grows and rotates");
  logq->add_flag(
      "--rotated", lq.q.rotated,
      "Also read each file's rotated siblings (app.log.1, app.log.2.gz...), oldest first");
  logq->add_option("--limit", lq.q.limit, "Stop after this many matching lines");
  logq->add_option("--time-field", lq.q.time_field, "Timestamp field")->capture_default_str();
  logq->add_option("--level-field", lq.q.level_field, "Level field")->capture_default_str();
  logq->add_option("--request-field", lq.q.request_field, "Request id field")
      ->capture_default_str();
  logq->add_option("--max-line-bytes", lq.q.max_line_bytes, "Longer lines are skipped")
      ->check(CLI::Range(std::size_t{64}, std::size_t{64} << 20))
      ->capture_default_str();
  logq->add_option("--poll-ms", lq.poll_ms, "Follow: poll interval")
      ->check(CLI::Range(1, 60'000))
      ->capture_default_str();

  load_args ld;
  auto* load = app.add_subcommand("load", "Generate HTTP/1.1 load and report latency");
  load->add_option("urls", ld.urls, "Target URLs (one origin), or the base URL for --scenario");
  load->add_option("--scenario", ld.scenario, "YAML scenario file, or 'seed' for the built-in mix");
  load->add_option("--error-share", ld.error_share,
                   "seed scenario: share of /simulate/error and /simulate/slow")
      ->check(CLI::Range(0.0, 0.99))
      ->capture_default_str();
  load->add_option("-c,--concurrency", ld.concurrency, "Connections")->capture_default_str();
  load->add_option("-t,--threads", ld.threads, "I/O threads")->capture_default_str();
  auto* n_opt =
      load->add_option("-n,--requests", ld.requests, "Stop after this many requests (default 500)");
  load->add_option("-d,--duration", ld.duration, "Stop after this long (30s, 2m)")->excludes(n_opt);
  load->add_option("--rate", ld.rate,
                   "Open loop: requests/s in total, latency measured from the intended send time");
  load->add_option("--timeout", ld.timeout, "Per-request timeout")->capture_default_str();
  load->add_flag("--json", ld.json, "Print the summary as JSON");
  load->add_flag("--allow-remote", ld.allow_remote, "Allow targets that are not loopback");
  load->add_flag("--no-progress", ld.no_progress, "No progress line, even on a terminal");
  load->add_option("--seed", ld.seed, "Seed for the endpoint mix (reproducible runs)");

  std::string audit_dir;
  auto* audit = app.add_subcommand("audit", "Checks of keeld's audit trail");
  audit->require_subcommand(1);
  auto* verify = audit->add_subcommand("verify", "Verify the hash chain (exit 1 when broken)");
  verify->add_option("data_dir", audit_dir, "keeld's data directory")->required();

  std::string config_file;
  auto* check = app.add_subcommand("check-config", "Validate a keeld configuration file");
  check->add_option("file", config_file, "The YAML file")->required();

  app.set_version_flag("--version", std::string("keel ") + std::string(keel::version()));
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    // --help and --version exit 0; a usage error exits 2, as Unix tools do.
    return app.exit(e) == 0 ? 0 : 2;
  }
  if (logq->parsed()) return run_logq(lq);
  if (load->parsed()) return run_load(ld);
  if (verify->parsed()) return keel::cli::run_audit_verify(audit_dir);
  if (check->parsed()) return keel::cli::run_check_config(config_file);
  return 2;
}
