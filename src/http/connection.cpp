#include "internal/connection.hpp"

#include <charconv>
#include <exception>
#include <functional>

#include <boost/beast/http/error.hpp>

namespace keel::http::detail {
namespace {

namespace bhttp = boost::beast::http;

std::uint32_t u32(std::size_t v) noexcept { return static_cast<std::uint32_t>(v); }

// Buffers that grew for one large request are given back afterwards, so an
// idle keep-alive connection holds little memory.
constexpr std::size_t keep_capacity = 64 * 1024;

void shrink(std::string& s) {
  if (s.capacity() > keep_capacity) {
    s.clear();
    s.shrink_to_fit();
  }
}

bool framing_header(std::string_view name) noexcept {
  return iequals(name, "content-length") || iequals(name, "transfer-encoding") ||
         iequals(name, "connection") || iequals(name, "date") || iequals(name, "keep-alive");
}

void append_uint(std::string& out, std::size_t v) {
  char buf[24];
  const auto r = std::to_chars(buf, buf + sizeof buf, v);
  out.append(buf, static_cast<std::size_t>(r.ptr - buf));
}

}  // namespace

// ---- parser callbacks -------------------------------------------------------

void request_parser::on_request_impl(bhttp::verb, string_view method, string_view target,
                                     int version, error_code&) {
  auto& c = c_;
  c.method_off_ = u32(c.header_store_.size());
  c.method_len_ = u32(method.size());
  c.header_store_.append(method.data(), method.size());
  c.target_off_ = u32(c.header_store_.size());
  c.target_len_ = u32(target.size());
  c.header_store_.append(target.data(), target.size());
  c.req_.version_ = version;
}

void request_parser::on_response_impl(int, string_view, int, error_code& ec) {
  ec = bhttp::error::bad_method;  // never called for a request parser
}

void request_parser::on_field_impl(bhttp::field f, string_view name, string_view value,
                                   error_code& ec) {
  auto& c = c_;
  if (c.fields_.size() >= c.pipe_.max_header_count) {
    ec = bhttp::error::header_limit;
    return;
  }
  if (f == bhttp::field::host && c.hosts_ < 2) ++c.hosts_;
  const auto name_off = u32(c.header_store_.size());
  c.header_store_.append(name.data(), name.size());
  const auto value_off = u32(c.header_store_.size());
  c.header_store_.append(value.data(), value.size());
  c.fields_.push_back({name_off, u32(name.size()), value_off, u32(value.size())});
}

void request_parser::on_header_impl(error_code& ec) {
  auto& c = c_;
  auto& r = c.req_;
  // RFC 9112 §3.2: an HTTP/1.1 request has exactly one Host, a 1.0 request
  // at most one; anything else is answered 400 (a proxy and this server
  // could otherwise disagree about which host was meant).
  if (c.hosts_ > 1 || (c.hosts_ == 0 && r.version_ >= 11)) {
    c.bad_host_ = true;
    ec = bhttp::error::bad_field;
    return;
  }
  // header_store_ is complete: views into it stay valid for the request.
  const char* base = c.header_store_.data();
  r.method_name_ = std::string_view(base + c.method_off_, c.method_len_);
  r.verb_ = http::parse_method(r.method_name_);
  r.target_ = std::string_view(base + c.target_off_, c.target_len_);
  const auto q = r.target_.find('?');
  r.path_ = r.target_.substr(0, q);
  r.query_string_ = q == std::string_view::npos ? std::string_view{} : r.target_.substr(q + 1);
  r.headers_.clear();
  for (const auto& f : c.fields_) {
    r.headers_.push_back({std::string_view(base + f.name_off, f.name_len),
                          std::string_view(base + f.value_off, f.value_len)});
  }
  r.keep_alive_ = keep_alive();
  // Every decoded string (path segments, query pairs) is at most as long as
  // its encoded form, so this bounds the decode buffer for the request.
  r.decoded_.reserve(r.target_.size());
  if (const auto expect = r.header("expect"); expect && iequals(*expect, "100-continue")) {
    c.expect_continue_ = r.version_ >= 11;
  }
}

void request_parser::on_body_init_impl(const boost::optional<std::uint64_t>& length, error_code&) {
  // The parser has already checked a declared length against the limit.
  if (length) c_.body_.reserve(static_cast<std::size_t>(*length));
}

std::size_t request_parser::on_body_impl(string_view body, error_code&) {
  c_.body_.append(body.data(), body.size());
  return body.size();
}

std::size_t request_parser::on_chunk_body_impl(std::uint64_t, string_view body, error_code&) {
  c_.body_.append(body.data(), body.size());
  return body.size();
}

void request_parser::on_finish_impl(error_code&) { c_.req_.body_ = c_.body_; }

// ---- connection ---------------------------------------------------------------

connection_state::connection_state(const pipeline& p, std::string client_ip, bool secure)
    : in(p.max_header_bytes + 16 * 1024), pipe_(p), client_ip_(std::move(client_ip)) {
  req_.client_ip_ = client_ip_;
  req_.secure_ = secure;
  ex_.clock_ = p.clock;
  ex_.slot_ = &slot;
  // FNV-1a of the address: a stable per-client key for limiters.
  std::uint64_t h = 1469598103934665603ull;
  for (char ch : client_ip_) {
    h ^= static_cast<unsigned char>(ch);
    h *= 1099511628211ull;
  }
  ex_.client_key_ = h;
  header_store_.reserve(1024);
  fields_.reserve(16);
  req_.headers_.reserve(16);
  req_.params_.reserve(4);
}

void connection_state::begin_request(keel::clock::steady_time now) {
  parser_.reset();
  parser_.emplace(*this);
  parser_->header_limit(static_cast<std::uint32_t>(pipe_.max_header_bytes));
  parser_->body_limit(pipe_.max_body_bytes);
  parser_->eager(true);
  header_store_.clear();
  fields_.clear();
  body_.clear();
  method_off_ = method_len_ = target_off_ = target_len_ = 0;
  expect_continue_ = false;
  continue_taken_ = false;
  hosts_ = 0;
  bad_host_ = false;

  req_.verb_ = method::other;
  req_.method_name_ = {};
  req_.target_ = req_.path_ = req_.query_string_ = req_.body_ = req_.route_ = {};
  req_.route_index_ = static_cast<std::uint32_t>(request::no_route);
  req_.version_ = 11;
  req_.keep_alive_ = false;
  req_.headers_.clear();
  req_.params_.clear();
  req_.decoded_.clear();
  req_.query_.clear();
  req_.query_parsed_ = false;
  res_.clear();

  ex_.route_ = nullptr;
  ex_.start_ = now;
  ex_.bytes_in_ = 0;
  entered_ = 0;
  ex_.failure_.reset();
  pending_ = nullptr;
}

parse_status connection_state::parse() {
  while (true) {
    if (parser_->is_done()) return parse_status::done;
    if (in.size() == 0) return parse_status::need_more;
    boost::beast::error_code ec;
    const std::size_t used = parser_->put(in.data(), ec);
    in.consume(used);
    ex_.bytes_in_ += used;
    if (ec == bhttp::error::need_more) return parse_status::need_more;
    if (ec == bhttp::error::header_limit) return parse_status::header_too_large;
    if (ec == bhttp::error::body_limit) return parse_status::body_too_large;
    if (ec) return bad_host_ ? parse_status::bad_host : parse_status::bad_request;
    if (used == 0 && !parser_->is_done()) return parse_status::need_more;
  }
}

bool connection_state::take_continue() noexcept {
  if (!expect_continue_ || continue_taken_ || parser_->is_done()) return false;
  continue_taken_ = true;
  return true;
}

void connection_state::fail(keel::error e) {
  if (!ex_.failure_) ex_.failure_.emplace(std::move(e));
}

void connection_state::run_inward(const keel::error* rejected) {
  match m;
  if (rejected == nullptr) {
    m = pipe_.routes.find(req_);
    ex_.route_ = m.matched;
  }
  try {
    for (middleware* layer : pipe_.chain) {
      auto step = layer->before(ex_);
      if (!step) {
        fail(std::move(step).error());
        return;
      }
      ++entered_;
      if (*step == next_step::respond) return;
    }
  } catch (...) {
    fail(from_exception_ptr(std::current_exception()));
    return;
  }

  if (rejected != nullptr) {
    fail(*rejected);
    return;
  }
  switch (m.outcome) {
    case match::kind::not_found:
      fail(keel::error(codes::resource_not_found, "no route for the path"));
      return;
    case match::kind::bad_path:
      fail(keel::error(codes::validation_error, "malformed percent-encoding in the path"));
      return;
    case match::kind::method_not_allowed:
      (void)res_.set_header("Allow", router::allow_header(m.allowed));
      fail(keel::error(codes::method_not_allowed, "method not allowed for the route"));
      return;
    case match::kind::options:
      res_.set_status(204);
      (void)res_.set_header("Allow", router::allow_header(m.allowed));
      return;
    case match::kind::found:
      break;
  }
  const any_handler& h = m.matched->handler;
  if (const auto* sync = std::get_if<sync_handler>(&h)) {
    try {
      auto r = (*sync)(req_, res_);
      if (!r) fail(std::move(r).error());
    } catch (...) {
      fail(from_exception_ptr(std::current_exception()));
    }
    return;
  }
  pending_ = &h;
}

task<void> connection_state::run_handler() {
  const any_handler* h = pending_;
  pending_ = nullptr;
  try {
    if (const auto* a = std::get_if<async_handler>(h)) {
      co_await (*a)(req_, res_);
    } else if (const auto* ar = std::get_if<async_result_handler>(h)) {
      auto r = co_await (*ar)(req_, res_);
      if (!r) fail(std::move(r).error());
    }
  } catch (...) {
    fail(from_exception_ptr(std::current_exception()));
  }
}

void connection_state::run_outward() {
  auto& failure = ex_.failure_;
  for (std::size_t i = entered_; i-- > 0;) {
    middleware* layer = pipe_.chain[i];
    try {
      if (failure && layer->on_error(ex_, *failure)) failure.reset();
    } catch (...) {
      failure.emplace(from_exception_ptr(std::current_exception()));
    }
    try {
      layer->after(ex_);
    } catch (...) {
      if (!failure) failure.emplace(from_exception_ptr(std::current_exception()));
    }
  }
  if (failure) {
    // No layer took it: render it without internals, whatever the chain.
    try {
      res_.set_problem(*failure, req_.path(), {.mode = pipe_.error_mode});
    } catch (...) {
      res_.clear();
      res_.set_status(500);
    }
    failure.reset();
  }
}

std::array<boost::asio::const_buffer, 2> connection_state::serialize(bool keep_alive,
                                                                     std::string_view date) {
  int status = res_.status();
  if (status < 100 || status > 599) status = 500;
  head_.clear();
  head_.append("HTTP/1.1 ");
  append_uint(head_, static_cast<std::size_t>(status));
  head_.push_back(' ');
  head_.append(reason_phrase(status));
  head_.append("\r\n");
  res_.for_each_header([&](std::string_view name, std::string_view value) {
    if (framing_header(name)) return;
    head_.append(name);
    head_.append(": ");
    head_.append(value);
    head_.append("\r\n");
  });
  head_.append("Date: ");
  head_.append(date);
  head_.append("\r\n");
  const bool bodiless_status = status < 200 || status == 204 || status == 304;
  if (!bodiless_status) {
    head_.append("Content-Length: ");
    append_uint(head_, res_.body().size());
    head_.append("\r\n");
  }
  if (!keep_alive) {
    head_.append("Connection: close\r\n");
  } else if (req_.version_ < 11) {
    head_.append("Connection: keep-alive\r\n");
  }
  head_.append("\r\n");
  const bool send_body = !bodiless_status && req_.verb_ != method::head;
  return {boost::asio::buffer(head_),
          send_body ? boost::asio::buffer(res_.body()) : boost::asio::const_buffer{}};
}

void connection_state::end_request() noexcept {
  slot.reset();
  shrink(body_);
  shrink(res_.body());
  shrink(req_.decoded_);
  shrink(header_store_);
}

}  // namespace keel::http::detail
