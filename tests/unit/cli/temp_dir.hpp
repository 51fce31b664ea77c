// Temporary directories for the CLI tests (tests/support) and a gzip writer
// for the rotated, compressed logs logq reads.
#pragma once

#include <zlib.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>

#include "support/temp_dir.hpp"

namespace keel::cli::testing {

using ::keel::testing::temp_dir;

// Writes `content` gzip-compressed to `name` in `dir`; returns its path.
inline std::string write_gzip(const temp_dir& dir, std::string_view name,
                              std::string_view content) {
  const std::string p = dir.file(name);
  gzFile f = gzopen(p.c_str(), "wb");
  gzwrite(f, content.data(), static_cast<unsigned>(content.size()));
  gzclose(f);
  return p;
}

}  // namespace keel::cli::testing
