// keel/log/syslog_sink.hpp
//
// syslog_sink sends each line as one RFC 5424 message: over UDP (RFC 5426)
// to a collector, or to the local daemon's unix datagram socket (/dev/log).
//
//   <PRI>1 TIMESTAMP HOSTNAME APP-NAME PROCID MSGID - BOM MSG
//
// PRI = facility × 8 + severity (trace/debug 7, info 6, warn 4, error 3,
// critical 2); TIMESTAMP is RFC 3339 UTC with microseconds; MSGID is the
// logger name (at most 32 printable ASCII characters, "-" when empty); MSG
// is the JSON line (or console text) without its newline, after a UTF-8
// BOM unless `utf8_bom` is false. Messages longer than `max_message_bytes`
// are truncated. Sends never block (MSG_DONTWAIT): a full socket buffer, a
// missing daemon or an unreachable collector is a counted, reported failure,
// and the socket is reconnected on the next line after the report interval.
//
//   auto s = keel::log::syslog_sink::create({.transport = keel::log::syslog_transport::udp,
//                                            .host = "127.0.0.1", .port = 514,
//                                            .app_name = "keeld"}).value();
//
// Thread safety: as every sink (sink.hpp). Cost: one sendto() per line.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "keel/core/result.hpp"
#include "keel/log/sink.hpp"

namespace keel::log {

enum class syslog_transport : std::uint8_t { udp, unix_socket };

struct syslog_sink_options {
  syslog_transport transport = syslog_transport::unix_socket;
  std::string socket_path = "/dev/log";  // unix_socket
  std::string host = "127.0.0.1";        // udp: an IPv4 or IPv6 literal
  std::uint16_t port = 514;              // udp
  int facility = 16;                     // local0 (0..23)
  std::string app_name{};                // empty: the program name
  std::string hostname{};                // empty: gethostname()
  bool utf8_bom = true;
  std::size_t max_message_bytes = 8192;  // 480..65000
  level min_level = level::trace;
  ::keel::log::format format = format::json;
  std::chrono::milliseconds error_report_interval{10'000};
  const ::keel::clock* clock = nullptr;
};

class syslog_sink final : public sink {
 public:
  // CONFIGURATION_ERROR on a bad facility, host, path or size.
  static result<std::shared_ptr<syslog_sink>> create(syslog_sink_options o);
  ~syslog_sink() override;

  void consume(const log_line& line) override;
  void commit() override {}

  // The RFC 5424 header for a line (exposed for tests and tools).
  static int severity_of(level l) noexcept;

  explicit syslog_sink(syslog_sink_options o, int family, std::string address);

 protected:
  int write_out(std::string_view) override { return 0; }

 private:
  int connect_socket() noexcept;

  syslog_sink_options o_;
  int family_;
  std::string address_;  // resolved host or socket path
  int fd_ = -1;
  std::string header_tail_;  // " HOSTNAME APP PROCID "
  std::string datagram_;
  ::keel::clock::steady_time next_connect_{};
};

}  // namespace keel::log
