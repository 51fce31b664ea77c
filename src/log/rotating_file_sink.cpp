#include "keel/log/rotating_file_sink.hpp"

#include <sys/stat.h>
#include <unistd.h>
#include <cerrno>
#include <cstdio>
#include <string>

#include "keel/core/error.hpp"
#include "keel/log/stream_sink.hpp"

namespace keel::log {

result<std::shared_ptr<rotating_file_sink>> rotating_file_sink::create(
    rotating_file_sink_options o) {
  auto bad = [](const char* m) { return std::unexpected(error(codes::configuration_error, m)); };
  if (o.path.empty()) return bad("rotating file sink: empty path");
  if (o.max_files < 1 || o.max_files > 1000) {
    return bad("rotating file sink: max_files must be within 1..1000");
  }
  if (o.max_bytes != 0 && o.max_bytes < 1024) {
    return bad("rotating file sink: max_bytes must be at least 1 KiB");
  }
  if (o.interval.count() < 0) return bad("rotating file sink: negative interval");
  return std::make_shared<rotating_file_sink>(std::move(o));
}

rotating_file_sink::rotating_file_sink(rotating_file_sink_options o)
    : file_sink(file_sink_options{.path = o.path,
                                  .min_level = o.min_level,
                                  .format = o.format,
                                  .fsync_on_flush = o.fsync_on_flush,
                                  .error_report_interval = o.error_report_interval,
                                  .clock = o.clock,
                                  .create_directories = o.create_directories}),
      max_bytes_(o.max_bytes),
      interval_(o.interval),
      max_files_(o.max_files),
      clock_(o.clock ? *o.clock : ::keel::clock::real()) {
  struct stat st {};
  if (fd_ >= 0 && ::fstat(fd_, &st) == 0) size_ = static_cast<std::uint64_t>(st.st_size);
  period_ = current_period();
}

std::int64_t rotating_file_sink::current_period() const noexcept {
  if (interval_.count() == 0) return 0;
  const auto s =
      std::chrono::duration_cast<std::chrono::seconds>(clock_.system_now().time_since_epoch())
          .count();
  return s / interval_.count();
}

int rotating_file_sink::rotate() noexcept {
  close_file();
  // path.N-1 -> path.N, ..., path -> path.1; path.max_files is replaced.
  std::string from, to;
  for (std::uint32_t i = max_files_; i >= 1; --i) {
    to = path_ + "." + std::to_string(i);
    from = i == 1 ? path_ : path_ + "." + std::to_string(i - 1);
    if (::rename(from.c_str(), to.c_str()) != 0 && errno != ENOENT) {
      const int err = errno;
      (void)ensure_open();
      return err;
    }
  }
  ++rotations_;
  size_ = 0;
  return ensure_open();
}

int rotating_file_sink::write_out(std::string_view lines) {
  if (interval_.count() != 0) {
    const std::int64_t p = current_period();
    if (p != period_) {
      period_ = p;
      if (size_ > 0) {
        if (const int err = rotate(); err != 0) return err;
      }
    }
  }
  if (const int err = ensure_open(); err != 0) return err;
  while (!lines.empty()) {
    std::size_t take = lines.size();
    if (max_bytes_ != 0 && size_ + take > max_bytes_) {
      // The whole lines that still fit; at least one line into an empty file.
      const std::size_t room =
          max_bytes_ > size_ ? static_cast<std::size_t>(max_bytes_ - size_) : 0;
      const std::size_t cut = room == 0 ? std::string_view::npos : lines.rfind('\n', room - 1);
      if (cut != std::string_view::npos) {
        take = cut + 1;
      } else if (size_ > 0) {
        if (const int err = rotate(); err != 0) return err;
        continue;
      } else {
        take = lines.find('\n');
        take = take == std::string_view::npos ? lines.size() : take + 1;
      }
    }
    if (const int err = write_all(fd_, lines.substr(0, take)); err != 0) {
      close_file();
      return err;
    }
    size_ += take;
    lines.remove_prefix(take);
    if (max_bytes_ != 0 && size_ >= max_bytes_ && !lines.empty()) {
      if (const int err = rotate(); err != 0) return err;
    }
  }
  return 0;
}

}  // namespace keel::log
