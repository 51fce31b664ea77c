// Timestamps from events and queries: parse never crashes, and a parsed
// instant formats to a canonical form that parses back to the same instant
// (to the microsecond).
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "keel/core/rfc3339.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view in(reinterpret_cast<const char*>(data), size);
  auto t = keel::parse_rfc3339(in);
  if (!t) return 0;
  using namespace std::chrono;
  const auto us = time_point_cast<microseconds>(*t);
  const std::string s = keel::format_rfc3339(us);
  auto back = keel::parse_rfc3339(s);
  const auto min = sys_days(year(0) / 1 / 1);
  const auto max = sys_days(year(10000) / 1 / 1);
  if (us >= min && us < max && (!back || time_point_cast<microseconds>(*back) != us)) std::abort();
  return 0;
}
