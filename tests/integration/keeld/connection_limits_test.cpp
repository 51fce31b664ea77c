// keeld under a low open-file limit (issue 19 #3): it caps its connections
// to the descriptors it has, keeps serving a new client while hundreds of
// idle keep-alive clients hold the rest, and says so in the log, /metrics
// and /health.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <sys/resource.h>

#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>
#include <thread>
#include <vector>

#include "keeld_fixture.hpp"
#include "unit/http/http_client.hpp"

namespace keeld::testing {
namespace {

using ::testing::HasSubstr;
using namespace std::chrono_literals;

// The value of an unlabelled sample in the text exposition, or -1.
double sample(const std::string& metrics, const std::string& name) {
  std::istringstream in(metrics);
  for (std::string line; std::getline(in, line);) {
    if (line.rfind(name + " ", 0) == 0) return std::stod(line.substr(name.size() + 1));
  }
  return -1;
}

// The log file, once it holds `needle` (the backend writes asynchronously).
std::string log_with(const keeld_instance& k, const std::string& needle) {
  std::string text;
  for (int i = 0; i < 200; ++i) {
    std::ifstream in(k.data_dir() / "logs" / "keeld.log");
    text.assign(std::istreambuf_iterator<char>(in), {});
    if (text.find(needle) != std::string::npos) break;
    std::this_thread::sleep_for(10ms);
  }
  return text;
}

std::size_t count_of(const std::string& text, const std::string& needle) {
  std::size_t n = 0;
  for (auto at = text.find(needle); at != std::string::npos; at = text.find(needle, at + 1))
    ++n;
  return n;
}

// Opens `n` keep-alive connections, each served one request and left idle:
// every one must get its answer.
std::vector<std::unique_ptr<keel::http::testing::client>> idle_clients(int port, int n) {
  std::vector<std::unique_ptr<keel::http::testing::client>> clients;
  for (int i = 0; i < n; ++i) {
    auto c = std::make_unique<keel::http::testing::client>(static_cast<std::uint16_t>(port));
    EXPECT_TRUE(c->connected()) << "client " << i;
    const auto r = c->get("/health/live");
    EXPECT_TRUE(r && r->status == 200) << "client " << i << " got no answer";
    clients.push_back(std::move(c));
  }
  return clients;
}

TEST(KeeldConnections, HardLimitOf256CapsConnectionsAndANewClientIsStillServed) {
  keeld_instance k(test_config(), {}, {}, true, {"/usr/bin/prlimit", "--nofile=256:256"});
  ASSERT_GT(k.port(), 0) << k.output();
  const std::string log = log_with(k, "max_connections capped");
  EXPECT_THAT(log, HasSubstr("max_connections capped by the open-file limit"));
  const std::string before = k.get("/metrics").body;
  const double cap = sample(before, "keel_http_connections_max");
  EXPECT_GT(cap, 100);
  EXPECT_LT(cap, 256 - 64);  // what keeld has open and the reserve are kept apart

  // The measurement: 300 idle keep-alive clients. Every one is
  // answered; the oldest idle ones are closed to make room.
  auto clients = idle_clients(k.port(), 300);
  const auto start = std::chrono::steady_clock::now();
  const auto health = k.get("/health");
  EXPECT_EQ(health.status, 200) << health.body;
  EXPECT_LT(std::chrono::steady_clock::now() - start, 2s);
  const auto checks = json_of(health)["checks"];
  EXPECT_EQ(checks["connections"][0]["status"], "pass") << health.body;  // shedding is normal

  const std::string after = k.get("/metrics").body;
  EXPECT_GE(sample(after, "keel_http_connections_shed_total"), 300 - cap);
  EXPECT_EQ(sample(after, "keel_http_connections_rejected_total"), 0);
  EXPECT_LE(sample(after, "keel_http_connections_open"), cap);
  EXPECT_EQ(sample(after, "keel_http_accept_failures_total"), 0);
  EXPECT_TRUE(k.process().running());
}

// Out of descriptors for any reason (a limit lowered under it, descriptors
// taken by something else): accept() fails with EMFILE, keeld frees one by
// closing an idle connection, counts and logs it (rate-limited) and warns
// in /health, and a new client is still served.
TEST(KeeldConnections, EmfileOnAcceptIsSurvivedCountedLoggedAndInHealth) {
#if defined(KEEL_SANITIZED)
  // The sanitizers' runtime needs descriptors of its own: UBSan's vptr
  // check probes memory through a pipe, and with none left it reports an
  // object it cannot read as having an invalid vptr. Release only.
  GTEST_SKIP() << "a sanitized keeld cannot run out of descriptors cleanly";
#endif
  keeld_instance k;
  ASSERT_GT(k.port(), 0) << k.output();
  std::size_t open_fds = 0;
  for (const auto& e :
       std::filesystem::directory_iterator("/proc/" + std::to_string(k.process().pid()) + "/fd")) {
    (void)e;
    ++open_fds;
  }
  rlimit low{};
  ASSERT_EQ(::prlimit(k.process().pid(), RLIMIT_NOFILE, nullptr, &low), 0);
  low.rlim_cur = open_fds + 24;
  ASSERT_EQ(::prlimit(k.process().pid(), RLIMIT_NOFILE, &low, nullptr), 0);

  auto clients = idle_clients(k.port(), 120);
  const auto health = k.get("/health");
  ASSERT_EQ(health.status, 200) << health.body;
  const auto connections = json_of(health)["checks"]["connections"][0];
  EXPECT_EQ(connections["status"], "warn") << health.body;
  EXPECT_THAT(connections.value("output", ""), HasSubstr("accept() failures"));

  const std::string metrics = k.get("/metrics").body;
  EXPECT_GT(sample(metrics, "keel_http_accept_failures_total"), 0);
  EXPECT_GT(sample(metrics, "keel_http_connections_shed_total"), 0);
  const std::string log = log_with(k, "connections turned away");
  EXPECT_THAT(log, HasSubstr("Too many open files"));
  // Once per second at most, however many accepts failed.
  EXPECT_LE(count_of(log, "connections turned away"), 10u);
  EXPECT_TRUE(k.process().running());
}

}  // namespace
}  // namespace keeld::testing
