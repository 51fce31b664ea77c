#include "keel/log/file_sink.hpp"

#include <fcntl.h>
#include <unistd.h>
#include <cerrno>
#include <filesystem>
#include <system_error>

#include "keel/core/error.hpp"
#include "keel/log/stream_sink.hpp"

namespace keel::log {

result<std::shared_ptr<file_sink>> file_sink::create(file_sink_options o) {
  if (o.path.empty()) {
    return std::unexpected(error(codes::configuration_error, "file sink: empty path"));
  }
  return std::make_shared<file_sink>(std::move(o));
}

file_sink::file_sink(file_sink_options o)
    : sink({.name = "file:" + o.path,
            .min_level = o.min_level,
            .format = o.format,
            .error_report_interval = o.error_report_interval,
            .clock = o.clock}),
      path_(std::move(o.path)),
      create_directories_(o.create_directories),
      fsync_on_flush_(o.fsync_on_flush) {
  (void)ensure_open();
}

file_sink::~file_sink() { close_file(); }

int file_sink::ensure_open() noexcept {
  if (fd_ >= 0) return 0;
  fd_ = ::open(path_.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
  if (fd_ < 0 && errno == ENOENT && create_directories_) {
    std::error_code ec;
    std::filesystem::create_directories(std::filesystem::path(path_).parent_path(), ec);
    if (ec) return ec.value();
    fd_ = ::open(path_.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
  }
  return fd_ >= 0 ? 0 : errno;
}

void file_sink::close_file() noexcept {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
}

int file_sink::write_out(std::string_view lines) {
  if (const int err = ensure_open(); err != 0) return err;
  const int err = write_all(fd_, lines);
  // A failed write may have left a broken descriptor (file deleted, disk
  // replaced): reopen on the next batch.
  if (err != 0) close_file();
  return err;
}

void file_sink::flush() {
  if (fsync_on_flush_ && fd_ >= 0) ::fsync(fd_);
}

}  // namespace keel::log
