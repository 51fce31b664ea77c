// keel/log/rotating_file_sink.hpp
//
// rotating_file_sink is a file sink that starts a new file when the current
// one would exceed `max_bytes`, and/or when the wall clock crosses a multiple
// of `interval` (UTC, e.g. every hour or day). The current file is `path`;
// rotated files are path.1 (newest) … path.N, at most `max_files` of them;
// older ones are deleted. Lines are never split across files: a batch is cut
// at line boundaries, and a file exceeds max_bytes only when a single line is
// longer than max_bytes.
//
//   auto s = keel::log::rotating_file_sink::create({
//       .path = "logs/keeld.log", .max_bytes = 10 << 20, .max_files = 5,
//       .interval = std::chrono::hours(24)}).value();
//
// Thread safety: as every sink (sink.hpp). Cost: one write() per batch (two
// around a rotation); a rotation is max_files renames.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>

#include "keel/log/file_sink.hpp"

namespace keel::log {

struct rotating_file_sink_options {
  std::string path{};
  std::uint64_t max_bytes = 0;       // 0: no size rotation
  std::chrono::seconds interval{0};  // 0: no time rotation
  std::uint32_t max_files = 5;       // rotated files kept (1..1000)
  level min_level = level::trace;
  ::keel::log::format format = format::json;
  bool fsync_on_flush = false;
  std::chrono::milliseconds error_report_interval{10'000};
  const ::keel::clock* clock = nullptr;  // time rotation and reports; nullptr: real
  bool create_directories = false;       // as file_sink_options
};

class rotating_file_sink final : public file_sink {
 public:
  // CONFIGURATION_ERROR on an empty path, max_files outside 1..1000, or
  // max_bytes below 1 KiB when set.
  static result<std::shared_ptr<rotating_file_sink>> create(rotating_file_sink_options o);

  std::uint64_t rotations() const noexcept { return rotations_; }

  explicit rotating_file_sink(rotating_file_sink_options o);

 protected:
  int write_out(std::string_view lines) override;

 private:
  int rotate() noexcept;
  std::int64_t current_period() const noexcept;

  std::uint64_t max_bytes_;
  std::chrono::seconds interval_;
  std::uint32_t max_files_;
  const ::keel::clock& clock_;
  std::uint64_t size_ = 0;
  std::int64_t period_ = 0;
  std::uint64_t rotations_ = 0;
};

}  // namespace keel::log
