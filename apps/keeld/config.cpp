#include "config.hpp"

#include "keel/config/yaml_reader.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <initializer_list>
#include <set>
#include <sstream>

extern char** environ;  // NOLINT: POSIX

namespace keeld {
namespace {

using keel::codes::validation_error;
using std::chrono::milliseconds;

constexpr std::size_t kMaxConfigBytes = 1 << 20;
constexpr std::size_t kMaxTargets = 256;

using keel::config::allow_keys;
using keel::config::bad;
using keel::config::boolean;
using keel::config::duration;
using keel::config::number;
using keel::config::text;

keel::log::level level_of(const YAML::Node& n, const std::string& path) {
  const auto l = keel::log::parse_level(text(n, path));
  if (!l) bad(n, path, "unknown level '" + n.Scalar() + "' (trace, debug, info, warn, error)");
  return *l;
}

void read_cors(const YAML::Node& n, keel::http::cors_options& o) {
  allow_keys(n, "server.cors",
             {"allowed_origins", "allowed_methods", "allowed_headers", "exposed_headers",
              "allow_credentials", "max_age"});
  constexpr std::size_t kMaxEntries = 64;
  auto list = [&](const char* key, std::vector<std::string>& out) {
    if (!n[key]) return;
    const std::string path = std::string("server.cors.") + key;
    out = keel::config::text_list(n[key], path);
    if (out.size() > kMaxEntries) bad(n[key], path, "at most 64 entries");
  };
  list("allowed_origins", o.allowed_origins);
  list("allowed_methods", o.allowed_methods);
  list("allowed_headers", o.allowed_headers);
  list("exposed_headers", o.exposed_headers);
  if (n["allow_credentials"])
    o.allow_credentials = boolean(n["allow_credentials"], "server.cors.allow_credentials");
  if (n["max_age"]) {
    const auto age = duration(n["max_age"], "server.cors.max_age");
    if (age > std::chrono::hours(24)) bad(n["max_age"], "server.cors.max_age", "at most 24h");
    o.max_age = std::chrono::duration_cast<std::chrono::seconds>(age);
  }
  try {
    keel::http::cors check(o);  // the layer's own rules, reported with the line
  } catch (const keel::exception& e) {
    bad(n, "server.cors", e.error().message());
  }
}

void read_server(const YAML::Node& n, config& c) {
  allow_keys(n, "server",
             {"listen", "io_threads", "max_body_bytes", "max_connections", "shutdown_grace", "tls",
              "rate_limit", "cors"});
  if (n["listen"]) {
    auto l = parse_listen(text(n["listen"], "server.listen"));
    if (!l) bad(n["listen"], "server.listen", l.error().message());
    c.listen_host = l->first;
    c.listen_port = l->second;
  }
  if (n["io_threads"])
    c.io_threads = unsigned(number(n["io_threads"], "server.io_threads", 0, 256));
  if (n["max_body_bytes"]) {
    c.max_body_bytes =
        std::size_t(number(n["max_body_bytes"], "server.max_body_bytes", 1024, 64 << 20));
  }
  if (n["max_connections"]) {
    c.max_connections =
        std::size_t(number(n["max_connections"], "server.max_connections", 1, 1'000'000));
  }
  if (n["shutdown_grace"])
    c.shutdown_grace = duration(n["shutdown_grace"], "server.shutdown_grace");
  if (const auto& t = n["tls"]) {
    allow_keys(t, "server.tls", {"certificate", "private_key"});
    if (!t["certificate"] || !t["private_key"]) {
      bad(t, "server.tls", "needs both certificate and private_key");
    }
    c.tls_certificate = text(t["certificate"], "server.tls.certificate");
    c.tls_private_key = text(t["private_key"], "server.tls.private_key");
  }
  if (const auto& r = n["rate_limit"]) {
    allow_keys(r, "server.rate_limit", {"requests_per_second", "burst"});
    if (r["requests_per_second"]) {
      c.rate_limit_rps =
          number(r["requests_per_second"], "server.rate_limit.requests_per_second", 0.1, 1e6);
    }
    if (r["burst"]) c.rate_limit_burst = number(r["burst"], "server.rate_limit.burst", 1, 1e6);
  }
  if (const auto& x = n["cors"]) read_cors(x, c.cors);
}

void read_logging(const YAML::Node& n, config& c) {
  allow_keys(n, "logging",
             {"level", "stdout", "files", "file_max_bytes", "file_max_files", "access_log"});
  if (n["level"]) c.log_level = level_of(n["level"], "logging.level");
  if (n["stdout"]) {
    const auto s = text(n["stdout"], "logging.stdout");
    if (s == "json") {
      c.log_stdout = log_output::json;
    } else if (s == "console") {
      c.log_stdout = log_output::console;
    } else if (s == "off") {
      c.log_stdout = log_output::off;
    } else {
      bad(n["stdout"], "logging.stdout", "expected json, console or off");
    }
  }
  if (n["files"]) c.log_files = boolean(n["files"], "logging.files");
  if (n["file_max_bytes"]) {
    c.log_file_max_bytes =
        std::uint64_t(number(n["file_max_bytes"], "logging.file_max_bytes", 4096, 1e12));
  }
  if (n["file_max_files"]) {
    c.log_file_max_files =
        std::uint32_t(number(n["file_max_files"], "logging.file_max_files", 1, 1000));
  }
  if (n["access_log"]) c.access_log = boolean(n["access_log"], "logging.access_log");
}

void read_simulate(const YAML::Node& n, config& c) {
  allow_keys(n, "simulate", {"error_rate", "slow_min", "slow_max"});
  if (n["error_rate"]) c.simulate_error_rate = number(n["error_rate"], "simulate.error_rate", 0, 1);
  if (n["slow_min"]) c.simulate_slow_min = duration(n["slow_min"], "simulate.slow_min");
  if (n["slow_max"]) c.simulate_slow_max = duration(n["slow_max"], "simulate.slow_max");
  if (c.simulate_slow_max < c.simulate_slow_min || c.simulate_slow_max > milliseconds(60'000)) {
    bad(n, "simulate", "need slow_min <= slow_max <= 60s");
  }
}

void read_retry(const YAML::Node& n, const std::string& p, retry_config& r, bool forever_ok) {
  allow_keys(n, p, {"max_attempts", "initial_delay", "max_delay"});
  if (n["max_attempts"]) {
    const double a = number(n["max_attempts"], p + ".max_attempts", forever_ok ? 0 : 1, 1000);
    if (a != std::floor(a)) bad(n["max_attempts"], p + ".max_attempts", "an integer");
    r.max_attempts = static_cast<std::uint32_t>(a);
  }
  if (n["initial_delay"]) r.initial_delay = duration(n["initial_delay"], p + ".initial_delay");
  if (n["max_delay"]) r.max_delay = duration(n["max_delay"], p + ".max_delay");
  if (r.initial_delay < milliseconds(1) || r.max_delay < r.initial_delay ||
      r.max_delay > milliseconds(86'400'000)) {
    bad(n, p, "need 1ms <= initial_delay <= max_delay <= 1d");
  }
}

void read_retries(const YAML::Node& n, config& c) {
  allow_keys(n, "retries", {"delivery", "targets"});
  if (n["delivery"]) read_retry(n["delivery"], "retries.delivery", c.delivery_retry, true);
  if (n["targets"]) read_retry(n["targets"], "retries.targets", c.target_retry, false);
}

void read_targets(const YAML::Node& n, config& c) {
  if (!n.IsSequence()) bad(n, "targets", "expected a list");
  if (n.size() > kMaxTargets) bad(n, "targets", "at most 256 targets");
  std::set<std::string> names;
  for (std::size_t i = 0; i < n.size(); ++i) {
    const auto p = "targets[" + std::to_string(i) + "]";
    const auto& t = n[i];
    allow_keys(t, p, {"name", "url", "tcp", "interval", "timeout", "critical"});
    target_config tc;
    if (!t["name"]) bad(t, p, "needs a name");
    tc.name = text(t["name"], p + ".name");
    if (tc.name.empty() || tc.name.size() > 128 ||
        tc.name.find_first_not_of(
            "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._:-") !=
            std::string::npos) {
      bad(t["name"], p + ".name", "1..128 characters of [A-Za-z0-9._:-]");
    }
    if (!names.insert(tc.name).second) bad(t["name"], p + ".name", "duplicate target name");
    if (t["url"].IsDefined() == t["tcp"].IsDefined()) bad(t, p, "needs exactly one of url, tcp");
    if (t["url"]) {
      tc.url = text(t["url"], p + ".url");
      if (!tc.url.starts_with("http://") && !tc.url.starts_with("https://")) {
        bad(t["url"], p + ".url", "must be an http:// or https:// URL");
      }
    } else {
      auto hp = parse_listen(text(t["tcp"], p + ".tcp"));
      if (!hp || hp->second == 0) bad(t["tcp"], p + ".tcp", "expected HOST:PORT");
      tc.tcp_host = hp->first;
      tc.tcp_port = hp->second;
    }
    if (t["interval"]) tc.interval = duration(t["interval"], p + ".interval");
    if (t["timeout"]) tc.timeout = duration(t["timeout"], p + ".timeout");
    if (t["critical"]) tc.critical = boolean(t["critical"], p + ".critical");
    if (tc.interval < milliseconds(100) || tc.timeout <= milliseconds(0) ||
        tc.timeout > tc.interval) {
      bad(t, p, "need 0 < timeout <= interval and interval >= 100ms");
    }
    c.targets.push_back(std::move(tc));
  }
}

keel::result<void> apply(config& c, std::string_view name, std::string_view value, bool is_flag) {
  auto wrong = [&](std::string_view why) {
    return keel::fail(keel::error(validation_error, std::string(is_flag ? "--" : "") +
                                                        std::string(name) + ": " + std::string(why))
                          .with_detail(is_flag ? "flag" : "variable", name));
  };
  if (name == "listen" || name == "KEEL_LISTEN") {
    auto l = parse_listen(value);
    if (!l) return wrong(l.error().message());
    c.listen_host = l->first;
    c.listen_port = l->second;
  } else if (name == "data-dir" || name == "KEEL_DATA_DIR") {
    if (value.empty()) return wrong("must not be empty");
    c.data_dir = std::string(value);
  } else if (name == "io-threads" || name == "KEEL_IO_THREADS") {
    unsigned n = 0;
    const auto [p, ec] = std::from_chars(value.data(), value.data() + value.size(), n);
    if (ec != std::errc{} || p != value.data() + value.size() || n > 256) {
      return wrong("expected 0..256");
    }
    c.io_threads = n;
  } else if (name == "log-level" || name == "KEEL_LOG_LEVEL") {
    const auto l = keel::log::parse_level(value);
    if (!l) return wrong("unknown level");
    c.log_level = *l;
  } else if (name == "KEEL_ADMIN_TOKEN") {
    // It travels in an Authorization header: visible ASCII only.
    const bool visible =
        std::all_of(value.begin(), value.end(), [](char ch) { return ch > 0x20 && ch < 0x7f; });
    if (value.size() < 16 || value.size() > 256 || !visible) {
      return wrong("must be 16..256 visible ASCII characters");
    }
    c.admin_token = std::string(value);
  }
  return {};
}

}  // namespace

keel::result<std::pair<std::string, std::uint16_t>> parse_listen(std::string_view s) {
  auto no = [&] {
    return keel::fail(validation_error, "expected HOST:PORT or [IPv6]:PORT, got '" +
                                            std::string(s.substr(0, 64)) + "'");
  };
  const auto colon = s.rfind(':');
  if (colon == std::string_view::npos || colon == 0 || s.size() > 300) return no();
  std::string_view host = s.substr(0, colon);
  const std::string_view port = s.substr(colon + 1);
  if (host.front() == '[') {
    if (host.back() != ']' || host.size() < 3) return no();
    host = host.substr(1, host.size() - 2);
  } else if (host.find(':') != std::string_view::npos) {
    return no();
  }
  for (char ch : host) {
    if (!(std::isalnum(static_cast<unsigned char>(ch)) || ch == '.' || ch == '-' || ch == ':')) {
      return no();
    }
  }
  unsigned p = 0;
  const auto [e, ec] = std::from_chars(port.data(), port.data() + port.size(), p);
  if (port.empty() || ec != std::errc{} || e != port.data() + port.size() || p > 65535) return no();
  return std::pair{std::string(host), static_cast<std::uint16_t>(p)};
}

keel::result<config> parse_config(std::string_view yaml) {
  auto parsed = keel::config::read_yaml(
      yaml,
      [](const YAML::Node& doc) {
        config c;
        if (doc.IsDefined() && !doc.IsNull()) {
          allow_keys(
              doc, "",
              {"service", "environment", "server", "storage", "logging", "simulate",
               "evaluation_interval", "dispatch_interval", "targets", "retries", "alerting"});
          if (doc["service"]) c.service_name = text(doc["service"], "service");
          if (doc["environment"]) c.environment = text(doc["environment"], "environment");
          if (doc["server"]) read_server(doc["server"], c);
          if (const auto& s = doc["storage"]) {
            allow_keys(s, "storage",
                       {"data_dir", "retention", "audit_retention", "idempotency_window"});
            if (s["data_dir"]) c.data_dir = text(s["data_dir"], "storage.data_dir");
            if (s["retention"]) {
              c.retention = duration(s["retention"], "storage.retention");
              if (c.retention < milliseconds(60'000)) {
                bad(s["retention"], "storage.retention", "at least 1m");
              }
            }
            if (s["idempotency_window"]) {
              c.idempotency_window =
                  duration(s["idempotency_window"], "storage.idempotency_window");
              if (c.idempotency_window < milliseconds(60'000)) {
                bad(s["idempotency_window"], "storage.idempotency_window", "at least 1m");
              }
            }
            if (s["audit_retention"]) {
              c.audit_retention = duration(s["audit_retention"], "storage.audit_retention");
              if (c.audit_retention < milliseconds(86'400'000)) {
                bad(s["audit_retention"], "storage.audit_retention", "at least 1d");
              }
            }
          }
          if (doc["logging"]) read_logging(doc["logging"], c);
          if (doc["simulate"]) read_simulate(doc["simulate"], c);
          if (doc["retries"]) read_retries(doc["retries"], c);
          if (doc["evaluation_interval"]) {
            c.evaluation_interval = duration(doc["evaluation_interval"], "evaluation_interval");
            if (c.evaluation_interval < milliseconds(100)) {
              bad(doc["evaluation_interval"], "evaluation_interval", "at least 100ms");
            }
          }
          if (doc["dispatch_interval"]) {
            c.dispatch_interval = duration(doc["dispatch_interval"], "dispatch_interval");
            if (c.dispatch_interval < milliseconds(10)) {
              bad(doc["dispatch_interval"], "dispatch_interval", "at least 10ms");
            }
          }
          if (doc["targets"]) read_targets(doc["targets"], c);
        }
        return c;
      },
      {.max_bytes = kMaxConfigBytes, .what = "configuration"});
  if (!parsed) return keel::fail(std::move(parsed.error()));
  config c = std::move(*parsed);
  auto alerting = keel::alert::load_config_yaml(yaml, "alerting");
  if (!alerting) return keel::fail(std::move(alerting.error()));
  c.alerting = std::move(*alerting);
  return c;
}

keel::result<config> load_config(const load_options& o) {
  std::string file = o.file;
  if (file.empty()) {
    if (auto it = o.env.find("KEEL_CONFIG"); it != o.env.end()) file = it->second;
  }
  keel::result<config> c = [&]() -> keel::result<config> {
    if (file.empty()) return parse_config(default_config_text());
    std::error_code ec;
    // A directory opens as an empty stream: refuse it rather than start with
    // no configuration.
    if (!std::filesystem::is_regular_file(file, ec)) {
      return keel::fail(keel::codes::configuration_error,
                        "config file '" + file + "' is not a readable regular file");
    }
    std::ifstream in(file, std::ios::binary);
    if (!in) {
      return keel::fail(keel::codes::configuration_error, "cannot read config file '" + file + "'");
    }
    std::ostringstream ss;
    ss << in.rdbuf();
    auto parsed = parse_config(ss.str());
    if (!parsed) {
      return keel::fail(parsed.error().with_detail("file", file));
    }
    return parsed;
  }();
  if (!c) return c;
  c->source_file = file;
  for (const auto& [k, v] : o.env) {
    if (auto r = apply(*c, k, v, false); !r) return keel::fail(std::move(r.error()));
  }
  const auto& f = o.flags;
  if (f.listen) {
    if (auto r = apply(*c, "listen", *f.listen, true); !r) return keel::fail(std::move(r.error()));
  }
  if (f.data_dir) {
    if (auto r = apply(*c, "data-dir", *f.data_dir, true); !r) {
      return keel::fail(std::move(r.error()));
    }
  }
  if (f.io_threads) {
    if (auto r = apply(*c, "io-threads", std::to_string(*f.io_threads), true); !r) {
      return keel::fail(std::move(r.error()));
    }
  }
  if (f.log_level) {
    if (auto r = apply(*c, "log-level", *f.log_level, true); !r) {
      return keel::fail(std::move(r.error()));
    }
  }
  return c;
}

int check_config_command(const std::string& file) {
  auto c = load_config({.file = file});
  if (!c) {
    std::fprintf(stderr, "%s: %s\n", file.c_str(), std::string(c.error().message()).c_str());
    return 1;
  }
  std::printf("%s: OK (%zu rules, %zu receivers, %zu targets)\n", file.c_str(),
              c->alerting.rules.size(), c->alerting.receivers.size(), c->targets.size());
  return 0;
}

std::map<std::string, std::string> keel_environment() {
  std::map<std::string, std::string> out;
  for (char** e = environ; e && *e; ++e) {
    const std::string_view kv(*e);
    const auto eq = kv.find('=');
    if (eq == std::string_view::npos || !kv.starts_with("KEEL_")) continue;
    out.emplace(std::string(kv.substr(0, eq)), std::string(kv.substr(eq + 1)));
  }
  return out;
}

std::vector<std::string> restart_needed(const config& a, const config& b) {
  std::vector<std::string> out;
  auto differs = [&](const char* path, bool changed) {
    if (changed) out.emplace_back(path);
  };
  differs("server.listen", a.listen_host != b.listen_host || a.listen_port != b.listen_port);
  differs("server.io_threads", a.io_threads != b.io_threads);
  differs("server.max_body_bytes", a.max_body_bytes != b.max_body_bytes);
  differs("server.max_connections", a.max_connections != b.max_connections);
  differs("server.shutdown_grace", a.shutdown_grace != b.shutdown_grace);
  differs("server.tls",
          a.tls_certificate != b.tls_certificate || a.tls_private_key != b.tls_private_key);
  differs("server.rate_limit",
          a.rate_limit_rps != b.rate_limit_rps || a.rate_limit_burst != b.rate_limit_burst);
  auto same_cors = [](const keel::http::cors_options& x, const keel::http::cors_options& y) {
    return x.allowed_origins == y.allowed_origins && x.allowed_methods == y.allowed_methods &&
           x.allowed_headers == y.allowed_headers && x.exposed_headers == y.exposed_headers &&
           x.allow_credentials == y.allow_credentials && x.max_age == y.max_age;
  };
  differs("server.cors", !same_cors(a.cors, b.cors));
  differs("storage.data_dir", a.data_dir != b.data_dir);
  differs("storage.retention", a.retention != b.retention);
  differs("storage.audit_retention", a.audit_retention != b.audit_retention);
  differs("storage.idempotency_window", a.idempotency_window != b.idempotency_window);
  differs("logging",
          a.log_level != b.log_level || a.log_stdout != b.log_stdout ||
              a.log_files != b.log_files || a.log_file_max_bytes != b.log_file_max_bytes ||
              a.log_file_max_files != b.log_file_max_files || a.access_log != b.access_log);
  differs("service", a.service_name != b.service_name);
  differs("environment", a.environment != b.environment);
  differs("simulate", a.simulate_error_rate != b.simulate_error_rate ||
                          a.simulate_slow_min != b.simulate_slow_min ||
                          a.simulate_slow_max != b.simulate_slow_max);
  differs("evaluation_interval", a.evaluation_interval != b.evaluation_interval);
  differs("dispatch_interval", a.dispatch_interval != b.dispatch_interval);
  auto same = [](const retry_config& x, const retry_config& y) {
    return x.max_attempts == y.max_attempts && x.initial_delay == y.initial_delay &&
           x.max_delay == y.max_delay;
  };
  differs("retries",
          !same(a.delivery_retry, b.delivery_retry) || !same(a.target_retry, b.target_retry));
  return out;
}

}  // namespace keeld
