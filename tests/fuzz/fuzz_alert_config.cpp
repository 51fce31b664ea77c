// Alerting YAML as keeld takes it from its config file, POST /api/v1/rules
// and POST /admin/api/monitoring/alerts/configure: any text is either
// refused with a keel::error or gives rules that compile.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "keel/alert/config.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view in(reinterpret_cast<const char*>(data), size);
  if (auto cfg = keel::alert::load_config_yaml(in)) {
    for (const auto& r : cfg->rules) {
      if (!keel::alert::compile(r)) std::abort();
    }
  }
  if (auto rules = keel::alert::load_rules_yaml(in)) {
    for (const auto& r : *rules) {
      if (!keel::alert::compile(r)) std::abort();
    }
  }
  (void)keel::alert::load_config_yaml(in, "alerting");
  return 0;
}
