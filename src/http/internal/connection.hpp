// The per-connection state shared by the plain and TLS sessions: the
// request parser, the request/response/exchange reused across keep-alive
// requests, the middleware chain's bookkeeping, and the serializer. No
// socket here: the session coroutine (server.cpp) owns the stream.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <boost/asio/buffer.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/basic_parser.hpp>

#include "keel/core/clock.hpp"
#include "keel/core/context.hpp"
#include "keel/core/error.hpp"
#include "keel/core/problem_json.hpp"
#include "keel/http/middleware.hpp"
#include "keel/http/request.hpp"
#include "keel/http/response.hpp"
#include "keel/http/router.hpp"
#include "keel/http/task.hpp"

namespace keel::http::detail {

// What every connection of a server shares (read-only while running).
struct pipeline {
  router routes{};
  std::vector<middleware_ptr> owned{};
  std::vector<middleware*> chain{};
  render_mode error_mode = render_mode::production;
  std::size_t max_header_bytes = 0;
  std::size_t max_header_count = 0;
  std::size_t max_body_bytes = 0;
  const keel::clock* clock = nullptr;
};

class connection_state;

class request_parser final : public boost::beast::http::basic_parser<true> {
 public:
  explicit request_parser(connection_state& c) noexcept : c_(c) {}

 private:
  using string_view = boost::beast::string_view;
  using error_code = boost::beast::error_code;
  void on_request_impl(boost::beast::http::verb, string_view method, string_view target,
                       int version, error_code& ec) override;
  void on_response_impl(int, string_view, int, error_code& ec) override;
  void on_field_impl(boost::beast::http::field, string_view name, string_view value,
                     error_code& ec) override;
  void on_header_impl(error_code& ec) override;
  void on_body_init_impl(const boost::optional<std::uint64_t>& length, error_code& ec) override;
  std::size_t on_body_impl(string_view body, error_code& ec) override;
  void on_chunk_header_impl(std::uint64_t, string_view, error_code&) override {}
  std::size_t on_chunk_body_impl(std::uint64_t, string_view body, error_code& ec) override;
  void on_finish_impl(error_code& ec) override;

  connection_state& c_;
};

enum class parse_status : std::uint8_t {
  done,
  need_more,
  header_too_large,
  body_too_large,
  bad_request,
  bad_host  // HTTP/1.1 without Host, or Host twice (RFC 9112 §3.2)
};

class connection_state {
 public:
  enum class phase : std::uint8_t { handshake, idle, reading, handling, writing, closed };

  connection_state(const pipeline& p, std::string client_ip, bool secure);
  virtual ~connection_state() = default;
  connection_state(const connection_state&) = delete;
  connection_state& operator=(const connection_state&) = delete;

  // Closes the socket so that the pending operation ends (on the
  // connection's own thread).
  virtual void close_socket() noexcept = 0;
  // Cancels the pending operation but keeps the socket (to answer 408).
  virtual void cancel_socket() noexcept = 0;
  // Past the stop's grace, for a request whose handler has not answered:
  // a canned 503 written without waiting (plain TCP only), then a clean
  // close, so the client gets an answer or a FIN rather than a reset.
  virtual void answer_unavailable_and_close() noexcept = 0;

  // Per request.
  void begin_request(keel::clock::steady_time now);
  parse_status parse();
  bool header_done() const noexcept { return parser_ && parser_->is_header_done(); }
  // True once, when the client waits for "100 Continue" before its body.
  bool take_continue() noexcept;
  // The read buffer: the session reads into in.prepare() and commits.
  boost::beast::flat_buffer in;

  // Routing, the chain's before() hooks and a synchronous handler.
  // `rejected`: the parser refused the request (413, 431, 400, 408).
  void run_inward(const keel::error* rejected);
  bool handler_pending() const noexcept { return pending_ != nullptr; }
  // The asynchronous handler, when run_inward() left one.
  task<void> run_handler();
  // after() / on_error() hooks, last-resort rendering.
  void run_outward();
  // Serializes the response; returns the buffers to write.
  std::array<boost::asio::const_buffer, 2> serialize(bool keep_alive, std::string_view date);
  // Done with this request: drops the context, shrinks oversized buffers.
  void end_request() noexcept;

  bool client_keep_alive() const noexcept { return req_.keep_alive_; }
  const request& req() const noexcept { return req_; }
  const response& res() const noexcept { return res_; }

  // Owned by the worker thread's list (server.cpp).
  connection_state* prev = nullptr;
  connection_state* next = nullptr;
  phase state = phase::handshake;
  keel::clock::steady_time deadline{};
  std::uint64_t idle_since = 0;  // the worker's idle sequence: smaller went idle first
  context_ptr slot{};            // the request's context (exchange::set_context)
  bool timed_out = false;        // set by the sweep before it cancels or closes

 private:
  friend class request_parser;
  void fail(keel::error e);

  const pipeline& pipe_;
  std::string client_ip_;
  std::optional<request_parser> parser_{};
  request req_{};
  response res_{};
  exchange ex_{req_, res_};

  // Request line and fields, copied out of the read buffer.
  std::string header_store_{};
  struct field_offsets {
    std::uint32_t name_off, name_len, value_off, value_len;
  };
  std::vector<field_offsets> fields_{};
  std::uint32_t method_off_ = 0, method_len_ = 0, target_off_ = 0, target_len_ = 0;
  std::string body_{};
  std::string head_{};
  bool expect_continue_ = false;
  std::uint8_t hosts_ = 0;  // Host fields seen (saturating)
  bool bad_host_ = false;
  bool continue_taken_ = false;

  std::size_t entered_ = 0;
  const any_handler* pending_ = nullptr;
};

}  // namespace keel::http::detail
