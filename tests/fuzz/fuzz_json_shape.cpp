// keel::json_shape_problem against nlohmann's SAX parser: for every valid
// JSON text, the scan refuses it exactly when its nesting, an array's items
// or an object's members (as written, duplicates included) break the
// limits; for any bytes it neither crashes nor reads out of bounds.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "keel/core/json_shape.hpp"

namespace {

constexpr keel::json_shape_limits kLimits{
    .max_depth = 4, .max_array_items = 3, .max_object_members = 3, .max_values = 0};

// The shape as the parser sees it.
struct shape_of final : nlohmann::json_sax<nlohmann::json> {
  struct level {
    bool object;
    std::size_t items = 0;
  };
  std::vector<level> open;
  bool broken = false;

  void item() {
    if (!open.empty() && !open.back().object && ++open.back().items > kLimits.max_array_items)
      broken = true;
  }
  bool start(bool object) {
    item();
    open.push_back({object});
    if (open.size() > kLimits.max_depth) broken = true;
    return true;
  }
  bool null() override { return item(), true; }
  bool boolean(bool) override { return item(), true; }
  bool number_integer(number_integer_t) override { return item(), true; }
  bool number_unsigned(number_unsigned_t) override { return item(), true; }
  bool number_float(number_float_t, const string_t&) override { return item(), true; }
  bool string(string_t&) override { return item(), true; }
  bool binary(binary_t&) override { return item(), true; }
  bool start_object(std::size_t) override { return start(true); }
  bool key(string_t&) override {
    if (++open.back().items > kLimits.max_object_members) broken = true;
    return true;
  }
  bool end_object() override { return open.pop_back(), true; }
  bool start_array(std::size_t) override { return start(false); }
  bool end_array() override { return open.pop_back(), true; }
  bool parse_error(std::size_t, const std::string&, const nlohmann::detail::exception&) override {
    return false;
  }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view in(reinterpret_cast<const char*>(data), size);
  const std::string problem = keel::json_shape_problem(in, kLimits);
  // nlohmann ends its input at a NUL byte; JSON text holds none outside
  // strings, where it must be escaped, so such input is not JSON anyway.
  if (in.find('\0') != std::string_view::npos) return 0;
  shape_of parsed;
  if (!nlohmann::json::sax_parse(in, &parsed)) return 0;  // not JSON: the scan's verdict is moot
  if (parsed.broken != !problem.empty()) std::abort();
  return 0;
}
