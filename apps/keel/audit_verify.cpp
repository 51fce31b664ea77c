#include "audit_verify.hpp"

#include <cstdio>
#include <filesystem>

#include "config.hpp"  // keeld's (keeld_config)
#include "keel/alert/audit.hpp"
#include "keel/alert/store.hpp"
#include "keel/core/clock.hpp"

namespace keel::cli {

int run_audit_verify(const std::string& data_dir) {
  const std::filesystem::path db = std::filesystem::path(data_dir) / "alert.db";
  std::error_code ec;
  if (!std::filesystem::is_regular_file(db, ec)) {
    std::fprintf(stderr, "keel audit verify: no keeld store at %s\n", db.c_str());
    return 2;
  }
  auto st = keel::alert::store::open({.data_dir = data_dir}, keel::clock::real());
  if (!st) {
    std::fprintf(stderr, "keel audit verify: %s\n", std::string(st.error().message()).c_str());
    return 2;
  }
  keel::alert::audit_log log(**st);
  auto v = log.verify();
  if (!v) {
    std::fprintf(stderr, "keel audit verify: %s\n", std::string(v.error().message()).c_str());
    return 2;
  }
  if (v->ok) {
    std::printf("audit trail intact: %llu entries\n", static_cast<unsigned long long>(v->entries));
    return 0;
  }
  std::printf("audit trail BROKEN at entry %lld: %s (%llu entries checked)\n",
              static_cast<long long>(v->first_bad_seq),
              std::string(keel::alert::to_string(v->problem)).c_str(),
              static_cast<unsigned long long>(v->entries));
  return 1;
}

int run_check_config(const std::string& file) { return keeld::check_config_command(file); }

}  // namespace keel::cli
