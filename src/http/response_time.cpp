#include "keel/http/response_time.hpp"

#include <charconv>
#include <chrono>

namespace keel::http {

void response_time::after(exchange& ex) {
  const auto elapsed = ex.clock().steady_now() - ex.start();
  const auto us = std::chrono::duration_cast<std::chrono::microseconds>(elapsed).count();
  const auto whole = us < 0 ? 0 : us;
  // "<ms>.<3 digits>ms" without floating point.
  char buf[40];
  char* p = std::to_chars(buf, buf + 24, whole / 1000).ptr;
  *p++ = '.';
  const auto frac = whole % 1000;
  *p++ = static_cast<char>('0' + frac / 100);
  *p++ = static_cast<char>('0' + (frac / 10) % 10);
  *p++ = static_cast<char>('0' + frac % 10);
  *p++ = 'm';
  *p++ = 's';
  ex.res().set_header("X-Response-Time", std::string_view(buf, static_cast<std::size_t>(p - buf)));
}

}  // namespace keel::http
