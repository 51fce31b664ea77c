// keel/log/backend.hpp
//
// The logging backend: one thread that drains every thread's ring buffer,
// formats JSON Lines (and console text where a sink wants it), redacts
// secrets, and writes batches to the sinks. configure() sets it up; without
// it, logging goes to stdout as JSON at level info.
//
//   keel::log::configure({
//       .service = "keeld", .version = "0.1.0", .environment = "production",
//       .default_level = keel::log::level::info,
//       .sinks = {keel::log::rotating_file_sink::create({.path = "logs/keeld.log",
//                                                        .max_bytes = 10 << 20}).value()},
//       .on_full = keel::log::queue_full_policy::drop}).value();
//   ...
//   keel::log::flush();          // every line logged before this call is written
//
// Lines also reach the sinks at normal exit (atexit) and, when
// `install_signal_handlers`, on SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT
// and SIGTERM: the handler flushes (waiting at most `signal_flush_timeout`),
// then restores the previous disposition and re-raises (or, for a previous
// handler, calls it).
//
// Thread safety: every function may be called from any thread. configure()
// flushes first; lines logged concurrently with it may be formatted under
// either configuration.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "keel/core/result.hpp"
#include "keel/log/level.hpp"
#include "keel/log/logger.hpp"
#include "keel/log/sink.hpp"

namespace keel {
class clock;
class redactor;
}  // namespace keel

namespace keel::log {

// queue_full_policy
//
// What a call does when its thread's ring buffer is full. block: wait for
// the backend, at most log_config::max_block, then drop. drop: drop at once.
// Dropped lines are counted and a warn line "log lines dropped" with the
// count is written at most once per drop_report_interval.
enum class queue_full_policy : std::uint8_t { block, drop };

// source_mode
//
// When a line carries "source":{"file","line","function"}.
enum class source_mode : std::uint8_t { never, warn_and_above, always };

// backend_mode
//
// thread: the backend runs on its own thread. manual: no thread; lines are
// processed when poll() or flush() is called (deterministic tests). In
// manual mode a full buffer always drops.
enum class backend_mode : std::uint8_t { thread, manual };

// logger_config
//
// Level and sampling for one logger name at configure time (registry.hpp).
struct logger_config {
  std::string name{};
  std::optional<level> min_level{};
  std::optional<sampling> sample{};
};

struct log_config {
  std::string service{};  // "service", "version", "environment" on every line if set
  std::string version{};
  std::string environment{};
  level default_level = level::info;  // the root logger's level
  std::vector<logger_config> loggers{};
  std::vector<std::shared_ptr<sink>> sinks{};  // empty: JSON to stdout
  queue_full_policy on_full = queue_full_policy::block;
  std::chrono::milliseconds max_block{5'000};
  std::size_t thread_buffer_bytes =
      1u << 20;  // per thread, rounded up to a power of two (64 KiB..1 GiB)
  bool redact = true;
  std::shared_ptr<const ::keel::redactor> redactor{};  // nullptr: keel::redactor::standard()
  source_mode source = source_mode::warn_and_above;
  std::chrono::milliseconds drop_report_interval{1'000};
  std::chrono::microseconds idle_sleep{100};  // backend poll interval when idle
  std::size_t batch_bytes = 64 * 1024;        // sinks commit when a batch reaches this
  backend_mode mode = backend_mode::thread;
  const ::keel::clock* clock = nullptr;  // nullptr: the cycle counter, calibrated to real time
  int backend_cpu = -1;                  // ≥ 0: pin the backend thread to this CPU
  bool install_signal_handlers = true;
  std::chrono::milliseconds signal_flush_timeout{2'000};
};

// Validates and applies `c` (flushing lines already queued under the
// previous configuration first). CONFIGURATION_ERROR on invalid values.
result<void> configure(log_config c);

// Writes every line logged (by any thread) before the call and flushes the
// sinks. In manual mode, processes them on the calling thread.
void flush();

// Manual mode: processes what is queued now; returns the number of lines.
std::size_t poll();

// Flushes and stops the backend thread; later calls are dropped and counted.
// Called at exit; configure() starts the backend again.
void shutdown();

// log_stats
//
// A snapshot of the backend's counters (keel::metrics exports them).
struct log_stats {
  std::uint64_t lines_processed = 0;  // records formatted by the backend
  std::uint64_t dropped = 0;          // queue full, oversize or stopped
  std::uint64_t sampled_out = 0;
  std::uint64_t sink_write_errors = 0;
  std::uint64_t sink_lines_lost = 0;
  std::size_t thread_buffers = 0;
};
log_stats stats();

}  // namespace keel::log
