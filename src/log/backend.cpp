// The backend: thread buffers, the draining thread, flush, configuration,
// signal handlers, and the cycle-counter calibration.
#include "keel/log/backend.hpp"

#include <pthread.h>
#include <sched.h>
#include <unistd.h>

#include <csignal>
#include <cstdio>
#include <ctime>

#include <condition_variable>
#include <mutex>
#include <thread>

#include "keel/core/clock.hpp"
#include "keel/core/error.hpp"
#include "keel/core/json_writer.hpp"
#include "keel/core/redactor.hpp"
#include "keel/core/rfc3339.hpp"
#include "keel/log/registry.hpp"
#include "keel/log/stream_sink.hpp"
#include "log/internal/format.hpp"
#include "log/internal/registry.hpp"

namespace keel::log {
namespace detail {
constinit thread_local thread_buffer* t_buffer = nullptr;
}  // namespace detail

namespace {

using detail::thread_buffer;
using steady = std::chrono::steady_clock;

std::int64_t ns_since_epoch(std::chrono::system_clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch()).count();
}

std::uint64_t read_tsc() noexcept {
#if defined(__x86_64__) || defined(__i386__)
  return __builtin_ia32_rdtsc();
#else
  return static_cast<std::uint64_t>(ns_since_epoch(std::chrono::system_clock::now()));
#endif
}

// Cycles per second, for sampling windows on the call path (0 until known).
std::atomic<double> g_ticks_per_second{0.0};

// Maps cycle-counter stamps to wall-clock time: a rate measured against the
// steady clock over an ever longer baseline, and a wall-clock anchor renewed
// every second so that clock adjustments are followed.
class tsc_converter final : public internal::time_converter {
 public:
  tsc_converter() {
    const auto [t0, s0] = sample_steady();
    tsc0_ = t0;
    steady0_ = s0;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
    recalibrate();
  }

  void recalibrate() noexcept {
    const auto [t, s] = sample_steady();
    if (t > tsc0_ && s > steady0_) {
      ns_per_tick_ = static_cast<double>(s - steady0_) / static_cast<double>(t - tsc0_);
      g_ticks_per_second.store(1e9 / ns_per_tick_, std::memory_order_relaxed);
    }
    const std::uint64_t a = read_tsc();
    const std::int64_t wall = ns_since_epoch(std::chrono::system_clock::now());
    const std::uint64_t b = read_tsc();
    base_tsc_ = a + (b - a) / 2;
    base_ns_ = wall;
  }

  std::chrono::system_clock::time_point to_time(std::uint64_t stamp,
                                                std::uint8_t flags) const noexcept override {
    std::int64_t ns;
    if ((flags & detail::flag_stamp_ns) != 0) {
      ns = static_cast<std::int64_t>(stamp);
    } else {
      const auto delta = static_cast<std::int64_t>(stamp - base_tsc_);
      ns = base_ns_ + static_cast<std::int64_t>(static_cast<double>(delta) * ns_per_tick_);
    }
    return std::chrono::system_clock::time_point(
        std::chrono::duration_cast<std::chrono::system_clock::duration>(
            std::chrono::nanoseconds(ns)));
  }

 private:
  static std::pair<std::uint64_t, std::int64_t> sample_steady() noexcept {
    const std::uint64_t a = read_tsc();
    const auto s =
        std::chrono::duration_cast<std::chrono::nanoseconds>(steady::now().time_since_epoch())
            .count();
    const std::uint64_t b = read_tsc();
    return {a + (b - a) / 2, s};
  }

  std::uint64_t tsc0_ = 0;
  std::int64_t steady0_ = 0;
  double ns_per_tick_ = 1.0;
  std::uint64_t base_tsc_ = 0;
  std::int64_t base_ns_ = 0;
};

std::size_t round_up_pow2(std::size_t n) {
  std::size_t p = 1;
  while (p < n)
    p <<= 1;
  return p;
}

constexpr int kFatalSignals[] = {SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT, SIGTERM};
struct sigaction g_previous[sizeof kFatalSignals / sizeof kFatalSignals[0]];

void on_fatal_signal(int sig, siginfo_t*, void*);

class backend {
 public:
  static backend& instance() {
    static backend* b = new backend;  // never destroyed: threads may log until the very end
    return *b;
  }
  static backend* existing() noexcept { return instance_.load(std::memory_order_acquire); }

  result<void> configure(log_config c);
  void flush();
  std::size_t poll();
  void shutdown();
  log_stats stats();
  thread_buffer* attach() noexcept;
  char* reserve_slow(thread_buffer& b, std::size_t n) noexcept;
  void count_drop(thread_buffer& b) noexcept {
    b.dropped.fetch_add(1, std::memory_order_relaxed);
    dropped_total_.fetch_add(1, std::memory_order_relaxed);
  }
  void signal_flush() noexcept;
  std::shared_ptr<const internal::format_settings> bound_settings() {
    std::lock_guard lock(settings_mu_);
    return bound_settings_;
  }

 private:
  backend() {
    apply_locked(log_config{});
    instance_.store(this, std::memory_order_release);
  }

  void apply_locked(const log_config& c);
  void start_thread();
  void stop_thread();
  void run();
  std::size_t process(bool until_empty);
  void dispatch(const internal::decoded& d);
  void dispatch_internal(level l, std::string_view message, std::string_view extra);
  void commit_sinks();
  void periodic();
  void refresh_buffers();
  void ensure_started() noexcept;

  static inline std::atomic<backend*> instance_{nullptr};

  std::mutex control_mu_;  // configure, shutdown, start: one at a time
  std::mutex work_mu_;     // held while processing; guards what follows
  std::vector<std::shared_ptr<sink>> sinks_;
  format_set formats_ = 0;
  internal::formatter fmt_;
  tsc_converter tsc_;
  std::size_t batch_bytes_ = 64 * 1024;
  std::size_t pending_bytes_ = 0;
  std::chrono::milliseconds drop_interval_{1000};
  const ::keel::clock* clock_ = &::keel::clock::real();
  ::keel::clock::steady_time last_drop_report_{};
  ::keel::clock::steady_time last_calibration_{};
  std::uint64_t dropped_reported_ = 0;
  std::vector<std::shared_ptr<thread_buffer>> local_;
  std::uint64_t local_version_ = ~std::uint64_t{0};
  std::string json_, console_, color_;
  bool configured_ = false;

  // The sinks again, for stats(): work_mu_ is held while a sink writes, and
  // a sink stuck on a full pipe must not stall whoever reads the counters
  // (a /metrics scrape).
  std::mutex sinks_view_mu_;
  std::vector<std::shared_ptr<sink>> sinks_view_;

  std::mutex settings_mu_;
  std::shared_ptr<const internal::format_settings> bound_settings_;

  std::mutex buffers_mu_;
  std::vector<std::shared_ptr<thread_buffer>> buffers_;
  std::atomic<std::uint64_t> buffers_version_{0};

  // Read by producers.
  std::atomic<bool> drop_when_full_{false};
  std::atomic<std::int64_t> max_block_ns_{5'000'000'000};
  std::atomic<std::size_t> buffer_bytes_{1u << 20};
  std::atomic<bool> running_{false};
  std::atomic<bool> manual_{false};
  std::atomic<bool> stopped_{false};

  std::thread thread_;
  std::atomic<pthread_t> thread_handle_{};
  std::atomic<bool> stop_{false};
  std::atomic<bool> producer_waiting_{false};
  std::chrono::microseconds idle_sleep_{100};
  int backend_cpu_ = -1;
  std::atomic<std::int64_t> signal_timeout_ms_{2000};
  std::atomic<std::uint64_t> flush_req_{0};
  std::atomic<std::uint64_t> flush_done_{0};
  std::mutex wake_mu_;
  std::condition_variable wake_cv_;
  std::condition_variable done_cv_;

  std::atomic<std::uint64_t> dropped_total_{0};
  std::atomic<std::uint64_t> lines_processed_{0};
  bool signals_installed_ = false;
};

// Removes the thread's buffer from use as the thread exits; the backend
// frees it once drained.
struct thread_holder {
  std::shared_ptr<thread_buffer> buffer;
  bool exiting = false;
  ~thread_holder() {
    exiting = true;
    detail::t_buffer = nullptr;
    if (buffer) buffer->abandoned.store(true, std::memory_order_release);
  }
};
thread_local thread_holder t_holder;

std::string static_fields(const log_config& c) {
  std::string s;
  if (!c.service.empty()) {
    s += ",\"service\":";
    append_json_string(s, c.service);
  }
  if (!c.version.empty()) {
    s += ",\"version\":";
    append_json_string(s, c.version);
  }
  if (!c.environment.empty()) {
    s += ",\"environment\":";
    append_json_string(s, c.environment);
  }
  return s;
}

void backend::apply_locked(const log_config& c) {
  internal::format_settings fs;
  if (c.redact) fs.redactor = c.redactor;
  if (c.redact && !fs.redactor) {
    fs.redactor = std::shared_ptr<const redactor>(&redactor::standard(), [](const redactor*) {});
  }
  fs.static_fields = static_fields(c);
  fs.static_members =
      static_cast<std::uint16_t>((c.service.empty() ? 0 : internal::member_bit::service) |
                                 (c.version.empty() ? 0 : internal::member_bit::version) |
                                 (c.environment.empty() ? 0 : internal::member_bit::environment));
  fs.source = c.source;
  {
    std::lock_guard lock(settings_mu_);
    bound_settings_ = std::make_shared<const internal::format_settings>(fs);
  }
  sinks_ = c.sinks;
  if (sinks_.empty()) sinks_.push_back(stream_sink::stdout_sink());
  {
    std::lock_guard lock(sinks_view_mu_);
    sinks_view_ = sinks_;
  }
  formats_ = 0;
  for (const auto& s : sinks_)
    formats_ |= s->formats();
  fmt_ = internal::formatter(std::move(fs));
  batch_bytes_ = c.batch_bytes;
  drop_interval_ = c.drop_report_interval;
  clock_ = c.clock ? c.clock : &::keel::clock::real();
  last_drop_report_ = clock_->steady_now();
  last_calibration_ = last_drop_report_;
  idle_sleep_ = c.idle_sleep;
  backend_cpu_ = c.backend_cpu;
  signal_timeout_ms_ = c.signal_flush_timeout.count();
  drop_when_full_.store(c.on_full == queue_full_policy::drop, std::memory_order_relaxed);
  max_block_ns_.store(std::chrono::duration_cast<std::chrono::nanoseconds>(c.max_block).count(),
                      std::memory_order_relaxed);
  buffer_bytes_.store(round_up_pow2(c.thread_buffer_bytes), std::memory_order_relaxed);
  detail::g_clock.store(c.clock, std::memory_order_relaxed);
}

result<void> backend::configure(log_config c) {
  auto bad = [](std::string m) { return std::unexpected(error(codes::configuration_error, m)); };
  if (c.thread_buffer_bytes < (64u << 10) || c.thread_buffer_bytes > (std::size_t{1} << 30)) {
    return bad("log: thread_buffer_bytes must be within 64 KiB..1 GiB");
  }
  if (c.batch_bytes < 1024 || c.batch_bytes > (64u << 20)) {
    return bad("log: batch_bytes must be within 1 KiB..64 MiB");
  }
  if (c.idle_sleep < std::chrono::microseconds(1) || c.idle_sleep > std::chrono::seconds(1)) {
    return bad("log: idle_sleep must be within 1 us..1 s");
  }
  if (c.max_block.count() < 0 || c.drop_report_interval.count() <= 0 ||
      c.signal_flush_timeout.count() < 0) {
    return bad("log: durations must not be negative");
  }
  for (const auto& s : c.sinks) {
    if (!s) return bad("log: null sink");
  }
  for (const auto& l : c.loggers) {
    if (l.name.size() > 128) return bad("log: logger name longer than 128 bytes");
  }
  if (c.default_level == level::off) {
    // allowed: silences everything
  }

  std::lock_guard control(control_mu_);
  // Lines already queued are written under the configuration they were logged with.
  if (running_.load()) {
    flush();
  } else {
    std::lock_guard lock(work_mu_);
    process(true);
    commit_sinks();
  }
  const bool want_thread = c.mode == backend_mode::thread;
  if (!want_thread && running_.load()) stop_thread();
  {
    std::lock_guard lock(work_mu_);
    apply_locked(c);
    configured_ = true;
  }
  internal::reset_registry(c.default_level, c.loggers);
  manual_.store(!want_thread);
  stopped_.store(false);
  if (want_thread && !running_.load()) start_thread();
  if (c.install_signal_handlers && !signals_installed_) {
    signals_installed_ = true;
    for (std::size_t i = 0; i < std::size(kFatalSignals); ++i) {
      struct sigaction sa {};
      sa.sa_sigaction = on_fatal_signal;
      sigemptyset(&sa.sa_mask);
      sa.sa_flags = SA_SIGINFO | SA_ONSTACK;
      sigaction(kFatalSignals[i], &sa, &g_previous[i]);
    }
  }
  return {};
}

void backend::ensure_started() noexcept {
  if (running_.load(std::memory_order_acquire) || manual_.load(std::memory_order_acquire) ||
      stopped_.load(std::memory_order_acquire)) {
    return;
  }
  try {
    std::lock_guard control(control_mu_);
    if (!running_.load() && !manual_.load() && !stopped_.load()) start_thread();
  } catch (...) {
    // No thread: lines wait in their buffers (and drop when full).
  }
}

void backend::start_thread() {
  stop_.store(false);
  running_.store(true, std::memory_order_release);
  thread_ = std::thread([this] { run(); });
  static std::once_flag at_exit;
  std::call_once(at_exit, [] { std::atexit([] { keel::log::shutdown(); }); });
}

void backend::stop_thread() {
  {
    std::lock_guard lock(wake_mu_);
    stop_.store(true);
  }
  wake_cv_.notify_all();
  if (thread_.joinable()) thread_.join();
  running_.store(false, std::memory_order_release);
}

thread_buffer* backend::attach() noexcept {
  if (t_holder.exiting) return nullptr;
  try {
    auto b = std::make_shared<thread_buffer>(buffer_bytes_.load(std::memory_order_relaxed));
    {
      std::lock_guard lock(buffers_mu_);
      buffers_.push_back(b);
      buffers_version_.fetch_add(1, std::memory_order_release);
    }
    t_holder.buffer = b;
    detail::t_buffer = b.get();
    ensure_started();
    return b.get();
  } catch (...) {
    return nullptr;
  }
}

char* backend::reserve_slow(thread_buffer& b, std::size_t n) noexcept {
  if (drop_when_full_.load(std::memory_order_relaxed) || manual_.load(std::memory_order_relaxed) ||
      !running_.load(std::memory_order_acquire) ||
      thread_handle_.load(std::memory_order_relaxed) == pthread_self()) {
    count_drop(b);
    return nullptr;
  }
  // The backend may be asleep: wake it rather than wait out its idle sleep.
  {
    std::lock_guard lock(wake_mu_);
    producer_waiting_.store(true, std::memory_order_relaxed);
  }
  wake_cv_.notify_one();
  const auto deadline =
      steady::now() + std::chrono::nanoseconds(max_block_ns_.load(std::memory_order_relaxed));
  for (unsigned i = 0;; ++i) {
    if (char* p = b.try_reserve(n)) return p;
    if (!running_.load(std::memory_order_acquire)) break;
    if (i < 64) {
#if defined(__x86_64__) || defined(__i386__)
      __builtin_ia32_pause();
#endif
    } else if (i < 128) {
      std::this_thread::yield();
    } else {
      if (steady::now() >= deadline) break;
      std::this_thread::sleep_for(std::chrono::microseconds(20));
    }
  }
  count_drop(b);
  return nullptr;
}

void backend::refresh_buffers() {
  const std::uint64_t v = buffers_version_.load(std::memory_order_acquire);
  if (v == local_version_) return;
  std::lock_guard lock(buffers_mu_);
  local_ = buffers_;
  local_version_ = buffers_version_.load(std::memory_order_relaxed);
}

void backend::dispatch(const internal::decoded& d) {
  if ((formats_ & format_bit(format::json)) != 0) {
    json_.clear();
    fmt_.json(d, json_);
  }
  if ((formats_ & format_bit(format::console)) != 0) {
    console_.clear();
    fmt_.console(d, console_, false);
  }
  if ((formats_ & format_bit(format::console_color)) != 0) {
    color_.clear();
    fmt_.console(d, color_, true);
  }
  const log_line line{.lvl = d.lvl,
                      .logger = d.logger->name,
                      .time = d.time,
                      .json = json_,
                      .console = console_,
                      .console_color = color_};
  for (const auto& s : sinks_)
    s->consume(line);
  pending_bytes_ += json_.size() + console_.size() + color_.size();
  if (pending_bytes_ >= batch_bytes_) commit_sinks();
}

void backend::dispatch_internal(level l, std::string_view message, std::string_view extra) {
  const auto now =
      clock_ == &::keel::clock::real() ? std::chrono::system_clock::now() : clock_->system_now();
  json_.clear();
  fmt_.json_internal(now, l, message, extra, json_);
  console_.clear();
  color_.clear();
  if ((formats_ & (format_bit(format::console) | format_bit(format::console_color))) != 0) {
    char ts[rfc3339_size];
    format_rfc3339(now, ts);
    console_.append(ts, rfc3339_size);
    console_.append(" WARN  keel.log: ");
    console_.append(message);
    console_.append(extra);
    console_.push_back('\n');
    color_ = console_;
  }
  static detail::logger_entry self("keel.log");
  const log_line line{.lvl = l,
                      .logger = self.name,
                      .time = now,
                      .json = json_,
                      .console = console_,
                      .console_color = color_};
  for (const auto& s : sinks_)
    s->consume(line);
}

void backend::commit_sinks() {
  for (const auto& s : sinks_)
    s->commit();
  pending_bytes_ = 0;
}

std::size_t backend::process(bool until_empty) {
  refresh_buffers();
  std::size_t total = 0;
  for (;;) {
    std::size_t round = 0;
    for (std::size_t i = 0; i < local_.size(); ++i) {
      thread_buffer& b = *local_[i];
      const bool abandoned = b.abandoned.load(std::memory_order_acquire);
      const std::uint64_t end = b.published();
      std::uint64_t r = b.read_position();
      std::uint64_t released = r;
      while (r < end) {
        const char* rec = b.at(r);
        std::uint32_t size;
        std::memcpy(&size, rec, sizeof size);
        if (size == 0) {  // wrap marker
          r += b.tail_from(r);
          continue;
        }
        const internal::decoded d = internal::decode(rec, tsc_);
        dispatch(d);
        if ((d.flags & detail::flag_has_error) != 0)
          internal::destroy_errors(d.fields, d.field_count);
        r += size;
        ++round;
        if (r - released >= 16 * 1024) {
          b.release_to(r);
          released = r;
        }
      }
      b.release_to(r);
      if (abandoned && r == end) {
        std::lock_guard lock(buffers_mu_);
        std::erase(buffers_, local_[i]);
        buffers_version_.fetch_add(1, std::memory_order_release);
      }
    }
    total += round;
    lines_processed_.fetch_add(round, std::memory_order_relaxed);
    refresh_buffers();
    if (!until_empty || round == 0) break;
  }
  return total;
}

void backend::periodic() {
  const auto now = clock_->steady_now();
  if (now - last_drop_report_ >= drop_interval_) {
    last_drop_report_ = now;
    const std::uint64_t total = dropped_total_.load(std::memory_order_relaxed);
    if (total > dropped_reported_) {
      std::string extra = ",\"dropped\":";
      append_json_number(extra, total - dropped_reported_);
      dropped_reported_ = total;
      dispatch_internal(level::warn, "log lines dropped: queue full", extra);
    }
  }
  const auto real_now = steady::now();
  if (real_now - last_calibration_ >= std::chrono::seconds(1) || real_now < last_calibration_) {
    last_calibration_ = real_now;
    tsc_.recalibrate();
  }
}

void backend::run() {
  thread_handle_.store(pthread_self(), std::memory_order_relaxed);
  unsigned idle_rounds = 0;
  if (backend_cpu_ >= 0 && backend_cpu_ < CPU_SETSIZE) {
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(backend_cpu_, &set);
    (void)pthread_setaffinity_np(pthread_self(), sizeof set, &set);
  }
  for (;;) {
    const std::uint64_t req = flush_req_.load(std::memory_order_acquire);
    const bool stopping = stop_.load(std::memory_order_acquire);
    const bool flushing = req > flush_done_.load(std::memory_order_relaxed) || stopping;
    std::size_t n;
    std::chrono::microseconds idle{};
    {
      std::lock_guard lock(work_mu_);
      idle = idle_sleep_;
      n = process(flushing);
      periodic();
      commit_sinks();
      if (flushing) {
        for (const auto& s : sinks_)
          s->flush();
      }
    }
    if (req > flush_done_.load(std::memory_order_relaxed)) {
      {
        std::lock_guard lock(wake_mu_);
        flush_done_.store(req, std::memory_order_release);
      }
      done_cv_.notify_all();
    }
    if (stopping) break;
    if (n != 0) {
      idle_rounds = 0;
    } else if (++idle_rounds < 64) {
      // Work came in the last rounds: more is likely; stay awake a little.
      std::this_thread::yield();
    } else {
      std::unique_lock lock(wake_mu_);
      wake_cv_.wait_for(lock, idle, [&] {
        return stop_.load() || flush_req_.load() > flush_done_.load() ||
               producer_waiting_.load(std::memory_order_relaxed);
      });
      producer_waiting_.store(false, std::memory_order_relaxed);
    }
  }
  thread_handle_.store(pthread_t{}, std::memory_order_relaxed);
}

void backend::flush() {
  if (manual_.load(std::memory_order_acquire) || !running_.load(std::memory_order_acquire)) {
    std::lock_guard lock(work_mu_);
    process(true);
    periodic();
    commit_sinks();
    for (const auto& s : sinks_)
      s->flush();
    return;
  }
  if (thread_handle_.load(std::memory_order_relaxed) == pthread_self()) return;
  std::unique_lock lock(wake_mu_);
  const std::uint64_t req = flush_req_.fetch_add(1, std::memory_order_acq_rel) + 1;
  wake_cv_.notify_all();
  done_cv_.wait(lock, [&] {
    return flush_done_.load(std::memory_order_acquire) >= req ||
           !running_.load(std::memory_order_acquire);
  });
}

std::size_t backend::poll() {
  if (!manual_.load(std::memory_order_acquire)) return 0;
  std::lock_guard lock(work_mu_);
  const std::size_t n = process(true);
  periodic();
  commit_sinks();
  return n;
}

void backend::shutdown() {
  std::lock_guard control(control_mu_);
  stopped_.store(true, std::memory_order_release);
  if (running_.load()) {
    stop_thread();
  } else {
    std::lock_guard lock(work_mu_);
    process(true);
    commit_sinks();
  }
  std::lock_guard lock(work_mu_);
  for (const auto& s : sinks_)
    s->flush();
}

log_stats backend::stats() {
  log_stats s;
  s.lines_processed = lines_processed_.load(std::memory_order_relaxed);
  s.dropped = dropped_total_.load(std::memory_order_relaxed);
  s.sampled_out = sampled_out_total();
  {
    std::lock_guard lock(sinks_view_mu_);
    for (const auto& k : sinks_view_) {
      s.sink_write_errors += k->stats().write_errors.load(std::memory_order_relaxed);
      s.sink_lines_lost += k->stats().lines_lost.load(std::memory_order_relaxed);
    }
  }
  std::lock_guard lock(buffers_mu_);
  s.thread_buffers = buffers_.size();
  return s;
}

// Async-signal context: only atomics and nanosleep.
void backend::signal_flush() noexcept {
  if (!running_.load(std::memory_order_acquire) || manual_.load(std::memory_order_acquire)) return;
  if (thread_handle_.load(std::memory_order_relaxed) == pthread_self()) return;
  const std::uint64_t req = flush_req_.fetch_add(1, std::memory_order_acq_rel) + 1;
  const std::int64_t steps = signal_timeout_ms_.load(std::memory_order_relaxed);
  for (std::int64_t i = 0; i < steps; ++i) {
    if (flush_done_.load(std::memory_order_acquire) >= req) return;
    struct timespec ts {
      0, 1'000'000
    };
    nanosleep(&ts, nullptr);
  }
}

void on_fatal_signal(int sig, siginfo_t*, void*) {
  const int saved = errno;
  if (backend* b = backend::existing()) b->signal_flush();
  for (std::size_t i = 0; i < std::size(kFatalSignals); ++i) {
    if (kFatalSignals[i] == sig) sigaction(sig, &g_previous[i], nullptr);
  }
  errno = saved;
  // Delivered when this handler returns, to the previous disposition: the
  // default action (terminate, core) or the handler that was there before.
  raise(sig);
}

}  // namespace

namespace detail {

thread_buffer* attach_thread() noexcept { return backend::instance().attach(); }

char* reserve_slow(thread_buffer& b, std::size_t n) noexcept {
  return backend::instance().reserve_slow(b, n);
}

void count_oversize(thread_buffer& b) noexcept { backend::instance().count_drop(b); }

std::uint64_t clock_stamp_ns() noexcept {
  const ::keel::clock* c = g_clock.load(std::memory_order_relaxed);
  return static_cast<std::uint64_t>(
      ns_since_epoch(c ? c->system_now() : std::chrono::system_clock::now()));
}

std::int64_t stamp_second(std::uint64_t stamp, std::uint8_t flags) noexcept {
  if ((flags & flag_stamp_ns) != 0) return static_cast<std::int64_t>(stamp / 1'000'000'000);
  const double tps = g_ticks_per_second.load(std::memory_order_relaxed);
  if (tps <= 0) return ns_since_epoch(std::chrono::system_clock::now()) / 1'000'000'000;
  return static_cast<std::int64_t>(static_cast<double>(stamp) / tps);
}

std::shared_ptr<const std::string> render_bound(const std::string* parent, const char* encoded,
                                                std::size_t, std::size_t count) {
  auto settings = backend::instance().bound_settings();
  internal::formatter f(*settings);
  std::string out = parent ? *parent : std::string();
  // A bound field cannot know the context of the lines it will join: only
  // the members every line has are taken.
  f.json_fields(encoded, count, out, internal::member_bit::always | settings->static_members);
  internal::destroy_errors(encoded, count);
  return std::make_shared<const std::string>(std::move(out));
}

}  // namespace detail

result<void> configure(log_config c) { return backend::instance().configure(std::move(c)); }
void flush() { backend::instance().flush(); }
std::size_t poll() { return backend::instance().poll(); }
void shutdown() {
  if (backend* b = backend::existing()) b->shutdown();
}
log_stats stats() { return backend::instance().stats(); }

}  // namespace keel::log
