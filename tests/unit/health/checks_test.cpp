// The ready-made checks against real endpoints on loopback, real SQLite
// files and the real file system.
#include "keel/health/checks.hpp"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sqlite3.h>
#include <sys/socket.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <thread>

namespace keel::health {
namespace {

check_context ctx(std::chrono::milliseconds timeout = std::chrono::seconds(5)) {
  return {timeout, keel::clock::real().steady_now() + timeout, &keel::clock::real()};
}

// A listening loopback socket on an ephemeral port.
struct listener {
  int fd = -1;
  std::uint16_t port = 0;
  listener() {
    fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = 0;
    if (::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 || ::listen(fd, 16) != 0) {
      ADD_FAILURE() << "cannot listen on loopback";
    }
    socklen_t len = sizeof a;
    ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
    port = ntohs(a.sin_port);
  }
  ~listener() {
    if (fd >= 0) ::close(fd);
  }
  listener(const listener&) = delete;
  listener& operator=(const listener&) = delete;
};

// A port nothing listens on: bound, then closed.
std::uint16_t closed_port() {
  listener l;
  const std::uint16_t p = l.port;
  return p;
}

// Serves one HTTP request with `response` and returns the request line.
class one_shot_http_server {
 public:
  explicit one_shot_http_server(std::string response)
      : thread_([this, response = std::move(response)] {
          const int c = ::accept(l_.fd, nullptr, nullptr);
          if (c < 0) return;
          std::string req;
          char buf[1024];
          while (req.find("\r\n\r\n") == std::string::npos) {
            const ssize_t n = ::read(c, buf, sizeof buf);
            if (n <= 0) break;
            req.append(buf, static_cast<std::size_t>(n));
          }
          request_ = req.substr(0, req.find("\r\n"));
          std::size_t off = 0;
          while (off < response.size()) {
            const ssize_t n = ::write(c, response.data() + off, response.size() - off);
            if (n <= 0) break;
            off += static_cast<std::size_t>(n);
          }
          ::close(c);
        }) {}
  ~one_shot_http_server() {
    if (thread_.joinable()) thread_.join();
  }
  std::string url(const std::string& path = "/health") const {
    return "http://127.0.0.1:" + std::to_string(l_.port) + path;
  }
  std::string request_line() {
    thread_.join();
    return request_;
  }

 private:
  listener l_;
  std::string request_;
  std::thread thread_;
};

TEST(TcpCheck, PassesWhenThePortAccepts) {
  listener l;
  check_result r = tcp_check("127.0.0.1", l.port)(ctx());
  EXPECT_EQ(r.status, check_status::pass) << r.output;
  EXPECT_EQ(r.observed_unit, "ms");
  ASSERT_TRUE(r.observed_value);
  EXPECT_GE(*r.observed_value, 0);
}

TEST(TcpCheck, FailsWhenNothingListens) {
  const auto port = closed_port();
  check_result r = tcp_check("127.0.0.1", port)(ctx());
  EXPECT_EQ(r.status, check_status::fail);
  EXPECT_NE(r.output.find("cannot connect to 127.0.0.1:" + std::to_string(port)), std::string::npos)
      << r.output;
}

TEST(TcpCheck, FailsForAnUnresolvableHost) {
  check_result r = tcp_check("no-such-host.invalid", 80)(ctx());
  EXPECT_EQ(r.status, check_status::fail);
  EXPECT_NE(r.output.find("cannot resolve"), std::string::npos) << r.output;
}

TEST(HttpCheck, PassesOn2xxAndSendsAGet) {
  one_shot_http_server s("HTTP/1.1 204 No Content\r\nConnection: close\r\n\r\n");
  check_result r = http_check(s.url())(ctx());
  EXPECT_EQ(r.status, check_status::pass) << r.output;
  EXPECT_EQ(r.observed_unit, "ms");
  EXPECT_EQ(s.request_line(), "GET /health HTTP/1.1");
}

TEST(HttpCheck, FailsOn503WithTheStatusInOutput) {
  one_shot_http_server s(
      "HTTP/1.1 503 Service Unavailable\r\nContent-Length: 4\r\nConnection: close\r\n\r\ndown");
  check_result r = http_check(s.url())(ctx());
  EXPECT_EQ(r.status, check_status::fail);
  EXPECT_EQ(r.output, "HTTP 503");
}

TEST(HttpCheck, RedirectFailsUnlessAccepted) {
  const std::string redirect =
      "HTTP/1.1 302 Found\r\nLocation: /elsewhere\r\nContent-Length: 0\r\nConnection: "
      "close\r\n\r\n";
  {
    one_shot_http_server s(redirect);
    EXPECT_EQ(http_check(s.url())(ctx()).status, check_status::fail);
  }
  {
    one_shot_http_server s(redirect);
    EXPECT_EQ(http_check(s.url(), {.accept_3xx = true})(ctx()).status, check_status::pass);
  }
}

TEST(HttpCheck, LargeBodyIsCutButStillPasses) {
  std::string body(200 * 1024, 'x');
  one_shot_http_server s("HTTP/1.1 200 OK\r\nContent-Length: " + std::to_string(body.size()) +
                         "\r\nConnection: close\r\n\r\n" + body);
  check_result r = http_check(s.url())(ctx());
  EXPECT_EQ(r.status, check_status::pass) << r.output;
}

TEST(HttpCheck, FailsWhenNothingListens) {
  check_result r =
      http_check("http://127.0.0.1:" + std::to_string(closed_port()) + "/health")(ctx());
  EXPECT_EQ(r.status, check_status::fail);
  EXPECT_NE(r.output.find("GET failed"), std::string::npos) << r.output;
}

TEST(HttpCheck, RefusesSchemesOtherThanHttp) {
  check_result r = http_check("file:///etc/passwd")(ctx());
  EXPECT_EQ(r.status, check_status::fail);
}

TEST(HttpCheck, TimesOutOnAServerThatNeverAnswers) {
  listener l;  // accepts (backlog) but never responds
  const auto t0 = std::chrono::steady_clock::now();
  check_result r = http_check("http://127.0.0.1:" + std::to_string(l.port) +
                              "/")(ctx(std::chrono::milliseconds(200)));
  EXPECT_EQ(r.status, check_status::fail);
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(5));
}

class TempDir : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("keel_health_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::filesystem::path dir_;
};

using SqliteCheck = TempDir;

TEST_F(SqliteCheck, PassesOnARealDatabase) {
  const std::string path = (dir_ / "ok.db").string();
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
  ASSERT_EQ(
      sqlite3_exec(db, "CREATE TABLE t(x); INSERT INTO t VALUES(1);", nullptr, nullptr, nullptr),
      SQLITE_OK);
  sqlite3_close(db);
  check_result r = sqlite_check(path)(ctx());
  EXPECT_EQ(r.status, check_status::pass) << r.output;
  EXPECT_EQ(r.observed_unit, "ms");
}

TEST_F(SqliteCheck, FailsForAMissingFileWithoutCreatingIt) {
  const auto path = dir_ / "missing.db";
  check_result r = sqlite_check(path.string())(ctx());
  EXPECT_EQ(r.status, check_status::fail);
  EXPECT_NE(r.output.find("cannot open database"), std::string::npos) << r.output;
  EXPECT_FALSE(std::filesystem::exists(path));
}

TEST_F(SqliteCheck, FailsForAFileThatIsNotADatabase) {
  const auto path = dir_ / "garbage.db";
  std::ofstream(path) << std::string(4096, 'g');
  check_result r = sqlite_check(path.string())(ctx());
  EXPECT_EQ(r.status, check_status::fail);
}

using DiskSpaceCheck = TempDir;

TEST_F(DiskSpaceCheck, PassesAboveTheThresholdAndReportsFreeBytes) {
  check_result r = disk_space_check(dir_.string(), {.fail_below_bytes = 1})(ctx());
  EXPECT_EQ(r.status, check_status::pass) << r.output;
  EXPECT_EQ(r.observed_unit, "bytes");
  ASSERT_TRUE(r.observed_value);
  EXPECT_GT(*r.observed_value, 1);
}

TEST_F(DiskSpaceCheck, FailsBelowTheFailThreshold) {
  check_result r = disk_space_check(dir_.string(), {.fail_below_bytes = ~std::uint64_t{0}})(ctx());
  EXPECT_EQ(r.status, check_status::fail);
  EXPECT_NE(r.output.find("bytes free, below"), std::string::npos);
}

TEST_F(DiskSpaceCheck, WarnsBelowTheWarnThreshold) {
  check_result r = disk_space_check(
      dir_.string(), {.fail_below_bytes = 1, .warn_below_bytes = ~std::uint64_t{0}})(ctx());
  EXPECT_EQ(r.status, check_status::warn);
}

TEST_F(DiskSpaceCheck, FailsForAMissingPath) {
  check_result r = disk_space_check((dir_ / "nope").string())(ctx());
  EXPECT_EQ(r.status, check_status::fail);
  EXPECT_NE(r.output.find("statvfs"), std::string::npos);
}

}  // namespace
}  // namespace keel::health
