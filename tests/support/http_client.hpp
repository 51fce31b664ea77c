// tests/support/http_client.hpp
//
// Minimal blocking HTTP for integration tests: one request with libcurl
// (method, headers, body; status, lower-cased response headers, body), and
// raw_http() for bytes no well-behaved client would send (CR/LF in a
// header, a lying Content-Length).
//
//   auto r = keel::testing::http_request("GET", "http://127.0.0.1:8000/health");
//   EXPECT_EQ(r.status, 200);
//   EXPECT_EQ(r.headers["content-type"], "application/health+json");
#pragma once

#include <arpa/inet.h>
#include <curl/curl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <map>
#include <string>
#include <vector>

namespace keel::testing {

struct http_result {
  long status = 0;  // 0: no response (connection refused, timeout)
  std::map<std::string, std::string> headers;
  std::string body;
};

inline http_result http_request(const std::string& method, const std::string& url,
                                const std::string& body = {},
                                const std::vector<std::string>& headers = {},
                                long timeout_ms = 10'000) {
  http_result out;
  CURL* c = curl_easy_init();
  curl_easy_setopt(c, CURLOPT_URL, url.c_str());
  curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method.c_str());
  if (method == "HEAD") curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
  if (!body.empty() || method == "POST" || method == "PUT") {
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, body.c_str());
    curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, static_cast<long>(body.size()));
  }
  curl_slist* list = nullptr;
  for (const auto& h : headers)
    list = curl_slist_append(list, h.c_str());
  if (list) curl_easy_setopt(c, CURLOPT_HTTPHEADER, list);
  curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, timeout_ms);
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(
      c, CURLOPT_WRITEFUNCTION, +[](char* p, size_t s, size_t n, void* u) {
        static_cast<std::string*>(u)->append(p, s * n);
        return s * n;
      });
  curl_easy_setopt(c, CURLOPT_WRITEDATA, &out.body);
  curl_easy_setopt(
      c, CURLOPT_HEADERFUNCTION, +[](char* p, size_t s, size_t n, void* u) {
        std::string line(p, s * n);
        const auto colon = line.find(':');
        if (colon != std::string::npos) {
          std::string name = line.substr(0, colon);
          std::transform(name.begin(), name.end(), name.begin(),
                         [](unsigned char ch) { return static_cast<char>(std::tolower(ch)); });
          std::string value = line.substr(colon + 1);
          while (!value.empty() && (value.front() == ' '))
            value.erase(0, 1);
          while (!value.empty() && (value.back() == '\r' || value.back() == '\n'))
            value.pop_back();
          (*static_cast<std::map<std::string, std::string>*>(u))[name] = value;
        }
        return s * n;
      });
  curl_easy_setopt(c, CURLOPT_HEADERDATA, &out.headers);
  if (curl_easy_perform(c) == CURLE_OK) curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &out.status);
  if (list) curl_slist_free_all(list);
  curl_easy_cleanup(c);
  return out;
}

// Sends `bytes` to 127.0.0.1:port and returns what comes back until the
// server closes or 5 s pass.
inline std::string raw_http(int port, const std::string& bytes) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<std::uint16_t>(port));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  timeval tv{5, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  std::string out;
  if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0) {
    ::send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL);
    char buf[4096];
    for (ssize_t n; (n = ::recv(fd, buf, sizeof buf, 0)) > 0;)
      out.append(buf, static_cast<size_t>(n));
  }
  ::close(fd);
  return out;
}

}  // namespace keel::testing
