// SHA-256 and HMAC-SHA256 over OpenSSL, for fingerprints, the audit hash
// chain and webhook signatures. Private to keel::alert.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

namespace keel::alert::internal {

using digest = std::array<std::uint8_t, 32>;

digest sha256(std::string_view data) noexcept;
digest hmac_sha256(std::string_view key, std::string_view data) noexcept;
std::string to_hex(const std::uint8_t* p, std::size_t n);
inline std::string to_hex(const digest& d) { return to_hex(d.data(), d.size()); }

}  // namespace keel::alert::internal
