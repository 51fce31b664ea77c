#include "keel/core/json_member.hpp"

#include <fmt/format.h>

namespace keel {

result<std::string> string_member(const nlohmann::ordered_json& object, std::string_view key,
                                  std::size_t max, std::string dflt) {
  const auto it = object.find(key);
  if (it == object.end()) return dflt;
  const auto* text = it->get_ptr<const std::string*>();
  if (text == nullptr || text->size() > max) {
    return fail(error(codes::field_validation_error,
                      fmt::format("'{}' must be a string of at most {} bytes", key, max))
                    .with_detail("field", std::string(key)));
  }
  return *text;
}

}  // namespace keel
