#include "keel/alert/data_dir_lock.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>

namespace keel::alert {

result<std::shared_ptr<data_dir_lock>> data_dir_lock::take(const std::filesystem::path& dir) {
  std::error_code ec;
  if (!std::filesystem::is_directory(dir, ec)) {
    std::filesystem::create_directories(dir, ec);
    if (ec) {
      return fail(error(codes::io_error, "cannot create the data directory: " + ec.message())
                      .with_detail("path", dir.string()));
    }
    ::chmod(dir.c_str(), 0700);
  }
  const auto path = dir / "lock";
  const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0) {
    return fail(error(codes::io_error, "cannot open the data directory's lock file")
                    .with_detail("path", path.string())
                    .with_detail("errno", std::strerror(errno)));
  }
  std::shared_ptr<data_dir_lock> lock(new data_dir_lock(fd, dir));
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    char buf[32] = {};
    const auto n = ::pread(fd, buf, sizeof buf - 1, 0);
    std::string holder = n > 0 ? std::string(buf, static_cast<std::size_t>(n)) : "unknown";
    while (!holder.empty() && (holder.back() == '\n' || holder.back() == ' '))
      holder.pop_back();
    return fail(error(codes::conflict, "data directory " + dir.string() +
                                           " is in use by another process (pid " + holder + ")")
                    .with_detail("pid", holder));
  }
  const std::string pid = std::to_string(::getpid()) + "\n";
  if (::ftruncate(fd, 0) == 0) (void)!::pwrite(fd, pid.data(), pid.size(), 0);
  return lock;
}

data_dir_lock::~data_dir_lock() {
  if (fd_ >= 0) ::close(fd_);
}

}  // namespace keel::alert
