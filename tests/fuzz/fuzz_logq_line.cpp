// `keel logq` reads hostile log lines: the scanner never crashes, never
// overruns the line, bounds its recursion, and agrees with a full JSON parser
// (nlohmann) on which lines are JSON objects and on the values it extracts.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "keel/core/json_writer.hpp"
#include "logq/json_scan.hpp"

namespace {

int depth_of(const nlohmann::json& j) {
  if (!j.is_structured()) return 0;
  int d = 0;
  for (const auto& v : j)
    d = std::max(d, depth_of(v));
  return d + 1;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  namespace lq = keel::cli::logq;
  // The line lives in its own allocation so ASan catches any read past it.
  const std::string line(reinterpret_cast<const char*>(data), size);
  static lq::field_set fields = [] {
    lq::field_set f;
    f.add("level");
    f.add("error.code");
    f.add("a.b");
    f.add("m");
    return f;
  }();
  constexpr int max_depth = 16;
  lq::line_scanner scan(fields, max_depth);
  const lq::scan_status st = scan.scan(line);

  if (!keel::is_valid_utf8(line)) return 0;  // nlohmann rejects what the scanner passes through
  if (line.find('\0') != std::string::npos) return 0;  // nlohmann stops at a NUL byte
  nlohmann::json j;
  bool object = false;
  try {
    j = nlohmann::json::parse(line);
    object = j.is_object();
  } catch (const nlohmann::json::out_of_range&) {
    return 0;  // a number beyond double: valid JSON grammar, refused by nlohmann
  } catch (const nlohmann::json::exception&) {
    object = false;
  }
  // RFC 8259's grammar allows a lone \uD800-\uDFFF escape, nlohmann refuses
  // it; the scanner follows the grammar (and decodes it to U+FFFD).
  const bool surrogate_escape =
      line.find("\\ud") != std::string::npos || line.find("\\uD") != std::string::npos;
  if (st == lq::scan_status::ok && !object && !surrogate_escape) std::abort();
  if (object && depth_of(j) <= max_depth && st != lq::scan_status::ok) std::abort();
  if (st != lq::scan_status::ok || !object) return 0;

  // A top-level string field decodes to what nlohmann reads. (Duplicate keys:
  // both keep the last one.)
  for (const char* key : {"level", "m"}) {
    const auto& v = scan.value(fields.add(key));
    const auto it = j.find(key);
    if ((it == j.end()) != (v.kind == lq::value_kind::missing)) std::abort();
    if (it != j.end() && it->is_string()) {
      if (v.kind != lq::value_kind::string) std::abort();
      std::string scratch;
      if (lq::decoded(v, scratch) != it->get<std::string>()) std::abort();
    }
  }
  return 0;
}
