#include "keel/log/syslog_sink.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>
#include <cerrno>
#include <cstring>

#include "keel/core/error.hpp"
#include "keel/core/rfc3339.hpp"

namespace keel::log {
namespace {

// PRINTUSASCII (33..126), at most `max` characters, "-" when empty.
std::string printable(std::string_view s, std::size_t max) {
  std::string out;
  for (char c : s) {
    if (out.size() == max) break;
    if (c >= 33 && c <= 126) out.push_back(c);
  }
  return out.empty() ? std::string("-") : out;
}

std::string program_name() {
  char buf[256];
  const ssize_t n = ::readlink("/proc/self/exe", buf, sizeof buf - 1);
  if (n <= 0) return "keel";
  std::string_view p(buf, static_cast<std::size_t>(n));
  if (auto slash = p.rfind('/'); slash != std::string_view::npos) p.remove_prefix(slash + 1);
  return std::string(p);
}

}  // namespace

result<std::shared_ptr<syslog_sink>> syslog_sink::create(syslog_sink_options o) {
  auto bad = [](const char* m) { return std::unexpected(error(codes::configuration_error, m)); };
  if (o.facility < 0 || o.facility > 23) return bad("syslog sink: facility must be 0..23");
  if (o.max_message_bytes < 480 || o.max_message_bytes > 65000) {
    return bad("syslog sink: max_message_bytes must be within 480..65000");
  }
  if (o.transport == syslog_transport::unix_socket) {
    if (o.socket_path.empty() || o.socket_path.size() >= sizeof(sockaddr_un{}.sun_path)) {
      return bad("syslog sink: socket path empty or too long");
    }
    std::string path = o.socket_path;
    return std::make_shared<syslog_sink>(std::move(o), AF_UNIX, std::move(path));
  }
  in_addr a4{};
  in6_addr a6{};
  if (::inet_pton(AF_INET, o.host.c_str(), &a4) == 1) {
    std::string h = o.host;
    return std::make_shared<syslog_sink>(std::move(o), AF_INET, std::move(h));
  }
  if (::inet_pton(AF_INET6, o.host.c_str(), &a6) == 1) {
    std::string h = o.host;
    return std::make_shared<syslog_sink>(std::move(o), AF_INET6, std::move(h));
  }
  return bad("syslog sink: host must be an IPv4 or IPv6 address literal");
}

syslog_sink::syslog_sink(syslog_sink_options o, int family, std::string address)
    : sink({.name = "syslog:" + address,
            .min_level = o.min_level,
            .format = o.format,
            .error_report_interval = o.error_report_interval,
            .clock = o.clock}),
      o_(std::move(o)),
      family_(family),
      address_(std::move(address)) {
  std::string host = o_.hostname;
  if (host.empty()) {
    char buf[256] = {};
    if (::gethostname(buf, sizeof buf - 1) == 0) host = buf;
  }
  const std::string app = o_.app_name.empty() ? program_name() : o_.app_name;
  header_tail_.push_back(' ');
  header_tail_.append(printable(host, 255));
  header_tail_.push_back(' ');
  header_tail_.append(printable(app, 48));
  header_tail_.push_back(' ');
  header_tail_.append(std::to_string(::getpid()));
  header_tail_.push_back(' ');
  datagram_.reserve(o_.max_message_bytes);
  (void)connect_socket();
}

syslog_sink::~syslog_sink() {
  if (fd_ >= 0) ::close(fd_);
}

int syslog_sink::severity_of(level l) noexcept {
  switch (l) {
    case level::trace:
    case level::debug:
      return 7;
    case level::info:
      return 6;
    case level::warn:
      return 4;
    case level::error:
      return 3;
    case level::critical:
    case level::off:
      return 2;
  }
  return 6;
}

int syslog_sink::connect_socket() noexcept {
  if (fd_ >= 0) return 0;
  const int fd = ::socket(family_, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd < 0) return errno;
  int rc;
  if (family_ == AF_UNIX) {
    sockaddr_un a{};
    a.sun_family = AF_UNIX;
    std::memcpy(a.sun_path, address_.data(), address_.size());
    rc = ::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
  } else if (family_ == AF_INET) {
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(o_.port);
    ::inet_pton(AF_INET, address_.c_str(), &a.sin_addr);
    rc = ::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
  } else {
    sockaddr_in6 a{};
    a.sin6_family = AF_INET6;
    a.sin6_port = htons(o_.port);
    ::inet_pton(AF_INET6, address_.c_str(), &a.sin6_addr);
    rc = ::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
  }
  if (rc != 0) {
    const int err = errno;
    ::close(fd);
    return err;
  }
  fd_ = fd;
  return 0;
}

void syslog_sink::consume(const log_line& line) {
  if (line.lvl < min_level()) return;
  if (fd_ < 0) {
    const auto now = o_.clock ? o_.clock->steady_now() : ::keel::clock::real().steady_now();
    if (now < next_connect_) {
      record_failure(ENOTCONN, 1);
      return;
    }
    if (const int err = connect_socket(); err != 0) {
      next_connect_ = now + o_.error_report_interval / 10;
      record_failure(err, 1);
      return;
    }
  }
  datagram_.clear();
  datagram_.push_back('<');
  datagram_.append(std::to_string(o_.facility * 8 + severity_of(line.lvl)));
  datagram_.append(">1 ");
  char ts[rfc3339_size];
  format_rfc3339(line.time, ts);
  datagram_.append(ts, rfc3339_size);
  datagram_.append(header_tail_);
  datagram_.append(printable(line.logger, 32));
  datagram_.append(" - ");
  if (o_.utf8_bom) datagram_.append("\xEF\xBB\xBF");
  std::string_view text = line.text(format_);
  if (!text.empty() && text.back() == '\n') text.remove_suffix(1);
  datagram_.append(text);
  if (datagram_.size() > o_.max_message_bytes) datagram_.resize(o_.max_message_bytes);
  const ssize_t n = ::send(fd_, datagram_.data(), datagram_.size(), MSG_DONTWAIT | MSG_NOSIGNAL);
  if (n < 0) {
    const int err = errno;
    if (err != EAGAIN && err != EWOULDBLOCK && err != ENOBUFS) {
      ::close(fd_);
      fd_ = -1;
    }
    record_failure(err, 1);
    return;
  }
  record_success(1, static_cast<std::uint64_t>(n));
}

}  // namespace keel::log
