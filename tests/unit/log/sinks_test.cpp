// keel::log sinks: file, rotating file (size, time, retention), syslog over
// UDP and a unix socket, routing, and failure handling. Sinks are driven
// directly with log_line values, as the backend drives them.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <filesystem>

#include "keel/core/clock.hpp"
#include "keel/log/log.hpp"
#include "log_test_support.hpp"

namespace keel::log {
namespace {

using namespace std::chrono_literals;
using testing::memory_sink;
using testing::read_file;
using testing::read_lines;
using testing::temp_dir;

struct line_maker {
  std::vector<std::string> texts;
  log_line make(level l, std::string_view logger, std::string text) {
    texts.push_back(std::move(text));
    return log_line{.lvl = l,
                    .logger = logger,
                    .time = std::chrono::system_clock::time_point(1'795'000'000'123'456us),
                    .json = texts.back(),
                    .console = texts.back(),
                    .console_color = texts.back()};
  }
};

// Captures what is written to fd 2 while alive.
class stderr_capture {
 public:
  stderr_capture() : saved_(::dup(2)) {
    path_ = dir_.file("stderr");
    const int fd = ::open(path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    ::dup2(fd, 2);
    ::close(fd);
  }
  ~stderr_capture() { restore(); }
  std::vector<std::string> lines() {
    restore();
    return read_lines(path_);
  }

 private:
  void restore() {
    if (saved_ >= 0) {
      ::dup2(saved_, 2);
      ::close(saved_);
      saved_ = -1;
    }
  }
  temp_dir dir_;
  std::string path_;
  int saved_;
};

TEST(FileSink, AppendsWholeLinesOneWritePerBatch) {
  temp_dir dir;
  auto s = file_sink::create({.path = dir.file("a.log")}).value();
  line_maker m;
  s->consume(m.make(level::info, "x", "{\"n\":1}\n"));
  s->consume(m.make(level::info, "x", "{\"n\":2}\n"));
  EXPECT_EQ(read_file(dir.file("a.log")), "");  // nothing before the batch ends
  s->commit();
  EXPECT_EQ(read_file(dir.file("a.log")), "{\"n\":1}\n{\"n\":2}\n");
  EXPECT_EQ(s->stats().lines_written, 2u);
  EXPECT_EQ(s->stats().bytes_written, 16u);
}

TEST(FileSink, IgnoresLinesBelowItsLevel) {
  temp_dir dir;
  auto s = file_sink::create({.path = dir.file("a.log"), .min_level = level::warn}).value();
  line_maker m;
  s->consume(m.make(level::info, "x", "info\n"));
  s->consume(m.make(level::error, "x", "error\n"));
  s->commit();
  EXPECT_EQ(read_file(dir.file("a.log")), "error\n");
}

TEST(FileSink, RejectsAnEmptyPath) { EXPECT_FALSE(file_sink::create({}).has_value()); }

TEST(FileSink, CountsFailuresAndReportsOncePerInterval) {
  temp_dir dir;
  manual_clock clock;
  auto s =
      file_sink::create(
          {.path = dir.file("missing/dir/a.log"), .error_report_interval = 10s, .clock = &clock})
          .value();
  line_maker m;
  stderr_capture err;
  for (int i = 0; i < 3; ++i) {
    s->consume(m.make(level::info, "x", "l\n"));
    s->consume(m.make(level::info, "x", "l\n"));
    s->commit();
  }
  clock.advance(10s);
  s->consume(m.make(level::info, "x", "l\n"));
  s->commit();
  const auto reports = err.lines();
  EXPECT_EQ(s->stats().write_errors, 4u);
  EXPECT_EQ(s->stats().lines_lost, 7u);
  ASSERT_EQ(reports.size(), 2u);
  EXPECT_NE(reports[0].find("No such file or directory"), std::string::npos);
  EXPECT_NE(reports[1].find("3 failed writes, 5 lines lost"), std::string::npos);
}

TEST(FileSink, ResumesWhenThePathBecomesWritable) {
  temp_dir dir;
  auto s = file_sink::create({.path = dir.file("later/a.log")}).value();
  line_maker m;
  {
    stderr_capture quiet;
    s->consume(m.make(level::info, "x", "lost\n"));
    s->commit();
  }
  std::filesystem::create_directory(dir.path() / "later");
  s->consume(m.make(level::info, "x", "kept\n"));
  s->commit();
  EXPECT_EQ(read_file(dir.file("later/a.log")), "kept\n");
}

TEST(FileSink, MakesItsDirectoryOnceItCanAndClearsItsLastError) {
  temp_dir dir;
  std::ofstream(dir.file("logs")) << "in the way";
  auto s = file_sink::create({.path = dir.file("logs/a.log"), .create_directories = true}).value();
  line_maker m;
  stderr_capture err;
  s->consume(m.make(level::info, "x", "lost\n"));
  s->commit();
  EXPECT_NE(s->stats().last_error.load(), 0);
  EXPECT_EQ(s->stats().lines_lost, 1u);
  std::filesystem::remove(dir.file("logs"));
  s->consume(m.make(level::info, "x", "kept\n"));
  s->commit();
  EXPECT_EQ(s->stats().last_error.load(), 0);
  EXPECT_EQ(read_file(dir.file("logs/a.log")), "kept\n");
}

TEST(RotatingFileSink, RotatesBySizeWithoutSplittingLines) {
  temp_dir dir;
  const std::string path = dir.file("r.log");
  auto s = rotating_file_sink::create({.path = path, .max_bytes = 1024, .max_files = 10}).value();
  line_maker m;
  const std::string line = std::string(99, 'a') + "\n";  // 100 bytes
  for (int i = 0; i < 25; ++i)
    s->consume(m.make(level::info, "x", line));
  s->commit();
  EXPECT_EQ(s->rotations(), 2u);
  EXPECT_EQ(read_file(path + ".2").size(), 1000u);
  EXPECT_EQ(read_file(path + ".1").size(), 1000u);
  EXPECT_EQ(read_file(path).size(), 500u);
  for (const auto& f : {path, path + ".1", path + ".2"}) {
    for (const auto& l : read_lines(f))
      EXPECT_EQ(l.size(), 99u);
  }
}

TEST(RotatingFileSink, KeepsAtMostMaxFiles) {
  temp_dir dir;
  const std::string path = dir.file("r.log");
  auto s = rotating_file_sink::create({.path = path, .max_bytes = 1024, .max_files = 2}).value();
  line_maker m;
  for (int i = 0; i < 10; ++i) {
    s->consume(m.make(level::info, "x", std::string(1000, 'a' + static_cast<char>(i)) + "\n"));
    s->commit();
  }
  EXPECT_TRUE(std::filesystem::exists(path + ".1"));
  EXPECT_TRUE(std::filesystem::exists(path + ".2"));
  EXPECT_FALSE(std::filesystem::exists(path + ".3"));
  EXPECT_EQ(read_file(path)[0], 'j');
  EXPECT_EQ(read_file(path + ".1")[0], 'i');
  EXPECT_EQ(read_file(path + ".2")[0], 'h');
}

TEST(RotatingFileSink, ALineLongerThanMaxBytesGetsAFileOfItsOwn) {
  temp_dir dir;
  const std::string path = dir.file("r.log");
  auto s = rotating_file_sink::create({.path = path, .max_bytes = 1024}).value();
  line_maker m;
  s->consume(m.make(level::info, "x", "short\n"));
  std::string long_line(2000, 'L');
  long_line.push_back('\n');
  s->consume(m.make(level::info, "x", long_line));
  s->consume(m.make(level::info, "x", "after\n"));
  s->commit();
  EXPECT_EQ(read_file(path + ".2"), "short\n");
  EXPECT_EQ(read_file(path + ".1").size(), 2001u);
  EXPECT_EQ(read_file(path), "after\n");
}

TEST(RotatingFileSink, RotatesWhenTheClockCrossesAnIntervalBoundary) {
  temp_dir dir;
  const std::string path = dir.file("t.log");
  manual_clock clock(std::chrono::system_clock::time_point(std::chrono::hours(24 * 20000) + 23h));
  auto s = rotating_file_sink::create({.path = path, .interval = 24h, .clock = &clock}).value();
  line_maker m;
  s->consume(m.make(level::info, "x", "day1\n"));
  s->commit();
  clock.advance(59min);
  s->consume(m.make(level::info, "x", "day1 late\n"));
  s->commit();
  EXPECT_EQ(s->rotations(), 0u);
  clock.advance(1min);
  s->consume(m.make(level::info, "x", "day2\n"));
  s->commit();
  EXPECT_EQ(s->rotations(), 1u);
  EXPECT_EQ(read_file(path + ".1"), "day1\nday1 late\n");
  EXPECT_EQ(read_file(path), "day2\n");
}

TEST(RotatingFileSink, ContinuesTheSizeOfAnExistingFile) {
  temp_dir dir;
  const std::string path = dir.file("r.log");
  { std::ofstream(path) << std::string(999, 'o') << "\n"; }
  auto s = rotating_file_sink::create({.path = path, .max_bytes = 1024}).value();
  line_maker m;
  std::string line(99, 'n');
  line.push_back('\n');
  s->consume(m.make(level::info, "x", line));
  s->commit();
  EXPECT_EQ(s->rotations(), 1u);
  EXPECT_EQ(read_file(path + ".1").size(), 1000u);
}

TEST(RotatingFileSink, RejectsBadOptions) {
  EXPECT_FALSE(rotating_file_sink::create({}).has_value());
  EXPECT_FALSE(rotating_file_sink::create({.path = "x", .max_files = 0}).has_value());
  EXPECT_FALSE(rotating_file_sink::create({.path = "x", .max_bytes = 10}).has_value());
}

TEST(RoutingSink, RoutesByLevelAndCategoryAndFallsBack) {
  auto errors = std::make_shared<memory_sink>();
  auto security = std::make_shared<memory_sink>();
  auto rest = std::make_shared<memory_sink>();
  routing_sink r({.routes = {{.min_level = level::error, .target = errors},
                             {.category = "security", .target = security}},
                  .fallback = rest});
  line_maker m;
  r.consume(m.make(level::error, "db", "db error\n"));
  r.consume(m.make(level::info, "security.auth", "login\n"));
  r.consume(m.make(level::critical, "security", "breach\n"));
  r.consume(m.make(level::info, "securityx", "other\n"));
  r.commit();
  EXPECT_EQ(errors->lines, (std::vector<std::string>{"db error", "breach"}));
  EXPECT_EQ(security->lines, (std::vector<std::string>{"login", "breach"}));
  EXPECT_EQ(rest->lines, (std::vector<std::string>{"other"}));
}

TEST(RoutingSink, CategoryMatchesWholeDottedComponents) {
  EXPECT_TRUE(routing_sink::in_category("audit", "audit"));
  EXPECT_TRUE(routing_sink::in_category("audit.login", "audit"));
  EXPECT_FALSE(routing_sink::in_category("auditor", "audit"));
  EXPECT_TRUE(routing_sink::in_category("anything", ""));
}

TEST(SyslogSink, SendsRfc5424OverUdp) {
  const int rx = ::socket(AF_INET, SOCK_DGRAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::bind(rx, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
  socklen_t len = sizeof a;
  ::getsockname(rx, reinterpret_cast<sockaddr*>(&a), &len);
  auto s = syslog_sink::create({.transport = syslog_transport::udp,
                                .port = ntohs(a.sin_port),
                                .facility = 16,
                                .app_name = "keeld",
                                .hostname = "host1"})
               .value();
  line_maker m;
  s->consume(m.make(level::error, "http.access", "{\"message\":\"boom\"}\n"));
  char buf[2048];
  const ssize_t n = ::recv(rx, buf, sizeof buf, 0);
  ::close(rx);
  ASSERT_GT(n, 0);
  const std::string got(buf, static_cast<std::size_t>(n));
  EXPECT_EQ(got, "<131>1 2026-11-18T11:06:40.123456Z host1 keeld " + std::to_string(::getpid()) +
                     " http.access - \xEF\xBB\xBF{\"message\":\"boom\"}");
  EXPECT_EQ(s->stats().lines_written, 1u);
}

TEST(SyslogSink, SendsToAUnixDatagramSocket) {
  temp_dir dir;
  const std::string path = dir.file("log.sock");
  const int rx = ::socket(AF_UNIX, SOCK_DGRAM, 0);
  sockaddr_un a{};
  a.sun_family = AF_UNIX;
  std::strncpy(a.sun_path, path.c_str(), sizeof a.sun_path - 1);
  ASSERT_EQ(::bind(rx, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
  auto s = syslog_sink::create(
               {.socket_path = path, .app_name = "app", .hostname = "h", .utf8_bom = false})
               .value();
  line_maker m;
  s->consume(m.make(level::info, "", "hello\n"));
  char buf[2048];
  const ssize_t n = ::recv(rx, buf, sizeof buf, 0);
  ::close(rx);
  ASSERT_GT(n, 0);
  EXPECT_EQ(
      std::string(buf, static_cast<std::size_t>(n)),
      "<134>1 2026-11-18T11:06:40.123456Z h app " + std::to_string(::getpid()) + " - - hello");
}

TEST(SyslogSink, AMissingSocketIsACountedFailureNotACrash) {
  temp_dir dir;
  auto s = syslog_sink::create({.socket_path = dir.file("nobody.sock")}).value();
  line_maker m;
  stderr_capture err;
  s->consume(m.make(level::info, "x", "a\n"));
  s->consume(m.make(level::info, "x", "b\n"));
  EXPECT_EQ(s->stats().lines_lost, 2u);
  EXPECT_EQ(err.lines().size(), 1u);
}

TEST(SyslogSink, SeverityFollowsTheLevel) {
  EXPECT_EQ(syslog_sink::severity_of(level::debug), 7);
  EXPECT_EQ(syslog_sink::severity_of(level::info), 6);
  EXPECT_EQ(syslog_sink::severity_of(level::warn), 4);
  EXPECT_EQ(syslog_sink::severity_of(level::error), 3);
  EXPECT_EQ(syslog_sink::severity_of(level::critical), 2);
}

TEST(SyslogSink, RejectsBadOptions) {
  EXPECT_FALSE(syslog_sink::create({.facility = 24}).has_value());
  EXPECT_FALSE(
      syslog_sink::create({.transport = syslog_transport::udp, .host = "not-an-ip"}).has_value());
  EXPECT_FALSE(syslog_sink::create({.max_message_bytes = 10}).has_value());
}

}  // namespace
}  // namespace keel::log
