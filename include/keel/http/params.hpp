// keel/http/params.hpp
//
// Validated path and query parameters: what reaches a lookup, a log line or
// a response is bounded and of a known alphabet, and a bad one is a 400
// VALIDATION_ERROR naming the parameter.
//
//   auto id = keel::http::id_param(req, "id");                  // [A-Za-z0-9._:-]{1,128}
//   if (!id) return keel::fail(std::move(id.error()));
//   auto n = keel::http::count_query(req, "limit", {.dflt = 50, .max = 1000});
//
// Thread safety: functions of the request only. Cost: one pass over the text.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

#include "keel/core/result.hpp"
#include "keel/http/request.hpp"

namespace keel::http {

// The path parameter `name`: 1..max_length characters of letters, digits,
// '-', '_', '.' and ':'.
[[nodiscard]] result<std::string_view> id_param(const request& req, std::string_view name,
                                                std::size_t max_length = 128);

// The query parameter `name` of the same alphabet, or nullopt when absent.
[[nodiscard]] result<std::optional<std::string_view>> id_query(const request& req,
                                                               std::string_view name,
                                                               std::size_t max_length = 128);

struct count_bounds {
  std::uint64_t dflt = 0;  // when the parameter is absent
  std::uint64_t min = 1;
  std::uint64_t max = UINT64_MAX;
};

// The query parameter `name` as a decimal integer within [min, max], or
// `dflt` when absent.
[[nodiscard]] result<std::uint64_t> count_query(const request& req, std::string_view name,
                                                count_bounds bounds);

}  // namespace keel::http
