#include "keel/core/version.hpp"

namespace keel {

// KEEL_VERSION comes from project(VERSION) in the top CMakeLists.txt.
std::string_view version() noexcept { return KEEL_VERSION; }

}  // namespace keel
