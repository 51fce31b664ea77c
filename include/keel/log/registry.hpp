// keel/log/registry.hpp
//
// The process-wide set of named loggers, by dotted name, and their levels
// and sampling — what keeld changes at run time by name.
//
//   keel::log::set_level("http", keel::log::level::debug);   // http, http.access, ...
//   keel::log::set_level("http.access", keel::log::level::warn);  // more specific wins
//   keel::log::clear_level("http.access");                    // inherits http's again
//   keel::log::set_sampling("http.access", {.first = 100, .thereafter = 10});
//   for (const auto& l : keel::log::loggers()) ...            // name, level, sampled out
//
// A logger's effective level is the explicit level of the nearest dotted
// ancestor-or-self ("a.b.c" → "a.b" → "a" → "" the root); the root's level is
// log_config::default_level. Sampling is inherited the same way.
//
// Thread safety: every function may be called from any thread, concurrently
// with logging. Changes take effect for calls that start after they return
// (log calls read the level with a relaxed atomic load).
// Cost: these take a mutex and visit every logger; they are not for hot paths.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "keel/log/level.hpp"
#include "keel/log/logger.hpp"

namespace keel::log {

// Sets the explicit level of `name` ("" is the root).
void set_level(std::string_view name, level l);
// Removes the explicit level of `name`, which then inherits (the root keeps its own).
void clear_level(std::string_view name);
// The level a logger of that name has (or would have if created now).
level effective_level(std::string_view name);

// Sets the sampling of `name` and the descendants without their own.
void set_sampling(std::string_view name, sampling s);
void clear_sampling(std::string_view name);

// logger_info
//
// One existing logger, for listings (keeld's admin API).
struct logger_info {
  std::string name{};
  level effective = level::info;
  std::optional<level> explicit_level{};
  sampling effective_sampling{};
  std::uint64_t sampled_out = 0;
};

// Every logger created so far, sorted by name.
std::vector<logger_info> loggers();

// Lines sampled out, over all loggers.
std::uint64_t sampled_out_total();

}  // namespace keel::log
