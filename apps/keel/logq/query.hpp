// apps/keel/logq/query.hpp
//
// `keel logq` as a library: options, the per-line filter (scanner +
// expression + time range + request id) and the runner that reads inputs and
// writes the chosen output (raw lines, a table of fields, JSON objects of
// fields, or counts grouped by fields).
//
//   keel::cli::logq::query_options o{.inputs = {"app.log"}, .expression = "level >= error"};
//   std::string out;
//   auto stats = keel::cli::logq::run_query(o, [&](std::string_view s) { out += s; }, stop);
//
// Malformed lines (not one JSON object, nesting too deep, longer than the
// bound) are counted in query_stats and skipped; an unreadable or corrupt
// input is reported in stats.input_errors and the others are still read.
//
// Thread safety: none; run one query per thread.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "keel/core/clock.hpp"
#include "keel/core/result.hpp"
#include "logq/expr.hpp"
#include "logq/json_scan.hpp"

namespace keel::cli::logq {

using system_time = std::chrono::system_clock::time_point;

struct query_options {
  std::vector<std::string> inputs{};  // empty or "-": stdin
  std::string expression{};
  std::optional<system_time> since{};
  std::optional<system_time> until{};
  std::string request_id{};             // every line of this request, in time order
  std::vector<std::string> fields{};    // table (or JSON objects with `json`) of these fields
  std::vector<std::string> count_by{};  // counts grouped by these fields
  bool json = false;
  bool color = false;
  bool follow = false;
  bool rotated = false;  // also read each input's rotated siblings, oldest first
  std::string time_field = "timestamp";
  std::string level_field = "level";
  std::string request_field = "request_id";
  std::size_t max_line_bytes = 1 << 20;
  int max_depth = 64;
  std::uint64_t limit = 0;  // stop after this many matches; 0: no limit
  std::chrono::milliseconds poll_interval{200};
};

struct query_stats {
  std::uint64_t lines = 0;
  std::uint64_t matched = 0;
  std::uint64_t malformed = 0;  // not a JSON object, or nested deeper than the bound
  std::uint64_t oversized = 0;  // longer than max_line_bytes
  std::vector<std::string> input_errors{};
};

// "500ms", "30s", "15m", "1h30m", "7d", "2w" (units ms s m h d w, summed).
result<std::chrono::nanoseconds> parse_duration(std::string_view s);

// "15m", "1h30m", "500ms", "7d", "2w", "now" (before `now`) or an RFC 3339
// timestamp.
result<system_time> parse_time_arg(std::string_view s, system_time now);

// line_filter
//
// Decides per line; the fields it needs are extracted in one scan.
class line_filter {
 public:
  static result<line_filter> create(const query_options& o);

  // Scans `line` and says whether it passes; counts it in `stats`.
  bool accept(std::string_view line, query_stats& stats);

  const line_scanner& scanner() const noexcept { return scanner_; }
  std::size_t time_slot() const noexcept { return time_slot_; }
  std::size_t level_slot() const noexcept { return level_slot_; }
  const std::vector<std::size_t>& field_slots() const noexcept { return field_slots_; }
  const std::vector<std::size_t>& count_slots() const noexcept { return count_slots_; }

  line_filter(line_filter&&) noexcept;
  line_filter& operator=(line_filter&&) = delete;
  ~line_filter();

 private:
  line_filter(std::unique_ptr<field_set> fields, expression e, const query_options& o);
  std::unique_ptr<field_set> fields_;
  expression expr_;
  line_scanner scanner_;
  std::size_t time_slot_ = 0;
  std::size_t level_slot_ = 0;
  std::size_t request_slot_ = 0;
  std::vector<std::size_t> field_slots_{};
  std::vector<std::size_t> count_slots_{};
  std::string request_id_{};
  std::optional<system_time> since_{};
  std::optional<system_time> until_{};
  std::string scratch_{};
};

// Runs the query, writing output through `write` in chunks. Stops at the end
// of the inputs, or (with follow) when `stop` becomes true.
result<query_stats> run_query(const query_options& o,
                              const std::function<void(std::string_view)>& write,
                              const std::atomic<bool>& stop,
                              const keel::clock& clk = keel::clock::real());

}  // namespace keel::cli::logq
