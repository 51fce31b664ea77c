// keel/core/json_member.hpp
//
// Typed, bounded members of a JSON object read from outside: a missing
// member takes its default, a present one of the wrong type or beyond its
// bound is a FIELD_VALIDATION_ERROR naming the field (details.field), which
// problem+json carries to the client.
//
//   auto by = keel::string_member(body, "created_by", 128, "admin");
//   if (!by) return keel::fail(std::move(by.error()));
//
// Thread safety: pure functions.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "keel/core/result.hpp"

namespace keel {

// A string member of `object`, at most `max` bytes; `dflt` when absent.
[[nodiscard]] result<std::string> string_member(const nlohmann::ordered_json& object,
                                                std::string_view key, std::size_t max,
                                                std::string dflt = {});

}  // namespace keel
