#include "logq/line_reader.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <system_error>

#include <fmt/format.h>

namespace keel::cli::logq {
namespace {

constexpr std::size_t kChunk = 256 * 1024;

class fd_byte_source final : public byte_source {
 public:
  fd_byte_source(int fd, std::string name, bool owned)
      : fd_(fd), name_(std::move(name)), owned_(owned) {}
  ~fd_byte_source() override {
    if (owned_ && fd_ >= 0) ::close(fd_);
  }
  fd_byte_source(const fd_byte_source&) = delete;
  fd_byte_source& operator=(const fd_byte_source&) = delete;

  result<std::size_t> read(char* buf, std::size_t n) override {
    while (true) {
      const ssize_t r = ::read(fd_, buf, n);
      if (r >= 0) return static_cast<std::size_t>(r);
      if (errno == EINTR) continue;
      return fail(
          from_error_code(std::error_code(errno, std::generic_category()), "read " + name_));
    }
  }
  const std::string& name() const noexcept override { return name_; }

 private:
  int fd_;
  std::string name_;
  bool owned_;
};

class gzip_source final : public byte_source {
 public:
  gzip_source(gzFile f, std::string name) : f_(f), name_(std::move(name)) {}
  ~gzip_source() override { gzclose(f_); }
  gzip_source(const gzip_source&) = delete;
  gzip_source& operator=(const gzip_source&) = delete;

  result<std::size_t> read(char* buf, std::size_t n) override {
    const unsigned want = static_cast<unsigned>(std::min<std::size_t>(n, 1u << 30));
    const int r = gzread(f_, buf, want);
    if (r >= 0) return static_cast<std::size_t>(r);
    int errnum = 0;
    const char* msg = gzerror(f_, &errnum);
    return fail(codes::io_error,
                fmt::format("{}: corrupt gzip data ({})", name_, msg ? msg : "unknown"));
  }
  const std::string& name() const noexcept override { return name_; }

 private:
  gzFile f_;
  std::string name_;
};

}  // namespace

std::unique_ptr<byte_source> fd_source(int fd, std::string name) {
  return std::make_unique<fd_byte_source>(fd, std::move(name), true);
}

result<std::unique_ptr<byte_source>> open_source(const std::string& path) {
  if (path == "-") return std::unique_ptr<byte_source>(new fd_byte_source(0, "<stdin>", false));
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    return fail(from_error_code(std::error_code(errno, std::generic_category()), "open " + path));
  }
  unsigned char magic[2] = {0, 0};
  const ssize_t got = ::pread(fd, magic, 2, 0);
  if (got == 2 && magic[0] == 0x1f && magic[1] == 0x8b) {
    gzFile f = gzdopen(fd, "rb");
    if (f == nullptr) {
      ::close(fd);
      return fail(codes::resource_exhausted, "gzdopen " + path);
    }
    gzbuffer(f, static_cast<unsigned>(kChunk));
    return std::unique_ptr<byte_source>(new gzip_source(f, path));
  }
  ::posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
  return std::unique_ptr<byte_source>(new fd_byte_source(fd, path, true));
}

std::vector<std::string> with_rotated(const std::string& path) {
  namespace fs = std::filesystem;
  const fs::path p(path);
  const fs::path dir = p.has_parent_path() ? p.parent_path() : fs::path(".");
  const std::string base = p.filename().string();
  struct entry {
    std::string path;
    fs::file_time_type mtime;
    long number;  // numeric suffix (app.log.3 → 3), -1 when none
  };
  std::vector<entry> rotated;
  std::error_code ec;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    const std::string name = it->path().filename().string();
    if (name.size() <= base.size() + 1 || name.compare(0, base.size(), base) != 0) continue;
    const char sep = name[base.size()];
    if (sep != '.' && sep != '-' && sep != '_') continue;
    std::error_code ec2;
    if (!it->is_regular_file(ec2)) continue;
    long number = -1;
    const std::string suffix = name.substr(base.size() + 1);
    const std::size_t digits = suffix.find_first_not_of("0123456789");
    if (digits != 0 && (digits == std::string::npos || suffix.substr(digits) == ".gz") &&
        suffix.size() < 12) {
      number = std::stol(suffix.substr(0, digits));
    }
    rotated.push_back({(p.has_parent_path() ? dir / name : fs::path(name)).string(),
                       it->last_write_time(ec2), number});
  }
  std::sort(rotated.begin(), rotated.end(), [](const entry& a, const entry& b) {
    if (a.mtime != b.mtime) return a.mtime < b.mtime;
    if (a.number != b.number) return a.number > b.number;  // app.log.3 is older than app.log.1
    return a.path < b.path;
  });
  std::vector<std::string> out;
  for (auto& e : rotated)
    out.push_back(std::move(e.path));
  if (fs::exists(p, ec) || out.empty()) out.push_back(path);
  return out;
}

line_reader::line_reader(std::unique_ptr<byte_source> src, reader_options opts)
    : src_(std::move(src)), opts_(opts), buf_(std::max(kChunk, opts.max_line_bytes + 1) + kChunk) {}

bool line_reader::fill() {
  if (begin_ > 0) {
    std::memmove(buf_.data(), buf_.data() + begin_, end_ - begin_);
    end_ -= begin_;
    begin_ = 0;
  }
  auto r = src_->read(buf_.data() + end_, buf_.size() - end_);
  if (!r) {
    error_ = r.error();
    return false;
  }
  eof_ = *r == 0;
  end_ += *r;
  return *r > 0;
}

read_status line_reader::next(std::string_view& line) {
  while (true) {
    const char* base = buf_.data();
    if (discarding_) {
      const void* nl = std::memchr(base + begin_, '\n', end_ - begin_);
      if (nl != nullptr) {
        begin_ = static_cast<std::size_t>(static_cast<const char*>(nl) - base) + 1;
        discarding_ = false;
        return read_status::oversized;
      }
      begin_ = end_ = 0;
      if (!fill()) {
        if (error_) return read_status::error;
        if (opts_.final_partial_line) {
          discarding_ = false;
          return read_status::oversized;
        }
        return read_status::eof;
      }
      continue;
    }
    const void* nl = std::memchr(base + begin_, '\n', end_ - begin_);
    if (nl != nullptr) {
      const std::size_t stop = static_cast<std::size_t>(static_cast<const char*>(nl) - base);
      std::size_t len = stop - begin_;
      const std::size_t start = begin_;
      begin_ = stop + 1;
      if (len > 0 && base[start + len - 1] == '\r') --len;
      if (len > opts_.max_line_bytes) return read_status::oversized;
      line = std::string_view(base + start, len);
      return read_status::line;
    }
    if (end_ - begin_ > opts_.max_line_bytes) {
      discarding_ = true;
      begin_ = end_ = 0;
      continue;
    }
    if (!fill()) {
      if (error_) return read_status::error;
      if (opts_.final_partial_line && end_ > begin_) {
        std::string_view rest;
        take_partial(rest);
        if (!rest.empty() && rest.back() == '\r') rest.remove_suffix(1);
        line = rest;
        return read_status::line;
      }
      return read_status::eof;
    }
  }
}

bool line_reader::take_partial(std::string_view& line) {
  if (begin_ >= end_) return false;
  line = std::string_view(buf_.data() + begin_, end_ - begin_);
  begin_ = end_;
  return true;
}

follower::follower(std::string path, follow_options opts, const keel::clock& clk)
    : path_(std::move(path)), opts_(opts), clock_(clk) {}

result<void> follower::run(const on_line& cb, const std::function<bool()>& stopped) {
  int fd = -1;
  struct stat st {};
  // Wait for the file to exist.
  while (!stopped()) {
    fd = ::open(path_.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd >= 0) break;
    if (errno != ENOENT) {
      return fail(
          from_error_code(std::error_code(errno, std::generic_category()), "open " + path_));
    }
    clock_.sleep_for(opts_.poll_interval);
  }
  if (fd < 0) return ok();
  if (::fstat(fd, &st) != 0) {
    ::close(fd);
    return fail(from_error_code(std::error_code(errno, std::generic_category()), "stat " + path_));
  }
  if (opts_.from_end) ::lseek(fd, 0, SEEK_END);
  const reader_options ro{.max_line_bytes = opts_.max_line_bytes, .final_partial_line = false};
  auto reader = std::make_unique<line_reader>(fd_source(fd, path_), ro);
  dev_t dev = st.st_dev;
  ino_t ino = st.st_ino;

  auto drain = [&]() -> result<void> {
    std::string_view line;
    while (true) {
      const read_status s = reader->next(line);
      if (s == read_status::line || s == read_status::oversized) {
        cb(line, s);
        continue;
      }
      if (s == read_status::error && reader->last_error())
        return fail(reader->last_error().value());
      return ok();
    }
  };

  while (true) {
    if (auto r = drain(); !r) return r;
    if (stopped()) return ok();
    struct stat now {};
    if (::stat(path_.c_str(), &now) == 0) {
      if (now.st_ino != ino || now.st_dev != dev) {
        // Rotated: whatever the writer put in the old file before it moved
        // on is read first, then the new file from its start.
        if (auto r = drain(); !r) return r;
        std::string_view partial;
        if (reader->take_partial(partial)) cb(partial, read_status::line);
        const int nfd = ::open(path_.c_str(), O_RDONLY | O_CLOEXEC);
        if (nfd >= 0) {
          struct stat nst {};
          if (::fstat(nfd, &nst) == 0) {
            reader = std::make_unique<line_reader>(fd_source(nfd, path_), ro);
            fd = nfd;
            dev = nst.st_dev;
            ino = nst.st_ino;
            rotations_.fetch_add(1, std::memory_order_relaxed);
            continue;
          }
          ::close(nfd);
        }
      } else {
        const off_t pos = ::lseek(fd, 0, SEEK_CUR);
        if (pos >= 0 && now.st_size < pos) {
          ::lseek(fd, 0, SEEK_SET);
          const int nfd = ::dup(fd);  // shares the offset; the old reader closes `fd`
          if (nfd < 0) {
            return fail(from_error_code(std::error_code(errno, std::generic_category()), "dup"));
          }
          reader = std::make_unique<line_reader>(fd_source(nfd, path_), ro);
          fd = nfd;
          truncations_.fetch_add(1, std::memory_order_relaxed);
          continue;
        }
      }
    }
    clock_.sleep_for(opts_.poll_interval);
  }
}

}  // namespace keel::cli::logq
