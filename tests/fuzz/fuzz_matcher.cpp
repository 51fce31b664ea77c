// Label matchers (silences, rules, routes): any text is refused or parses
// to a matcher whose printed form parses back to the same matcher.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "keel/alert/labels.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view in(reinterpret_cast<const char*>(data), size);
  auto m = keel::alert::parse_matcher(in);
  if (!m) return 0;
  auto again = keel::alert::parse_matcher(m->to_string());
  if (!again || again->name != m->name || again->kind != m->kind || again->value != m->value) {
    std::abort();
  }
  return 0;
}
