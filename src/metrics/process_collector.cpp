#include "keel/metrics/process_collector.hpp"

#include <unistd.h>

#include <charconv>
#include <filesystem>
#include <fstream>
#include <limits>

#include "internal/procfs.hpp"
#include "keel/core/error.hpp"
#include "keel/metrics/names.hpp"

#ifndef KEEL_VERSION_STRING
#define KEEL_VERSION_STRING "0.0.0"
#endif

namespace keel::metrics {
namespace internal {
namespace {

std::string_view next_field(std::string_view& s) {
  while (!s.empty() && s.front() == ' ')
    s.remove_prefix(1);
  std::size_t end = s.find_first_of(" \n");
  if (end == std::string_view::npos) end = s.size();
  std::string_view f = s.substr(0, end);
  s.remove_prefix(end);
  return f;
}

template <class T>
bool to_num(std::string_view f, T& out) {
  auto r = std::from_chars(f.data(), f.data() + f.size(), out);
  return r.ec == std::errc() && r.ptr == f.data() + f.size();
}

}  // namespace

std::optional<proc_stat> parse_proc_stat(std::string_view text) {
  const std::size_t close = text.rfind(')');
  if (close == std::string_view::npos) return std::nullopt;
  std::string_view rest = text.substr(close + 1);
  // After ')' comes field 3 (state); we need 14, 15, 20, 22, 23, 24.
  proc_stat st;
  for (int field = 3; field <= 24; ++field) {
    std::string_view f = next_field(rest);
    if (f.empty()) return std::nullopt;
    bool good = true;
    switch (field) {
      case 14:
        good = to_num(f, st.utime_ticks);
        break;
      case 15:
        good = to_num(f, st.stime_ticks);
        break;
      case 20:
        good = to_num(f, st.threads);
        break;
      case 22:
        good = to_num(f, st.start_ticks);
        break;
      case 23:
        good = to_num(f, st.vsize_bytes);
        break;
      case 24:
        good = to_num(f, st.rss_pages);
        break;
      default:
        break;
    }
    if (!good) return std::nullopt;
  }
  return st;
}

std::optional<std::int64_t> parse_boot_time(std::string_view text) {
  std::size_t pos = 0;
  while (pos < text.size()) {
    std::size_t eol = text.find('\n', pos);
    if (eol == std::string_view::npos) eol = text.size();
    std::string_view line = text.substr(pos, eol - pos);
    if (line.starts_with("btime ")) {
      line.remove_prefix(6);
      std::int64_t v = 0;
      if (to_num(next_field(line), v)) return v;
      return std::nullopt;
    }
    pos = eol + 1;
  }
  return std::nullopt;
}

std::optional<double> parse_max_open_files(std::string_view text) {
  constexpr std::string_view key = "Max open files";
  std::size_t at = text.find(key);
  if (at == std::string_view::npos) return std::nullopt;
  std::string_view rest = text.substr(at + key.size());
  std::string_view soft = next_field(rest);
  if (soft == "unlimited") return std::numeric_limits<double>::infinity();
  std::uint64_t v = 0;
  if (!to_num(soft, v)) return std::nullopt;
  return static_cast<double>(v);
}

std::optional<std::string> read_small_file(const std::string& path, std::size_t limit) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::nullopt;
  std::string s(limit, '\0');
  in.read(s.data(), static_cast<std::streamsize>(limit));
  s.resize(static_cast<std::size_t>(in.gcount()));
  if (in.bad()) return std::nullopt;
  return s;
}

}  // namespace internal

namespace {

void one(metric_sink& out, std::string_view name, std::string_view help, metric_type t, double v) {
  out.begin_family({.name = name, .help = help, .type = t});
  out.sample("", v);
  out.end_family();
}

}  // namespace

process_collector::process_collector(process_collector_options o)
    : o_(std::move(o)), ticks_per_second_(sysconf(_SC_CLK_TCK)), page_size_(sysconf(_SC_PAGESIZE)) {
  if (ticks_per_second_ <= 0) ticks_per_second_ = 100;
  if (page_size_ <= 0) page_size_ = 4096;
}

std::vector<std::string> process_collector::describe() const {
  return {"process_cpu_seconds",
          "process_resident_memory_bytes",
          "process_virtual_memory_bytes",
          "process_open_fds",
          "process_max_fds",
          "process_start_time_seconds",
          "process_threads"};
}

void process_collector::collect(metric_sink& out) const {
  const std::string dir = o_.proc_root + "/" + o_.pid;
  const auto stat_text = internal::read_small_file(dir + "/stat");
  const auto st = stat_text ? internal::parse_proc_stat(*stat_text) : std::nullopt;
  const double tps = static_cast<double>(ticks_per_second_);
  if (st) {
    one(out, "process_cpu_seconds", "Total user and system CPU time spent in seconds.",
        metric_type::counter, static_cast<double>(st->utime_ticks + st->stime_ticks) / tps);
    one(out, "process_resident_memory_bytes", "Resident memory size in bytes.", metric_type::gauge,
        static_cast<double>(st->rss_pages) * static_cast<double>(page_size_));
    one(out, "process_virtual_memory_bytes", "Virtual memory size in bytes.", metric_type::gauge,
        static_cast<double>(st->vsize_bytes));
  }
  std::error_code ec;
  std::size_t fds = 0;
  std::filesystem::directory_iterator it(dir + "/fd", ec);
  if (!ec) {
    for (; it != std::filesystem::directory_iterator(); it.increment(ec)) {
      if (ec) break;
      ++fds;
    }
    if (!ec) {
      one(out, "process_open_fds", "Number of open file descriptors.", metric_type::gauge,
          static_cast<double>(fds));
    }
  }
  if (auto limits = internal::read_small_file(dir + "/limits")) {
    if (auto max = internal::parse_max_open_files(*limits)) {
      one(out, "process_max_fds", "Maximum number of open file descriptors.", metric_type::gauge,
          *max);
    }
  }
  if (st) {
    if (auto proc_stat = internal::read_small_file(o_.proc_root + "/stat", 1 << 20)) {
      if (auto btime = internal::parse_boot_time(*proc_stat)) {
        one(out, "process_start_time_seconds",
            "Start time of the process since unix epoch in seconds.", metric_type::gauge,
            static_cast<double>(*btime) + static_cast<double>(st->start_ticks) / tps);
      }
    }
    one(out, "process_threads", "Number of OS threads in the process.", metric_type::gauge,
        static_cast<double>(st->threads));
  }
}

build_info_collector::build_info_collector(build_info_options o) : o_(std::move(o)) {
  if (o_.labels.empty()) {
    o_.labels = {{"version", KEEL_VERSION_STRING}, {"compiler", __VERSION__}};
  }
  if (auto v = validate_metric_name(o_.name, metric_type::gauge); !v) throw exception(v.error());
  if (auto v = validate_help(o_.help); !v) throw exception(v.error());
  for (std::size_t i = 0; i < o_.labels.size(); ++i) {
    if (auto v = validate_label_name(o_.labels[i].first); !v) throw exception(v.error());
    if (i != 0) rendered_.push_back(',');
    rendered_.append(o_.labels[i].first);
    rendered_.append("=\"");
    append_label_value(o_.labels[i].second, rendered_);
    rendered_.push_back('"');
  }
}

void build_info_collector::collect(metric_sink& out) const {
  out.begin_family({.name = o_.name, .help = o_.help, .type = metric_type::gauge});
  out.sample(rendered_, 1.0);
  out.end_family();
}

}  // namespace keel::metrics
