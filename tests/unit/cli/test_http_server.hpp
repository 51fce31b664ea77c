// A small real HTTP/1.1 server for the load generator's tests: Beast on its
// own thread, keep-alive, answering by path, and remembering what it saw.
//
//   /                 200 "ok"          /simulate/error  500
//   /health, /metrics 200               /missing         404
//   /close            200, then closes the connection ("Connection: close")
//   /stall            never answers (timeouts)
//   /echo             200 with the request body
#pragma once

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

namespace keel::cli::testing {

class test_http_server {
 public:
  test_http_server() : acceptor_(ioc_, {boost::asio::ip::make_address("127.0.0.1"), 0}) {
    accept();
    thread_ = std::thread([this] { ioc_.run(); });
  }
  ~test_http_server() {
    ioc_.stop();
    thread_.join();
  }
  test_http_server(const test_http_server&) = delete;
  test_http_server& operator=(const test_http_server&) = delete;

  std::uint16_t port() const { return acceptor_.local_endpoint().port(); }
  std::string url(std::string_view path = "/") const {
    return "http://127.0.0.1:" + std::to_string(port()) + std::string(path);
  }

  std::map<std::string, std::uint64_t> hits() const {
    std::lock_guard lock(mu_);
    return hits_;
  }
  std::set<std::string> request_ids() const {
    std::lock_guard lock(mu_);
    return ids_;
  }
  std::uint64_t requests_without_id() const {
    std::lock_guard lock(mu_);
    return without_id_;
  }
  std::uint64_t connections() const {
    std::lock_guard lock(mu_);
    return connections_;
  }
  std::string last_body() const {
    std::lock_guard lock(mu_);
    return last_body_;
  }

 private:
  using tcp = boost::asio::ip::tcp;

  struct session : std::enable_shared_from_this<session> {
    session(test_http_server& s, tcp::socket sock) : srv(s), socket(std::move(sock)) {}
    test_http_server& srv;
    tcp::socket socket;
    boost::beast::flat_buffer buf;
    boost::beast::http::request<boost::beast::http::string_body> req;
    boost::beast::http::response<boost::beast::http::string_body> res;

    void read() {
      req = {};
      boost::beast::http::async_read(
          socket, buf, req, [self = shared_from_this()](boost::beast::error_code ec, std::size_t) {
            if (!ec) self->respond();
          });
    }
    void respond() {
      namespace http = boost::beast::http;
      const std::string target(req.target());
      {
        std::lock_guard lock(srv.mu_);
        ++srv.hits_[target];
        const auto id = req["X-Request-ID"];
        if (id.empty()) {
          ++srv.without_id_;
        } else {
          srv.ids_.insert(std::string(id));
        }
        srv.last_body_ = req.body();
      }
      if (target == "/stall") {  // keep the connection open, never answer
        std::lock_guard lock(srv.mu_);
        srv.stalled_.push_back(shared_from_this());
        return;
      }
      res = {};
      res.version(11);
      res.result(target == "/simulate/error" ? http::status::internal_server_error
                 : target == "/missing"      ? http::status::not_found
                                             : http::status::ok);
      res.set(http::field::content_type, "text/plain");
      res.body() = target == "/echo" ? req.body() : std::string("ok");
      const bool close = target == "/close";
      res.keep_alive(!close);
      res.prepare_payload();
      http::async_write(
          socket, res,
          [self = shared_from_this(), close](boost::beast::error_code ec, std::size_t) {
            if (ec) return;
            if (close) {
              boost::beast::error_code ignored;
              self->socket.shutdown(tcp::socket::shutdown_send, ignored);
              return;
            }
            self->read();
          });
    }
  };

  void accept() {
    acceptor_.async_accept([this](boost::beast::error_code ec, tcp::socket sock) {
      if (ec) return;
      {
        std::lock_guard lock(mu_);
        ++connections_;
      }
      std::make_shared<session>(*this, std::move(sock))->read();
      accept();
    });
  }

  boost::asio::io_context ioc_;
  tcp::acceptor acceptor_;
  std::thread thread_;
  mutable std::mutex mu_;
  std::map<std::string, std::uint64_t> hits_;
  std::set<std::string> ids_;
  std::uint64_t without_id_ = 0;
  std::uint64_t connections_ = 0;
  std::string last_body_;
  std::vector<std::shared_ptr<session>> stalled_;
};

}  // namespace keel::cli::testing
