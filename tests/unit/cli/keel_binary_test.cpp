// The `keel` program itself: argument parsing, exit codes and the messages an
// operator sees. Runs the built binary (KEEL_CLI_BINARY) through the shell.
#include <gtest/gtest.h>

#include <sys/wait.h>
#include <array>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>

#include "keel/alert/audit.hpp"
#include "keel/alert/store.hpp"
#include "keel/core/clock.hpp"
#include "temp_dir.hpp"

namespace {

using keel::cli::testing::temp_dir;
using keel::cli::testing::write_gzip;

struct run_result {
  int status = -1;
  std::string out;  // stdout and stderr together
};

// Runs keel with `args` (through sh, for quoting and redirection). `exec`
// makes keel the shell's process, so a crash shows as a signal, never as an
// exit status of 128 + N; any crash fails the test that ran it.
run_result run(const std::string& args) {
  run_result r;
  const std::string cmd = "exec " + std::string(KEEL_CLI_BINARY) + " " + args + " 2>&1";
  FILE* p = ::popen(cmd.c_str(), "r");
  if (p == nullptr) return r;
  std::array<char, 4096> buf{};
  std::size_t n = 0;
  while ((n = std::fread(buf.data(), 1, buf.size(), p)) > 0)
    r.out.append(buf.data(), n);
  const int st = ::pclose(p);
  if (WIFSIGNALED(st)) {
    ADD_FAILURE() << "keel " << args << " died of signal " << WTERMSIG(st) << "; its output:\n"
                  << r.out;
  }
  r.status = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
  if (r.status >= 128) ADD_FAILURE() << "keel " << args << " exited " << r.status << ":\n" << r.out;
  return r;
}

constexpr const char* kLog =
    R"({"timestamp":"2026-11-23T06:00:00Z","level":"info","request_id":"a1","duration_ms":5})"
    "\n"
    R"({"timestamp":"2026-11-23T06:00:01Z","level":"warn","request_id":"b2","duration_ms":1500,"error":{"code":"TIMEOUT"}})"
    "\n"
    "not json\n";

TEST(KeelBinary, VersionComesFromTheBuildAndUsageErrorsExitTwo) {
  const auto v = run("--version");
  EXPECT_EQ(v.status, 0);
  EXPECT_EQ(v.out, "keel " KEEL_VERSION "\n");
  EXPECT_EQ(run("").status, 2);
  EXPECT_EQ(run("no-such-command").status, 2);
  EXPECT_EQ(run("load --concurrency many http://127.0.0.1:1/").status, 2);
}

TEST(KeelBinary, LogqExitsZeroOnMatchAndReportsSkippedLines) {
  temp_dir d;
  const auto p = d.write("app.log", kLog);
  const auto r = run("logq -w 'duration_ms > 1000 and level >= warn' " + p);
  EXPECT_EQ(r.status, 0);
  EXPECT_NE(r.out.find("\"request_id\":\"b2\""), std::string::npos);
  EXPECT_EQ(r.out.find("\"request_id\":\"a1\""), std::string::npos);
  EXPECT_NE(r.out.find("skipped 1 malformed line"), std::string::npos);
}

TEST(KeelBinary, LogqExitsOneWhenNothingMatches) {
  temp_dir d;
  const auto p = d.write("app.log", kLog);
  EXPECT_EQ(run("logq -w 'level = critical' " + p).status, 1);
}

TEST(KeelBinary, LogqBadExpressionExitsTwoWithTheColumn) {
  temp_dir d;
  const auto p = d.write("app.log", kLog);
  const auto r = run("logq -w 'level >= ' " + p);
  EXPECT_EQ(r.status, 2);
  EXPECT_NE(r.out.find("column 10"), std::string::npos) << r.out;
}

TEST(KeelBinary, LogqFieldListDoesNotSwallowFiles) {
  temp_dir d;
  const auto p = d.write("app.log", kLog);
  const auto r = run("logq --fields request_id,error.code " + p);
  EXPECT_EQ(r.status, 0);
  EXPECT_NE(r.out.find("request_id  error.code\na1          -\nb2          TIMEOUT\n"),
            std::string::npos)
      << r.out;
}

TEST(KeelBinary, LogqReadsStdin) {
  temp_dir d;
  const auto p = d.write("app.log", kLog);
  const auto r = run("logq --count-by level --json < " + p);
  EXPECT_EQ(r.status, 0);
  EXPECT_NE(r.out.find("{\"level\":\"warn\",\"count\":1}"), std::string::npos) << r.out;
}

TEST(KeelBinary, LoadRefusesRemoteTargets) {
  const auto r = run("load -n 1 http://192.0.2.1:9/");
  EXPECT_EQ(r.status, 2);
  EXPECT_NE(r.out.find("--allow-remote"), std::string::npos) << r.out;
}

TEST(KeelBinary, LoadRefusesRequestsAndDurationTogether) {
  const auto r = run("load -n 5 -d 1s http://127.0.0.1:9/");
  EXPECT_EQ(r.status, 2) << r.out;
  EXPECT_FALSE(r.out.empty());
}

TEST(KeelBinary, UnknownSubcommandIsAUsageError) {
  EXPECT_EQ(run("frobnicate").status, 2);
  EXPECT_EQ(run("").status, 2);
}

}  // namespace

// keel audit verify / keel check-config, against a store keel::alert wrote.
namespace audit_cli {

void write_trail(const std::filesystem::path& dir, int entries) {
  auto st = keel::alert::store::open({.data_dir = dir}, keel::clock::real()).value();
  keel::alert::audit_log log(*st);
  for (int i = 0; i < entries; ++i) {
    log.append(
           {.actor = "admin", .action = "rules.upsert", .resource = "rule:" + std::to_string(i)})
        .value();
  }
}

TEST(KeelBinary, AuditVerifyPassesAnIntactTrail) {
  temp_dir d;
  write_trail(d.path(), 3);
  const auto r = run("audit verify " + d.path().string());
  EXPECT_EQ(r.status, 0) << r.out;
  EXPECT_NE(r.out.find("intact: 3 entries"), std::string::npos) << r.out;
}

TEST(KeelBinary, AuditVerifyNamesTheFirstTamperedEntry) {
  temp_dir d;
  write_trail(d.path(), 4);
  const std::string sql = "UPDATE audit SET actor='mallory' WHERE seq=2";
  ASSERT_EQ(
      std::system(("sqlite3 '" + (d.path() / "alert.db").string() + "' \"" + sql + "\"").c_str()),
      0);
  const auto r = run("audit verify " + d.path().string());
  EXPECT_EQ(r.status, 1) << r.out;
  EXPECT_NE(r.out.find("BROKEN at entry 2: edited"), std::string::npos) << r.out;
}

TEST(KeelBinary, AuditVerifyWithoutAStoreExitsTwo) {
  temp_dir d;
  const auto r = run("audit verify " + (d.path() / "nothing").string());
  EXPECT_EQ(r.status, 2);
  EXPECT_NE(r.out.find("no keeld store"), std::string::npos) << r.out;
  EXPECT_FALSE(std::filesystem::exists(d.path() / "nothing"));  // nothing created
}

TEST(KeelBinary, CheckConfigUsesKeeldsValidation) {
  temp_dir d;
  const auto good = d.write("good.yaml", "server:\n  listen: 127.0.0.1:9000\n");
  const auto ok = run("check-config " + good);
  EXPECT_EQ(ok.status, 0) << ok.out;
  EXPECT_NE(ok.out.find("OK (0 rules"), std::string::npos) << ok.out;
  const auto bad =
      d.write("bad.yaml",
              "alerting:\n  rules:\n    - alert: A\n      threshold: {metric: m, above: 1}\n"
              "      for: 5x\n");
  const auto r = run("check-config " + bad);
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.out.find("line 5, column 12: alerting.rules[0].for"), std::string::npos) << r.out;
}

}  // namespace audit_cli
