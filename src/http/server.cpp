#include "keel/http/server.hpp"

#include <algorithm>
#include <cerrno>
#include <condition_variable>
#include <ctime>
#include <filesystem>
#include <future>
#include <limits>
#include <mutex>
#include <thread>
#include <type_traits>

#include <pthread.h>
#include <sys/resource.h>
#include <sys/socket.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>

#include "internal/connection.hpp"
#include "internal/context_executor.hpp"

namespace keel::http {
namespace {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
// Sockets bound to a concrete io_context executor: no type erasure on I/O.
using socket_t = asio::basic_stream_socket<tcp, asio::io_context::executor_type>;
using tls_stream_t = asio::ssl::stream<socket_t>;
using detail::connection_state;
constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);
constexpr std::size_t read_chunk = 16 * 1024;
constexpr std::size_t linger_limit = 4 * 1024 * 1024;

}  // namespace

namespace detail {

// One I/O thread: its event loop, the connections living on it (touched
// only from that thread), the deadline sweep and the cached Date header.
struct worker {
  explicit worker(std::size_t i) : index(i) {}
  ~worker() {
    sweep.reset();
    ioc.reset();  // destroys any coroutine frame left before the rest of *this
  }

  void link(connection_state* c) noexcept {
    c->next = head;
    if (head != nullptr) head->prev = c;
    head = c;
  }
  void unlink(connection_state* c) noexcept {
    if (c->prev != nullptr) c->prev->next = c->next;
    if (c->next != nullptr) c->next->prev = c->prev;
    if (head == c) head = c->next;
    c->prev = c->next = nullptr;
  }

  // Closes the connection of this thread that has been idle longest, to
  // admit another; false when none is idle.
  bool close_oldest_idle() noexcept {
    connection_state* oldest = nullptr;
    for (connection_state* c = head; c != nullptr; c = c->next) {
      if (c->state == connection_state::phase::idle &&
          (oldest == nullptr || c->idle_since < oldest->idle_since)) {
        oldest = c;
      }
    }
    if (oldest == nullptr) return false;
    oldest->state = connection_state::phase::closed;  // its session ends on its own
    oldest->close_socket();
    return true;
  }

  // IMF-fixdate, formatted once per second.
  std::string_view date_now(const keel::clock& clk) {
    const auto now =
        std::chrono::duration_cast<std::chrono::seconds>(clk.system_now().time_since_epoch())
            .count();
    if (now != date_second) {
      date_second = now;
      const std::time_t t = static_cast<std::time_t>(now);
      std::tm tm{};
      gmtime_r(&t, &tm);
      char buf[64];
      const std::size_t n = std::strftime(buf, sizeof buf, "%a, %d %b %Y %H:%M:%S GMT", &tm);
      date.assign(buf, n);
    }
    return date;
  }

  std::size_t index;
  std::unique_ptr<asio::io_context> ioc = std::make_unique<asio::io_context>(1);
  std::optional<asio::executor_work_guard<asio::io_context::executor_type>> guard{};
  std::optional<asio::steady_timer> sweep{std::in_place, *ioc};
  std::thread thread{};
  connection_state* head = nullptr;
  std::uint64_t idle_sequence = 0;
  std::string date{};
  std::int64_t date_second = -1;
};

template <class Stream>
class connection final : public connection_state {
 public:
  connection(const pipeline& p, std::string ip, bool secure, Stream s)
      : connection_state(p, std::move(ip), secure), stream(std::move(s)) {}

  socket_t& socket() noexcept {
    if constexpr (std::is_same_v<Stream, socket_t>) {
      return stream;
    } else {
      return stream.next_layer();
    }
  }
  void close_socket() noexcept override {
    boost::system::error_code ec;
    socket().close(ec);
  }
  void cancel_socket() noexcept override {
    boost::system::error_code ec;
    socket().cancel(ec);
  }
  void answer_unavailable_and_close() noexcept override {
    static constexpr std::string_view body =
        R"({"type":"urn:keel:problem:service-unavailable","title":"Service unavailable",)"
        R"("status":503,"detail":"The server is shutting down.","code":"SERVICE_UNAVAILABLE"})";
    static const std::string canned =
        "HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/problem+json\r\n"
        "Content-Length: " +
        std::to_string(body.size()) + "\r\nRetry-After: 1\r\nConnection: close\r\n\r\n" +
        std::string(body);
    boost::system::error_code ec;
    if constexpr (std::is_same_v<Stream, socket_t>) {
      // Best effort into the socket's buffer: never block the stop on it.
      (void)::send(socket().native_handle(), canned.data(), canned.size(),
                   MSG_DONTWAIT | MSG_NOSIGNAL);
    }
    socket().shutdown(socket_t::shutdown_both, ec);
    socket().close(ec);
  }

  Stream stream;
};

}  // namespace detail

// How long stop() lets connections end by themselves once closed past the
// grace, before it stops the loops.
constexpr std::chrono::milliseconds kDrainAfterGrace{250};

struct server::impl {
  server_config cfg;
  detail::pipeline pipe;
  std::optional<asio::ssl::context> tls{};
  std::vector<std::unique_ptr<detail::worker>> workers{};
  std::optional<tcp::acceptor> acceptor{};
  std::uint16_t port = 0;
  std::string busy_response{};

  std::shared_ptr<connection_counters> counters = std::make_shared<connection_counters>();
  std::size_t max_connections = 0;  // cfg's, capped by the descriptors left
  std::atomic<std::size_t>& active = counters->open;
  std::atomic<std::uint64_t>& accepted = counters->accepted;
  std::atomic<std::uint64_t>& shed_idle = counters->shed_idle;
  std::atomic<std::uint64_t>& rejected_busy = counters->rejected_busy;
  std::atomic<std::uint64_t>& accept_failures = counters->accept_failures;
  std::atomic<std::int64_t> last_overload_ms{std::numeric_limits<std::int64_t>::min()};
  std::atomic<bool> stopping{false};
  std::mutex mutex{};
  std::condition_variable drained{};
  bool started = false;
  bool stopped = false;

  ~impl() {
    // The listener and every connection belong to the workers' io_contexts:
    // close the listener, then destroy the loops (and any coroutine frame
    // left in them) before the TLS context and the pipeline they use.
    acceptor.reset();
    workers.clear();
  }

  const keel::clock& clock() const noexcept { return *pipe.clock; }

  void connection_closed() {
    if (active.fetch_sub(1, std::memory_order_acq_rel) == 1 &&
        stopping.load(std::memory_order_acquire)) {
      std::lock_guard lock(mutex);
      drained.notify_all();
    }
  }

  task<void> accept_loop();
  void admit(detail::worker& w, socket_t sock);
  void admit_at_cap(detail::worker& w, socket_t sock);
  bool free_a_descriptor();
  void overload(const error_code& code, std::string message, int errno_value);
  task<void> sweep_loop(detail::worker& w);
  template <class Stream>
  task<void> session(detail::worker& w, std::unique_ptr<detail::connection<Stream>> c);
  void reject_busy(socket_t& s);
  template <class F>
  void on_each_worker(F f);
};

namespace {

// Runs f(c) for every connection of w (on w's thread).
template <class F>
void for_each_connection(detail::worker& w, F f) {
  for (connection_state* c = w.head; c != nullptr;) {
    connection_state* next = c->next;
    f(*c);
    c = next;
  }
}

}  // namespace

void server::impl::reject_busy(socket_t& s) {
  boost::system::error_code ec;
  s.non_blocking(true, ec);
  (void)s.write_some(asio::buffer(busy_response), ec);
  s.shutdown(tcp::socket::shutdown_both, ec);
  s.close(ec);
}

void server::impl::overload(const error_code& code, std::string message, int errno_value) {
  if (!cfg.on_overload) return;
  const std::int64_t now =
      std::chrono::duration_cast<std::chrono::milliseconds>(clock().steady_now().time_since_epoch())
          .count();
  std::int64_t last = last_overload_ms.load(std::memory_order_relaxed);
  if (last != std::numeric_limits<std::int64_t>::min() && now - last < 1000) return;
  if (!last_overload_ms.compare_exchange_strong(last, now, std::memory_order_relaxed)) return;
  keel::error e(code, std::move(message));
  e = std::move(e)
          .with_detail("max_connections", max_connections)
          .with_detail("open_connections", active.load(std::memory_order_relaxed))
          .with_detail("shed_idle", shed_idle.load(std::memory_order_relaxed))
          .with_detail("rejected_busy", rejected_busy.load(std::memory_order_relaxed))
          .with_detail("accept_failures", accept_failures.load(std::memory_order_relaxed));
  if (errno_value != 0) e = std::move(e).with_detail("errno", errno_value);
  try {
    cfg.on_overload(e);
  } catch (...) {
    // A reporting hook must not take the listener down.
  }
}

void server::impl::admit(detail::worker& w, socket_t sock) {
  accepted.fetch_add(1, std::memory_order_relaxed);
  boost::system::error_code opt_ec;
  sock.set_option(tcp::no_delay(true), opt_ec);
  const auto peer = sock.remote_endpoint(opt_ec);
  std::string ip = opt_ec ? std::string("unknown") : peer.address().to_string();
  if (tls) {
    auto c = std::make_unique<detail::connection<tls_stream_t>>(
        pipe, std::move(ip), true, tls_stream_t(std::move(sock), *tls));
    const detail::context_executor ex(w.ioc->get_executor(), &c->slot);
    asio::co_spawn(ex, session(w, std::move(c)), asio::detached);
  } else {
    auto c =
        std::make_unique<detail::connection<socket_t>>(pipe, std::move(ip), false, std::move(sock));
    const detail::context_executor ex(w.ioc->get_executor(), &c->slot);
    asio::co_spawn(ex, session(w, std::move(c)), asio::detached);
  }
}

// At the cap, on the connection's own thread: the oldest idle keep-alive
// connection there makes room (its slot is handed over when its session
// ends); with none idle, the newcomer gets the canned 503.
void server::impl::admit_at_cap(detail::worker& w, socket_t sock) {
  if (!stopping.load(std::memory_order_acquire) && w.close_oldest_idle()) {
    shed_idle.fetch_add(1, std::memory_order_relaxed);
    admit(w, std::move(sock));
    return;
  }
  rejected_busy.fetch_add(1, std::memory_order_relaxed);
  overload(codes::service_unavailable,
           "connection refused with 503: " + std::to_string(max_connections) +
               " connections open (max_connections) and none idle",
           0);
  reject_busy(sock);
  connection_closed();
}

// Out of descriptors: closes an idle connection of the accepting thread
// (true: accept again at once) and asks the other threads to close one
// each.
bool server::impl::free_a_descriptor() {
  for (std::size_t i = 1; i < workers.size(); ++i) {
    asio::post(*workers[i]->ioc, [this, w = workers[i].get()] {
      if (w->close_oldest_idle()) shed_idle.fetch_add(1, std::memory_order_relaxed);
    });
  }
  if (!workers[0]->close_oldest_idle()) return false;
  shed_idle.fetch_add(1, std::memory_order_relaxed);
  return true;
}

task<void> server::impl::accept_loop() {
  std::size_t next = 0;
  asio::steady_timer backoff(*workers[0]->ioc);
  while (true) {
    detail::worker& target = *workers[next++ % workers.size()];
    auto [ec, sock] = co_await acceptor->async_accept(*target.ioc, use_tuple);
    if (ec) {
      if (ec == asio::error::operation_aborted || !acceptor->is_open()) co_return;
      accept_failures.fetch_add(1, std::memory_order_relaxed);
      overload(codes::resource_exhausted, "cannot accept a connection: " + ec.message(),
               ec.value());
      const bool out_of_descriptors = ec == boost::system::errc::too_many_files_open ||
                                      ec == boost::system::errc::too_many_files_open_in_system;
      if (out_of_descriptors && free_a_descriptor()) continue;
      // Nothing to free here, or a transient error: do not spin.
      backoff.expires_after(std::chrono::milliseconds(10));
      co_await backoff.async_wait(use_tuple);
      continue;
    }
    if (stopping.load(std::memory_order_acquire)) {
      boost::system::error_code ignored;
      sock.close(ignored);
      continue;
    }
    const bool at_cap = active.fetch_add(1, std::memory_order_relaxed) >= max_connections;
    if (at_cap) {
      asio::post(*target.ioc, [this, &target, s = std::move(sock)]() mutable {
        admit_at_cap(target, std::move(s));
      });
    } else {
      admit(target, std::move(sock));
    }
  }
}

task<void> server::impl::sweep_loop(detail::worker& w) {
  while (true) {
    w.sweep->expires_after(cfg.timer_resolution);
    auto [ec] = co_await w.sweep->async_wait(use_tuple);
    if (ec) co_return;
    const auto now = clock().steady_now();
    for_each_connection(w, [&](connection_state& c) {
      if (c.deadline > now) return;
      c.deadline = keel::clock::steady_time::max();
      c.timed_out = true;
      // A request being read gets a 408 before the close; anything else
      // (idle keep-alive, handshake, a stalled write) is just closed.
      if (c.state == connection_state::phase::reading) {
        c.cancel_socket();
      } else {
        c.close_socket();
      }
    });
  }
}

template <class Stream>
task<void> server::impl::session(detail::worker& w,
                                 std::unique_ptr<detail::connection<Stream>> owned) {
  auto& c = *owned;
  w.link(&c);
  struct on_exit {
    impl& s;
    detail::worker& w;
    connection_state& c;
    ~on_exit() {
      w.unlink(&c);
      c.close_socket();
      s.connection_closed();
    }
  } guard{*this, w, c};

  const keel::clock& clk = clock();
  bool linger = false;
  try {
    if constexpr (!std::is_same_v<Stream, socket_t>) {
      c.state = connection_state::phase::handshake;
      c.deadline = clk.steady_now() + cfg.request_read_timeout;
      auto [ec] = co_await c.stream.async_handshake(asio::ssl::stream_base::server, use_tuple);
      if (ec) co_return;
    }
    while (!stopping.load(std::memory_order_acquire)) {
      c.state = connection_state::phase::idle;
      c.idle_since = ++w.idle_sequence;
      c.deadline = clk.steady_now() + cfg.idle_timeout;
      if (c.in.size() == 0) {
        auto [ec, n] = co_await c.stream.async_read_some(c.in.prepare(read_chunk), use_tuple);
        if (ec) co_return;
        c.in.commit(n);
      }
      const auto start = clk.steady_now();
      c.state = connection_state::phase::reading;
      c.deadline = start + cfg.request_read_timeout;
      c.begin_request(start);

      std::optional<keel::error> rejected;
      while (true) {
        const auto st = c.parse();
        if (st == detail::parse_status::done) break;
        if (st == detail::parse_status::header_too_large) {
          rejected.emplace(codes::header_fields_too_large, "request header too large");
          break;
        }
        if (st == detail::parse_status::body_too_large) {
          rejected.emplace(keel::error(codes::payload_too_large, "request body too large")
                               .with_detail("max_bytes", cfg.max_body_bytes));
          break;
        }
        if (st == detail::parse_status::bad_request) {
          rejected.emplace(codes::validation_error, "malformed HTTP request");
          break;
        }
        if (st == detail::parse_status::bad_host) {
          static constexpr std::string_view why =
              "an HTTP/1.1 request needs exactly one Host header (RFC 9112 section 3.2)";
          rejected.emplace(
              keel::error(codes::validation_error, std::string(why)).with_detail("problem", why));
          break;
        }
        if (c.take_continue()) {
          static constexpr std::string_view go_on = "HTTP/1.1 100 Continue\r\n\r\n";
          auto [ec, n] = co_await asio::async_write(c.stream, asio::buffer(go_on), use_tuple);
          if (ec) co_return;
        }
        const std::size_t room = c.in.max_size() - c.in.size();
        if (room == 0) {
          rejected.emplace(codes::header_fields_too_large, "request header too large");
          break;
        }
        auto [ec, n] =
            co_await c.stream.async_read_some(c.in.prepare(std::min(room, read_chunk)), use_tuple);
        if (ec) {
          if (!c.timed_out) co_return;
          rejected.emplace(codes::request_timeout, "request not received in time");
          break;
        }
        c.in.commit(n);
      }

      c.state = connection_state::phase::handling;
      c.deadline = keel::clock::steady_time::max();
      c.run_inward(rejected ? &*rejected : nullptr);
      if (c.handler_pending()) co_await c.run_handler();
      c.run_outward();

      const bool keep =
          !rejected && c.client_keep_alive() && !stopping.load(std::memory_order_acquire);
      const auto buffers = c.serialize(keep, w.date_now(clk));
      c.state = connection_state::phase::writing;
      c.deadline = clk.steady_now() + cfg.write_timeout;
      auto [ec, n] = co_await asio::async_write(c.stream, buffers, use_tuple);
      c.end_request();
      if (ec || !keep) {
        linger = !ec && rejected.has_value();
        break;
      }
    }
    if constexpr (std::is_same_v<Stream, socket_t>) {
      boost::system::error_code ignored;
      c.stream.shutdown(tcp::socket::shutdown_send, ignored);
      if (linger) {
        // Closing with unread input makes the kernel reset the connection,
        // which can destroy the error response before the client reads it:
        // drop what the client is still sending, for a bounded time and
        // amount, until it sees our FIN and closes.
        c.state = connection_state::phase::reading;
        c.deadline = clk.steady_now() + std::min<std::chrono::milliseconds>(
                                            cfg.request_read_timeout, std::chrono::seconds(2));
        std::size_t dropped = 0;
        while (dropped < linger_limit) {
          c.in.consume(c.in.size());
          auto [ec, n] = co_await c.stream.async_read_some(c.in.prepare(read_chunk), use_tuple);
          if (ec) break;
          dropped += n;
        }
      }
    }
  } catch (...) {
    // Nothing may escape a detached coroutine; the connection just ends.
  }
}

template <class F>
void server::impl::on_each_worker(F f) {
  std::vector<std::future<void>> done;
  for (auto& w : workers) {
    auto p = std::make_shared<std::promise<void>>();
    done.push_back(p->get_future());
    asio::post(*w->ioc, [p, f, wp = w.get()] {
      f(*wp);
      p->set_value();
    });
  }
  for (auto& d : done)
    d.wait();
}

// ---- descriptors ---------------------------------------------------------------

namespace {

struct descriptor_budget {
  std::uint64_t soft_limit = 0;
  std::size_t open = 0;
  std::size_t connections = 0;
};

// What RLIMIT_NOFILE leaves for connections once the descriptors open now
// (counted in /proc/self/fd) and `reserved` are set aside; nullopt when
// the limit is infinite.
std::optional<descriptor_budget> descriptors_for_connections(std::size_t reserved) {
  rlimit rl{};
  if (::getrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur == RLIM_INFINITY) return std::nullopt;
  descriptor_budget b{.soft_limit = rl.rlim_cur};
  std::error_code ec;
  for (std::filesystem::directory_iterator it("/proc/self/fd", ec), end; !ec && it != end;
       it.increment(ec)) {
    ++b.open;
  }
  const std::uint64_t kept = std::uint64_t{b.open} + reserved;
  b.connections = rl.rlim_cur > kept ? static_cast<std::size_t>(rl.rlim_cur - kept) : 0;
  return b;
}

std::uint64_t limit_value(rlim_t v) noexcept { return v == RLIM_INFINITY ? 0 : v; }

}  // namespace

open_file_limit raise_open_file_limit() noexcept {
  rlimit rl{};
  if (::getrlimit(RLIMIT_NOFILE, &rl) != 0) return {};
  open_file_limit out{.soft = limit_value(rl.rlim_cur),
                      .hard = limit_value(rl.rlim_max),
                      .was_soft = limit_value(rl.rlim_cur)};
  if (rl.rlim_cur == rl.rlim_max) return out;
  rlimit raised = rl;
  raised.rlim_cur = rl.rlim_max;
  // An infinite hard limit cannot be the soft one (Linux caps it at
  // fs.nr_open): settle for the largest value the kernel takes.
  if (::setrlimit(RLIMIT_NOFILE, &raised) != 0 && rl.rlim_max == RLIM_INFINITY) {
    for (rlim_t v = rlim_t{1} << 20; v > rl.rlim_cur; v /= 2) {
      raised.rlim_cur = v;
      if (::setrlimit(RLIMIT_NOFILE, &raised) == 0) break;
    }
  }
  if (::getrlimit(RLIMIT_NOFILE, &rl) == 0) out.soft = limit_value(rl.rlim_cur);
  return out;
}

// ---- server -------------------------------------------------------------------

server::server(std::unique_ptr<impl> p) : impl_(std::move(p)) {}

server::~server() {
  if (impl_) stop(std::chrono::milliseconds(0));
}

result<std::unique_ptr<server>> server::create(server_config cfg, router routes,
                                               std::vector<middleware_ptr> chain) {
  auto bad = [](std::string m) { return fail(codes::configuration_error, std::move(m)); };
  if (cfg.max_header_bytes < 256 || cfg.max_header_bytes > 1024 * 1024) {
    return bad("max_header_bytes must be within [256, 1 MiB]");
  }
  if (cfg.max_header_count == 0) return bad("max_header_count must be positive");
  if (cfg.max_connections == 0) return bad("max_connections must be positive");
  if (cfg.request_read_timeout.count() <= 0 || cfg.idle_timeout.count() <= 0 ||
      cfg.write_timeout.count() <= 0 || cfg.timer_resolution.count() <= 0) {
    return bad("timeouts and timer_resolution must be positive");
  }
  for (const auto& m : chain) {
    if (!m) return bad("null middleware in the chain");
  }
  auto p = std::make_unique<impl>();
  p->cfg = std::move(cfg);
  const server_config& c = p->cfg;
  p->pipe.routes = std::move(routes);
  p->pipe.owned = std::move(chain);
  for (const auto& m : p->pipe.owned)
    p->pipe.chain.push_back(m.get());
  p->pipe.error_mode = c.error_mode;
  p->pipe.max_header_bytes = c.max_header_bytes;
  p->pipe.max_header_count = c.max_header_count;
  p->pipe.max_body_bytes = c.max_body_bytes;
  p->pipe.clock = c.clock != nullptr ? c.clock : &keel::clock::real();

  if (c.tls) {
    try {
      p->tls.emplace(asio::ssl::context::tls_server);
      p->tls->set_options(asio::ssl::context::default_workarounds | asio::ssl::context::no_sslv2 |
                          asio::ssl::context::no_sslv3 | asio::ssl::context::no_tlsv1 |
                          asio::ssl::context::no_tlsv1_1 | asio::ssl::context::single_dh_use);
      p->tls->use_certificate_chain_file(c.tls->certificate_chain_file);
      p->tls->use_private_key_file(c.tls->private_key_file, asio::ssl::context::pem);
    } catch (const std::exception& e) {
      return fail(keel::error(codes::configuration_error, "cannot load TLS certificate or key")
                      .with_cause(from_exception(e)));
    }
  }

  const unsigned n =
      c.io_threads != 0 ? c.io_threads : std::max(1u, std::thread::hardware_concurrency());
  for (unsigned i = 0; i < n; ++i)
    p->workers.push_back(std::make_unique<detail::worker>(i));

  boost::system::error_code ec;
  const auto addr = asio::ip::make_address(c.host, ec);
  if (ec) return bad("not an IP address: " + c.host);
  try {
    const tcp::endpoint ep(addr, c.port);
    p->acceptor.emplace(*p->workers[0]->ioc);
    p->acceptor->open(ep.protocol());
    p->acceptor->set_option(tcp::acceptor::reuse_address(true));
    p->acceptor->bind(ep);
    p->acceptor->listen(c.listen_backlog);
    p->port = p->acceptor->local_endpoint().port();
  } catch (const boost::system::system_error& e) {
    return fail(
        from_error_code(e.code(), "cannot listen on " + c.host + ":" + std::to_string(c.port)));
  }

  p->max_connections = c.max_connections;
  if (const auto budget = descriptors_for_connections(c.reserved_fds)) {
    if (budget->connections == 0) {
      return bad("RLIMIT_NOFILE " + std::to_string(budget->soft_limit) +
                 " leaves no descriptor for connections (" + std::to_string(budget->open) +
                 " open, reserved_fds " + std::to_string(c.reserved_fds) + ")");
    }
    p->max_connections = std::min(p->max_connections, budget->connections);
  }
  p->counters->max_connections.store(p->max_connections, std::memory_order_relaxed);

  const std::string body =
      render_problem(keel::error(codes::service_unavailable, "too many connections"));
  p->busy_response =
      "HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/problem+json\r\n"
      "Retry-After: 1\r\nConnection: close\r\nContent-Length: " +
      std::to_string(body.size()) + "\r\n\r\n" + body;
  return std::unique_ptr<server>(new server(std::move(p)));
}

void server::start() {
  impl& s = *impl_;
  if (s.started) return;
  s.started = true;
  for (auto& w : s.workers) {
    w->guard.emplace(w->ioc->get_executor());
    asio::co_spawn(*w->ioc, s.sweep_loop(*w), asio::detached);
  }
  asio::co_spawn(*s.workers[0]->ioc, s.accept_loop(), asio::detached);
  for (auto& w : s.workers) {
    w->thread = std::thread([wp = w.get()] {
      const std::string name = "keel-http-" + std::to_string(wp->index);
      pthread_setname_np(pthread_self(), name.c_str());
      wp->ioc->run();
    });
  }
}

void server::begin_stop() {
  impl& s = *impl_;
  if (s.stopping.exchange(true)) return;
  if (!s.started) return;
  s.on_each_worker([&s](detail::worker& w) {
    if (w.index == 0) {
      boost::system::error_code ec;
      s.acceptor->close(ec);
    }
    for_each_connection(w, [](connection_state& c) {
      if (c.state == connection_state::phase::idle) c.close_socket();
    });
  });
}

void server::stop(std::chrono::milliseconds grace) {
  impl& s = *impl_;
  if (s.stopped) return;
  s.stopped = true;
  begin_stop();
  if (s.started) {
    {
      std::unique_lock lock(s.mutex);
      s.drained.wait_for(lock, grace,
                         [&] { return s.active.load(std::memory_order_acquire) == 0; });
    }
    // Past the grace: answer what is still being handled with a 503, close
    // the rest, and let the loops run dry for a moment so that connections
    // end on their own threads.
    s.on_each_worker([](detail::worker& w) {
      for_each_connection(w, [](connection_state& c) {
        if (c.state == connection_state::phase::handling) {
          c.answer_unavailable_and_close();
        } else {
          c.close_socket();
        }
      });
      if (w.sweep) w.sweep->cancel();
      w.guard.reset();
    });
    {
      std::unique_lock lock(s.mutex);
      s.drained.wait_for(lock, kDrainAfterGrace,
                         [&] { return s.active.load(std::memory_order_acquire) == 0; });
    }
    // A handler that is still waiting (a timer, a pool job) would hold its
    // loop, and the stop, until it ends: stop the loops instead. Its frame
    // is destroyed with the server.
    for (auto& w : s.workers)
      w->ioc->stop();
    for (auto& w : s.workers) {
      if (w->thread.joinable()) w->thread.join();
    }
  }
}

std::uint16_t server::port() const noexcept { return impl_->port; }

std::size_t server::connections() const noexcept {
  return impl_->active.load(std::memory_order_relaxed);
}

std::size_t server::max_connections() const noexcept { return impl_->max_connections; }

server_stats connection_counters::load() const noexcept {
  return {.open_connections = open.load(std::memory_order_relaxed),
          .max_connections = max_connections.load(std::memory_order_relaxed),
          .accepted = accepted.load(std::memory_order_relaxed),
          .shed_idle = shed_idle.load(std::memory_order_relaxed),
          .rejected_busy = rejected_busy.load(std::memory_order_relaxed),
          .accept_failures = accept_failures.load(std::memory_order_relaxed)};
}

server_stats server::stats() const noexcept { return impl_->counters->load(); }

std::shared_ptr<const connection_counters> server::counters() const noexcept {
  return impl_->counters;
}
}  // namespace keel::http
