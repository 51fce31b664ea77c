// Timestamps as the store keeps them: int64 nanoseconds since the Unix
// epoch (SQLite's INTEGER, and the JSON of saved state).
#pragma once

#include <chrono>
#include <cstdint>

namespace keel::alert::internal {

inline std::int64_t to_ns(std::chrono::system_clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch()).count();
}

inline std::chrono::system_clock::time_point from_ns(std::int64_t ns) {
  return std::chrono::system_clock::time_point(
      std::chrono::duration_cast<std::chrono::system_clock::duration>(
          std::chrono::nanoseconds(ns)));
}

}  // namespace keel::alert::internal
