// traceparent headers from clients: parse never crashes, and whatever parses
// writes back as a valid traceparent that parses to the same value.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "keel/core/trace_context.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view in(reinterpret_cast<const char*>(data), size);
  auto tc = keel::trace_context::parse(in);
  if (!tc) return 0;
  if (!tc->is_valid()) std::abort();
  const std::string out = tc->traceparent();
  auto again = keel::trace_context::parse(out);
  if (!again || !(*again == *tc)) std::abort();
  return 0;
}
