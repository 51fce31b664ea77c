#include "keel/health/checks.hpp"

#include "keel/client/http_client.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <sqlite3.h>
#include <sys/socket.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <memory>
#include <mutex>

namespace keel::health {
namespace {

double ms_since(const keel::clock& c, keel::clock::steady_time t0) {
  return std::chrono::duration<double, std::milli>(c.steady_now() - t0).count();
}

// Milliseconds left until the deadline, at least 1.
int remaining_ms(const check_context& ctx) {
  const auto left =
      std::chrono::duration_cast<std::chrono::milliseconds>(ctx.deadline - ctx.clock->steady_now());
  return left.count() < 1 ? 1 : static_cast<int>(std::min<long long>(left.count(), 600000));
}

struct fd_closer {
  int fd = -1;
  ~fd_closer() {
    if (fd >= 0) ::close(fd);
  }
};

std::string errno_text(int e) {
  char buf[128];
  // GNU strerror_r returns the message pointer.
  return std::string(::strerror_r(e, buf, sizeof buf));
}

}  // namespace

check_fn tcp_check(std::string host, std::uint16_t port) {
  return [host = std::move(host), port](const check_context& ctx) -> check_result {
    const auto t0 = ctx.clock->steady_now();
    addrinfo hints{};
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    addrinfo* res = nullptr;
    const std::string service = std::to_string(port);
    if (int rc = ::getaddrinfo(host.c_str(), service.c_str(), &hints, &res); rc != 0) {
      return check_result::fail("cannot resolve " + host + ": " + ::gai_strerror(rc));
    }
    std::unique_ptr<addrinfo, decltype(&::freeaddrinfo)> guard(res, &::freeaddrinfo);
    std::string last_error = "no address";
    for (addrinfo* a = res; a != nullptr; a = a->ai_next) {
      fd_closer s{
          ::socket(a->ai_family, a->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, a->ai_protocol)};
      if (s.fd < 0) {
        last_error = errno_text(errno);
        continue;
      }
      int rc = ::connect(s.fd, a->ai_addr, a->ai_addrlen);
      if (rc != 0 && errno != EINPROGRESS) {
        last_error = errno_text(errno);
        continue;
      }
      if (rc != 0) {
        pollfd p{s.fd, POLLOUT, 0};
        rc = ::poll(&p, 1, remaining_ms(ctx));
        if (rc == 0) {
          last_error = "connect timed out";
          continue;
        }
        int err = 0;
        socklen_t len = sizeof err;
        if (rc < 0 || ::getsockopt(s.fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0 || err != 0) {
          last_error = errno_text(rc < 0 ? errno : err);
          continue;
        }
      }
      return check_result::pass(ms_since(*ctx.clock, t0), "ms");
    }
    return check_result::fail("cannot connect to " + host + ":" + service + ": " + last_error);
  };
}

check_fn http_check(std::string url, http_check_options options) {
  return [url = std::move(url), options](const check_context& ctx) -> check_result {
    const auto t0 = ctx.clock->steady_now();
    const auto timeout = std::chrono::milliseconds(remaining_ms(ctx));
    const auto r = keel::client::send({.url = url,
                                       .timeout = timeout,
                                       .connect_timeout = timeout,
                                       .user_agent = options.user_agent});
    const double ms = ms_since(*ctx.clock, t0);
    if (!r.error.empty()) return check_result::fail("GET failed: " + r.error, ms, "ms");
    const bool healthy = (r.status >= 200 && r.status < 300) ||
                         (options.accept_3xx && r.status >= 300 && r.status < 400);
    if (!healthy) return check_result::fail("HTTP " + std::to_string(r.status), ms, "ms");
    return check_result::pass(ms, "ms");
  };
}

check_fn sqlite_check(std::string path) {
  return [path = std::move(path)](const check_context& ctx) -> check_result {
    const auto t0 = ctx.clock->steady_now();
    sqlite3* raw = nullptr;
    const int open_rc =
        sqlite3_open_v2(path.c_str(), &raw, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX, nullptr);
    std::unique_ptr<sqlite3, decltype(&sqlite3_close)> db(raw, &sqlite3_close);
    if (open_rc != SQLITE_OK) {
      return check_result::fail(std::string("cannot open database: ") +
                                (raw != nullptr ? sqlite3_errmsg(raw) : sqlite3_errstr(open_rc)));
    }
    sqlite3_busy_timeout(db.get(), remaining_ms(ctx));
    // SELECT 1 alone never reads the file; the schema version does, so a
    // corrupt or foreign file fails here too.
    for (const char* sql : {"PRAGMA schema_version", "SELECT 1"}) {
      sqlite3_stmt* raw_stmt = nullptr;
      if (sqlite3_prepare_v2(db.get(), sql, -1, &raw_stmt, nullptr) != SQLITE_OK) {
        return check_result::fail(std::string(sql) + " failed: " + sqlite3_errmsg(db.get()));
      }
      std::unique_ptr<sqlite3_stmt, decltype(&sqlite3_finalize)> stmt(raw_stmt, &sqlite3_finalize);
      if (sqlite3_step(stmt.get()) != SQLITE_ROW) {
        return check_result::fail(std::string(sql) + " failed: " + sqlite3_errmsg(db.get()));
      }
    }
    return check_result::pass(ms_since(*ctx.clock, t0), "ms");
  };
}

check_fn disk_space_check(std::string path, disk_space_options options) {
  return [path = std::move(path), options](const check_context&) -> check_result {
    struct statvfs st {};
    if (::statvfs(path.c_str(), &st) != 0) {
      return check_result::fail("statvfs " + path + ": " + errno_text(errno));
    }
    const std::uint64_t avail =
        static_cast<std::uint64_t>(st.f_bavail) * static_cast<std::uint64_t>(st.f_frsize);
    const auto free_bytes = static_cast<double>(avail);
    if (avail < options.fail_below_bytes) {
      return check_result::fail(
          std::to_string(avail) + " bytes free, below " + std::to_string(options.fail_below_bytes),
          free_bytes, "bytes");
    }
    if (avail < options.warn_below_bytes) {
      return check_result::warn(
          std::to_string(avail) + " bytes free, below " + std::to_string(options.warn_below_bytes),
          free_bytes, "bytes");
    }
    return check_result::pass(free_bytes, "bytes");
  };
}

}  // namespace keel::health
