#include "keel/http/params.hpp"

#include <algorithm>
#include <charconv>
#include <string>

#include "keel/core/error.hpp"

namespace keel::http {

namespace {

result<std::string_view> checked_id(std::string_view v, std::string_view name,
                                    std::size_t max_length) {
  const bool ok =
      !v.empty() && v.size() <= max_length && std::all_of(v.begin(), v.end(), [](char c) {
        return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.' ||
               c == ':';
      });
  if (!ok) {
    return fail(error(codes::validation_error, "malformed " + std::string(name))
                    .with_detail("parameter", std::string(name)));
  }
  return v;
}

}  // namespace

result<std::string_view> id_param(const request& req, std::string_view name,
                                  std::size_t max_length) {
  return checked_id(req.param(name).value_or(""), name, max_length);
}

result<std::optional<std::string_view>> id_query(const request& req, std::string_view name,
                                                 std::size_t max_length) {
  const auto q = req.query(name);
  if (!q) return std::optional<std::string_view>{};
  auto v = checked_id(*q, name, max_length);
  if (!v) return fail(std::move(v.error()));
  return std::optional<std::string_view>(*v);
}

result<std::uint64_t> count_query(const request& req, std::string_view name, count_bounds b) {
  const auto q = req.query(name);
  if (!q) return b.dflt;
  std::uint64_t n = 0;
  const auto [p, ec] = std::from_chars(q->data(), q->data() + q->size(), n);
  if (ec != std::errc{} || p != q->data() + q->size() || n < b.min || n > b.max) {
    return fail(error(codes::validation_error, std::string(name) + " must be an integer in " +
                                                   std::to_string(b.min) + ".." +
                                                   std::to_string(b.max))
                    .with_detail("parameter", std::string(name)));
  }
  return n;
}

}  // namespace keel::http
