// keel/log/routing_sink.hpp
//
// routing_sink sends each line to the sinks whose route matches it, by
// level range and by category — the logger's dotted name prefix — so that,
// as in the seeds, errors, security, performance and audit events can each
// go to their own file. Every matching route receives the line; a line no
// route took goes to `fallback` if set.
//
//   auto r = std::make_shared<keel::log::routing_sink>(keel::log::routing_sink::config{
//       .routes = {{.min_level = level::error, .target = errors_file},
//                  {.category = "security", .target = security_file},
//                  {.category = "audit", .target = audit_file}},
//       .fallback = main_file});
//
// A category matches a logger named exactly so or below it ("security"
// matches "security" and "security.auth", not "securityx").
//
// Thread safety: as every sink (sink.hpp).
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "keel/log/sink.hpp"

namespace keel::log {

class routing_sink final : public sink {
 public:
  struct route {
    level min_level = level::trace;
    level max_level = level::critical;
    std::string category{};  // empty: any logger
    std::shared_ptr<sink> target{};
  };
  struct config {
    std::vector<route> routes{};
    std::shared_ptr<sink> fallback{};
  };

  explicit routing_sink(config c);

  void consume(const log_line& line) override;
  void commit() override;
  void flush() override;
  format_set formats() const noexcept override;

  // True when a logger named `logger` belongs to `category`.
  static bool in_category(std::string_view logger, std::string_view category) noexcept;

 protected:
  int write_out(std::string_view) override { return 0; }

 private:
  std::vector<route> routes_;
  std::shared_ptr<sink> fallback_;
  std::vector<sink*> distinct_;  // every target once, for commit/flush
};

}  // namespace keel::log
