// tests/support/process.hpp
//
// child_process runs a real program for an integration test: fork + execv
// with the given arguments and extra environment, stdout/stderr to files,
// and it is always reaped — SIGKILL at destruction if the test did not stop
// it — so a failing test never leaves a process behind.
//
//   keel::testing::child_process p("/usr/bin/prometheus", {"--config.file=..."},
//                                  {{"KEEL_ADMIN_TOKEN", "..."}}, dir / "prometheus.log");
//   ...
//   int status = p.terminate();   // SIGTERM, wait; the exit code (or 128 + signal)
//
// free_port() asks the kernel for a free loopback port (for programs that
// cannot be told to bind port 0 and report it).
#pragma once

#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace keel::testing {

inline int free_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
  socklen_t len = sizeof a;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  ::close(fd);
  return ntohs(a.sin_port);
}

class child_process {
 public:
  child_process(const std::string& program, const std::vector<std::string>& args,
                const std::map<std::string, std::string>& env, const std::filesystem::path& log) {
    std::vector<std::string> argv_s{program};
    argv_s.insert(argv_s.end(), args.begin(), args.end());
    pid_ = ::fork();
    if (pid_ < 0) throw std::runtime_error("fork failed");
    if (pid_ == 0) {
      const int fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
      if (fd >= 0) {
        ::dup2(fd, 1);
        ::dup2(fd, 2);
      }
      for (const auto& [k, v] : env)
        ::setenv(k.c_str(), v.c_str(), 1);
      std::vector<char*> argv;
      for (auto& a : argv_s)
        argv.push_back(a.data());
      argv.push_back(nullptr);
      ::execv(program.c_str(), argv.data());
      ::_exit(127);
    }
  }
  ~child_process() {
    if (pid_ > 0) {
      ::kill(pid_, SIGKILL);
      wait();
    }
  }
  child_process(const child_process&) = delete;
  child_process& operator=(const child_process&) = delete;

  pid_t pid() const noexcept { return pid_; }
  bool running() {
    if (pid_ <= 0) return false;
    int st = 0;
    const pid_t r = ::waitpid(pid_, &st, WNOHANG);
    if (r == pid_) {
      pid_ = -1;
      status_ = decode(st);
      return false;
    }
    return true;
  }
  void signal(int sig) {
    if (pid_ > 0) ::kill(pid_, sig);
  }
  // Waits for the process to end; its exit code, or 128 + the signal.
  int wait() {
    if (pid_ > 0) {
      int st = 0;
      ::waitpid(pid_, &st, 0);
      pid_ = -1;
      status_ = decode(st);
    }
    return status_;
  }
  int terminate() {
    signal(SIGTERM);
    return wait();
  }
  int kill() {
    signal(SIGKILL);
    return wait();
  }

 private:
  static int decode(int st) {
    return WIFEXITED(st) ? WEXITSTATUS(st) : (WIFSIGNALED(st) ? 128 + WTERMSIG(st) : -1);
  }
  pid_t pid_ = -1;
  int status_ = -1;
};

}  // namespace keel::testing
