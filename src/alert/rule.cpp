#include "keel/alert/rule.hpp"

#include <algorithm>
#include <iterator>

#include <cmath>
#include <cstdio>

#include "keel/core/json_writer.hpp"

namespace keel::alert {

std::string_view to_string(compare c) noexcept {
  switch (c) {
    case compare::above:
      return ">";
    case compare::at_least:
      return ">=";
    case compare::below:
      return "<";
    case compare::at_most:
      return "<=";
  }
  return ">";
}

bool holds(compare c, double v, double t) noexcept {
  switch (c) {
    case compare::above:
      return v > t;
    case compare::at_least:
      return v >= t;
    case compare::below:
      return v < t;
    case compare::at_most:
      return v <= t;
  }
  return false;
}

std::string_view to_string(condition_kind k) noexcept {
  switch (k) {
    case condition_kind::threshold:
      return "threshold";
    case condition_kind::rate:
      return "rate";
    case condition_kind::increase:
      return "increase";
    case condition_kind::ratio:
      return "ratio";
    case condition_kind::histogram_average:
      return "histogram_average";
    case condition_kind::histogram_quantile:
      return "histogram_quantile";
    case condition_kind::events:
      return "events";
  }
  return "threshold";
}

namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && s.front() == ' ')
    s.remove_prefix(1);
  while (!s.empty() && s.back() == ' ')
    s.remove_suffix(1);
  return s;
}

// A printf format with exactly one floating conversion: %[-+ 0#]*[0-9]*(.[0-9]+)?[fFeEgG].
bool is_float_format(std::string_view f) {
  int conversions = 0;
  for (std::size_t i = 0; i < f.size(); ++i) {
    if (f[i] != '%') continue;
    if (i + 1 < f.size() && f[i + 1] == '%') {
      ++i;
      continue;
    }
    ++i;
    while (i < f.size() &&
           (f[i] == '-' || f[i] == '+' || f[i] == ' ' || f[i] == '0' || f[i] == '#')) {
      ++i;
    }
    std::size_t digits = 0;
    while (i < f.size() && f[i] >= '0' && f[i] <= '9' && digits < 2)
      ++i, ++digits;
    if (i < f.size() && f[i] == '.') {
      ++i;
      digits = 0;
      while (i < f.size() && f[i] >= '0' && f[i] <= '9' && digits < 2)
        ++i, ++digits;
    }
    if (i >= f.size() || std::string_view("fFeEgG").find(f[i]) == std::string_view::npos) {
      return false;
    }
    ++conversions;
  }
  return conversions == 1 && f.size() <= 64;
}

void append_value(std::string& out, double v) {
  if (std::isnan(v)) {
    out += "NaN";
  } else if (std::isinf(v)) {
    out += v > 0 ? "+Inf" : "-Inf";
  } else {
    append_json_number(out, v);
  }
}

}  // namespace

result<label_template> label_template::parse(std::string_view text) {
  if (text.size() > 4096) return fail(codes::validation_error, "template longer than 4096 bytes");
  label_template t;
  t.source_ = std::string(text);
  std::size_t i = 0;
  while (i < text.size()) {
    const auto open = text.find("{{", i);
    if (open == std::string_view::npos) {
      t.parts_.push_back({part::kind::text, std::string(text.substr(i))});
      break;
    }
    if (open > i) t.parts_.push_back({part::kind::text, std::string(text.substr(i, open - i))});
    const auto close = text.find("}}", open + 2);
    if (close == std::string_view::npos) {
      return fail(codes::validation_error, "template has '{{' without '}}'");
    }
    const auto expr = trim(text.substr(open + 2, close - open - 2));
    if (expr == "$value") {
      t.parts_.push_back({part::kind::value, {}});
    } else if (expr.starts_with("$labels.") && is_valid_label_name(expr.substr(8))) {
      t.parts_.push_back({part::kind::label, std::string(expr.substr(8))});
    } else if (expr == "humanizePercentage $value") {
      t.parts_.push_back({part::kind::percent, {}});
    } else if (expr.starts_with("printf \"") && expr.ends_with("\" $value") && expr.size() > 16) {
      const auto fmt = expr.substr(8, expr.size() - 8 - 8);
      if (!is_float_format(fmt)) {
        return fail(codes::validation_error,
                    "printf format '" + std::string(fmt) + "' must hold one %f/%e/%g conversion");
      }
      t.parts_.push_back({part::kind::printf, std::string(fmt)});
    } else {
      return fail(codes::validation_error,
                  "unknown template expression '{{ " + std::string(expr) +
                      " }}' (known: $value, $labels.NAME, printf \"%.2f\" $value, "
                      "humanizePercentage $value)");
    }
    i = close + 2;
  }
  return t;
}

bool label_template::is_constant() const noexcept {
  for (const auto& p : parts_) {
    if (p.k != part::kind::text) return false;
  }
  return true;
}

std::string label_template::render(const label_set& labels, double value) const {
  std::string out;
  for (const auto& p : parts_) {
    switch (p.k) {
      case part::kind::text:
        out += p.arg;
        break;
      case part::kind::value:
        append_value(out, value);
        break;
      case part::kind::label:
        out += labels.get(p.arg);
        break;
      case part::kind::percent: {
        char buf[64];
        const int n = std::snprintf(buf, sizeof buf, "%.4g%%", value * 100);
        out.append(buf, static_cast<std::size_t>(std::max(0, std::min<int>(n, sizeof buf - 1))));
        break;
      }
      case part::kind::printf: {
        char buf[128];
        // The format was checked at parse time to hold one float conversion.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
        const int n = std::snprintf(buf, sizeof buf, p.arg.c_str(), value);
#pragma GCC diagnostic pop
        out.append(buf, static_cast<std::size_t>(std::max(0, std::min<int>(n, sizeof buf - 1))));
        break;
      }
    }
  }
  return out;
}

namespace {

result<void> check_selector(const selector& s, std::string_view what) {
  if (s.metric.empty())
    return fail(codes::validation_error, std::string(what) + ": metric is required");
  if (!is_valid_label_name(s.metric) && s.metric.find(':') == std::string::npos) {
    return fail(codes::validation_error,
                std::string(what) + ": invalid metric name '" + s.metric + "'");
  }
  return ok();
}

}  // namespace

result<compiled_rule> compile(rule r) {
  if (!is_valid_label_name(r.name)) {
    return fail(codes::validation_error, "invalid rule name '" + r.name + "'");
  }
  auto& c = r.cond;
  if (c.kind == condition_kind::events) {
    c.series.metric = std::string(error_events_series);
    if (!c.by) c.by = std::vector<std::string>{"service", "code"};
    for (const auto& f : c.fields) {
      if (std::find(std::begin(event_fields), std::end(event_fields), f.name) ==
          std::end(event_fields)) {
        return fail(error(codes::validation_error, "events fields: no event field '" + f.name +
                                                       "' (service, environment, release, code, "
                                                       "category, severity, message)")
                        .with_detail("field", f.name));
      }
    }
    if (!c.fields.empty()) {
      c.series.metric = std::string(rule_events_series);
      auto own = parse_matcher("rule=\"" + r.name + "\"");
      if (!own) return fail(own.error());
      c.series.matchers.push_back(std::move(*own));
    }
  } else if (!c.fields.empty()) {
    return fail(codes::validation_error, "only events conditions take fields");
  }
  if (auto s = check_selector(c.series, "series"); !s) return fail(s.error());
  if (c.kind == condition_kind::ratio) {
    if (auto s = check_selector(c.denominator, "denominator"); !s) return fail(s.error());
    if (c.min_denominator < 0) return fail(codes::validation_error, "min_denominator must be >= 0");
  }
  const bool needs_window = c.kind == condition_kind::rate || c.kind == condition_kind::increase ||
                            c.kind == condition_kind::events;
  if (c.window.count() < 0 || (needs_window && c.window.count() == 0)) {
    return fail(codes::validation_error,
                std::string(to_string(c.kind)) + " needs a positive window");
  }
  if (c.window > std::chrono::hours(24 * 7)) {
    return fail(codes::validation_error, "window longer than 7 days");
  }
  if (c.kind == condition_kind::histogram_quantile && !(c.quantile >= 0 && c.quantile <= 1)) {
    return fail(codes::validation_error, "quantile must be within [0, 1]");
  }
  if (!std::isfinite(c.threshold)) return fail(codes::validation_error, "threshold must be finite");
  if (c.by) {
    for (const auto& l : *c.by) {
      if (!is_valid_label_name(l))
        return fail(codes::validation_error, "invalid label in by: " + l);
    }
  }
  if (r.for_duration.count() < 0 || r.keep_firing_for.count() < 0) {
    return fail(codes::validation_error, "for and keep_firing_for must be >= 0");
  }
  compiled_rule out;
  for (const auto& [k, v] : r.labels) {
    if (!is_valid_label_name(k)) return fail(codes::validation_error, "invalid label name " + k);
    auto t = label_template::parse(v);
    if (!t) return fail(error(codes::validation_error, "label " + k + ": " + t.error().message()));
    out.labels.emplace_back(k, std::move(*t));
  }
  for (const auto& [k, v] : r.annotations) {
    if (!is_valid_label_name(k)) {
      return fail(codes::validation_error, "invalid annotation name " + k);
    }
    auto t = label_template::parse(v);
    if (!t) {
      return fail(error(codes::validation_error, "annotation " + k + ": " + t.error().message()));
    }
    out.annotations.emplace_back(k, std::move(*t));
  }
  out.def = std::move(r);
  return out;
}

}  // namespace keel::alert
