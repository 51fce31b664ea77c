// The socket half of the delivery tests' fake receivers (test_http_server,
// test_smtp_server): a TCP port on 127.0.0.1 that is bound at construction
// but not listening, so connections are refused (a receiver that is down),
// until listen() starts a thread that accepts and hands each connection to a
// session function. A session returns false to leave its connection open and
// unanswered (a hung receiver); those are closed on destruction.
//
// Declare the listener as the owner's last member: it is then destroyed
// first, and its thread is joined before the state the session reads goes.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <functional>
#include <thread>
#include <utility>
#include <vector>

namespace keel::alert::testing {

class loopback_listener {
 public:
  loopback_listener() {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    int one = 1;
    ::setsockopt(fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ::bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a);
    socklen_t len = sizeof a;
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len);
    port_ = ntohs(a.sin_port);
  }
  ~loopback_listener() {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
    for (int c : hung_)
      ::close(c);
    ::close(fd_);
  }
  loopback_listener(const loopback_listener&) = delete;
  loopback_listener& operator=(const loopback_listener&) = delete;

  int port() const { return port_; }
  // True once destruction has begun: sessions stop waiting for input.
  bool stopping() const { return stop_; }

  // Starts accepting, one connection at a time, on the listener's thread.
  void listen(int backlog, std::function<bool(int)> session) {
    ::listen(fd_, backlog);
    thread_ = std::thread([this, session = std::move(session)] {
      while (!stop_) {
        pollfd p{fd_, POLLIN, 0};
        if (::poll(&p, 1, 20) <= 0) continue;
        const int c = ::accept4(fd_, nullptr, nullptr, SOCK_CLOEXEC);
        if (c < 0) continue;
        if (session(c)) {
          ::close(c);
        } else {
          hung_.push_back(c);
        }
      }
    });
  }

 private:
  int fd_ = -1;
  int port_ = 0;
  std::atomic<bool> stop_{false};
  std::thread thread_;
  std::vector<int> hung_;  // the listener thread's only until it is joined
};

}  // namespace keel::alert::testing
