#include "keel/core/error_code.hpp"

#include <gtest/gtest.h>

#include <set>

#include "keel/core/code_registry.hpp"

namespace keel {
namespace {

struct expected_code {
  const error_code* code;
  int status;
  category cat;
  bool retryable;
};

// The contract of every built-in code: docs/errors.md shows the same table.
TEST(BuiltinCodes, EachMapsToItsStatusAndCategory) {
  const expected_code table[] = {
      {&codes::validation_error, 400, category::permanent, false},
      {&codes::field_validation_error, 422, category::permanent, false},
      {&codes::authentication_required, 401, category::permanent, false},
      {&codes::token_invalid, 401, category::business, false},
      {&codes::payment_required, 402, category::business, false},
      {&codes::authorization_denied, 403, category::permanent, false},
      {&codes::resource_not_found, 404, category::permanent, false},
      {&codes::method_not_allowed, 405, category::permanent, false},
      {&codes::request_timeout, 408, category::transient, true},
      {&codes::conflict, 409, category::business, false},
      {&codes::invalid_state_transition, 409, category::business, false},
      {&codes::payload_too_large, 413, category::permanent, false},
      {&codes::unsupported_media_type, 415, category::permanent, false},
      {&codes::header_fields_too_large, 431, category::permanent, false},
      {&codes::rate_limited, 429, category::transient, true},
      {&codes::quota_exceeded, 429, category::business, false},
      {&codes::cancelled, 499, category::permanent, false},
      {&codes::internal_error, 500, category::systemic, false},
      {&codes::database_error, 500, category::systemic, true},
      {&codes::io_error, 500, category::systemic, false},
      {&codes::configuration_error, 500, category::systemic, false},
      {&codes::external_service_error, 502, category::systemic, true},
      {&codes::network_error, 502, category::transient, true},
      {&codes::service_unavailable, 503, category::systemic, true},
      {&codes::circuit_open, 503, category::systemic, true},
      {&codes::bulkhead_full, 503, category::systemic, true},
      {&codes::resource_exhausted, 503, category::systemic, false},
      {&codes::timeout, 504, category::transient, true},
  };
  ASSERT_EQ(std::size(table), std::size(codes::builtin))
      << "a built-in code is missing from this test";
  for (const auto& row : table) {
    SCOPED_TRACE(row.code->name);
    EXPECT_EQ(row.code->http_status, row.status);
    EXPECT_EQ(row.code->category, row.cat);
    EXPECT_EQ(row.code->retryable, row.retryable);
    EXPECT_TRUE(is_valid_code_name(row.code->name));
    EXPECT_FALSE(row.code->title.empty());
    EXPECT_FALSE(row.code->public_message.empty());
  }
}

TEST(BuiltinCodes, NamesAreUniqueAndRegistered) {
  std::set<std::string_view> names;
  for (const error_code* c : codes::builtin) {
    EXPECT_TRUE(names.insert(c->name).second) << c->name;
    EXPECT_EQ(code_registry::global().find(c->name), c);
  }
}

TEST(BuiltinCodes, ConfigurationErrorIsCritical) {
  EXPECT_EQ(codes::configuration_error.severity, severity::critical);
}

TEST(CodeName, AcceptsScreamingSnakeOnly) {
  EXPECT_TRUE(is_valid_code_name("RESOURCE_NOT_FOUND"));
  EXPECT_TRUE(is_valid_code_name("E2E_FAILURE"));
  EXPECT_FALSE(is_valid_code_name(""));
  EXPECT_FALSE(is_valid_code_name("resource_not_found"));
  EXPECT_FALSE(is_valid_code_name("_LEADING"));
  EXPECT_FALSE(is_valid_code_name("TRAILING_"));
  EXPECT_FALSE(is_valid_code_name("DOUBLE__UNDERSCORE"));
  EXPECT_FALSE(is_valid_code_name("9STARTS_WITH_DIGIT"));
  EXPECT_FALSE(is_valid_code_name("HAS SPACE"));
  EXPECT_FALSE(is_valid_code_name(std::string(65, 'A')));
}

inline constexpr error_code insufficient_funds{"INSUFFICIENT_FUNDS",
                                               category::business,
                                               severity::low,
                                               402,
                                               false,
                                               "Insufficient funds",
                                               "The account balance does not cover this payment."};
inline constexpr error_code other_meaning{
    "INSUFFICIENT_FUNDS", category::systemic, severity::high, 500, false, "Other", "Other."};
inline constexpr error_code bad_status{
    "BAD_STATUS", category::business, severity::low, 200, false, "Bad", "Bad."};
inline constexpr error_code bad_name{
    "bad-name", category::business, severity::low, 400, false, "Bad", "Bad."};

static_assert(names_are_unique({&insufficient_funds, &bad_status}));
static_assert(!names_are_unique({&insufficient_funds, &other_meaning}));
static_assert(!names_are_unique({&bad_name}));

TEST(CodeRegistry, ApplicationCodesRegisterOnce) {
  code_registry reg;
  ASSERT_TRUE(reg.add(insufficient_funds));
  EXPECT_TRUE(reg.add(insufficient_funds)) << "registering the same code again is harmless";
  EXPECT_EQ(reg.find("INSUFFICIENT_FUNDS"), &insufficient_funds);
  EXPECT_EQ(reg.all().size(), 1u);
}

TEST(CodeRegistry, DuplicateNameWithOtherMeaningIsAnError) {
  code_registry reg;
  ASSERT_TRUE(reg.add(insufficient_funds));
  auto r = reg.add(other_meaning);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error(), codes::configuration_error);
  EXPECT_EQ(reg.find("INSUFFICIENT_FUNDS"), &insufficient_funds);
}

TEST(CodeRegistry, GlobalRejectsRedefiningABuiltin) {
  constexpr static error_code fake_timeout{
      "TIMEOUT", category::business, severity::low, 400, false, "x", "y"};
  auto r = code_registry::global().add(fake_timeout);
  ASSERT_FALSE(r);
  EXPECT_EQ(code_registry::global().find("TIMEOUT"), &codes::timeout);
}

TEST(CodeRegistry, RejectsInvalidNameAndStatus) {
  code_registry reg;
  EXPECT_FALSE(reg.add(bad_name));
  EXPECT_FALSE(reg.add(bad_status));
  EXPECT_EQ(reg.find("BAD_STATUS"), nullptr);
}

TEST(CategoryAndSeverity, RoundTripThroughStrings) {
  for (auto c :
       {category::transient, category::permanent, category::systemic, category::business}) {
    EXPECT_EQ(parse_category(to_string(c)), c);
  }
  for (auto s : {severity::low, severity::medium, severity::high, severity::critical}) {
    EXPECT_EQ(parse_severity(to_string(s)), s);
  }
  EXPECT_FALSE(parse_category("TRANSIENT"));
  EXPECT_FALSE(parse_severity(""));
}

}  // namespace
}  // namespace keel
