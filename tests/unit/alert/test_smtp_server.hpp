// A tiny SMTP server (RFC 5321's minimum: EHLO/HELO, MAIL, RCPT, DATA, RSET,
// NOOP, QUIT) on 127.0.0.1 for email delivery tests, on plain sockets
// (test_loopback_listener.hpp), like test_http_server.hpp. It starts bound but not listening, so
// connections are refused (a mail relay that is down); listen() brings it up
// on the same port. The reply to RCPT and to the end of DATA is settable, so
// a test can make the relay refuse a recipient (550) or defer a message
// (451); hang() leaves the end of DATA unanswered.
#pragma once

#include <poll.h>
#include <unistd.h>

#include <atomic>
#include <cctype>
#include <mutex>
#include <string>
#include <vector>

#include "test_loopback_listener.hpp"

namespace keel::alert::testing {

struct received_mail {
  std::string helo;                     // the EHLO / HELO argument
  std::string from;                     // MAIL FROM:<...>, without brackets
  std::vector<std::string> recipients;  // RCPT TO:<...> that were accepted
  std::string data;                     // the message, dot-stuffing undone
  int answered = 0;                     // reply to the end of DATA, 0 when hung
};

class test_smtp_server {
 public:
  std::string url() const { return "smtp://127.0.0.1:" + std::to_string(listener_.port()); }

  void listen() {
    listener_.listen(16, [this](int c) {
      ++sessions_;
      return session(c);
    });
  }
  // The reply to each RCPT TO (250 accepts the recipient).
  void reply_to_rcpt(int code) {
    std::lock_guard lock(mu_);
    rcpt_code_ = code;
  }
  // The reply to the end of DATA (250 accepts the message).
  void reply_to_data(int code) {
    std::lock_guard lock(mu_);
    data_code_ = code;
  }
  void hang() { reply_to_data(0); }

  // Every transaction that reached the end of DATA.
  std::vector<received_mail> mails() const {
    std::lock_guard lock(mu_);
    return mails_;
  }
  std::vector<received_mail> accepted() const {
    std::vector<received_mail> out;
    for (auto& m : mails())
      if (m.answered == 250) out.push_back(m);
    return out;
  }
  // Connections accepted (each one session).
  int sessions() const { return sessions_.load(); }

 private:
  // One line (without CRLF); false when the client went away or was silent
  // for 2 s.
  bool read_line(int c, std::string& buf, std::string& line) {
    while (true) {
      const auto eol = buf.find("\r\n");
      if (eol != std::string::npos) {
        line = buf.substr(0, eol);
        buf.erase(0, eol + 2);
        return true;
      }
      pollfd p{c, POLLIN, 0};
      if (listener_.stopping() || ::poll(&p, 1, 2000) <= 0) return false;
      char chunk[4096];
      const auto n = ::read(c, chunk, sizeof chunk);
      if (n <= 0) return false;
      buf.append(chunk, static_cast<std::size_t>(n));
    }
  }

  static void reply(int c, const std::string& text) {
    const std::string out = text + "\r\n";
    (void)!::write(c, out.data(), out.size());
  }

  static std::string upper(std::string s) {
    for (auto& ch : s)
      ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
    return s;
  }

  // The address inside <...> of "MAIL FROM:<a@b> SIZE=12".
  static std::string address(const std::string& line) {
    const auto open = line.find('<');
    const auto close = line.find('>', open);
    if (open == std::string::npos || close == std::string::npos) return {};
    return line.substr(open + 1, close - open - 1);
  }

  // False when the session was left hanging (the socket stays open).
  bool session(int c) {
    reply(c, "220 keel-test ESMTP");
    std::string buf, line;
    received_mail m;
    while (read_line(c, buf, line)) {
      const std::string verb = upper(line.substr(0, 4));
      if (verb == "EHLO" || verb == "HELO") {
        m = {};
        m.helo = line.size() > 5 ? line.substr(5) : "";
        reply(c, "250 keel-test");
      } else if (verb == "MAIL") {
        m.from = address(line);
        m.recipients.clear();
        reply(c, "250 OK");
      } else if (verb == "RCPT") {
        int code;
        {
          std::lock_guard lock(mu_);
          code = rcpt_code_;
        }
        if (code == 250) m.recipients.push_back(address(line));
        reply(c, std::to_string(code) + (code == 250 ? " OK" : " recipient refused"));
      } else if (verb == "DATA") {
        if (m.recipients.empty()) {
          reply(c, "554 no valid recipients");
          continue;
        }
        reply(c, "354 end with <CRLF>.<CRLF>");
        std::string data;
        bool complete = false;
        while (read_line(c, buf, line)) {
          if (line == ".") {
            complete = true;
            break;
          }
          data += (line.starts_with("..") ? line.substr(1) : line) + "\r\n";
        }
        if (!complete) return true;
        int code;
        {
          std::lock_guard lock(mu_);
          code = data_code_;
        }
        m.data = std::move(data);
        m.answered = code;
        {
          std::lock_guard lock(mu_);
          mails_.push_back(m);
        }
        if (code == 0) return false;  // hung: say nothing, keep the socket
        reply(c, std::to_string(code) + (code == 250 ? " queued" : " try again later"));
      } else if (verb == "RSET" || verb == "NOOP") {
        reply(c, "250 OK");
      } else if (verb == "QUIT") {
        reply(c, "221 bye");
        return true;
      } else {
        reply(c, "502 command not implemented");
      }
    }
    return true;
  }

  std::atomic<int> sessions_{0};
  mutable std::mutex mu_;
  int rcpt_code_ = 250;
  int data_code_ = 250;
  std::vector<received_mail> mails_;
  loopback_listener listener_;  // last: its thread stops before the rest goes
};

}  // namespace keel::alert::testing
