// keel/log/stream_sink.hpp
//
// stream_sink writes lines to standard output or standard error (the
// twelve-factor default: let the platform collect stdout). With the console
// format, colour is used only when the stream is a terminal (color_mode::automatic).
//
//   auto out = keel::log::stream_sink::stdout_sink();                       // JSON Lines
//   auto dev = keel::log::stream_sink::stderr_sink({.format = keel::log::format::console});
//
// Thread safety: as every sink (sink.hpp). Cost: one write() per batch.
#pragma once

#include <memory>

#include "keel/log/sink.hpp"

namespace keel::log {

struct stream_sink_options {
  level min_level = level::trace;
  ::keel::log::format format = format::json;  // console: coloured per `color`
  color_mode color = color_mode::automatic;
};

class stream_sink final : public sink {
 public:
  using stream_options = stream_sink_options;

  // Writes to `fd` (1 or 2, or any open descriptor the caller keeps open).
  stream_sink(int fd, stream_options o);

  static std::shared_ptr<stream_sink> stdout_sink(stream_options o = {});
  static std::shared_ptr<stream_sink> stderr_sink(stream_options o = {});

 protected:
  int write_out(std::string_view lines) override;

 private:
  int fd_;
};

// Writes all of `data` to `fd`, retrying on EINTR and short writes. 0 or an errno.
int write_all(int fd, std::string_view data) noexcept;

}  // namespace keel::log
