// Posts alerts to a real Alertmanager (Debian package prometheus-alertmanager)
// started on loopback, and reads them back through its v2 API.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <curl/curl.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <thread>

#include "keel/alert/delivery.hpp"
#include "support/process.hpp"
#include "unit/alert/temp_dir.hpp"

namespace keel::alert {
namespace {

using namespace std::chrono_literals;

constexpr const char* kBinary = "/usr/bin/prometheus-alertmanager";

std::size_t append(char* p, std::size_t s, std::size_t n, void* out) {
  static_cast<std::string*>(out)->append(p, s * n);
  return s * n;
}

// GET `url`; the status and body, status 0 when nothing answered.
std::pair<long, std::string> http_get(const std::string& url) {
  std::string body;
  CURL* c = curl_easy_init();
  curl_easy_setopt(c, CURLOPT_URL, url.c_str());
  curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, 2000L);
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, append);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, &body);
  long status = 0;
  if (curl_easy_perform(c) == CURLE_OK) curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
  curl_easy_cleanup(c);
  return {status, body};
}

class Alertmanager : public ::testing::Test {
 protected:
  void SetUp() override {
    if (::access(kBinary, X_OK) != 0) GTEST_SKIP() << kBinary << " is not installed";
    std::ofstream(dir.path() / "am.yml") << "route:\n  receiver: blackhole\n"
                                            "receivers:\n  - name: blackhole\n";
    // Alertmanager cannot bind port 0 and report it: a free port is asked
    // of the kernel, and if another program takes it before Alertmanager
    // binds, Alertmanager exits and the next attempt takes another one.
    for (int attempt = 0; attempt < 3; ++attempt) {
      if (start_on(keel::testing::free_port())) return;
    }
    FAIL() << "alertmanager did not become ready on " << base;
  }
  // Starts Alertmanager on `p`; true once it is ready, false if it exited.
  bool start_on(int p) {
    port = p;
    pid = ::fork();
    if (pid < 0) return false;
    if (pid == 0) {
      const std::string config = "--config.file=" + (dir.path() / "am.yml").string();
      const std::string storage = "--storage.path=" + (dir.path() / "data").string();
      const std::string listen = "--web.listen-address=127.0.0.1:" + std::to_string(port);
      ::freopen("/dev/null", "w", stderr);
      ::execl(kBinary, kBinary, config.c_str(), storage.c_str(), listen.c_str(),
              "--cluster.listen-address=", static_cast<char*>(nullptr));
      ::_exit(127);
    }
    base = "http://127.0.0.1:" + std::to_string(port);
    // Waiting for a real process to come up, not for a timing rule.
    for (int i = 0; i < 200; ++i) {
      if (http_get(base + "/-/ready").first == 200) return true;
      int st = 0;
      if (::waitpid(pid, &st, WNOHANG) == pid) {
        pid = -1;
        return false;
      }
      std::this_thread::sleep_for(50ms);
    }
    ::kill(pid, SIGKILL);
    ::waitpid(pid, nullptr, 0);
    pid = -1;
    return false;
  }
  void TearDown() override {
    if (pid > 0) {
      ::kill(pid, SIGTERM);
      int st = 0;
      ::waitpid(pid, &st, 0);
    }
  }
  send_result post(const notification& n) {
    receiver_config am{.name = "am",
                       .kind = receiver_kind::alertmanager,
                       .url = base,
                       .timeout = 5s,
                       .external_url = "http://keeld.test/alerts"};
    auto r = render(am, n, clock::real().system_now()).value();
    outbox_message m{
        .receiver = "am", .dedup_key = r.dedup_key, .content_type = r.content_type, .body = r.body};
    return http.send(am, m, clock::real().system_now());
  }
  nlohmann::json active_alerts() {
    auto [status, body] = http_get(base + "/api/v2/alerts");
    EXPECT_EQ(status, 200);
    return nlohmann::json::parse(body);
  }

  testing::temp_dir dir;
  int port = 0;
  pid_t pid = -1;
  std::string base;
  curl_transport http;
};

notification firing_notification() {
  alert a;
  a.rule = "HighErrorRate";
  a.labels = {{"alertname", "HighErrorRate"}, {"service", "monitoring-api"}, {"severity", "high"}};
  a.annotations = {{"summary", "Application error rate exceeds 5%"}};
  a.state = alert_state::firing;
  a.active_since = a.fired_at = clock::real().system_now() - 1min;
  notification n{.receiver = "am", .group_key = "g", .id = "n1", .alerts = {a}};
  return n;
}

TEST_F(Alertmanager, PostedAlertIsReadBackThroughTheV2Api) {
  auto res = post(firing_notification());
  ASSERT_EQ(classify_http(res), verdict::delivered) << res.detail;
  auto alerts = active_alerts();
  ASSERT_EQ(alerts.size(), 1u) << alerts.dump();
  EXPECT_EQ(alerts[0]["labels"]["alertname"], "HighErrorRate");
  EXPECT_EQ(alerts[0]["labels"]["service"], "monitoring-api");
  EXPECT_EQ(alerts[0]["annotations"]["summary"], "Application error rate exceeds 5%");
  EXPECT_EQ(alerts[0]["generatorURL"], "http://keeld.test/alerts");
  EXPECT_EQ(alerts[0]["status"]["state"], "active");
}

TEST_F(Alertmanager, ResolvedAlertWithEndsAtLeavesTheActiveList) {
  ASSERT_EQ(classify_http(post(firing_notification())), verdict::delivered);
  ASSERT_EQ(active_alerts().size(), 1u);
  auto n = firing_notification();
  n.alerts[0].ends_at = clock::real().system_now() - 1s;
  ASSERT_EQ(classify_http(post(n)), verdict::delivered);
  EXPECT_TRUE(active_alerts().empty()) << active_alerts().dump();
}

TEST_F(Alertmanager, MalformedPayloadIsAClientErrorThatGoesToDeadLetters) {
  receiver_config am{.name = "am", .kind = receiver_kind::alertmanager, .url = base};
  outbox_message m{.receiver = "am", .content_type = "application/json", .body = "{not json"};
  auto res = http.send(am, m, clock::real().system_now());
  EXPECT_EQ(res.status, 400);
  EXPECT_EQ(classify_http(res), verdict::reject);
}

}  // namespace
}  // namespace keel::alert
