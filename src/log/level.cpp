#include "keel/log/level.hpp"

#include <array>
#include <cctype>

namespace keel::log {

std::string_view to_string(level l) noexcept {
  static constexpr std::array<std::string_view, 7> names = {"trace", "debug",    "info", "warn",
                                                            "error", "critical", "off"};
  const auto i = static_cast<std::size_t>(l);
  return i < names.size() ? names[i] : std::string_view("off");
}

std::optional<level> parse_level(std::string_view s) noexcept {
  if (s.size() > 16) return std::nullopt;
  char buf[16];
  for (std::size_t i = 0; i < s.size(); ++i) {
    buf[i] = static_cast<char>(std::tolower(static_cast<unsigned char>(s[i])));
  }
  const std::string_view l(buf, s.size());
  if (l == "trace") return level::trace;
  if (l == "debug") return level::debug;
  if (l == "info") return level::info;
  if (l == "warn" || l == "warning") return level::warn;
  if (l == "error" || l == "err") return level::error;
  if (l == "critical" || l == "fatal") return level::critical;
  if (l == "off") return level::off;
  return std::nullopt;
}

}  // namespace keel::log
