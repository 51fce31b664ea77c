#include "keel/metrics/exposition.hpp"

#include <charconv>
#include <cmath>
#include <cstdint>

namespace keel::metrics {
namespace {

void append_u64(std::string& out, std::uint64_t v) {
  char buf[24];
  auto r = std::to_chars(buf, buf + sizeof buf, v);
  out.append(buf, r.ptr);
}

// `le` as OpenMetrics wants it: canonical, so integers carry ".0".
void append_le(std::string& out, double v, bool openmetrics) {
  if (openmetrics && std::isfinite(v) && v == std::floor(v) && std::fabs(v) < 1e15) {
    if (v < 0) out.push_back('-');
    append_u64(out, static_cast<std::uint64_t>(std::fabs(v)));
    out.append(".0");
    return;
  }
  append_number(out, v);
}

void append_help(std::string& out, std::string_view help, bool openmetrics) {
  for (char c : help) {
    if (c == '\\') {
      out.append("\\\\");
    } else if (c == '\n') {
      out.append("\\n");
    } else if (c == '"' && openmetrics) {
      out.append("\\\"");
    } else {
      out.push_back(c);
    }
  }
}

class text_encoder final : public metric_sink {
 public:
  text_encoder(std::string& out, bool openmetrics) : out_(out), om_(openmetrics) {}

  void begin_family(const family_info& info) override {
    name_ = info.name;
    type_ = info.type;
    // Text 0.0.4 names a counter family after its sample (x_total);
    // OpenMetrics after the metric (x).
    const bool suffix = type_ == metric_type::counter && !om_;
    if (om_) {
      header("# TYPE ", suffix);
      out_.push_back(' ');
      out_.append(to_string(type_));
      out_.push_back('\n');
      header("# HELP ", suffix);
      out_.push_back(' ');
      append_help(out_, info.help, om_);
      out_.push_back('\n');
    } else {
      header("# HELP ", suffix);
      out_.push_back(' ');
      append_help(out_, info.help, om_);
      out_.push_back('\n');
      header("# TYPE ", suffix);
      out_.push_back(' ');
      out_.append(to_string(type_));
      out_.push_back('\n');
    }
  }

  void sample(std::string_view labels, double value) override {
    out_.append(name_);
    if (type_ == metric_type::counter) out_.append("_total");
    if (!labels.empty()) {
      out_.push_back('{');
      out_.append(labels);
      out_.push_back('}');
    }
    out_.push_back(' ');
    append_number(out_, value);
    out_.push_back('\n');
  }

  void histogram(std::string_view labels, std::span<const double> bounds,
                 std::span<const std::uint64_t> cumulative, double sum) override {
    for (std::size_t i = 0; i < cumulative.size(); ++i) {
      out_.append(name_);
      out_.append("_bucket{");
      if (!labels.empty()) {
        out_.append(labels);
        out_.push_back(',');
      }
      out_.append("le=\"");
      if (i < bounds.size()) {
        append_le(out_, bounds[i], om_);
      } else {
        out_.append("+Inf");
      }
      out_.append("\"} ");
      append_u64(out_, cumulative[i]);
      out_.push_back('\n');
    }
    suffixed("_sum", labels);
    append_number(out_, sum);
    out_.push_back('\n');
    suffixed("_count", labels);
    append_u64(out_, cumulative.empty() ? 0 : cumulative.back());
    out_.push_back('\n');
  }

  void end_family() override {}

  void finish() {
    if (om_) out_.append("# EOF\n");
  }

 private:
  void header(std::string_view prefix, bool total_suffix) {
    out_.append(prefix);
    out_.append(name_);
    if (total_suffix) out_.append("_total");
  }
  void suffixed(std::string_view suffix, std::string_view labels) {
    out_.append(name_);
    out_.append(suffix);
    if (!labels.empty()) {
      out_.push_back('{');
      out_.append(labels);
      out_.push_back('}');
    }
    out_.push_back(' ');
  }

  std::string& out_;
  const bool om_;
  std::string_view name_{};
  metric_type type_ = metric_type::gauge;
};

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t'))
    s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t'))
    s.remove_suffix(1);
  return s;
}

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    char x = a[i], y = b[i];
    if (x >= 'A' && x <= 'Z') x = static_cast<char>(x - 'A' + 'a');
    if (y >= 'A' && y <= 'Z') y = static_cast<char>(y - 'A' + 'a');
    if (x != y) return false;
  }
  return true;
}

// q-value per RFC 9110: 0, 1, or 0.ddd; anything else counts as absent (1).
double parse_q(std::string_view v) {
  v = trim(v);
  if (v.empty() || v.size() > 5) return 1.0;
  double q = 0;
  auto r = std::from_chars(v.data(), v.data() + v.size(), q);
  if (r.ec != std::errc() || r.ptr != v.data() + v.size() || !(q >= 0) || q > 1) return 1.0;
  return q;
}

}  // namespace

void append_number(std::string& out, double v) {
  if (std::isnan(v)) {
    out.append("NaN");
  } else if (std::isinf(v)) {
    out.append(v > 0 ? "+Inf" : "-Inf");
  } else if (v == std::floor(v) && std::fabs(v) < 9007199254740992.0) {
    char buf[24];
    auto r = std::to_chars(buf, buf + sizeof buf, static_cast<std::int64_t>(v));
    out.append(buf, r.ptr);
  } else {
    char buf[32];
    auto r = std::to_chars(buf, buf + sizeof buf, v);
    out.append(buf, r.ptr);
  }
}

negotiated negotiate(std::string_view accept) noexcept {
  constexpr std::size_t kMaxAccept = 4096;
  if (accept.size() > kMaxAccept) accept = accept.substr(0, kMaxAccept);
  double best_om = -1;
  double best_text = -1;
  while (!accept.empty()) {
    std::size_t comma = accept.find(',');
    std::string_view range = accept.substr(0, comma);
    accept = comma == std::string_view::npos ? std::string_view{} : accept.substr(comma + 1);

    std::size_t semi = range.find(';');
    const std::string_view media = trim(range.substr(0, semi));
    std::string_view params =
        semi == std::string_view::npos ? std::string_view{} : range.substr(semi + 1);
    double q = 1.0;
    std::string_view version{};
    while (!params.empty()) {
      std::size_t s = params.find(';');
      std::string_view p = trim(params.substr(0, s));
      params = s == std::string_view::npos ? std::string_view{} : params.substr(s + 1);
      std::size_t eq = p.find('=');
      if (eq == std::string_view::npos) continue;
      std::string_view k = trim(p.substr(0, eq));
      std::string_view v = trim(p.substr(eq + 1));
      if (iequals(k, "q")) q = parse_q(v);
      if (iequals(k, "version")) version = v;
    }
    if (q <= 0) continue;
    if (iequals(media, "application/openmetrics-text")) {
      if (version.empty() || version == "1.0.0" || version == "0.0.1") {
        best_om = std::max(best_om, q);
      }
    } else if (iequals(media, "text/plain") || iequals(media, "text/*") || iequals(media, "*/*")) {
      if (version.empty() || version == "0.0.4") best_text = std::max(best_text, q);
    }
  }
  if (best_om > 0 && best_om >= best_text) {
    return {format::openmetrics_1_0, kOpenMetricsContentType};
  }
  return {format::prometheus_text_0_0_4, kTextContentType};
}

void expose(const collector& c, format f, std::string& out) {
  text_encoder enc(out, f == format::openmetrics_1_0);
  c.collect(enc);
  enc.finish();
}

std::string expose(const collector& c, format f) {
  std::string out;
  expose(c, f, out);
  return out;
}

}  // namespace keel::metrics
