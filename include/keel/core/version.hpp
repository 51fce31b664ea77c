// keel/core/version.hpp
//
// The version of keel, as the build's CMake project declares it: one
// number for the libraries, both binaries (`--version`), keeld_build_info,
// the packages and keeld's `/`.
//
//   std::cout << "keeld " << keel::version() << '\n';
//
// Thread safety: a constant.
#pragma once

#include <string_view>

namespace keel {

// "MAJOR.MINOR.PATCH".
std::string_view version() noexcept;

}  // namespace keel
