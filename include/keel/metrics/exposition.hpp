// keel/metrics/exposition.hpp
//
// Renders collectors (a registry, usually) as Prometheus text format 0.0.4 or
// OpenMetrics 1.0, and picks between them from an HTTP Accept header.
//
//   auto [fmt, content_type] = keel::metrics::negotiate(request.header("Accept"));
//   std::string body = keel::metrics::expose(keel::metrics::registry::global(), fmt);
//   response.set("Content-Type", content_type);
//
// Both formats: HELP then TYPE before a family's samples; label values
// escaped (\\, \", \n); histograms as ascending `_bucket{le}` ending in
// `le="+Inf"` (equal to `_count`), then `_sum` and `_count`. Text 0.0.4 names
// a counter family `x_total`; OpenMetrics names it `x` with samples `x_total`,
// escapes `"` in HELP too, writes `le` in canonical form (`1.0`), and ends
// with `# EOF`. Numbers: integers as integers, others in shortest round-trip
// form, `+Inf`, `-Inf`, `NaN`.
//
// Thread safety: pure functions over collectors that are themselves safe.
// Cost: about 100 ns per series, no allocation beyond the output string
// (BM_Expose_10k).
#pragma once

#include <string>
#include <string_view>

#include "keel/metrics/collector.hpp"

namespace keel::metrics {

enum class format { prometheus_text_0_0_4, openmetrics_1_0 };

inline constexpr std::string_view kTextContentType = "text/plain; version=0.0.4; charset=utf-8";
inline constexpr std::string_view kOpenMetricsContentType =
    "application/openmetrics-text; version=1.0.0; charset=utf-8";

// negotiated
//
// The chosen format and the Content-Type to answer with.
struct negotiated {
  format fmt = format::prometheus_text_0_0_4;
  std::string_view content_type = kTextContentType;
};

// negotiate
//
// OpenMetrics when the Accept header lists application/openmetrics-text
// (version 1.0.0, 0.0.1 or none) with a q-value at least as high as any
// acceptable text/plain or wildcard entry; text 0.0.4 otherwise, including
// for an empty, malformed or over-long (> 4 KiB, the rest is ignored) header.
negotiated negotiate(std::string_view accept_header) noexcept;

// expose
//
// Appends the exposition of everything `c` collects to `out`.
void expose(const collector& c, format f, std::string& out);
std::string expose(const collector& c, format f = format::prometheus_text_0_0_4);

// Appends a sample value as both formats write it.
void append_number(std::string& out, double v);

}  // namespace keel::metrics
