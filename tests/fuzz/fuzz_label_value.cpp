// Label values from outside input (paths, user agents, tenant names): the
// escaped form is valid UTF-8, has no raw newline, and every quote in it is
// escaped, so a value can never end the label or the line it is written in.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "keel/core/json_writer.hpp"
#include "keel/metrics/names.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view in(reinterpret_cast<const char*>(data), size);
  std::string out;
  keel::metrics::append_label_value(in, out);
  if (!keel::is_valid_utf8(out)) std::abort();
  bool escaped = false;
  for (char c : out) {
    if (c == '\n') std::abort();
    if (escaped) {
      if (c != '\\' && c != '"' && c != 'n') std::abort();
      escaped = false;
    } else if (c == '\\') {
      escaped = true;
    } else if (c == '"') {
      std::abort();
    }
  }
  if (escaped) std::abort();
  // Valid UTF-8 without the three escaped characters passes through unchanged.
  if (keel::is_valid_utf8(in) && in.find_first_of("\\\"\n") == std::string_view::npos &&
      out != in) {
    std::abort();
  }
  return 0;
}
