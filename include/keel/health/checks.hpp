// keel/health/checks.hpp
//
// Ready-made checks for the usual dependencies. Each returns a check_fn to
// pass to registry::add() and honours the check's timeout itself where the
// underlying API allows (connect, libcurl, SQLite busy timeout).
//
//   health.add({.name = "postgres", .component_type = "datastore"},
//              keel::health::tcp_check("db.internal", 5432)).value();
//   health.add({.name = "billing", .component_type = "component", .critical = false},
//              keel::health::http_check("http://billing:8080/health")).value();
//   health.add({.name = "sqlite", .measurement = "responseTime", .component_type = "datastore"},
//              keel::health::sqlite_check("/var/lib/keel/keel.db")).value();
//   health.add({.name = "disk", .component_type = "system", .probes =
//   keel::health::probe::liveness},
//              keel::health::disk_space_check("/var/lib/keel", {.fail_below_bytes = 512 << 20,
//                                                              .warn_below_bytes = 2ull << 30}))
//       .value();
//
// Observed values: response time in milliseconds ("ms") for tcp, http and
// sqlite; free bytes ("bytes") for disk space.
//
// Thread safety: the returned functions may run concurrently.
#pragma once

#include <cstdint>
#include <string>

#include "keel/health/check.hpp"

namespace keel::health {

// tcp_check — passes when a TCP connection to host:port is established
// within the timeout (name resolution included, though a resolver that hangs
// is cut off only by the registry's timeout).
check_fn tcp_check(std::string host, std::uint16_t port);

// http_check_options
//
// `accept_3xx`: count redirects (not followed) as healthy too.
struct http_check_options {
  bool accept_3xx = false;
  std::string user_agent = "keel-health/1";
};

// http_check — GET `url` (http or https only) with libcurl; passes on 2xx.
// The body is read and discarded, at most 64 KiB.
check_fn http_check(std::string url, http_check_options options = {});

// sqlite_check — opens the database file read-only (never creating it) and
// reads its schema version and runs SELECT 1 (which alone would not touch
// the file), waiting at most the timeout on a locked database.
check_fn sqlite_check(std::string path);

// disk_space_options — thresholds on the bytes available to unprivileged users.
struct disk_space_options {
  std::uint64_t fail_below_bytes = 100ull << 20;  // 100 MiB
  std::uint64_t warn_below_bytes = 0;             // 0: never warn
};

// disk_space_check — fails below fail_below_bytes, warns below
// warn_below_bytes, on the file system holding `path`.
check_fn disk_space_check(std::string path, disk_space_options options = {});

}  // namespace keel::health
