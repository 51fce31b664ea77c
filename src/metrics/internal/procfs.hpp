// Parsing of the procfs files process_collector reads. Internal; separate so
// that tests can feed it fixed text.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace keel::metrics::internal {

// The fields of /proc/<pid>/stat that process_collector needs.
struct proc_stat {
  std::uint64_t utime_ticks = 0;
  std::uint64_t stime_ticks = 0;
  std::int64_t threads = 0;
  std::uint64_t start_ticks = 0;  // since boot
  std::uint64_t vsize_bytes = 0;
  std::int64_t rss_pages = 0;
};

// /proc/<pid>/stat. The command name (field 2) may hold spaces and ')', so
// fields are counted after the last ')'.
std::optional<proc_stat> parse_proc_stat(std::string_view text);

// "btime <seconds>" from /proc/stat.
std::optional<std::int64_t> parse_boot_time(std::string_view text);

// The soft limit of "Max open files" in /proc/<pid>/limits; +inf for "unlimited".
std::optional<double> parse_max_open_files(std::string_view text);

// The whole file, at most `limit` bytes; nullopt when it cannot be read.
std::optional<std::string> read_small_file(const std::string& path, std::size_t limit = 65536);

}  // namespace keel::metrics::internal
