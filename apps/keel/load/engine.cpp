#include "load/engine.hpp"

#include <strings.h>

#include <algorithm>
#include <array>
#include <optional>
#include <thread>

#include <fmt/format.h>
#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/basic_parser.hpp>
#include <boost/beast/http/read.hpp>

#include "keel/core/ids.hpp"
#include "keel/core/random.hpp"
#include "keel/core/version.hpp"

namespace keel::cli::load {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using steady = std::chrono::steady_clock;

result<void> validate(const load_options& o) {
  if (o.concurrency == 0 || o.concurrency > 100'000) {
    return fail(codes::validation_error, "--concurrency must be in [1, 100000]");
  }
  if (o.threads == 0 || o.threads > 256) {
    return fail(codes::validation_error, "--threads must be in [1, 256]");
  }
  if ((o.requests == 0) == (o.duration.count() == 0)) {
    return fail(codes::validation_error, "give exactly one of --requests or --duration");
  }
  if (o.duration > std::chrono::hours(24 * 7)) {
    return fail(codes::validation_error, "--duration at most a week");
  }
  if (o.rate < 0 || o.rate > 10'000'000 || o.rate != o.rate) {
    return fail(codes::validation_error, "--rate must be in [0, 10000000] requests/s");
  }
  if (o.timeout.count() <= 0) return fail(codes::validation_error, "--timeout must be > 0");
  return ok();
}

namespace {

// Parses a response without storing it: status, keep-alive and body bytes.
class discard_parser final : public http::basic_parser<false> {
 public:
  int status = 0;
  std::uint64_t body_bytes = 0;

 private:
  void on_request_impl(http::verb, beast::string_view, beast::string_view, int,
                       beast::error_code&) override {}
  void on_response_impl(int code, beast::string_view, int, beast::error_code&) override {
    status = code;
  }
  void on_field_impl(http::field, beast::string_view, beast::string_view,
                     beast::error_code&) override {}
  void on_header_impl(beast::error_code&) override {}
  void on_body_init_impl(const boost::optional<std::uint64_t>&, beast::error_code&) override {}
  std::size_t on_body_impl(beast::string_view b, beast::error_code&) override {
    body_bytes += b.size();
    return b.size();
  }
  void on_chunk_header_impl(std::uint64_t, beast::string_view, beast::error_code&) override {}
  std::size_t on_chunk_body_impl(std::uint64_t, beast::string_view b, beast::error_code&) override {
    body_bytes += b.size();
    return b.size();
  }
  void on_finish_impl(beast::error_code&) override {}
};

struct prepared_endpoint {
  std::string head{};  // request line and headers, up to (not including) X-Request-ID
  std::string body{};
};

struct shared_state {
  const scenario& s;
  const load_options& o;
  tcp::endpoint target{};
  std::vector<prepared_endpoint> endpoints{};
  std::vector<double> cumulative{};  // cumulative weights
  std::atomic<std::uint64_t> issued{0};
  steady::time_point start{};
  std::optional<steady::time_point> deadline{};
  const std::atomic<bool>& stop;
  load_progress* progress = nullptr;
};

enum class error_kind : std::uint8_t { connect, write, read, timeout, count_ };
constexpr std::array<const char*, 4> kErrorNames = {"connect", "write", "read", "timeout"};

class worker;

class connection {
 public:
  connection(worker& w, std::uint64_t seed);
  void start() { next(); }

  bool busy = false;
  bool timed_out = false;
  steady::time_point busy_since{};
  tcp::socket sock;
  asio::steady_timer timer;

  void next();
  void abort() {
    timer.cancel();
    beast::error_code ignored;
    sock.close(ignored);
  }

 private:
  void begin();
  void connect();
  void on_connect(const beast::error_code& ec);
  void send();
  void on_write(const beast::error_code& ec);
  void on_read(const beast::error_code& ec);
  void io_failure(error_kind kind);
  void close() {
    beast::error_code ignored;
    sock.close(ignored);
    connected_ = false;
    buf_.clear();
  }
  void finish();
  std::size_t pick_endpoint() noexcept;

  worker& w_;
  beast::flat_buffer buf_{1 << 20};
  std::optional<discard_parser> parser_{};
  steady::time_point intended_{};
  std::size_t ep_ = 0;
  bool connected_ = false;
  bool reused_ = false;
  bool retried_ = false;
  std::uint64_t rng_;
  std::array<char, 64> idline_{};
  std::size_t idlen_ = 0;
};

class worker {
 public:
  worker(shared_state& sh, std::uint32_t index, std::uint32_t connections, std::uint32_t workers)
      : sh_(sh), per_ep_(sh.endpoints.size()) {
    for (std::size_t i = 0; i < per_ep_.size(); ++i)
      per_ep_[i].name = sh.s.endpoints[i].name;
    if (sh.o.rate > 0) {
      const double worker_rate = sh.o.rate / workers;
      period_ = std::chrono::nanoseconds(static_cast<std::int64_t>(1e9 / worker_rate));
      // Workers interleave their schedules so the total arrival rate is even.
      sched_start_ = sh.start + std::chrono::nanoseconds(static_cast<std::int64_t>(
                                    1e9 / sh.o.rate * static_cast<double>(index)));
      if (sh.o.requests > 0) {
        slot_limit_ = sh.o.requests / workers + (index < sh.o.requests % workers ? 1 : 0);
      }
    }
    const std::uint64_t base = sh.o.seed != 0 ? sh.o.seed : os_random_u64();
    for (std::uint32_t i = 0; i < connections; ++i) {
      conns_.push_back(std::make_unique<connection>(
          *this, base + 0x9e3779b97f4a7c15ULL * (index * 100'003ULL + i + 1)));
    }
  }

  void run() {
    active_ = conns_.size();
    if (sh_.deadline) {
      end_timer_.expires_at(*sh_.deadline);
      end_timer_.async_wait([this](const beast::error_code& ec) {
        if (!ec) stop_all();
      });
    }
    arm_sweep();
    for (auto& c : conns_)
      c->start();
    ioc_.run();
    flush_progress();
  }

  enum class slot { now, later, finished };

  slot take_slot(steady::time_point& intended) {
    if (stopping_) return slot::finished;
    const auto now = steady::now();
    if (period_.count() > 0) {
      if (slot_next_ >= slot_limit_) return slot::finished;
      intended = sched_start_ + period_ * static_cast<std::int64_t>(slot_next_);
      if (sh_.deadline && intended >= *sh_.deadline) return slot::finished;
      ++slot_next_;
      return intended > now ? slot::later : slot::now;
    }
    if (sh_.deadline && now >= *sh_.deadline) return slot::finished;
    if (sh_.o.requests > 0 && sh_.issued.fetch_add(1, std::memory_order_relaxed) >= sh_.o.requests)
      return slot::finished;
    intended = now;
    return slot::now;
  }

  void record(std::size_t ep, int status, steady::time_point intended) {
    const auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(steady::now() - intended);
    const auto v = static_cast<std::uint64_t>(std::max<std::int64_t>(0, ns.count()));
    latency_.record(v);
    auto& e = per_ep_[ep];
    ++e.requests;
    e.latency.record(v);
    const bool success = status > 0 && status < 400;
    (success ? e.successful : e.failed) += 1;
    ++status_[static_cast<std::size_t>(std::clamp(status, 0, 599))];
    ++pending_done_;
    if (!success) ++pending_failed_;
    if (pending_done_ >= 64) flush_progress();
  }

  void record_error(std::size_t ep, error_kind k, steady::time_point intended) {
    ++errors_[static_cast<std::size_t>(k)];
    record(ep, 0, intended);
  }

  void connection_finished() {
    if (--active_ == 0) {
      sweep_.cancel();
      end_timer_.cancel();
    }
  }

  void stop_all() {
    if (stopping_) return;
    stopping_ = true;
    for (auto& c : conns_)
      c->abort();
  }

  void flush_progress() {
    if (sh_.progress != nullptr) {
      sh_.progress->done.fetch_add(pending_done_, std::memory_order_relaxed);
      sh_.progress->failed.fetch_add(pending_failed_, std::memory_order_relaxed);
    }
    pending_done_ = pending_failed_ = 0;
  }

  void merge_into(load_report& r) const {
    r.latency.merge(latency_);
    for (std::size_t i = 0; i < status_.size(); ++i) {
      if (status_[i] != 0) r.status_counts[static_cast<int>(i)] += status_[i];
    }
    for (std::size_t i = 0; i < errors_.size(); ++i) {
      if (errors_[i] != 0) r.errors[kErrorNames[i]] += errors_[i];
    }
    for (std::size_t i = 0; i < per_ep_.size(); ++i) {
      auto& e = r.endpoints[i];
      e.requests += per_ep_[i].requests;
      e.successful += per_ep_[i].successful;
      e.failed += per_ep_[i].failed;
      e.latency.merge(per_ep_[i].latency);
      r.total += per_ep_[i].requests;
      r.successful += per_ep_[i].successful;
      r.failed += per_ep_[i].failed;
    }
    r.retried_idle_closes += retried_;
  }

  asio::io_context& ioc() noexcept { return ioc_; }
  shared_state& shared() noexcept { return sh_; }
  bool stopping() const noexcept { return stopping_; }
  std::uint64_t retried_ = 0;

 private:
  void arm_sweep() {
    const auto interval =
        std::min<std::chrono::nanoseconds>(std::chrono::milliseconds(50), sh_.o.timeout / 4);
    sweep_.expires_after(interval);
    sweep_.async_wait([this](const beast::error_code& ec) {
      if (ec || active_ == 0) return;
      if (sh_.stop.load(std::memory_order_relaxed)) stop_all();
      const auto now = steady::now();
      for (auto& c : conns_) {
        if (c->busy && !c->timed_out && now - c->busy_since > sh_.o.timeout) {
          c->timed_out = true;
          beast::error_code ignored;
          c->sock.close(ignored);  // the pending operation completes with an error
        }
      }
      flush_progress();
      arm_sweep();
    });
  }

  shared_state& sh_;
  asio::io_context ioc_{1};
  asio::steady_timer sweep_{ioc_};
  asio::steady_timer end_timer_{ioc_};
  std::vector<std::unique_ptr<connection>> conns_{};
  std::size_t active_ = 0;
  bool stopping_ = false;
  std::chrono::nanoseconds period_{0};
  steady::time_point sched_start_{};
  std::uint64_t slot_next_ = 0;
  std::uint64_t slot_limit_ = UINT64_MAX;
  latency_histogram latency_{};
  std::vector<endpoint_report> per_ep_;
  std::array<std::uint64_t, 600> status_{};
  std::array<std::uint64_t, 4> errors_{};
  std::uint64_t pending_done_ = 0;
  std::uint64_t pending_failed_ = 0;
};

connection::connection(worker& w, std::uint64_t seed)
    : sock(w.ioc()), timer(w.ioc()), w_(w), rng_(seed) {}

std::size_t connection::pick_endpoint() noexcept {
  const auto& cum = w_.shared().cumulative;
  if (cum.size() == 1) return 0;
  const double u = static_cast<double>(wyrand_next(rng_) >> 11) * 0x1.0p-53 * cum.back();
  const auto it = std::upper_bound(cum.begin(), cum.end(), u);
  return std::min<std::size_t>(static_cast<std::size_t>(it - cum.begin()), cum.size() - 1);
}

void connection::next() {
  busy = false;
  switch (w_.take_slot(intended_)) {
    case worker::slot::finished:
      finish();
      return;
    case worker::slot::later:
      timer.expires_at(intended_);
      timer.async_wait([this](const beast::error_code& ec) {
        if (ec || w_.stopping()) {
          finish();
          return;
        }
        begin();
      });
      return;
    case worker::slot::now:
      begin();
      return;
  }
}

void connection::begin() {
  busy = true;
  busy_since = steady::now();
  retried_ = false;
  ep_ = pick_endpoint();
  if (connected_) {
    send();
  } else {
    connect();
  }
}

void connection::connect() {
  close();
  reused_ = false;
  sock.async_connect(w_.shared().target, [this](const beast::error_code& ec) { on_connect(ec); });
}

void connection::on_connect(const beast::error_code& ec) {
  if (w_.stopping()) {
    finish();
    return;
  }
  if (ec) {
    close();
    if (timed_out) {
      timed_out = false;
      w_.record_error(ep_, error_kind::timeout, intended_);
    } else {
      w_.record_error(ep_, error_kind::connect, intended_);
    }
    busy = false;
    // A refused connection fails at once; a short pause keeps a run against
    // a dead port from spinning a core.
    timer.expires_after(std::chrono::milliseconds(20));
    timer.async_wait([this](const beast::error_code& e) {
      if (e || w_.stopping()) {
        finish();
        return;
      }
      next();
    });
    return;
  }
  connected_ = true;
  beast::error_code ignored;
  sock.set_option(tcp::no_delay(true), ignored);
  send();
}

void connection::send() {
  const request_id id = new_request_id();
  constexpr std::string_view prefix = "X-Request-ID: ";
  std::size_t n = 0;
  std::copy(prefix.begin(), prefix.end(), idline_.begin());
  n += prefix.size();
  const auto v = id.view();
  std::copy(v.begin(), v.end(), idline_.begin() + static_cast<std::ptrdiff_t>(n));
  n += v.size();
  idline_[n++] = '\r';
  idline_[n++] = '\n';
  idline_[n++] = '\r';
  idline_[n++] = '\n';
  idlen_ = n;
  parser_.emplace();
  parser_->body_limit(w_.shared().o.max_response_bytes);
  const auto& ep = w_.shared().endpoints[ep_];
  const std::array<asio::const_buffer, 3> bufs = {
      asio::buffer(ep.head), asio::buffer(idline_.data(), idlen_), asio::buffer(ep.body)};
  asio::async_write(sock, bufs, [this](const beast::error_code& ec, std::size_t) { on_write(ec); });
}

void connection::on_write(const beast::error_code& ec) {
  if (ec) {
    io_failure(error_kind::write);
    return;
  }
  http::async_read(sock, buf_, *parser_,
                   [this](const beast::error_code& e, std::size_t) { on_read(e); });
}

void connection::on_read(const beast::error_code& ec) {
  if (ec) {
    io_failure(error_kind::read);
    return;
  }
  if (timed_out) {  // the response raced the sweep: it was counted as a timeout
    timed_out = false;
    close();
    next();
    return;
  }
  w_.record(ep_, parser_->status, intended_);
  reused_ = true;
  if (!parser_->keep_alive()) close();
  next();
}

void connection::io_failure(error_kind kind) {
  if (w_.stopping()) {
    finish();  // abandoned at the end of the run: not counted
    return;
  }
  const bool idle_close = reused_ && !retried_ && !timed_out && parser_ && !parser_->got_some();
  close();
  if (idle_close) {
    // The server closed the keep-alive connection while it was idle; nothing
    // of this request was processed, so it goes again on a new connection.
    retried_ = true;
    ++w_.retried_;
    reused_ = false;
    sock.async_connect(w_.shared().target, [this](const beast::error_code& e) { on_connect(e); });
    return;
  }
  if (timed_out) {
    timed_out = false;
    kind = error_kind::timeout;
  }
  w_.record_error(ep_, kind, intended_);
  next();
}

void connection::finish() {
  busy = false;
  close();
  w_.connection_finished();
}

std::vector<prepared_endpoint> prepare(const scenario& s) {
  std::vector<prepared_endpoint> out;
  const std::string host = s.target.host_header();
  for (const auto& e : s.endpoints) {
    prepared_endpoint p;
    p.head = fmt::format("{} {} HTTP/1.1\r\nHost: {}\r\nUser-Agent: keel-load/{}\r\n", e.method,
                         e.path, host, keel::version());
    bool has_type = false;
    for (const auto& [k, v] : e.headers) {
      p.head += fmt::format("{}: {}\r\n", k, v);
      if (k.size() == 12 && strncasecmp(k.c_str(), "content-type", 12) == 0) has_type = true;
    }
    const bool body_method = e.method == "POST" || e.method == "PUT" || e.method == "PATCH";
    if (!e.body.empty() || body_method) {
      p.head += fmt::format("Content-Length: {}\r\n", e.body.size());
      if (!has_type && !e.body.empty()) p.head += "Content-Type: application/json\r\n";
    }
    p.body = e.body;
    out.push_back(std::move(p));
  }
  return out;
}

}  // namespace

result<load_report> run_load(const scenario& s, const load_options& o,
                             const std::atomic<bool>& stop, load_progress* progress) {
  if (auto r = validate(o); !r) return fail(r.error());
  if (auto r = validate(s); !r) return fail(r.error());

  shared_state sh{.s = s, .o = o, .stop = stop, .progress = progress};
  {
    asio::io_context ioc;
    tcp::resolver resolver(ioc);
    beast::error_code ec;
    const auto results = resolver.resolve(s.target.host, std::to_string(s.target.port), ec);
    if (ec || results.empty()) {
      return fail(codes::validation_error,
                  fmt::format("cannot resolve {}: {}", s.target.host, ec.message()));
    }
    for (const auto& r : results) {
      if (!r.endpoint().address().is_loopback() && !o.allow_remote) {
        return fail(codes::authorization_denied,
                    fmt::format("{} resolves to {}, which is not loopback; pass --allow-remote "
                                "to load a remote host",
                                s.target.host, r.endpoint().address().to_string()));
      }
    }
    sh.target = results.begin()->endpoint();
  }
  sh.endpoints = prepare(s);
  double acc = 0;
  for (const auto& e : s.endpoints)
    sh.cumulative.push_back(acc += e.weight);

  const std::uint32_t threads = std::min(o.threads, o.concurrency);
  sh.start = steady::now();
  if (o.duration.count() > 0) sh.deadline = sh.start + o.duration;

  std::vector<std::unique_ptr<worker>> workers;
  for (std::uint32_t t = 0; t < threads; ++t) {
    const std::uint32_t conns = o.concurrency / threads + (t < o.concurrency % threads ? 1 : 0);
    workers.push_back(std::make_unique<worker>(sh, t, conns, threads));
  }
  {
    std::vector<std::jthread> pool;
    for (std::uint32_t t = 1; t < threads; ++t)
      pool.emplace_back([&, t] { workers[t]->run(); });
    workers[0]->run();
  }
  const auto end = steady::now();

  load_report r;
  r.target = fmt::format("http://{}", s.target.host_header());
  r.concurrency = o.concurrency;
  r.threads = threads;
  r.rate = o.rate;
  r.elapsed = end - sh.start;
  for (const auto& e : s.endpoints)
    r.endpoints.push_back({.name = e.name});
  for (const auto& w : workers)
    w->merge_into(r);
  return r;
}

}  // namespace keel::cli::load
