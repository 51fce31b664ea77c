#include "keel/log/stream_sink.hpp"

#include <unistd.h>
#include <cerrno>

namespace keel::log {

int write_all(int fd, std::string_view data) noexcept {
  while (!data.empty()) {
    const ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return errno;
    }
    if (n == 0) return EIO;
    data.remove_prefix(static_cast<std::size_t>(n));
  }
  return 0;
}

namespace {
format effective(int fd, const stream_sink::stream_options& o) {
  if (o.format == format::json) return format::json;
  switch (o.color) {
    case color_mode::always:
      return format::console_color;
    case color_mode::never:
      return format::console;
    case color_mode::automatic:
      break;
  }
  return ::isatty(fd) == 1 ? format::console_color : format::console;
}
}  // namespace

stream_sink::stream_sink(int fd, stream_options o)
    : sink({.name = fd == 1   ? "stdout"
                    : fd == 2 ? "stderr"
                              : "fd",
            .min_level = o.min_level,
            .format = effective(fd, o)}),
      fd_(fd) {}

std::shared_ptr<stream_sink> stream_sink::stdout_sink(stream_options o) {
  return std::make_shared<stream_sink>(1, o);
}
std::shared_ptr<stream_sink> stream_sink::stderr_sink(stream_options o) {
  return std::make_shared<stream_sink>(2, o);
}

int stream_sink::write_out(std::string_view lines) { return write_all(fd_, lines); }

}  // namespace keel::log
