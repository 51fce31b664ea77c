// Lines logged before the process dies reach the file: on a crash (fatal
// signal), on SIGTERM, and at normal exit. A child process does the dying.
#include <gtest/gtest.h>

#include <spawn.h>
#include <sys/wait.h>

#include <csignal>
#include <set>

#include <nlohmann/json.hpp>

#include "log_test_support.hpp"

extern char** environ;

namespace keel::log {
namespace {

struct outcome {
  int signal = 0;  // the signal that ended the child, or 0
  int exit_code = -1;
  std::vector<std::string> lines;
};

outcome run_child(const std::string& mode, int lines) {
  testing::temp_dir dir;
  const std::string path = dir.file("crash.log");
  const std::string n = std::to_string(lines);
  std::string exe = KEEL_LOG_CRASH_CHILD;
  char* argv[] = {exe.data(), const_cast<char*>(path.c_str()), const_cast<char*>(mode.c_str()),
                  const_cast<char*>(n.c_str()), nullptr};
  // No core files from the intended crashes; ASan must not take SIGSEGV.
  std::vector<std::string> env_store = {
      "ASAN_OPTIONS=handle_segv=0:handle_abort=0:handle_sigfpe=0:handle_sigbus=0:"
      "handle_sigill=0:detect_leaks=0",
      "UBSAN_OPTIONS=halt_on_error=1"};
  std::vector<char*> env;
  for (auto& e : env_store)
    env.push_back(e.data());
  env.push_back(nullptr);
  pid_t pid = 0;
  outcome o;
  if (posix_spawn(&pid, exe.c_str(), nullptr, nullptr, argv, env.data()) != 0) return o;
  int status = 0;
  waitpid(pid, &status, 0);
  if (WIFSIGNALED(status)) o.signal = WTERMSIG(status);
  if (WIFEXITED(status)) o.exit_code = WEXITSTATUS(status);
  o.lines = testing::read_lines(path);
  return o;
}

void expect_all_lines(const outcome& o, int n) {
  ASSERT_EQ(o.lines.size(), static_cast<std::size_t>(n));
  std::set<int> seen;
  for (const auto& l : o.lines)
    seen.insert(nlohmann::json::parse(l)["i"].get<int>());
  EXPECT_EQ(seen.size(), static_cast<std::size_t>(n));
}

TEST(Crash, LinesBeforeASegfaultReachTheFile) {
  const outcome o = run_child("segv", 1000);
  EXPECT_EQ(o.signal, SIGSEGV);
  expect_all_lines(o, 1000);
}

TEST(Crash, LinesBeforeAnAbortReachTheFile) {
  const outcome o = run_child("abort", 1000);
  EXPECT_EQ(o.signal, SIGABRT);
  expect_all_lines(o, 1000);
}

TEST(Crash, LinesBeforeSigfpeReachTheFile) {
  const outcome o = run_child("fpe", 500);
  EXPECT_EQ(o.signal, SIGFPE);
  expect_all_lines(o, 500);
}

TEST(Crash, LinesBeforeSigbusAndSigillReachTheFile) {
  const outcome bus = run_child("bus", 500);
  EXPECT_EQ(bus.signal, SIGBUS);
  expect_all_lines(bus, 500);
  const outcome ill = run_child("ill", 500);
  EXPECT_EQ(ill.signal, SIGILL);
  expect_all_lines(ill, 500);
}

// A handler the program installed before the logger still runs, after the
// logger's flush: the logger chains to it rather than replacing it.
TEST(Crash, HandlerInstalledBeforeTheLoggerRunsAfterItsFlush) {
  const outcome o = run_child("chain-term", 1000);
  EXPECT_EQ(o.signal, 0);
  EXPECT_EQ(o.exit_code, 42);  // the previous handler's _exit(42)
  expect_all_lines(o, 1000);
}

TEST(Crash, LinesBeforeSigtermReachTheFileAndTheProcessStillTerminates) {
  const outcome o = run_child("term", 1000);
  EXPECT_EQ(o.signal, SIGTERM);
  expect_all_lines(o, 1000);
}

TEST(Crash, LinesReachTheFileAtNormalExit) {
  const outcome o = run_child("exit", 1000);
  EXPECT_EQ(o.exit_code, 0);
  expect_all_lines(o, 1000);
}

}  // namespace
}  // namespace keel::log
