// What a hostile body costs keeld (issue 19 #4): 1 MiB of tiny JSON values
// took 38 ms of an I/O thread each and an object of 90 000 members 11 s
// (/health median 28 ms at 60 req/s). Now the body's shape is bounded by a
// scan before a tree is built, and the parse runs on a worker thread.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "keeld_fixture.hpp"

namespace keeld::testing {
namespace {

using ::testing::HasSubstr;
using namespace std::chrono_literals;

// CPU seconds (user + system) the process has used.
double cpu_seconds(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string stat((std::istreambuf_iterator<char>(in)), {});
  std::istringstream fields(stat.substr(stat.rfind(')') + 2));
  std::string f;
  double ticks = 0;
  for (int i = 3; fields >> f; ++i) {
    if (i == 14 || i == 15) ticks += std::stod(f);  // utime, stime
    if (i == 15) break;
  }
  return ticks / static_cast<double>(::sysconf(_SC_CLK_TCK));
}

std::string joined(int n, const std::string& item) {
  std::string out;
  out.reserve(static_cast<std::size_t>(n) * (item.size() + 1));
  for (int i = 0; i < n; ++i) {
    if (i) out += ',';
    out += item;
  }
  return out;
}

TEST(KeeldIngestCost, HostileBodiesAreRefusedForAScanAndHealthStaysFast) {
  std::string cfg = test_config();
  const std::string body_limit = "max_body_bytes: 65536";
  cfg.replace(cfg.find(body_limit), body_limit.size(), "max_body_bytes: 1048576");
  keeld_instance k(cfg);
  std::string members;
  for (int i = 0; i < 90'000; ++i)
    members += (i ? ",\"k" : "\"k") + std::to_string(i) + "\":0";
  const std::vector<std::pair<std::string, std::string>> bodies{
      {"[" + joined(500'000, "0") + "]", "a JSON array holds more than 1000 items"},
      {R"([{"service":"s","code":"TIMEOUT","message":"m","details":{)" + members + "}}]",
       "a JSON object holds more than 1000 members"},
      {"[" + joined(200, "[" + joined(999, "0") + "]") + "]", "JSON holds more than 100000 values"},
  };
  for (const auto& [body, problem] : bodies) {
    ASSERT_LE(body.size(), 1u << 20);
    const auto r = k.post_json("/api/v1/events", body);
    EXPECT_EQ(r.status, 400) << r.body.substr(0, 300);
    EXPECT_EQ(json_of(r)["details"].value("problem", ""), problem);
  }

  // A flood of them from three clients while a probe measures /health.
  const double cpu_before = cpu_seconds(k.process().pid());
  std::atomic<bool> stop{false};
  std::atomic<int> refused{0};
  std::vector<std::thread> clients;
  for (int t = 0; t < 3; ++t) {
    clients.emplace_back([&, t] {
      for (int i = 0; i < 20 && !stop; ++i) {
        const auto& body = bodies[static_cast<std::size_t>((t + i) % 3)].first;
        if (k.post_json("/api/v1/events", body).status == 400) ++refused;
      }
    });
  }
  std::vector<double> health_ms;
  while (refused < 60 && health_ms.size() < 2000) {
    const auto start = std::chrono::steady_clock::now();
    EXPECT_EQ(k.get("/health/live").status, 200);
    health_ms.push_back(
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start)
            .count());
  }
  stop = true;
  for (auto& c : clients)
    c.join();
  const double cpu = cpu_seconds(k.process().pid()) - cpu_before;
  EXPECT_EQ(refused.load(), 60);
  // Before: 38 ms for the first body, 11 s for the second, each. Now the
  // three kinds cost a scan (and the third a worker thread's parse).
  EXPECT_LT(cpu / 60, 0.02) << cpu << " CPU seconds for 60 bodies";
  std::sort(health_ms.begin(), health_ms.end());
  ASSERT_FALSE(health_ms.empty());
  EXPECT_LT(health_ms[health_ms.size() / 2], 10.0) << "median /health/live during the flood";
}

}  // namespace
}  // namespace keeld::testing
