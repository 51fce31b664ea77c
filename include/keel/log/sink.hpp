// keel/log/sink.hpp
//
// sink is where formatted lines go. The backend thread hands each sink every
// line (consume), then ends the batch (commit), so a file sink issues one
// write() per batch, not per line. The base class owns what every sink
// shares: the level filter, the format (JSON Lines or console text), the
// batch buffer, and failure handling — a failing write is counted, the
// lines it carried are counted as lost, and the failure is reported on
// stderr at most once per `error_report_interval`; nothing is thrown and
// the caller of a log function never waits on a sink.
//
//   class my_sink : public keel::log::sink {
//    public:
//     my_sink() : sink({.name = "mine", .min_level = keel::log::level::warn}) {}
//    protected:
//     int write_out(std::string_view lines) override { /* 0 or an errno */ }
//   };
//
// Thread safety: consume/commit/flush run on the backend thread only (or
// the thread that calls keel::log::poll in manual mode). stats() may be read
// from any thread.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "keel/core/clock.hpp"
#include "keel/log/level.hpp"

namespace keel::log {

// format
//
// json: one JSON object a line (the schema is in docs/logging.md).
// console: human-readable text for development; coloured when `color` says
// so (color_mode::automatic: only when the sink's file descriptor is a TTY).
enum class format : std::uint8_t { json, console, console_color };
enum class color_mode : std::uint8_t { automatic, always, never };

// log_line
//
// One line as the backend offers it to sinks: routing attributes and the
// text in each format the configured sinks asked for (others are empty).
// Texts end with '\n'.
struct log_line {
  level lvl = level::info;
  std::string_view logger{};
  std::chrono::system_clock::time_point time{};
  std::string_view json{};
  std::string_view console{};
  std::string_view console_color{};

  std::string_view text(format f) const noexcept {
    return f == format::json ? json : f == format::console ? console : console_color;
  }
};

// sink_stats
//
// Counters a metrics exporter can read (keel::metrics exports them).
struct sink_stats {
  std::atomic<std::uint64_t> lines_written{0};
  std::atomic<std::uint64_t> bytes_written{0};
  std::atomic<std::uint64_t> write_errors{0};
  std::atomic<std::uint64_t> lines_lost{0};
  std::atomic<int> last_error{0};  // errno of the last write, 0 once one succeeds
};

// Bit set of formats a sink needs; the backend formats only those.
using format_set = unsigned;
constexpr format_set format_bit(format f) noexcept { return 1u << static_cast<unsigned>(f); }

class sink {
 public:
  struct options {
    std::string name{};              // for failure reports and listings
    level min_level = level::trace;  // lines below are ignored
    ::keel::log::format format = format::json;
    std::chrono::milliseconds error_report_interval{10'000};
    const ::keel::clock* clock = nullptr;  // for the report interval; nullptr: real
  };

  explicit sink(options o);
  virtual ~sink();
  sink(const sink&) = delete;
  sink& operator=(const sink&) = delete;

  // Offers a line. The base filters by level and buffers the text.
  virtual void consume(const log_line& line);
  // Ends a batch: writes what consume() buffered.
  virtual void commit();
  // Makes written lines durable as far as the sink can (after commit).
  virtual void flush() {}
  // The formats this sink consumes.
  virtual format_set formats() const noexcept { return format_bit(format_); }

  const sink_stats& stats() const noexcept { return stats_; }
  std::string_view name() const noexcept { return name_; }
  level min_level() const noexcept { return min_level_; }

 protected:
  // Writes `lines` (whole lines). Returns 0, or an errno on failure: then
  // the base counts the lines as lost and reports.
  virtual int write_out(std::string_view lines) = 0;

  // Counts a failure that lost `lines` lines and reports it on stderr if
  // none was reported within the interval. For sinks that write per line.
  void record_failure(int err, std::uint64_t lines) noexcept;
  // Counts lines and bytes that reached their destination.
  void record_success(std::uint64_t lines, std::uint64_t bytes) noexcept;

  ::keel::log::format format_;
  std::string name_;

 private:
  level min_level_;
  std::string buffer_;
  std::uint64_t buffered_lines_ = 0;
  sink_stats stats_;
  std::chrono::milliseconds report_interval_;
  const ::keel::clock* clock_;
  bool reported_once_ = false;
  ::keel::clock::steady_time last_report_{};
  std::uint64_t unreported_errors_ = 0;
  std::uint64_t unreported_lost_ = 0;
};

}  // namespace keel::log
