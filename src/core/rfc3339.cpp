#include "keel/core/rfc3339.hpp"

#include <cstdint>

namespace keel {
namespace {

// Howard Hinnant's days_from_civil / civil_from_days: exact for the
// proleptic Gregorian calendar, no tables, no locale, no tz database.
struct civil {
  int y;
  unsigned m;
  unsigned d;
};

civil civil_from_days(std::int64_t z) noexcept {
  z += 719468;
  const std::int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const auto doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const std::int64_t y = static_cast<std::int64_t>(yoe) + era * 400;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  const unsigned d = doy - (153 * mp + 2) / 5 + 1;
  const unsigned m = mp < 10 ? mp + 3 : mp - 9;
  return {static_cast<int>(y + (m <= 2)), m, d};
}

std::int64_t days_from_civil(int y, unsigned m, unsigned d) noexcept {
  y -= m <= 2;
  const std::int64_t era = (y >= 0 ? y : y - 399) / 400;
  const auto yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<std::int64_t>(doe) - 719468;
}

void put2(char* p, unsigned v) noexcept {
  p[0] = static_cast<char>('0' + v / 10);
  p[1] = static_cast<char>('0' + v % 10);
}

bool digits(std::string_view s, std::size_t pos, std::size_t n, int& out) noexcept {
  if (pos + n > s.size()) return false;
  out = 0;
  for (std::size_t i = pos; i < pos + n; ++i) {
    if (s[i] < '0' || s[i] > '9') return false;
    out = out * 10 + (s[i] - '0');
  }
  return true;
}

}  // namespace

void format_rfc3339(std::chrono::system_clock::time_point t, char* out) noexcept {
  using namespace std::chrono;
  std::int64_t us = duration_cast<microseconds>(t.time_since_epoch()).count();
  constexpr std::int64_t kMin = -62167219200LL * 1000000;  // 0000-01-01
  constexpr std::int64_t kMax = 253402300799999999LL;      // 9999-12-31T23:59:59.999999
  us = us < kMin ? kMin : (us > kMax ? kMax : us);
  std::int64_t secs = us / 1000000;
  std::int64_t frac = us % 1000000;
  if (frac < 0) {
    frac += 1000000;
    --secs;
  }
  std::int64_t days = secs / 86400;
  std::int64_t sod = secs % 86400;
  if (sod < 0) {
    sod += 86400;
    --days;
  }
  const civil c = civil_from_days(days);
  const auto y = static_cast<unsigned>(c.y);
  put2(out, y / 100);
  put2(out + 2, y % 100);
  out[4] = '-';
  put2(out + 5, c.m);
  out[7] = '-';
  put2(out + 8, c.d);
  out[10] = 'T';
  put2(out + 11, static_cast<unsigned>(sod / 3600));
  out[13] = ':';
  put2(out + 14, static_cast<unsigned>(sod / 60 % 60));
  out[16] = ':';
  put2(out + 17, static_cast<unsigned>(sod % 60));
  out[19] = '.';
  auto f = static_cast<unsigned>(frac);
  for (int i = 25; i >= 20; --i) {
    out[i] = static_cast<char>('0' + f % 10);
    f /= 10;
  }
  out[26] = 'Z';
}

std::string format_rfc3339(std::chrono::system_clock::time_point t) {
  std::string s(rfc3339_size, '\0');
  format_rfc3339(t, s.data());
  return s;
}

std::optional<std::chrono::system_clock::time_point> parse_rfc3339(std::string_view s) noexcept {
  int y = 0, mo = 0, d = 0, h = 0, mi = 0, sec = 0;
  if (!digits(s, 0, 4, y) || s.size() < 19 || s[4] != '-' || !digits(s, 5, 2, mo) || s[7] != '-' ||
      !digits(s, 8, 2, d) || (s[10] != 'T' && s[10] != 't' && s[10] != ' ') ||
      !digits(s, 11, 2, h) || s[13] != ':' || !digits(s, 14, 2, mi) || s[16] != ':' ||
      !digits(s, 17, 2, sec)) {
    return std::nullopt;
  }
  static constexpr int kDays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  if (mo < 1 || mo > 12 || d < 1 || d > kDays[mo - 1] || h > 23 || mi > 59 || sec > 60) {
    return std::nullopt;
  }
  const bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
  if (mo == 2 && d == 29 && !leap) return std::nullopt;
  if (sec == 60) sec = 59;  // leap second: the instant before is close enough
  std::size_t i = 19;
  std::int64_t frac_ns = 0;
  if (i < s.size() && s[i] == '.') {
    ++i;
    std::int64_t scale = 100000000;
    const std::size_t start = i;
    while (i < s.size() && s[i] >= '0' && s[i] <= '9') {
      frac_ns += (s[i] - '0') * scale;
      scale /= 10;
      ++i;
    }
    if (i == start || i - start > 18) return std::nullopt;
  }
  std::int64_t offset_s = 0;
  if (i < s.size() && (s[i] == 'Z' || s[i] == 'z')) {
    ++i;
  } else if (i < s.size() && (s[i] == '+' || s[i] == '-')) {
    int oh = 0, om = 0;
    if (!digits(s, i + 1, 2, oh) || i + 3 >= s.size() || s[i + 3] != ':' ||
        !digits(s, i + 4, 2, om) || oh > 23 || om > 59) {
      return std::nullopt;
    }
    offset_s = (s[i] == '+' ? 1 : -1) * (std::int64_t{oh} * 3600 + std::int64_t{om} * 60);
    i += 6;
  } else {
    return std::nullopt;
  }
  if (i != s.size()) return std::nullopt;
  const std::int64_t days = days_from_civil(y, static_cast<unsigned>(mo), static_cast<unsigned>(d));
  const std::int64_t secs =
      days * 86400 + std::int64_t{h} * 3600 + std::int64_t{mi} * 60 + sec - offset_s;
  // system_clock counts nanoseconds in 64 bits (years 1678..2262): an
  // instant outside that cannot be represented and is refused, not wrapped.
  constexpr std::int64_t kMaxSecs =
      std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::duration::max())
          .count() -
      1;
  if (secs > kMaxSecs || secs < -kMaxSecs) return std::nullopt;
  return std::chrono::system_clock::time_point(
      std::chrono::duration_cast<std::chrono::system_clock::duration>(
          std::chrono::seconds(secs) + std::chrono::nanoseconds(frac_ns)));
}

}  // namespace keel
