// keel/log/file_sink.hpp
//
// file_sink appends lines to one file (O_APPEND, created 0640; a missing
// directory is an error, or is made (mode 0777 less the umask) with
// `create_directories`). A file
// that cannot be opened or written (permission denied, disk full,
// directory gone) is a counted failure (sink_stats, last_error), reported
// at most once per interval; the sink retries opening on later batches, so
// logging resumes when the cause goes away.
//
//   auto f = keel::log::file_sink::create({.path = "/var/log/keeld/keeld.log"});
//   if (!f) ...;                                     // result<>: bad options only
//
// Thread safety: as every sink (sink.hpp). Cost: one write() per batch;
// flush() calls fsync only when `fsync_on_flush`.
#pragma once

#include <memory>
#include <string>

#include "keel/core/result.hpp"
#include "keel/log/sink.hpp"

namespace keel::log {

struct file_sink_options {
  std::string path{};
  level min_level = level::trace;
  ::keel::log::format format = format::json;
  bool fsync_on_flush = false;
  std::chrono::milliseconds error_report_interval{10'000};
  const ::keel::clock* clock = nullptr;
  bool create_directories = false;  // make the file's missing directories at each open
};

class file_sink : public sink {
 public:
  // CONFIGURATION_ERROR when the path is empty. The file is opened now; if
  // that fails the sink still exists and counts failures (see above).
  static result<std::shared_ptr<file_sink>> create(file_sink_options o);
  explicit file_sink(file_sink_options o);
  ~file_sink() override;

  void flush() override;
  const std::string& path() const noexcept { return path_; }

 protected:
  int write_out(std::string_view lines) override;
  // Opens path_ if not open. 0 or an errno.
  int ensure_open() noexcept;
  void close_file() noexcept;

  std::string path_;
  bool create_directories_ = false;
  int fd_ = -1;
  bool fsync_on_flush_;
};

}  // namespace keel::log
