// Helpers for keel::log tests: an in-memory sink, temporary directories,
// reading files back.
#pragma once

#include "support/temp_dir.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "keel/log/log.hpp"

namespace keel::log::testing {

// A real sink that keeps its lines in memory (one string per line, no '\n').
class memory_sink final : public sink {
 public:
  explicit memory_sink(format f = format::json, level min = level::trace)
      : sink({.name = "memory", .min_level = min, .format = f}) {}
  std::vector<std::string> lines;
  int fail_with = 0;  // an errno to fail writes with

  nlohmann::json json(std::size_t i) const { return nlohmann::json::parse(lines.at(i)); }

 protected:
  int write_out(std::string_view text) override {
    if (fail_with != 0) return fail_with;
    while (!text.empty()) {
      const auto nl = text.find('\n');
      lines.emplace_back(text.substr(0, nl));
      text.remove_prefix(nl == std::string_view::npos ? text.size() : nl + 1);
    }
    return 0;
  }
};

// log_capture
//
// The real backend (manual mode: lines are written on flush()) with one
// memory sink, and the JSON lines one logger wrote. configure() may be
// called again to change the logger's level; the backend is reset to a
// bare manual one at scope end.
class log_capture {
 public:
  log_capture(std::string logger, level min) : logger_(std::move(logger)) { configure(min); }
  ~log_capture() { (void)log::configure({.mode = backend_mode::manual}); }
  log_capture(const log_capture&) = delete;
  log_capture& operator=(const log_capture&) = delete;

  void configure(level min) {
    sink_ = std::make_shared<memory_sink>();
    ok_ = log::configure({.loggers = {{.name = logger_, .min_level = min}},
                          .sinks = {sink_},
                          .mode = backend_mode::manual,
                          .install_signal_handlers = false})
              .has_value();
  }
  // False when the backend refused the configuration.
  bool ok() const noexcept { return ok_; }

  // The logger's lines written so far, parsed.
  std::vector<nlohmann::json> lines() const {
    log::flush();
    std::vector<nlohmann::json> out;
    for (const std::string& l : sink_->lines) {
      auto j = nlohmann::json::parse(l);
      if (j.value("logger", "") == logger_) out.push_back(std::move(j));
    }
    return out;
  }

 private:
  std::string logger_;
  std::shared_ptr<memory_sink> sink_;
  bool ok_ = false;
};

// A fresh directory under /tmp, removed at scope end.
using ::keel::testing::temp_dir;

inline std::vector<std::string> read_lines(const std::string& path) {
  std::vector<std::string> out;
  std::ifstream in(path);
  for (std::string line; std::getline(in, line);)
    out.push_back(line);
  return out;
}

inline std::string read_file(const std::string& path) {
  std::string out;
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return out;
  char buf[65536];
  for (ssize_t n; (n = ::read(fd, buf, sizeof buf)) > 0;)
    out.append(buf, static_cast<std::size_t>(n));
  ::close(fd);
  return out;
}

}  // namespace keel::log::testing
