// keel/log/logger.hpp
//
// logger is what code logs through: a named, dotted logger ("http.access")
// with a level that can be changed at run time, optional sampling, and
// bound fields. A call takes a message and typed fields (field.hpp); the
// current request context (request_id, trace_id, span_id, user_id and
// context fields, keel/core/context.hpp) is added automatically, and so is
// the call's source location.
//
//   using keel::log::kv;
//   keel::log::logger log("http");                         // or keel::log::get("http")
//   log.info("request done", kv("method", "GET"), kv("path", "/health"),
//            kv("status_code", 200), kv("duration_ms", 0.42));
//   auto orders = log.with(kv("component", "orders"));     // child: bound fields
//   orders.warn("slow query", kv("elapsed", 812ms));
//   if (log.enabled(keel::log::level::debug)) log.debug("state", kv("dump", expensive()));
//
// What a call costs: a relaxed load to test the level, the cycle counter,
// and copying the message and fields into this thread's ring buffer — no
// lock, no allocation, no formatting, no I/O (bench/bench_log.cpp,
// BM_Log_Keel; about 360 instructions for a message and four fields). The backend
// thread formats JSON and writes the sinks (backend.hpp). A thread's first
// call allocates its ring buffer.
//
// Thread safety: a logger may be used from any number of threads; copying
// one is cheap (a pointer and a shared pointer to the bound fields).
#pragma once

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <memory>
#include <source_location>
#include <string>
#include <string_view>
#include <vector>

#include "keel/core/context.hpp"
#include "keel/log/detail/codec.hpp"
#include "keel/log/detail/record.hpp"
#include "keel/log/field.hpp"
#include "keel/log/level.hpp"

namespace keel {
class clock;
}

namespace keel::log {

// sampling
//
// Per logger and per level below warn, within each wall-clock second: the
// first `first` lines pass, then one in every `thereafter` (0: none). warn and
// above always pass. `first == 0` turns sampling off.
struct sampling {
  std::uint32_t first = 0;
  std::uint32_t thereafter = 0;
};

namespace detail {

struct sampler_state {
  std::atomic<std::int64_t> window{-1};
  std::atomic<std::uint64_t> count{0};
};

// A named logger's shared state, owned by the registry for the life of the
// process (records point at it).
struct logger_entry {
  explicit logger_entry(std::string n);

  const std::string name;
  const std::string json_name;  // name as a JSON string literal, for the backend
  std::atomic<std::uint8_t> min_level{static_cast<std::uint8_t>(level::info)};
  std::atomic<std::uint32_t> sample_first{0};
  std::atomic<std::uint32_t> sample_thereafter{0};
  sampler_state sampler[3];  // trace, debug, info
  std::atomic<std::uint64_t> sampled_out{0};
};

// Non-null when timestamps come from an injected clock (tests) instead of
// the cycle counter.
inline std::atomic<const ::keel::clock*> g_clock{nullptr};

std::uint64_t clock_stamp_ns() noexcept;
std::int64_t stamp_second(std::uint64_t stamp, std::uint8_t flags) noexcept;

inline std::uint64_t now_stamp(std::uint8_t& flags) noexcept {
#if defined(__x86_64__) || defined(__i386__)
  if (g_clock.load(std::memory_order_relaxed) == nullptr) [[likely]] {
    return __builtin_ia32_rdtsc();
  }
#endif
  flags |= flag_stamp_ns;
  return clock_stamp_ns();
}

// Sampling decision for a level below warn on a logger with sampling on.
bool sample_keep(logger_entry& e, level l, std::uint64_t stamp, std::uint8_t flags) noexcept;

std::size_t context_size(const request_context& c) noexcept;
char* write_context(char* p, const request_context& c) noexcept;

template <class... V>
void emit(const logger_entry& e, const std::string* bound, level l, std::uint64_t stamp,
          std::uint8_t flags, std::string_view msg, const std::source_location& where,
          const kv<V>&... f) noexcept {
  const request_context* ctx = current_context();
  const std::size_t msg_n = clamp_size(msg.size(), max_message_bytes);
  const std::size_t bound_n = bound ? bound->size() : 0;
  std::size_t n = sizeof(record_header) + msg_n + bound_n;
  n += (std::size_t{0} + ... + field_size(f.key, f.value));
  if constexpr ((contains_error<V>::value || ...)) flags |= flag_has_error;
  if (ctx != nullptr) {
    n += context_size(*ctx);
    flags |= flag_has_context;
  }
  n = (n + 7) & ~std::size_t{7};
  thread_buffer* b = t_buffer;
  if (b == nullptr) [[unlikely]] {
    b = attach_thread();
    if (b == nullptr) return;
  }
  if (n > b->max_record()) [[unlikely]] {
    count_oversize(*b);
    return;
  }
  char* p = b->try_reserve(n);
  if (p == nullptr) [[unlikely]] {
    p = reserve_slow(*b, n);
    if (p == nullptr) return;
  }
  record_header h;
  h.size = static_cast<std::uint32_t>(n);
  h.level = static_cast<std::uint8_t>(l);
  h.flags = flags;
  h.field_count = static_cast<std::uint16_t>(sizeof...(V));
  h.message_size = static_cast<std::uint32_t>(msg_n);
  h.bound_size = static_cast<std::uint32_t>(bound_n);
  h.stamp = stamp;
  h.logger = &e;
  h.where = where;
  char* q = put_raw(p, h);
  q = put(q, msg.data(), msg_n);
  if (bound_n != 0) q = put(q, bound->data(), bound_n);
  if (ctx != nullptr) q = write_context(q, *ctx);
  ((q = write_field(q, f.key, f.value)), ...);
  b->commit(n);
}

// Pre-renders bound fields (encoded like a record's fields) as JSON text.
std::shared_ptr<const std::string> render_bound(const std::string* parent, const char* encoded,
                                                std::size_t size, std::size_t count);

logger_entry& entry_for(std::string_view name);

}  // namespace detail

// message
//
// The message of a call, with the call's source location captured
// implicitly (the default argument is evaluated at the caller).
struct message {
  template <class S>
  requires std::is_convertible_v<const S&, std::string_view> message(
      const S& s, std::source_location w = std::source_location::current())
  noexcept : text(s), where(w) {}

  std::string_view text;
  std::source_location where;
};

class logger {
 public:
  // The root logger (name "").
  logger() : logger(std::string_view{}) {}
  // The logger named `name` (dotted, e.g. "http.access"), created on first
  // use. Characters outside [A-Za-z0-9_.-] become '_'; at most 128 bytes.
  explicit logger(std::string_view name) : entry_(&detail::entry_for(name)) {}

  template <class... V>
  void trace(message m, const kv<V>&... f) const noexcept {
    log(level::trace, m, f...);
  }
  template <class... V>
  void debug(message m, const kv<V>&... f) const noexcept {
    log(level::debug, m, f...);
  }
  template <class... V>
  void info(message m, const kv<V>&... f) const noexcept {
    log(level::info, m, f...);
  }
  template <class... V>
  void warn(message m, const kv<V>&... f) const noexcept {
    log(level::warn, m, f...);
  }
  template <class... V>
  void error(message m, const kv<V>&... f) const noexcept {
    log(level::error, m, f...);
  }
  template <class... V>
  void critical(message m, const kv<V>&... f) const noexcept {
    log(level::critical, m, f...);
  }

  template <class... V>
  void log(level l, message m, const kv<V>&... f) const noexcept {
    if (!enabled(l)) return;
    std::uint8_t flags = 0;
    const std::uint64_t stamp = detail::now_stamp(flags);
    if (l < level::warn && entry_->sample_first.load(std::memory_order_relaxed) != 0 &&
        !detail::sample_keep(*entry_, l, stamp, flags)) {
      return;
    }
    detail::emit(*entry_, bound_.get(), l, stamp, flags, m.text, m.where, f...);
  }

  // True when a line at `l` would pass the level check (sampling aside).
  bool enabled(level l) const noexcept {
    return static_cast<std::uint8_t>(l) >= entry_->min_level.load(std::memory_order_relaxed) &&
           l != level::off;
  }

  // A child: the same named logger (level, sampling) with `fields` added to
  // every line, after those already bound. Allocates once, here.
  template <class... V>
  logger with(const kv<V>&... f) const {
    std::string encoded;
    encoded.resize((std::size_t{0} + ... + detail::field_size(f.key, f.value)) + 8);
    char* q = encoded.data();
    const auto misalign = reinterpret_cast<std::uintptr_t>(q) & 7;
    q += (8 - misalign) & 7;  // error fields are aligned relative to memory, as in a record
    const char* begin = q;
    ((q = detail::write_field(q, f.key, f.value)), ...);
    logger child(*this);
    child.bound_ = detail::render_bound(bound_.get(), begin, static_cast<std::size_t>(q - begin),
                                        sizeof...(V));
    return child;
  }

  std::string_view name() const noexcept { return entry_->name; }
  // The bound fields as JSON members (",\"k\":v..."), empty when none.
  std::string_view bound_fields() const noexcept {
    return bound_ ? std::string_view(*bound_) : std::string_view{};
  }

 private:
  detail::logger_entry* entry_;
  std::shared_ptr<const std::string> bound_{};
};

// The logger named `name` (see logger(name)).
inline logger get(std::string_view name) { return logger(name); }

}  // namespace keel::log
