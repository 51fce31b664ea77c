// tests/support/promtool.hpp
//
// `promtool check metrics` (Debian's prometheus package) on an exposition
// text: the check Prometheus' own toolchain makes, so a test can assert that
// what keel exposes is accepted without findings.
//
//   auto [code, output] = keel::testing::promtool_check(keel::metrics::expose(reg));
//   EXPECT_EQ(code, 0) << output;
#pragma once

#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <utility>

namespace keel::testing {

inline constexpr const char* kPromtool = "/usr/bin/promtool";

// Exit code (-1 when promtool could not run) and its stdout and stderr.
inline std::pair<int, std::string> promtool_check(const std::string& text) {
  const auto file = std::filesystem::temp_directory_path() /
                    ("keel_promtool_" + std::to_string(::getpid()) + ".txt");
  {
    std::ofstream out(file, std::ios::binary);
    out << text;
  }
  const std::string cmd = std::string(kPromtool) + " check metrics < '" + file.string() + "' 2>&1";
  std::string output;
  FILE* p = ::popen(cmd.c_str(), "r");
  if (p == nullptr) return {-1, "popen failed"};
  char buf[4096];
  std::size_t n = 0;
  while ((n = std::fread(buf, 1, sizeof buf, p)) > 0)
    output.append(buf, n);
  const int status = ::pclose(p);
  std::filesystem::remove(file);
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, output};
}

}  // namespace keel::testing
