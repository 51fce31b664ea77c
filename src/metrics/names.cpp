#include "keel/metrics/names.hpp"

#include <array>

#include "keel/core/error_code.hpp"

namespace keel::metrics {
namespace {

std::unexpected<error> invalid(std::string_view what, std::string_view name,
                               std::string_view reason) {
  return fail(error(codes::validation_error, std::string(what) + " '" + std::string(name) +
                                                 "' is not valid: " + std::string(reason))
                  .with_detail("name", std::string(name))
                  .with_detail("reason", std::string(reason)));
}

bool ends_with(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

// Tokens promtool's unit lints reject: non-base units and abbreviations.
constexpr std::array<std::string_view, 30> kBadUnitTokens = {
    "milliseconds", "microseconds", "nanoseconds", "minutes",   "hours",     "days",
    "weeks",        "kilobytes",    "megabytes",   "gigabytes", "terabytes", "kibibytes",
    "mebibytes",    "gibibytes",    "millis",      "ms",        "us",        "ns",
    "sec",          "secs",         "min",         "mins",      "hr",        "hrs",
    "kb",           "mb",           "gb",          "kib",       "mib",       "gib"};

}  // namespace

std::string_view to_string(metric_type t) noexcept {
  switch (t) {
    case metric_type::counter:
      return "counter";
    case metric_type::gauge:
      return "gauge";
    case metric_type::histogram:
      return "histogram";
  }
  return "untyped";
}

result<void> validate_metric_name(std::string_view name, metric_type t) {
  if (name.empty()) return invalid("metric name", name, "empty");
  if (name.size() > kMaxNameBytes) return invalid("metric name", name, "longer than 200 bytes");
  if (name.front() >= '0' && name.front() <= '9') {
    return invalid("metric name", name, "starts with a digit");
  }
  for (char c : name) {
    if (c == ':') return invalid("metric name", name, "colons are reserved for recording rules");
    if (c >= 'A' && c <= 'Z') return invalid("metric name", name, "not snake_case");
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_')) {
      return invalid("metric name", name, "only [a-z0-9_] allowed");
    }
  }
  if (name.starts_with("__")) return invalid("metric name", name, "'__' prefix is reserved");
  if (name.back() == '_' || name.find("__") != std::string_view::npos) {
    return invalid("metric name", name, "empty word between underscores");
  }
  std::string_view base = name;
  if (t == metric_type::counter && ends_with(base, "_total")) {
    base.remove_suffix(6);
    if (base.empty()) return invalid("metric name", name, "nothing before _total");
  }
  if (ends_with(base, "_total")) return invalid("metric name", name, "_total is for counters");
  if (ends_with(base, "_created")) return invalid("metric name", name, "_created is reserved");
  for (std::string_view s : {"_bucket", "_count", "_sum"}) {
    if (ends_with(base, s)) {
      return invalid("metric name", name, "_bucket, _count and _sum are histogram suffixes");
    }
  }
  if (name.find(to_string(t)) != std::string_view::npos) {
    return invalid("metric name", name, "names its own type");
  }
  std::size_t start = 0;
  while (start <= name.size()) {
    std::size_t end = name.find('_', start);
    if (end == std::string_view::npos) end = name.size();
    const std::string_view token = name.substr(start, end - start);
    for (std::string_view bad : kBadUnitTokens) {
      if (token == bad) return invalid("metric name", name, "use base units (seconds, bytes)");
    }
    start = end + 1;
  }
  return ok();
}

result<void> validate_label_name(std::string_view name) {
  if (name.empty()) return invalid("label name", name, "empty");
  if (name.size() > kMaxNameBytes) return invalid("label name", name, "longer than 200 bytes");
  if (name.front() >= '0' && name.front() <= '9') {
    return invalid("label name", name, "starts with a digit");
  }
  for (char c : name) {
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_')) {
      return invalid("label name", name, "only [a-zA-Z0-9_] allowed");
    }
  }
  if (name.starts_with("__")) return invalid("label name", name, "'__' prefix is reserved");
  if (name == "le" || name == "quantile") {
    return invalid("label name", name, "reserved for histograms and summaries");
  }
  return ok();
}

result<void> validate_help(std::string_view help) {
  if (help.empty()) {
    return fail(codes::validation_error, "metric help text is empty (promtool: no help text)");
  }
  if (help.size() > kMaxHelpBytes) {
    return fail(codes::validation_error, "metric help text is longer than 4096 bytes");
  }
  return ok();
}

void append_label_value(std::string_view v, std::string& out) {
  const auto* s = reinterpret_cast<const unsigned char*>(v.data());
  const std::size_t n = v.size();
  std::size_t i = 0;
  while (i < n) {
    const unsigned char c = s[i];
    if (c < 0x80) {
      if (c == '\\') {
        out.append("\\\\");
      } else if (c == '"') {
        out.append("\\\"");
      } else if (c == '\n') {
        out.append("\\n");
      } else {
        out.push_back(static_cast<char>(c));
      }
      ++i;
      continue;
    }
    // Multi-byte sequence: copy it when well formed, else U+FFFD per byte.
    std::size_t len = 0;
    std::uint32_t cp = 0;
    if ((c & 0xE0) == 0xC0) {
      len = 2;
      cp = c & 0x1F;
    } else if ((c & 0xF0) == 0xE0) {
      len = 3;
      cp = c & 0x0F;
    } else if ((c & 0xF8) == 0xF0) {
      len = 4;
      cp = c & 0x07;
    }
    bool good = len != 0 && i + len <= n;
    for (std::size_t k = 1; good && k < len; ++k) {
      if ((s[i + k] & 0xC0) != 0x80) {
        good = false;
      } else {
        cp = (cp << 6) | (s[i + k] & 0x3F);
      }
    }
    if (good) {
      const bool overlong =
          (len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000);
      good = !overlong && cp <= 0x10FFFF && !(cp >= 0xD800 && cp <= 0xDFFF);
    }
    if (good) {
      out.append(v.substr(i, len));
      i += len;
    } else {
      out.append("\xEF\xBF\xBD");
      ++i;
    }
  }
}

void render_labels(std::span<const std::string> names, std::span<const std::string_view> values,
                   std::string& out) {
  for (std::size_t i = 0; i < names.size() && i < values.size(); ++i) {
    if (i != 0) out.push_back(',');
    out.append(names[i]);
    out.append("=\"");
    append_label_value(values[i], out);
    out.push_back('"');
  }
}

void render_labels(std::initializer_list<std::string_view> names,
                   std::initializer_list<std::string_view> values, std::string& out) {
  auto n = names.begin();
  auto v = values.begin();
  for (bool first = true; n != names.end() && v != values.end(); ++n, ++v, first = false) {
    if (!first) out.push_back(',');
    out.append(*n);
    out.append("=\"");
    append_label_value(*v, out);
    out.push_back('"');
  }
}

}  // namespace keel::metrics
