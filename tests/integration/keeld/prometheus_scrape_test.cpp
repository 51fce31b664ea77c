// A real Prometheus (Debian package) scrapes a real keeld: its HTTP API then
// answers up{job="keeld"} == 1 and has keeld's own series.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include "keeld_fixture.hpp"

namespace keeld::testing {
namespace {

constexpr const char* kPrometheus = "/usr/bin/prometheus";

// The value of the first sample of an instant query, or "" when none yet.
std::string query_value(int prom_port, const std::string& promql) {
  CURL* c = curl_easy_init();
  char* q = curl_easy_escape(c, promql.c_str(), static_cast<int>(promql.size()));
  const std::string url =
      "http://127.0.0.1:" + std::to_string(prom_port) + "/api/v1/query?query=" + q;
  curl_free(q);
  curl_easy_cleanup(c);
  const auto r = http_request("GET", url);
  const auto j = nlohmann::json::parse(r.body, nullptr, false);
  if (!j.is_object() || j.value("status", "") != "success") return "";
  const auto& result = j["data"]["result"];
  if (!result.is_array() || result.empty()) return "";
  return result[0]["value"][1].get<std::string>();
}

TEST(PrometheusScrape, PrometheusSeesKeeldUpAndItsMetrics) {
  if (::access(kPrometheus, X_OK) != 0) GTEST_SKIP() << kPrometheus << " is not installed";
  keeld_instance k;
  keel::testing::temp_dir dir("keeld-prom");
  std::ofstream(dir.path() / "prometheus.yml")
      << "global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\n"
         "scrape_configs:\n  - job_name: keeld\n    static_configs:\n"
         "      - targets: ['127.0.0.1:"
      << k.port() << "']\n";
  // Prometheus cannot bind port 0 and report it: a free port is asked of
  // the kernel, and should another program take it first, Prometheus exits
  // and the next attempt takes another.
  int prom_port = 0;
  std::unique_ptr<keel::testing::child_process> running;
  for (int attempt = 0; attempt < 3 && !running; ++attempt) {
    prom_port = keel::testing::free_port();
    auto p = std::make_unique<keel::testing::child_process>(
        kPrometheus,
        std::vector<std::string>{"--config.file=" + (dir.path() / "prometheus.yml").string(),
                                 "--storage.tsdb.path=" + (dir.path() / "data").string(),
                                 "--web.listen-address=127.0.0.1:" + std::to_string(prom_port)},
        std::map<std::string, std::string>{}, dir.path() / "prometheus.log");
    for (int i = 0; i < 300 && p->running(); ++i) {  // waiting for a real process
      if (http_request("GET", "http://127.0.0.1:" + std::to_string(prom_port) + "/-/ready")
              .status == 200) {
        running = std::move(p);
        break;
      }
      std::this_thread::sleep_for(100ms);
    }
  }
  ASSERT_TRUE(running) << "prometheus did not start; its log is " << dir.path() / "prometheus.log";
  keel::testing::child_process& prom = *running;

  // Waiting for real processes: Prometheus starts, then scrapes every second.
  std::string up, build_info;
  for (int i = 0; i < 300 && (up != "1" || build_info != "1"); ++i) {
    std::this_thread::sleep_for(100ms);
    up = query_value(prom_port, R"(up{job="keeld"})");
    build_info = query_value(prom_port, R"(keeld_build_info{job="keeld"})");
  }
  EXPECT_EQ(up, "1");
  EXPECT_EQ(build_info, "1");
  EXPECT_FALSE(query_value(prom_port, R"(process_resident_memory_bytes{job="keeld"})").empty());
  EXPECT_EQ(prom.terminate(), 0);
}

}  // namespace
}  // namespace keeld::testing
