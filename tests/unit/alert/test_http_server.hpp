// A tiny HTTP/1.1 receiver on 127.0.0.1 for delivery tests, on plain
// sockets (test_loopback_listener.hpp). It starts bound but not listening, so
// connections are refused (a receiver that is down); listen() brings it up on
// the same port. It then
// answers every request with the configured status, or hangs (reads the
// request and never answers) to exercise client timeouts.
#pragma once

#include <poll.h>
#include <unistd.h>

#include <cstring>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "test_loopback_listener.hpp"

namespace keel::alert::testing {

struct received_request {
  std::string method;
  std::string target;
  std::map<std::string, std::string> headers;  // lower-case names
  std::string body;
  int answered = 0;  // status sent back, 0 when the server hung
};

class test_http_server {
 public:
  int port() const { return listener_.port(); }
  std::string url(const std::string& path = "/alerts") const {
    return "http://127.0.0.1:" + std::to_string(port()) + path;
  }

  void listen() {
    listener_.listen(64, [this](int c) { return handle(c); });
  }
  void respond_with(int status, std::string extra_headers = {}) {
    std::lock_guard lock(mu_);
    status_ = status;
    extra_ = std::move(extra_headers);
  }
  void hang() {
    std::lock_guard lock(mu_);
    status_ = 0;
  }
  std::vector<received_request> requests() const {
    std::lock_guard lock(mu_);
    return requests_;
  }
  // Requests answered 2xx.
  std::vector<received_request> accepted() const {
    std::vector<received_request> out;
    for (auto& r : requests()) {
      if (r.answered >= 200 && r.answered < 300) out.push_back(r);
    }
    return out;
  }

 private:
  // False when the request was left unanswered (the socket stays open).
  bool handle(int c) {
    std::string buf;
    char chunk[4096];
    std::size_t header_end = std::string::npos, need = 0;
    while (true) {
      pollfd p{c, POLLIN, 0};
      if (::poll(&p, 1, 2000) <= 0) break;
      const auto n = ::read(c, chunk, sizeof chunk);
      if (n <= 0) break;
      buf.append(chunk, static_cast<std::size_t>(n));
      if (header_end == std::string::npos) {
        header_end = buf.find("\r\n\r\n");
        if (header_end != std::string::npos) need = header_end + 4 + content_length(buf);
      }
      if (header_end != std::string::npos && buf.size() >= need) break;
    }
    received_request r = parse(buf, header_end);
    int status;
    std::string extra;
    {
      std::lock_guard lock(mu_);
      status = status_;
      extra = extra_;
    }
    r.answered = status;
    {
      std::lock_guard lock(mu_);
      requests_.push_back(r);
    }
    if (status == 0) return false;
    const std::string resp = "HTTP/1.1 " + std::to_string(status) + " X\r\n" + extra +
                             "Content-Length: 0\r\nConnection: close\r\n\r\n";
    (void)!::write(c, resp.data(), resp.size());
    return true;
  }
  static std::size_t content_length(const std::string& b) {
    std::string lower = b;
    for (auto& ch : lower)
      ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
    auto p = lower.find("content-length:");
    if (p == std::string::npos) return 0;
    return static_cast<std::size_t>(std::strtoul(b.c_str() + p + 15, nullptr, 10));
  }
  static received_request parse(const std::string& b, std::size_t header_end) {
    received_request r;
    if (header_end == std::string::npos) return r;
    auto line_end = b.find("\r\n");
    auto first = b.substr(0, line_end);
    auto sp1 = first.find(' ');
    auto sp2 = first.find(' ', sp1 + 1);
    r.method = first.substr(0, sp1);
    r.target = first.substr(sp1 + 1, sp2 - sp1 - 1);
    std::size_t pos = line_end + 2;
    while (pos < header_end) {
      auto e = b.find("\r\n", pos);
      auto line = b.substr(pos, e - pos);
      auto colon = line.find(':');
      if (colon != std::string::npos) {
        std::string name = line.substr(0, colon);
        for (auto& ch : name)
          ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
        auto v = line.substr(colon + 1);
        while (!v.empty() && v.front() == ' ')
          v.erase(0, 1);
        r.headers[name] = v;
      }
      pos = e + 2;
    }
    r.body = b.substr(header_end + 4);
    return r;
  }

  mutable std::mutex mu_;
  int status_ = 200;
  std::string extra_;
  std::vector<received_request> requests_;
  loopback_listener listener_;  // last: its thread stops before the rest goes
};

}  // namespace keel::alert::testing
