#include "logq/query.hpp"

#include <algorithm>
#include <charconv>
#include <unordered_map>

#include <fmt/format.h>

#include "keel/core/json_writer.hpp"
#include "keel/core/rfc3339.hpp"
#include "logq/line_reader.hpp"

namespace keel::cli::logq {

result<std::chrono::nanoseconds> parse_duration(std::string_view s) {
  if (s.empty() || s.size() > 64) {
    return fail(codes::validation_error,
                fmt::format("invalid duration '{}': expected e.g. 500ms, 30s, 15m, 2h, 7d", s));
  }
  std::chrono::nanoseconds total{0};
  std::size_t i = 0;
  while (i < s.size()) {
    std::uint64_t n = 0;
    const auto [ptr, ec] = std::from_chars(s.data() + i, s.data() + s.size(), n);
    if (ec != std::errc() || n > 1'000'000'000) {
      return fail(codes::validation_error,
                  fmt::format("invalid duration '{}': expected e.g. 500ms, 30s, 15m, 2h, 7d", s));
    }
    i = static_cast<std::size_t>(ptr - s.data());
    std::size_t j = i;
    while (j < s.size() && s[j] >= 'a' && s[j] <= 'z')
      ++j;
    const std::string_view unit = s.substr(i, j - i);
    using namespace std::chrono;
    const auto count = static_cast<std::int64_t>(n);
    if (unit == "ms")
      total += milliseconds(count);
    else if (unit == "s")
      total += seconds(count);
    else if (unit == "m")
      total += minutes(count);
    else if (unit == "h")
      total += hours(count);
    else if (unit == "d")
      total += hours(24 * count);
    else if (unit == "w")
      total += hours(24 * 7 * count);
    else {
      return fail(
          codes::validation_error,
          fmt::format("invalid duration '{}': unknown unit '{}' (ms, s, m, h, d, w)", s, unit));
    }
    if (total > std::chrono::hours(24 * 365 * 100)) {
      return fail(codes::validation_error, fmt::format("duration '{}' is too long", s));
    }
    i = j;
  }
  return total;
}

result<system_time> parse_time_arg(std::string_view s, system_time now) {
  if (s == "now") return now;
  if (auto t = parse_rfc3339(s)) return *t;
  auto d = parse_duration(s);
  if (!d) {
    return fail(codes::validation_error,
                fmt::format("invalid time '{}': expected RFC 3339 (2026-11-23T06:00:00Z) or a "
                            "duration ago like 15m, 2h, 7d",
                            s));
  }
  return now - std::chrono::duration_cast<system_time::duration>(*d);
}

line_filter::line_filter(std::unique_ptr<field_set> fields, expression e, const query_options& o)
    : fields_(std::move(fields)),
      expr_(std::move(e)),
      scanner_(*fields_, o.max_depth),
      request_id_(o.request_id),
      since_(o.since),
      until_(o.until) {
  time_slot_ = fields_->add(o.time_field);
  level_slot_ = fields_->add(o.level_field);
  request_slot_ = fields_->add(o.request_field);
  for (const auto& f : o.fields)
    field_slots_.push_back(fields_->add(f));
  for (const auto& f : o.count_by)
    count_slots_.push_back(fields_->add(f));
}

line_filter::line_filter(line_filter&&) noexcept = default;
line_filter::~line_filter() = default;

namespace {

result<void> check_field_name(std::string_view f, std::string_view what) {
  if (f.empty() || f.size() > 256 || f.front() == '.' || f.back() == '.' ||
      f.find("..") != std::string_view::npos) {
    return fail(codes::validation_error, fmt::format("invalid {} field name '{}'", what, f));
  }
  return ok();
}

}  // namespace

result<line_filter> line_filter::create(const query_options& o) {
  auto fields = std::make_unique<field_set>();
  // Output fields are added before the scanner is built (it sizes its slots
  // once), so they are validated and registered here.
  for (const auto& f : o.fields) {
    if (auto r = check_field_name(f, "--fields"); !r) return fail(r.error());
    fields->add(f);
  }
  for (const auto& f : o.count_by) {
    if (auto r = check_field_name(f, "--count-by"); !r) return fail(r.error());
    fields->add(f);
  }
  for (const auto* f : {&o.time_field, &o.level_field, &o.request_field}) {
    if (auto r = check_field_name(*f, "key"); !r) return fail(r.error());
  }
  if (o.fields.size() + o.count_by.size() > 64) {
    return fail(codes::validation_error, "at most 64 fields in --fields and --count-by");
  }
  if (!o.request_id.empty() && o.request_id.size() > 256) {
    return fail(codes::validation_error, "--request id longer than 256 bytes");
  }
  auto e = expression::parse(o.expression, *fields, o.level_field);
  if (!e) return fail(e.error());
  // Every field is registered before the scanner sizes its slots.
  fields->add(o.time_field);
  fields->add(o.level_field);
  fields->add(o.request_field);
  return line_filter(std::move(fields), std::move(*e), o);
}

bool line_filter::accept(std::string_view line, query_stats& stats) {
  ++stats.lines;
  if (scanner_.scan(line) != scan_status::ok) {
    ++stats.malformed;
    return false;
  }
  if (!request_id_.empty()) {
    const field_value& v = scanner_.value(request_slot_);
    if (v.kind != value_kind::string || decoded(v, scratch_) != request_id_) return false;
  }
  if (since_ || until_) {
    const field_value& v = scanner_.value(time_slot_);
    if (v.kind != value_kind::string) return false;
    const auto t = parse_rfc3339(decoded(v, scratch_));
    if (!t) return false;
    if (since_ && *t < *since_) return false;
    if (until_ && *t >= *until_) return false;
  }
  return expr_.matches(scanner_);
}

namespace {

constexpr std::string_view kReset = "\x1b[0m";

std::string_view level_colour(const line_scanner& s, std::size_t slot, std::string& scratch) {
  const field_value& v = s.value(slot);
  if (v.kind != value_kind::string) return {};
  const int r = level_rank(decoded(v, scratch));
  if (r >= 4) return "\x1b[31m";
  if (r == 3) return "\x1b[33m";
  if (r >= 0 && r <= 1) return "\x1b[2m";
  return {};
}

// Cell text safe for a terminal: control bytes shown as \xNN (an escape
// sequence hidden in a log line must not drive the operator's terminal).
void append_cell(std::string& out, const field_value& v, std::string& scratch) {
  if (v.kind == value_kind::missing) {
    out += '-';
    return;
  }
  const std::string_view text = decoded(v, scratch);
  constexpr std::size_t max_cell = 512;
  const std::size_t n = std::min(text.size(), max_cell);
  for (std::size_t i = 0; i < n; ++i) {
    const auto c = static_cast<unsigned char>(text[i]);
    if (c < 0x20 || c == 0x7f) {
      fmt::format_to(std::back_inserter(out), "\\x{:02x}", c);
    } else {
      out.push_back(static_cast<char>(c));
    }
  }
  if (text.size() > max_cell) out += "...";
}

// JSON text of a value: strings re-quoted (their escapes are already valid).
void append_json_value(std::string& out, const field_value& v) {
  switch (v.kind) {
    case value_kind::missing:
      out += "null";
      break;
    case value_kind::string:
      out += '"';
      out += v.raw;
      out += '"';
      break;
    default:
      out += v.raw;
      break;
  }
}

std::size_t display_width(std::string_view s) {
  std::size_t w = 0;
  for (const char c : s)
    w += (static_cast<unsigned char>(c) & 0xc0) != 0x80 ? 1 : 0;
  return w;
}

class output {
 public:
  output(const query_options& o, const std::function<void(std::string_view)>& write)
      : o_(o), write_(write) {
    if (!o.count_by.empty())
      mode_ = mode::counts;
    else if (!o.fields.empty())
      mode_ = o.json ? mode::json_fields : mode::table;
    table_buffer_ = o.follow ? 0 : 1000;
  }

  void add(const line_filter& f) {
    const line_scanner& s = f.scanner();
    switch (mode_) {
      case mode::raw: {
        const std::string_view colour = o_.color ? level_colour(s, f.level_slot(), scratch_) : "";
        buf_ += colour;
        buf_ += current_line_;
        if (!colour.empty()) buf_ += kReset;
        buf_ += '\n';
        break;
      }
      case mode::json_fields: {
        buf_ += '{';
        for (std::size_t i = 0; i < o_.fields.size(); ++i) {
          if (i) buf_ += ',';
          append_json_string(buf_, o_.fields[i]);
          buf_ += ':';
          append_json_value(buf_, s.value(f.field_slots()[i]));
        }
        buf_ += "}\n";
        break;
      }
      case mode::table: {
        std::vector<std::string> row;
        row.reserve(o_.fields.size());
        for (const std::size_t slot : f.field_slots()) {
          std::string cell;
          append_cell(cell, s.value(slot), scratch_);
          row.push_back(std::move(cell));
        }
        const std::string_view colour = o_.color ? level_colour(s, f.level_slot(), scratch_) : "";
        if (!widths_ready_) {
          pending_.push_back({std::move(row), std::string(colour)});
          if (pending_.size() > table_buffer_) settle_widths();
        } else {
          append_row(row, colour);
        }
        break;
      }
      case mode::counts: {
        key_.clear();
        for (const std::size_t slot : f.count_slots()) {
          const field_value& v = s.value(slot);
          key_ += v.kind == value_kind::missing ? 'm' : (v.kind == value_kind::string ? 's' : 'r');
          key_ += decoded(v, scratch_);
          key_ += '\x1f';
        }
        if (auto it = counts_.find(key_); it != counts_.end()) {
          ++it->second;
        } else if (counts_.size() < max_groups) {
          counts_.emplace(key_, 1);
        } else {
          ++dropped_groups_;
        }
        break;
      }
    }
    if (buf_.size() >= 64 * 1024 || o_.follow) flush();
  }

  void set_line(std::string_view line) { current_line_ = line; }

  void finish() {
    if (mode_ == mode::table && !widths_ready_) settle_widths();
    if (mode_ == mode::counts) render_counts();
    flush();
  }

  void flush() {
    if (!buf_.empty()) {
      write_(buf_);
      buf_.clear();
    }
  }

 private:
  enum class mode { raw, table, json_fields, counts };
  static constexpr std::size_t max_groups = 1'000'000;

  void settle_widths() {
    widths_.assign(o_.fields.size(), 0);
    for (std::size_t i = 0; i < o_.fields.size(); ++i)
      widths_[i] = display_width(o_.fields[i]);
    for (const auto& r : pending_) {
      for (std::size_t i = 0; i < r.cells.size(); ++i)
        widths_[i] = std::max(widths_[i], display_width(r.cells[i]));
    }
    if (o_.follow) {
      for (auto& w : widths_)
        w = std::max<std::size_t>(w, 12);
    }
    for (auto& w : widths_)
      w = std::min<std::size_t>(w, 64);
    widths_ready_ = true;
    if (o_.color) buf_ += "\x1b[1m";
    append_row(o_.fields, {});
    if (o_.color) {
      buf_.pop_back();
      buf_ += kReset;
      buf_ += '\n';
    }
    for (const auto& r : pending_)
      append_row(r.cells, r.colour);
    pending_.clear();
  }

  void append_row(const std::vector<std::string>& cells, std::string_view colour) {
    buf_ += colour;
    for (std::size_t i = 0; i < cells.size(); ++i) {
      buf_ += cells[i];
      if (i + 1 < cells.size()) {
        const std::size_t w = display_width(cells[i]);
        buf_.append(w < widths_[i] ? widths_[i] - w + 2 : 2, ' ');
      }
    }
    if (!colour.empty()) buf_ += kReset;
    buf_ += '\n';
  }

  void render_counts() {
    std::vector<std::pair<std::string_view, std::uint64_t>> rows(counts_.begin(), counts_.end());
    std::sort(rows.begin(), rows.end(), [](const auto& a, const auto& b) {
      return a.second != b.second ? a.second > b.second : a.first < b.first;
    });
    auto split = [](std::string_view key) {
      std::vector<std::pair<char, std::string_view>> parts;
      std::size_t i = 0;
      while (i < key.size()) {
        const std::size_t end = key.find('\x1f', i);
        parts.emplace_back(key[i], key.substr(i + 1, end - i - 1));
        i = end + 1;
      }
      return parts;
    };
    if (o_.json) {
      for (const auto& [key, n] : rows) {
        const auto parts = split(key);
        buf_ += '{';
        for (std::size_t i = 0; i < parts.size(); ++i) {
          append_json_string(buf_, o_.count_by[i]);
          buf_ += ':';
          if (parts[i].first == 'm')
            buf_ += "null";
          else if (parts[i].first == 's')
            append_json_string(buf_, parts[i].second);
          else
            buf_ += parts[i].second;
          buf_ += ',';
        }
        fmt::format_to(std::back_inserter(buf_), "\"count\":{}}}\n", n);
        if (buf_.size() >= 64 * 1024) flush();
      }
    } else {
      std::vector<std::string> header = o_.count_by;
      header.push_back("count");
      std::vector<std::vector<std::string>> table;
      for (const auto& [key, n] : rows) {
        std::vector<std::string> row;
        for (const auto& [kind, text] : split(key)) {
          std::string cell;
          // A missing value is shown as "-" by append_cell; a present one was
          // decoded when counted, so it is passed as raw text (no re-decoding).
          const field_value v{kind == 'm' ? value_kind::missing : value_kind::number, false, text};
          append_cell(cell, v, scratch_);
          row.push_back(std::move(cell));
        }
        row.push_back(std::to_string(n));
        table.push_back(std::move(row));
      }
      widths_.assign(header.size(), 0);
      for (std::size_t i = 0; i < header.size(); ++i)
        widths_[i] = display_width(header[i]);
      for (const auto& r : table)
        for (std::size_t i = 0; i < r.size(); ++i)
          widths_[i] = std::min<std::size_t>(64, std::max(widths_[i], display_width(r[i])));
      if (o_.color) buf_ += "\x1b[1m";
      append_row(header, {});
      if (o_.color) {
        buf_.pop_back();
        buf_ += kReset;
        buf_ += '\n';
      }
      for (const auto& r : table) {
        append_row(r, {});
        if (buf_.size() >= 64 * 1024) flush();
      }
    }
    if (dropped_groups_ > 0) {
      // Reported in-band so a truncated count is never mistaken for a full one.
      buf_ += fmt::format("# {} lines fell in groups beyond the first {} and were not counted\n",
                          dropped_groups_, max_groups);
    }
  }

  struct pending_row {
    std::vector<std::string> cells;
    std::string colour;
  };

  const query_options& o_;
  const std::function<void(std::string_view)>& write_;
  mode mode_ = mode::raw;
  std::string buf_{};
  std::string scratch_{};
  std::string key_{};
  std::string_view current_line_{};
  std::size_t table_buffer_ = 1000;
  bool widths_ready_ = false;
  std::vector<std::size_t> widths_{};
  std::vector<pending_row> pending_{};
  std::unordered_map<std::string, std::uint64_t> counts_{};
  std::uint64_t dropped_groups_ = 0;
};

struct held_line {
  system_time time{};
  std::uint64_t seq = 0;
  std::string text{};
};

}  // namespace

result<query_stats> run_query(const query_options& o,
                              const std::function<void(std::string_view)>& write,
                              const std::atomic<bool>& stop, const keel::clock& clk) {
  auto filter = line_filter::create(o);
  if (!filter) return fail(filter.error());
  query_stats stats;
  output out(o, write);
  const bool by_request = !o.request_id.empty();
  std::vector<held_line> held;
  std::string scratch;
  system_time last_time{};
  bool done = false;

  auto handle = [&](std::string_view line, read_status st) {
    if (done) return;
    if (st == read_status::oversized) {
      ++stats.lines;
      ++stats.oversized;
      return;
    }
    if (!filter->accept(line, stats)) return;
    ++stats.matched;
    if (by_request && !o.follow) {
      // Lines without a readable timestamp keep the position of the line before them.
      const field_value& tv = filter->scanner().value(filter->time_slot());
      if (tv.kind == value_kind::string) {
        if (auto t = parse_rfc3339(decoded(tv, scratch))) last_time = *t;
      }
      held.push_back({last_time, held.size(), std::string(line)});
    } else {
      out.set_line(line);
      out.add(*filter);
    }
    if (o.limit != 0 && stats.matched >= o.limit) done = true;
  };

  std::vector<std::string> inputs = o.inputs;
  if (inputs.empty()) inputs.push_back("-");
  if (o.follow && inputs.size() != 1) {
    return fail(codes::validation_error, "--follow takes exactly one file");
  }

  if (o.follow && inputs[0] != "-") {
    follower f(inputs[0], {.max_line_bytes = o.max_line_bytes, .poll_interval = o.poll_interval},
               clk);
    auto r = f.run(handle, [&] { return done || stop.load(std::memory_order_relaxed); });
    if (!r) stats.input_errors.push_back(r.error().message());
    out.finish();
    return stats;
  }

  std::vector<std::string> expanded;
  for (const auto& in : inputs) {
    if (o.rotated && in != "-") {
      for (auto& p : with_rotated(in))
        expanded.push_back(std::move(p));
    } else {
      expanded.push_back(in);
    }
  }
  for (const auto& path : expanded) {
    if (done || stop.load(std::memory_order_relaxed)) break;
    auto src = open_source(path);
    if (!src) {
      stats.input_errors.push_back(src.error().message());
      continue;
    }
    line_reader reader(std::move(*src), {.max_line_bytes = o.max_line_bytes});
    std::string_view line;
    while (!done) {
      const read_status st = reader.next(line);
      if (st == read_status::line || st == read_status::oversized) {
        handle(line, st);
        continue;
      }
      if (st == read_status::error && reader.last_error()) {
        stats.input_errors.push_back(reader.last_error()->message());
      }
      break;
    }
  }

  if (by_request) {
    std::stable_sort(held.begin(), held.end(),
                     [](const held_line& a, const held_line& b) { return a.time < b.time; });
    query_stats ignored;
    for (const auto& h : held) {
      filter->accept(h.text, ignored);  // re-scan so the output sees this line's fields
      out.set_line(h.text);
      out.add(*filter);
    }
  }
  out.finish();
  return stats;
}

}  // namespace keel::cli::logq
