#include "keel/log/sink.hpp"

#include <unistd.h>

#include <cstring>
#include <string>

#include "keel/log/stream_sink.hpp"

namespace keel::log {

sink::sink(options o)
    : format_(o.format),
      name_(std::move(o.name)),
      min_level_(o.min_level),
      report_interval_(o.error_report_interval),
      clock_(o.clock ? o.clock : &::keel::clock::real()) {
  buffer_.reserve(128 * 1024);
}

sink::~sink() = default;

void sink::consume(const log_line& line) {
  if (line.lvl < min_level_) return;
  buffer_.append(line.text(format_));
  ++buffered_lines_;
}

void sink::commit() {
  if (buffer_.empty()) return;
  const int err = write_out(buffer_);
  if (err == 0) {
    record_success(buffered_lines_, buffer_.size());
  } else {
    record_failure(err, buffered_lines_);
  }
  buffer_.clear();
  buffered_lines_ = 0;
}

void sink::record_success(std::uint64_t lines, std::uint64_t bytes) noexcept {
  stats_.lines_written.fetch_add(lines, std::memory_order_relaxed);
  stats_.bytes_written.fetch_add(bytes, std::memory_order_relaxed);
  stats_.last_error.store(0, std::memory_order_relaxed);
}

void sink::record_failure(int err, std::uint64_t lines) noexcept {
  stats_.write_errors.fetch_add(1, std::memory_order_relaxed);
  stats_.lines_lost.fetch_add(lines, std::memory_order_relaxed);
  stats_.last_error.store(err, std::memory_order_relaxed);
  ++unreported_errors_;
  unreported_lost_ += lines;
  const auto now = clock_->steady_now();
  if (reported_once_ && now - last_report_ < report_interval_) return;
  reported_once_ = true;
  last_report_ = now;
  // Straight to fd 2: the logger cannot report its own failure through itself.
  char buf[512];
  const int n =
      std::snprintf(buf, sizeof buf,
                    "keel.log: sink \"%.*s\" failing: %s (%llu failed writes, %llu lines "
                    "lost since the last report)\n",
                    static_cast<int>(std::min<std::size_t>(name_.size(), 200)), name_.data(),
                    std::strerror(err), static_cast<unsigned long long>(unreported_errors_),
                    static_cast<unsigned long long>(unreported_lost_));
  if (n > 0) {
    (void)write_all(2, std::string_view(buf, std::min<std::size_t>(static_cast<std::size_t>(n),
                                                                   sizeof buf - 1)));
  }
  unreported_errors_ = 0;
  unreported_lost_ = 0;
}

}  // namespace keel::log
