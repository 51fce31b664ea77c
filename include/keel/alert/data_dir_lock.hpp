// keel/alert/data_dir_lock.hpp
//
// data_dir_lock makes a data directory one process's: two keeld on one
// directory would send every notification twice and interleave their
// writes, logs and tokens. It is an exclusive flock() on <dir>/lock, which
// holds the holder's pid; the kernel drops it when the holder exits or is
// killed, so a SIGKILL leaves nothing stale to clean up.
//
//   auto lock = keel::alert::data_dir_lock::take("/var/lib/keeld");
//   if (!lock && lock.error() == keel::codes::conflict) exit_naming(lock.error());
//   pipeline_options o{.data_dir = "/var/lib/keeld", .lock = *lock};  // held for its life
//
// Take it before anything else writes in the directory (logs, tokens).
//
// Thread safety: take() may be called from any thread; the lock is held
// until the last shared_ptr to it goes.
#pragma once

#include <filesystem>
#include <memory>

#include "keel/core/result.hpp"

namespace keel::alert {

class data_dir_lock {
 public:
  // Creates `dir` (0700) when missing and takes it. CONFLICT naming the
  // holder's pid when another process holds it; IO_ERROR when the
  // directory or its lock file cannot be made.
  [[nodiscard]] static result<std::shared_ptr<data_dir_lock>> take(
      const std::filesystem::path& dir);
  ~data_dir_lock();
  data_dir_lock(const data_dir_lock&) = delete;
  data_dir_lock& operator=(const data_dir_lock&) = delete;

  const std::filesystem::path& dir() const noexcept { return dir_; }

 private:
  data_dir_lock(int fd, std::filesystem::path dir) : fd_(fd), dir_(std::move(dir)) {}
  int fd_ = -1;
  std::filesystem::path dir_;
};

}  // namespace keel::alert
