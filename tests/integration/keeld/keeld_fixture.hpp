// tests/integration/keeld/keeld_fixture.hpp
//
// keeld_instance runs the real keeld binary on a free loopback port (it
// binds port 0 and reports the port through --port-file) with a temporary
// data directory and a test configuration, and stops it at the end.
#pragma once

#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>

#include "support/http_client.hpp"
#include "support/process.hpp"
#include "support/temp_dir.hpp"

namespace keeld::testing {

using namespace std::chrono_literals;
using keel::testing::http_request;
using keel::testing::http_result;

inline constexpr const char* kToken = "integration-test-token-0123456789";

// The test configuration: quiet stdout, fast loops, deterministic simulation.
inline std::string test_config(const std::string& extra = {}) {
  return R"yaml(
service: keeld-test
server:
  listen: 127.0.0.1:0
  io_threads: 2
  max_body_bytes: 65536
  shutdown_grace: 5s
  rate_limit: {requests_per_second: 10000, burst: 10000}
logging:
  level: info
  stdout: off
  files: true
simulate:
  error_rate: 1.0
  slow_min: 100ms
  slow_max: 100ms
evaluation_interval: 200ms
dispatch_interval: 50ms
)yaml" + extra;
}

class keeld_instance {
 public:
  // Starts keeld with `config` as its file (in the temp dir), `data_dir`
  // (default: <temp>/var) and extra arguments.
  // Without `with_token`, KEEL_ADMIN_TOKEN is unset: keeld makes its own.
  // `launcher`: a command that runs keeld (prlimit --nofile=256:256).
  explicit keeld_instance(const std::string& config = test_config(),
                          std::filesystem::path data_dir = {},
                          std::vector<std::string> extra_args = {}, bool with_token = true,
                          std::vector<std::string> launcher = {})
      : launcher_(std::move(launcher)),
        data_dir_(data_dir.empty() ? dir_.path() / "var" : std::move(data_dir)) {
    if (with_token) env_["KEEL_ADMIN_TOKEN"] = kToken;
    std::ofstream(config_file()) << config;
    start(std::move(extra_args));
  }

  void start(std::vector<std::string> extra_args = {}) {
    std::filesystem::remove(port_file());
    std::vector<std::string> args{"--config",         config_file().string(), "--data-dir",
                                  data_dir_.string(), "--port-file",          port_file().string()};
    args.insert(args.end(), extra_args.begin(), extra_args.end());
    std::string program = KEELD_BINARY;
    if (!launcher_.empty()) {
      args.insert(args.begin(), KEELD_BINARY);
      args.insert(args.begin(), launcher_.begin() + 1, launcher_.end());
      program = launcher_.front();
    }
    proc_ = std::make_unique<keel::testing::child_process>(program, args, env_,
                                                           dir_.path() / "keeld.out");
    // Waiting for a real process to come up, not for a timing rule.
    for (int i = 0; i < 400 && proc_->running(); ++i) {
      if (std::ifstream in(port_file()); in >> port_ && port_ > 0) return;
      std::this_thread::sleep_for(25ms);
    }
    ADD_FAILURE() << "keeld did not start; its output:\n" << output();
  }

  std::string url(const std::string& path) const {
    return "http://127.0.0.1:" + std::to_string(port_) + path;
  }
  http_result get(const std::string& path, std::vector<std::string> headers = {}) const {
    return http_request("GET", url(path), {}, headers);
  }
  http_result admin(const std::string& method, const std::string& path,
                    const std::string& body = {},
                    const std::string& content_type = "application/json") const {
    std::vector<std::string> h{std::string("Authorization: Bearer ") + kToken};
    if (!body.empty()) h.push_back("Content-Type: " + content_type);
    return http_request(method, url(path), body, h);
  }
  http_result post_json(const std::string& path, const std::string& body) const {
    return http_request("POST", url(path), body, {"Content-Type: application/json"});
  }

  int port() const { return port_; }
  keel::testing::child_process& process() { return *proc_; }
  const std::filesystem::path& data_dir() const { return data_dir_; }
  std::filesystem::path config_file() const { return dir_.path() / "keeld.yaml"; }
  std::filesystem::path port_file() const { return dir_.path() / "port"; }
  std::string output() const {
    std::ifstream in(dir_.path() / "keeld.out");
    return std::string(std::istreambuf_iterator<char>(in), {});
  }

 private:
  std::vector<std::string> launcher_;
  std::map<std::string, std::string> env_;
  keel::testing::temp_dir dir_{"keeld-it"};
  std::filesystem::path data_dir_;
  std::unique_ptr<keel::testing::child_process> proc_;
  int port_ = 0;
};

// A TCP socket on a loopback port the kernel chose, closed at scope end:
// listening (a target that is up; connections wait in its backlog) or only
// bound (one that is down: connections are refused, and no other program
// can take the port meanwhile).
class loopback_socket {
 public:
  explicit loopback_socket(bool listening) : fd_(::socket(AF_INET, SOCK_STREAM, 0)) {
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    EXPECT_EQ(::bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
    if (listening) {
      EXPECT_EQ(::listen(fd_, 16), 0);
    }
    socklen_t len = sizeof a;
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len);
    port_ = ntohs(a.sin_port);
  }
  ~loopback_socket() { ::close(fd_); }
  loopback_socket(const loopback_socket&) = delete;
  loopback_socket& operator=(const loopback_socket&) = delete;
  int port() const { return port_; }

 private:
  int fd_;
  int port_ = 0;
};

// Completed rule-evaluation cycles (keel_alert_rule_evaluations_total).
inline long evaluations(const keeld_instance& k) {
  const std::string m = k.get("/metrics").body;
  const std::string name = "keel_alert_rule_evaluations_total ";
  const auto at = m.find("\n" + name);
  return at == std::string::npos ? 0 : std::stol(m.substr(at + 1 + name.size()));
}

// A rule counts what happens after it starts watching (Prometheus'
// semantics): waits, bounded, until two more evaluation cycles have ended
// (the first may have begun before the rule existed). Each look is a
// request to /metrics, which http_requests_total counts: `every` keeps
// their number small for rules over it.
inline void wait_for_evaluations(const keeld_instance& k,
                                 std::chrono::milliseconds every = std::chrono::milliseconds(20)) {
  const long target = evaluations(k) + 2;
  for (int i = 0; i < 4000 / every.count() && evaluations(k) < target; ++i)
    std::this_thread::sleep_for(every);
  EXPECT_GE(evaluations(k), target) << "the rules were not evaluated";
}

inline nlohmann::json json_of(const http_result& r) {
  return nlohmann::json::parse(r.body, nullptr, /*allow_exceptions=*/false);
}

}  // namespace keeld::testing
