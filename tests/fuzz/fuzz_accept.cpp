// Accept headers from scrapers: negotiate never crashes, always answers one
// of the two formats with its matching content type.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "keel/metrics/exposition.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view in(reinterpret_cast<const char*>(data), size);
  const auto n = keel::metrics::negotiate(in);
  const bool om = n.fmt == keel::metrics::format::openmetrics_1_0;
  if (om && n.content_type != keel::metrics::kOpenMetricsContentType) std::abort();
  if (!om && n.content_type != keel::metrics::kTextContentType) std::abort();
  return 0;
}
