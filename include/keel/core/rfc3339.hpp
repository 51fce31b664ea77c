// keel/core/rfc3339.hpp
//
// RFC 3339 timestamps in UTC with microseconds, the one timestamp format of
// keel's logs, problem+json bodies, health reports and events:
// "2026-11-23T06:43:08.123456Z".
//
//   char buf[keel::rfc3339_size];
//   keel::format_rfc3339(std::chrono::system_clock::now(), buf);
//   auto t = keel::parse_rfc3339("2026-11-23T07:43:08.5+01:00");  // any offset, any fraction
//
// Thread safety: pure functions.
#pragma once

#include <chrono>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace keel {

inline constexpr std::size_t rfc3339_size = 27;  // "YYYY-MM-DDTHH:MM:SS.uuuuuuZ"

// Writes exactly rfc3339_size characters (no terminator). Years outside
// 0000..9999 are clamped.
void format_rfc3339(std::chrono::system_clock::time_point t, char* out) noexcept;
std::string format_rfc3339(std::chrono::system_clock::time_point t);

// Parses "YYYY-MM-DDTHH:MM:SS[.fraction](Z|±HH:MM)" ('t'/'z'/' ' accepted as
// the spec allows); nullopt otherwise, and for an instant system_clock
// cannot hold (outside about 1678..2262 with 64-bit nanoseconds).
std::optional<std::chrono::system_clock::time_point> parse_rfc3339(std::string_view s) noexcept;

}  // namespace keel
