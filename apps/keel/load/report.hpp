// apps/keel/load/report.hpp
//
// The end-of-run summary of `keel load`: the seed's figures (total,
// successful, failed, success rate, duration, requests/s), latency
// percentiles p50/p90/p99/p99.9/max, status-code counts and a per-endpoint
// breakdown — as text for people or as one JSON object (`--json`).
//
//   fmt::print("{}", render_text(report));
//   fmt::print("{}\n", render_json(report));
//
// Thread safety: pure functions.
#pragma once

#include <string>

#include "load/engine.hpp"

namespace keel::cli::load {

std::string render_text(const load_report& r);
std::string render_json(const load_report& r);
// "1.23ms", "850us", "2.10s": a duration in the unit that reads best.
std::string format_ns(std::uint64_t ns);

}  // namespace keel::cli::load
