// keel/config/duration.hpp
//
// Durations as keel's configuration writes them, Prometheus style: "0",
// "500ms", "30s", "5m", "1h30m", "2d", "1w" (units ms, s, m, h, d, w;
// concatenated from the largest).
//
//   auto d = keel::config::parse_duration("1h30m");   // 5'400'000 ms
//
// Thread safety: a pure function. Cost: one pass, no allocation.
#pragma once

#include <chrono>
#include <optional>
#include <string_view>

namespace keel::config {

// nullopt for anything else, or a value that would overflow.
std::optional<std::chrono::milliseconds> parse_duration(std::string_view s) noexcept;

}  // namespace keel::config
