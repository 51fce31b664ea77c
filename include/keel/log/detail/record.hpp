// keel/log/detail/record.hpp — internal: the binary record a log call writes
// into its thread's ring buffer, and the ring buffer itself. Not part of the
// API; included by logger.hpp because the call path is inline.
//
// A record is: record_header, message bytes, bound-field JSON bytes, the
// request context block (when flags & has_context), then `field_count`
// encoded fields. Nothing is formatted at the call: strings are copied,
// numbers stored raw, and the backend thread turns records into text.
#pragma once

#include <algorithm>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <source_location>

namespace keel::log::detail {

struct logger_entry;

// Field type tags in the encoded record.
enum class tag : std::uint8_t {
  str,
  i64,
  u64,
  f64,
  boolean,
  null,
  duration,
  timestamp,
  error,
  object,
  array,
};

inline constexpr std::uint8_t flag_stamp_ns = 1;     // stamp is ns since epoch, not cycles
inline constexpr std::uint8_t flag_has_context = 2;  // a context block follows the bound fields
inline constexpr std::uint8_t flag_has_error = 4;    // some field holds a keel::error

inline constexpr std::size_t max_key_bytes = 255;
inline constexpr std::size_t max_string_bytes = 32 * 1024;
inline constexpr std::size_t max_message_bytes = 64 * 1024;
inline constexpr std::size_t max_user_id_bytes = 256;
inline constexpr std::size_t max_context_fields = 32;
inline constexpr std::size_t max_context_value_bytes = 1024;

struct record_header {
  std::uint32_t size = 0;  // whole record, a multiple of 8; 0 marks a wrap to the start
  std::uint8_t level = 0;
  std::uint8_t flags = 0;
  std::uint16_t field_count = 0;
  std::uint32_t message_size = 0;
  std::uint32_t bound_size = 0;
  std::uint64_t stamp = 0;
  const logger_entry* logger = nullptr;
  std::source_location where{};
};
static_assert(std::is_trivially_copyable_v<record_header>);
static_assert(sizeof(record_header) % 8 == 0);

inline char* put(char* p, const void* src, std::size_t n) noexcept {
  if (n != 0) std::memcpy(p, src, n);  // an empty view may have a null data()
  return p + n;
}
template <class T>
inline char* put_raw(char* p, const T& v) noexcept {
  std::memcpy(p, &v, sizeof v);
  return p + sizeof v;
}

// thread_buffer
//
// A single-producer single-consumer byte ring: the owning thread writes
// records, the backend thread reads them. Positions only grow; the slot is
// `position & mask_`. A record never straddles the end: when it does not fit
// in the tail, a zero size word marks the wrap and the record starts at 0.
class thread_buffer {
 public:
  explicit thread_buffer(std::size_t capacity_pow2);
  ~thread_buffer();
  thread_buffer(const thread_buffer&) = delete;
  thread_buffer& operator=(const thread_buffer&) = delete;

  std::size_t capacity() const noexcept { return capacity_; }
  // The largest record accepted: half the ring, so a wrap always fits.
  std::size_t max_record() const noexcept { return capacity_ / 2; }

  // Producer: space for `n` bytes (a multiple of 8, ≤ max_record()), or
  // nullptr when the ring is full.
  char* try_reserve(std::size_t n) noexcept {
    const std::uint64_t w = write_;
    const std::size_t pos = static_cast<std::size_t>(w) & mask_;
    const std::size_t tail = capacity_ - pos;
    const std::uint64_t need = n <= tail ? n : tail + n;
    if (w + need - read_cache_ > capacity_) {
      read_cache_ = read_.load(std::memory_order_acquire);
      if (w + need - read_cache_ > capacity_) return nullptr;
    }
    if (n > tail) {
      const std::uint32_t wrap = 0;
      std::memcpy(data_ + pos, &wrap, sizeof wrap);
      write_ = w + tail;
      return data_;
    }
    return data_ + pos;
  }
  // Producer: publishes the `n` bytes reserved last.
  void commit(std::size_t n) noexcept {
    write_ += n;
    published_.store(write_, std::memory_order_release);
  }

  // Consumer side.
  std::uint64_t published() const noexcept { return published_.load(std::memory_order_acquire); }
  std::uint64_t read_position() const noexcept { return read_.load(std::memory_order_relaxed); }
  void release_to(std::uint64_t r) noexcept { read_.store(r, std::memory_order_release); }
  const char* at(std::uint64_t position) const noexcept {
    return data_ + (static_cast<std::size_t>(position) & mask_);
  }
  std::size_t tail_from(std::uint64_t position) const noexcept {
    return capacity_ - (static_cast<std::size_t>(position) & mask_);
  }

  // Lines this thread could not enqueue (queue full, oversize, stopped).
  std::atomic<std::uint64_t> dropped{0};
  // Set by the owning thread as it exits; the backend frees the buffer once drained.
  std::atomic<bool> abandoned{false};

 private:
  // Producer-owned.
  alignas(64) std::uint64_t write_ = 0;
  std::uint64_t read_cache_ = 0;
  // Shared.
  alignas(64) std::atomic<std::uint64_t> published_{0};
  alignas(64) std::atomic<std::uint64_t> read_{0};
  alignas(64) std::size_t capacity_;
  std::size_t mask_;
  char* data_;
};

// This thread's buffer, or nullptr before its first log call.
extern constinit thread_local thread_buffer* t_buffer;

// Creates and registers this thread's buffer; nullptr when that is not
// possible (out of memory, the thread is exiting).
thread_buffer* attach_thread() noexcept;

// Slow path when the ring is full: waits (block policy) or drops and counts.
// nullptr when the record is not to be written.
char* reserve_slow(thread_buffer& b, std::size_t n) noexcept;

// Counts a line that cannot be enqueued at all (larger than half the ring).
void count_oversize(thread_buffer& b) noexcept;

}  // namespace keel::log::detail
