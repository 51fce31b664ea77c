// Test helpers for keel::alert: temporary directories (tests/support) and
// the sqlite3 shell, to tamper with a store the way an attacker would.
#pragma once

#include <cstdlib>

#include <filesystem>
#include <string>
#include "support/temp_dir.hpp"

namespace keel::alert::testing {

using ::keel::testing::temp_dir;

// Runs the sqlite3 command-line shell on `db` with `sql`; true on success.
inline bool sqlite3_cli(const std::filesystem::path& db, const std::string& sql) {
  const std::string cmd = "sqlite3 '" + db.string() + "' \"" + sql + "\" >/dev/null 2>&1";
  return std::system(cmd.c_str()) == 0;
}

}  // namespace keel::alert::testing
