// A minimal blocking HTTP/1.1 client over a loopback socket, for tests:
// every read has a 10 s receive timeout so a broken server fails the test
// instead of hanging it.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace keel::http::testing {

struct http_reply {
  int status = 0;
  std::vector<std::pair<std::string, std::string>> headers{};
  std::string body{};

  std::optional<std::string> header(std::string_view name) const {
    for (const auto& [k, v] : headers) {
      if (k.size() == name.size()) {
        bool same = true;
        for (std::size_t i = 0; i < k.size(); ++i) {
          if (std::tolower(static_cast<unsigned char>(k[i])) !=
              std::tolower(static_cast<unsigned char>(name[i]))) {
            same = false;
            break;
          }
        }
        if (same) return v;
      }
    }
    return std::nullopt;
  }
};

class client {
 public:
  explicit client(std::uint16_t port) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    timeval tv{.tv_sec = 10, .tv_usec = 0};
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    int one = 1;
    ::setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    connected_ = ::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
  }
  ~client() {
    if (fd_ >= 0) ::close(fd_);
  }
  client(const client&) = delete;
  client& operator=(const client&) = delete;

  bool connected() const { return connected_; }
  int fd() const { return fd_; }

  bool send(std::string_view data) {
    while (!data.empty()) {
      const ssize_t n = ::send(fd_, data.data(), data.size(), MSG_NOSIGNAL);
      if (n <= 0) return false;
      data.remove_prefix(static_cast<std::size_t>(n));
    }
    return true;
  }

  // One response; nullopt when the connection closed (or timed out) first.
  std::optional<http_reply> read_reply(bool head_request = false) {
    std::size_t end;
    while ((end = buf_.find("\r\n\r\n")) == std::string::npos) {
      if (!fill()) return std::nullopt;
    }
    http_reply r;
    const std::string head = buf_.substr(0, end + 2);
    buf_.erase(0, end + 4);
    std::size_t pos = head.find("\r\n");
    const std::string status_line = head.substr(0, pos);
    if (status_line.size() < 12) return std::nullopt;
    r.status = std::stoi(status_line.substr(9, 3));
    pos += 2;
    while (pos < head.size()) {
      const std::size_t eol = head.find("\r\n", pos);
      const std::string line = head.substr(pos, eol - pos);
      const std::size_t colon = line.find(':');
      std::string value = line.substr(colon + 1);
      while (!value.empty() && value.front() == ' ')
        value.erase(0, 1);
      r.headers.emplace_back(line.substr(0, colon), value);
      pos = eol + 2;
    }
    std::size_t length = 0;
    if (auto cl = r.header("content-length")) length = std::stoul(*cl);
    if (head_request || r.status == 204 || r.status == 304 || r.status < 200) length = 0;
    while (buf_.size() < length) {
      if (!fill()) return std::nullopt;
    }
    r.body = buf_.substr(0, length);
    buf_.erase(0, length);
    return r;
  }

  std::optional<http_reply> get(std::string_view path, std::string_view extra_headers = {}) {
    std::string req = "GET " + std::string(path) + " HTTP/1.1\r\nHost: test\r\n" +
                      std::string(extra_headers) + "\r\n";
    if (!send(req)) return std::nullopt;
    return read_reply();
  }

  // True when the server closed the connection (EOF or reset) before `limit`
  // more bytes arrived.
  bool wait_closed() {
    char tmp[4096];
    while (true) {
      const ssize_t n = ::recv(fd_, tmp, sizeof tmp, 0);
      if (n == 0) return true;
      if (n < 0) return errno == ECONNRESET;
    }
  }

 private:
  bool fill() {
    char tmp[16384];
    const ssize_t n = ::recv(fd_, tmp, sizeof tmp, 0);
    if (n <= 0) return false;
    buf_.append(tmp, static_cast<std::size_t>(n));
    return true;
  }

  int fd_ = -1;
  bool connected_ = false;
  std::string buf_{};
};

}  // namespace keel::http::testing
