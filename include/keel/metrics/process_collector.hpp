// keel/metrics/process_collector.hpp
//
// process_collector exposes the standard `process_*` metrics every
// Prometheus client library exports, read from procfs at scrape time:
//
//   process_cpu_seconds_total       user + system CPU time (counter)
//   process_resident_memory_bytes   resident set size
//   process_virtual_memory_bytes    virtual memory size
//   process_open_fds                open file descriptors
//   process_max_fds                 the soft RLIMIT_NOFILE (from /proc/<pid>/limits)
//   process_start_time_seconds      start time, seconds since the Unix epoch
//   process_threads                 OS threads
//
// build_info_collector exposes one gauge `<name>{version=...,...} 1`, the
// usual way to put a version on dashboards and in alert joins.
//
//   reg.add_collector(std::make_shared<keel::metrics::process_collector>()).value();
//   reg.add_collector(std::make_shared<keel::metrics::build_info_collector>(
//       keel::metrics::build_info_options{.name = "keeld_build_info",
//                                         .labels = {{"version", "1.2.0"}}})).value();
//
// A value that cannot be read (no procfs, a file missing) is left out of the
// scrape rather than reported as zero.
//
// Thread safety: collect() may run concurrently.
// Cost: a scrape reads four small procfs files and lists /proc/<pid>/fd.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "keel/metrics/collector.hpp"

namespace keel::metrics {

// process_collector_options
//
// `proc_root` and `pid` locate the files (tests point them at fixtures).
struct process_collector_options {
  std::string proc_root = "/proc";
  std::string pid = "self";
};

class process_collector final : public collector {
 public:
  explicit process_collector(process_collector_options o = {});
  std::vector<std::string> describe() const override;
  void collect(metric_sink& out) const override;

 private:
  process_collector_options o_;
  long ticks_per_second_;
  long page_size_;
};

// build_info_options
//
// Label pairs default to keel's version and the compiler keel was built with.
struct build_info_options {
  std::string name = "keel_build_info";
  std::string help = "Build information; the value is always 1.";
  std::vector<std::pair<std::string, std::string>> labels{};
};

class build_info_collector final : public collector {
 public:
  // Throws keel::exception (VALIDATION_ERROR) on an invalid name or label.
  explicit build_info_collector(build_info_options o = {});
  std::vector<std::string> describe() const override { return {o_.name}; }
  void collect(metric_sink& out) const override;

 private:
  build_info_options o_;
  std::string rendered_;
};

}  // namespace keel::metrics
