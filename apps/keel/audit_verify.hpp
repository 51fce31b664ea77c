// keel audit verify / keel check-config: the operator's checks of a keeld
// installation, with exit codes a script can act on.
//
//   keel audit verify /var/lib/keeld      # 0: chain intact, 1: broken, 2: cannot read
//   keel check-config /etc/keeld.yaml     # 0: valid, 1: invalid (line, column, path)
#pragma once

#include <string>

namespace keel::cli {

// Walks the hash chain of keeld's audit trail in DATA_DIR/alert.db (opened
// read-only in spirit: nothing is created or changed) and prints the first
// broken entry.
int run_audit_verify(const std::string& data_dir);

// Validates a keeld configuration file exactly as keeld loads it.
int run_check_config(const std::string& file);

}  // namespace keel::cli
