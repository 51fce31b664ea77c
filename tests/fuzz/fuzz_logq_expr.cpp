// `keel logq -w EXPR`: the expression parser never crashes, never recurses
// past its depth bound, and either yields an expression that evaluates on any
// line or an error that names a column inside (or just past) the input.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "logq/expr.hpp"
#include "logq/json_scan.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view in(reinterpret_cast<const char*>(data), size);
  keel::cli::logq::field_set fields;
  auto e = keel::cli::logq::expression::parse(in, fields);
  if (!e) {
    const auto& d = e.error().details();
    if (!d.contains("column")) std::abort();
    const auto column = d.at("column").get<std::size_t>();
    if (column < 1 || column > size + 1) std::abort();
    if (e.error().message().rfind("column ", 0) != 0) std::abort();
    return 0;
  }
  keel::cli::logq::line_scanner scan(fields);
  for (const std::string_view line :
       {std::string_view(R"({"level":"error","duration_ms":1500,"error":{"code":"X"},"m":"a\nb"})"),
        std::string_view(R"({"a":{"b":{"c":[1,{"d":null}]}},"level":"WARN","n":-1e3})"),
        std::string_view("{}")}) {
    if (scan.scan(line) != keel::cli::logq::scan_status::ok) std::abort();
    (void)e->matches(scan);
  }
  return 0;
}
