// keel/core/ids.hpp
//
// Identifiers for requests and traces: generated fast and unique across
// threads, and validated when they come from outside.
//
//   keel::request_id id = keel::new_request_id();        // 32 lowercase hex chars
//   std::string_view s = id.view();
//   auto incoming = keel::request_id::parse(header);      // nullopt unless 1–128 of [A-Za-z0-9._-]
//   keel::request_id chosen = keel::accept_request_id(x_request_id, x_correlation_id);
//
// Generation draws 128 bits from a per-thread wyrand engine seeded from the
// OS: no lock, no shared cache line, no allocation; about 10 ns an id
// (bench/bench_core.cpp, BM_NewRequestId). Two ids collide with probability
// about n²/2¹²⁹ for n ids — never, in practice.
//
// Thread safety: every function may be called from any thread.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace keel {

// A 128-bit identifier (trace ids, request ids).
struct id128 {
  std::uint64_t hi = 0;
  std::uint64_t lo = 0;

  bool is_zero() const noexcept { return hi == 0 && lo == 0; }
  // 32 lowercase hex characters into `out`.
  void to_hex(char* out) const noexcept;
  friend bool operator==(const id128&, const id128&) = default;
};

// A fresh random id, never all-zero.
id128 new_id128() noexcept;
// A fresh random 64-bit id, never zero (span ids).
std::uint64_t new_id64() noexcept;

// request_id
//
// A validated request id held inline (no allocation): 1–128 characters of
// [A-Za-z0-9._-], so it is safe to echo in a header, a log line or a path.
class request_id {
 public:
  static constexpr std::size_t max_size = 128;

  request_id() noexcept = default;  // empty: "no id"

  // nullopt unless `s` is 1–128 characters of [A-Za-z0-9._-].
  static std::optional<request_id> parse(std::string_view s) noexcept;
  static bool is_valid(std::string_view s) noexcept;

  std::string_view view() const noexcept { return {data_.data(), size_}; }
  std::string str() const { return std::string(view()); }
  bool empty() const noexcept { return size_ == 0; }
  std::size_t size() const noexcept { return size_; }

  friend bool operator==(const request_id& a, const request_id& b) noexcept {
    return a.view() == b.view();
  }

 private:
  friend request_id new_request_id() noexcept;
  std::array<char, max_size> data_{};
  std::uint8_t size_ = 0;
};

// A fresh id: 32 lowercase hex characters.
request_id new_request_id() noexcept;

// The id to use for an incoming request: X-Request-ID if valid, else
// X-Correlation-ID if valid, else a fresh one. An invalid value is dropped
// and never echoed.
request_id accept_request_id(std::string_view x_request_id,
                             std::string_view x_correlation_id = {}) noexcept;

}  // namespace keel
