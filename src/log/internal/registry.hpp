// Internal: what configure() does to the logger registry.
#pragma once

#include <vector>

#include "keel/log/backend.hpp"

namespace keel::log::internal {

// Replaces every explicit level and sampling with the configuration's.
void reset_registry(level root, const std::vector<logger_config>& loggers);

}  // namespace keel::log::internal
