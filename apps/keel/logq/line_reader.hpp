// apps/keel/logq/line_reader.hpp
//
// Reading log files line by line, fast and bounded: plain files, gzip files
// (detected by their magic bytes, whatever their name), stdin, and a
// follower that tails a file across rotations (rename + create, or truncate).
//
//   auto src = open_source("app.log.2.gz");            // result<unique_ptr<byte_source>>
//   line_reader in(std::move(*src), {.max_line_bytes = 1 << 20});
//   std::string_view line;
//   while (true) {
//     auto st = in.next(line);
//     if (st == read_status::line) handle(line);
//     else if (st == read_status::oversized) ++skipped;   // longer than the bound: dropped
//     else break;                                         // eof or error
//   }
//
// Lines are split on '\n'; a trailing '\r' is removed. A line longer than
// max_line_bytes is dropped (its bytes are skipped, never buffered whole), so
// memory stays at about 2 × max(max_line_bytes, 256 KiB) whatever the input.
//
// Thread safety: none; one reader per thread. Cost: one read() per 256 KiB,
// memchr per line, no allocation per line.
#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "keel/core/clock.hpp"
#include "keel/core/result.hpp"

namespace keel::cli::logq {

// A stream of bytes: a file descriptor or a gzip stream.
class byte_source {
 public:
  virtual ~byte_source() = default;
  // Up to `n` bytes into `buf`; 0 at the (current) end.
  virtual result<std::size_t> read(char* buf, std::size_t n) = 0;
  // Name for messages.
  virtual const std::string& name() const noexcept = 0;
};

// Opens `path` ("-" is stdin); gzip content is decompressed transparently.
result<std::unique_ptr<byte_source>> open_source(const std::string& path);
// A source over a file descriptor the caller keeps open (follow mode).
std::unique_ptr<byte_source> fd_source(int fd, std::string name);

// Paths of `path`'s rotated siblings ("app.log.1", "app.log.2.gz",
// "app.log-20261123", ...) and `path` itself, oldest first (by mtime, then
// by name). Missing siblings are fine; a missing `path` is too if siblings exist.
std::vector<std::string> with_rotated(const std::string& path);

enum class read_status : std::uint8_t { line, oversized, eof, error };

struct reader_options {
  std::size_t max_line_bytes = 1 << 20;
  // At the end of input, hand out a last line without '\n' (files), or keep
  // it until more bytes arrive (follow).
  bool final_partial_line = true;
};

class line_reader {
 public:
  line_reader(std::unique_ptr<byte_source> src, reader_options opts = {});

  // The next line (a view valid until the next call).
  read_status next(std::string_view& line);
  // The error after read_status::error.
  const std::optional<keel::error>& last_error() const noexcept { return error_; }
  // Hands out a held partial line (follow mode, before switching files).
  bool take_partial(std::string_view& line);
  byte_source& source() noexcept { return *src_; }

 private:
  bool fill();
  std::unique_ptr<byte_source> src_;
  reader_options opts_;
  std::vector<char> buf_;
  std::size_t begin_ = 0;
  std::size_t end_ = 0;
  bool eof_ = false;
  bool discarding_ = false;
  std::optional<keel::error> error_{};
};

// follower
//
// Tails `path` like `tail -F`: reads what is there, then polls every
// `poll_interval` for new bytes; when the path names a new file (rotation by
// rename, detected by inode) it drains the old file and continues with the
// new one from its start; when the file shrinks (truncation) it starts over.
// A path that does not exist yet is waited for.
struct follow_options {
  std::size_t max_line_bytes = 1 << 20;
  std::chrono::milliseconds poll_interval{200};
  bool from_end = false;  // skip what the file holds when following starts
};

class follower {
 public:
  using on_line = std::function<void(std::string_view line, read_status status)>;

  follower(std::string path, follow_options opts, const keel::clock& clk = keel::clock::real());

  // Runs until `stopped()` is true (asked after each batch of lines and at
  // least once per poll interval).
  result<void> run(const on_line& cb, const std::function<bool()>& stopped);

  // Rotations and truncations seen so far; readable from any thread while
  // run() goes on.
  std::uint64_t rotations() const noexcept { return rotations_.load(std::memory_order_relaxed); }
  std::uint64_t truncations() const noexcept {
    return truncations_.load(std::memory_order_relaxed);
  }

 private:
  std::string path_;
  follow_options opts_;
  const keel::clock& clock_;
  std::atomic<std::uint64_t> rotations_{0};
  std::atomic<std::uint64_t> truncations_{0};
};

}  // namespace keel::cli::logq
