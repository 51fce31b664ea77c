// X-Request-ID / X-Correlation-ID from clients: the accepted id is always
// safe to echo (1–128 of [A-Za-z0-9._-]) and is the input only if the input was.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "keel/core/ids.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view in(reinterpret_cast<const char*>(data), size);
  const std::size_t cut = size == 0 ? 0 : data[0] % (size + 1);
  const keel::request_id id = keel::accept_request_id(in.substr(0, cut), in.substr(cut));
  if (!keel::request_id::is_valid(id.view())) std::abort();
  const bool first_ok = keel::request_id::is_valid(in.substr(0, cut));
  if (first_ok && id.view() != in.substr(0, cut)) std::abort();
  return 0;
}
