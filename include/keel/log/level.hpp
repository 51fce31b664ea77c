// keel/log/level.hpp
//
// The six severities of a log line, lowest first, plus `off` to silence a
// logger. Names are the lower-case words that appear in the "level" field of
// every JSON line: trace, debug, info, warn, error, critical.
//
//   keel::log::level l = keel::log::parse_level("WARNING").value();  // warn
//   keel::log::to_string(l);                                         // "warn"
//
// Thread safety: pure functions.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

namespace keel::log {

// level
//
// warn and above are never sampled out (sampling.hpp).
enum class level : std::uint8_t { trace, debug, info, warn, error, critical, off };

inline constexpr int level_count = 6;  // trace..critical

// "trace" ... "critical", "off".
std::string_view to_string(level l) noexcept;

// Accepts the names above in any case, and the aliases "warning", "fatal"
// (critical) and "err"; nullopt otherwise.
std::optional<level> parse_level(std::string_view s) noexcept;

}  // namespace keel::log
