// keel/log/log.hpp
//
// keel::log, the structured logger: include this one header to log, and
// see docs/logging.md for the whole picture.
//
//   #include "keel/log/log.hpp"
//   using keel::log::kv;
//   keel::log::logger log("orders");
//   log.info("order placed", kv("order_id", id), kv("amount", 12.5));
//
// Thread safety and cost: see logger.hpp and backend.hpp.
#pragma once

#include "keel/log/backend.hpp"
#include "keel/log/field.hpp"
#include "keel/log/file_sink.hpp"
#include "keel/log/level.hpp"
#include "keel/log/logger.hpp"
#include "keel/log/registry.hpp"
#include "keel/log/rotating_file_sink.hpp"
#include "keel/log/routing_sink.hpp"
#include "keel/log/sink.hpp"
#include "keel/log/stream_sink.hpp"
#include "keel/log/syslog_sink.hpp"
