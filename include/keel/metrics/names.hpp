// keel/metrics/names.hpp
//
// The naming rules of keel metrics, checked once at registration, and the
// label rendering every exposition shares.
//
//   keel::metrics::validate_metric_name("http_requests_total", metric_type::counter);  // ok
//   keel::metrics::validate_metric_name("latencyMs", metric_type::gauge);  // VALIDATION_ERROR
//   std::string out;
//   keel::metrics::render_labels({"path"}, {"/a\"b"}, out);   // path="/a\"b"
//
// The rules are the exposition grammar plus everything `promtool check
// metrics` lints, so that any registry's output passes promtool with no
// finding: snake_case names of [a-z0-9_] (no colons — they are for
// recording rules), no `__` prefix, no suffix that belongs to another type
// (`_total` is for counters; `_bucket`, `_count`, `_sum` for histograms;
// `_created` for none), no type name inside the name, base units only
// (`_seconds`, not `_milliseconds` or `_ms`), a non-empty HELP text. Label
// names are [a-zA-Z_][a-zA-Z0-9_]*, not `__`-prefixed and not the reserved
// `le` / `quantile`. Label values may be any text: invalid UTF-8 becomes
// U+FFFD and quotes, backslashes and newlines are escaped.
//
// Thread safety: pure functions.
// Cost: validation is linear in the name; only registration pays it.
#pragma once

#include <cstddef>
#include <span>
#include <string>
#include <string_view>

#include "keel/core/result.hpp"
#include "keel/metrics/collector.hpp"

namespace keel::metrics {

// Limits on what registration and child lookup accept.
inline constexpr std::size_t kMaxNameBytes = 200;
inline constexpr std::size_t kMaxHelpBytes = 4096;
inline constexpr std::size_t kMaxLabels = 16;
inline constexpr std::size_t kMaxLabelValueBytes = 1024;

// validate_metric_name
//
// VALIDATION_ERROR (with details "name" and "reason") unless `name` is a
// valid name for a family of type `t`. A counter name may end in `_total`.
result<void> validate_metric_name(std::string_view name, metric_type t);

// validate_label_name
//
// VALIDATION_ERROR unless `name` is a valid, unreserved label name.
result<void> validate_label_name(std::string_view name);

// validate_help
//
// VALIDATION_ERROR for an empty or over-long HELP text.
result<void> validate_help(std::string_view help);

// render_labels
//
// Appends `n1="v1",n2="v2"` (no braces) to `out`, escaping values for both
// exposition formats. `names` and `values` must have the same size.
void render_labels(std::span<const std::string> names, std::span<const std::string_view> values,
                   std::string& out);
void render_labels(std::initializer_list<std::string_view> names,
                   std::initializer_list<std::string_view> values, std::string& out);

// Appends a label value with `\`, `"` and newline escaped and invalid UTF-8
// replaced by U+FFFD.
void append_label_value(std::string_view v, std::string& out);

}  // namespace keel::metrics
