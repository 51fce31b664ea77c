#include "keel/core/ids.hpp"

#include <algorithm>

#include "keel/core/random.hpp"

namespace keel {
namespace {

constexpr char kHex[] = "0123456789abcdef";

// One engine per thread, seeded from the OS: no shared state between threads.
std::uint64_t& thread_state() noexcept {
  thread_local std::uint64_t state = os_random_u64();
  return state;
}

void hex64(std::uint64_t v, char* out) noexcept {
  for (int i = 15; i >= 0; --i) {
    out[i] = kHex[v & 0xf];
    v >>= 4;
  }
}

constexpr bool is_id_char(char c) noexcept {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
         c == '_' || c == '-';
}

}  // namespace

void id128::to_hex(char* out) const noexcept {
  hex64(hi, out);
  hex64(lo, out + 16);
}

id128 new_id128() noexcept {
  std::uint64_t& s = thread_state();
  id128 id{wyrand_next(s), wyrand_next(s)};
  if (id.is_zero()) id.lo = 1;  // 2^-128; keeps "all zero means absent" true
  return id;
}

std::uint64_t new_id64() noexcept {
  std::uint64_t v = wyrand_next(thread_state());
  return v == 0 ? 1 : v;
}

bool request_id::is_valid(std::string_view s) noexcept {
  return !s.empty() && s.size() <= max_size && std::all_of(s.begin(), s.end(), is_id_char);
}

std::optional<request_id> request_id::parse(std::string_view s) noexcept {
  if (!is_valid(s)) return std::nullopt;
  request_id id;
  std::copy(s.begin(), s.end(), id.data_.begin());
  id.size_ = static_cast<std::uint8_t>(s.size());
  return id;
}

request_id new_request_id() noexcept {
  request_id id;
  new_id128().to_hex(id.data_.data());
  id.size_ = 32;
  return id;
}

request_id accept_request_id(std::string_view x_request_id,
                             std::string_view x_correlation_id) noexcept {
  if (auto id = request_id::parse(x_request_id)) return *id;
  if (auto id = request_id::parse(x_correlation_id)) return *id;
  return new_request_id();
}

}  // namespace keel
