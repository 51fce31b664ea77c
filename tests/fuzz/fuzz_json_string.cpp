// Arbitrary bytes as a JSON string: the output is always valid UTF-8 and a
// valid JSON string (checked with nlohmann's strict parser).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "keel/core/json_writer.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view in(reinterpret_cast<const char*>(data), size);
  std::string out;
  keel::append_json_string(out, in);
  if (!keel::is_valid_utf8(out)) std::abort();
  if (!nlohmann::json::accept(out)) std::abort();
  if (keel::is_valid_utf8(in)) {
    // Valid input must survive unchanged through escaping and parsing.
    if (nlohmann::json::parse(out).get<std::string>() != in) std::abort();
  }
  return 0;
}
