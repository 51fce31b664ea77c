#include "keel/core/redactor.hpp"

#include <gtest/gtest.h>

namespace keel {
namespace {

struct vector_case {
  const char* in;
  const char* out;
};

void expect_all(const redactor& r, std::initializer_list<vector_case> cases) {
  for (const auto& c : cases) {
    EXPECT_EQ(r.redact(c.in), c.out) << "input: " << c.in;
  }
}

TEST(Redactor, KeyValueSecrets) {
  expect_all(
      redactor::standard(),
      {
          {"login password=hunter2 ok", "login password=[REDACTED] ok"},
          {"PASSWORD=Hunter2", "PASSWORD=[REDACTED]"},
          {"db_password = s3cr3t;", "db_password = [REDACTED];"},
          {"token=abc.def.ghi&user=bob", "token=[REDACTED]&user=bob"},
          {"access_token=xyz", "access_token=[REDACTED]"},
          {"csrfToken: 123abc", "csrfToken: [REDACTED]"},
          {"key=AKIA1234", "key=[REDACTED]"},
          {"api_key=AKIA1234", "api_key=[REDACTED]"},
          {"x-api-key: AKIA1234", "x-api-key: [REDACTED]"},
          {"apiKey=AKIA1234", "apiKey=[REDACTED]"},
          {"secret=shh", "secret=[REDACTED]"},
          {"client_secret=shh", "client_secret=[REDACTED]"},
          {R"({"password": "hun\"ter2", "user": "bob"})",
           R"({"password": "[REDACTED]", "user": "bob"})"},
          {"password: 'quoted value'", "password: '[REDACTED]'"},
          {"passwd=a pwd=b passphrase=c", "passwd=[REDACTED] pwd=[REDACTED] passphrase=[REDACTED]"},
      });
}

TEST(Redactor, HeadersAndBearerTokens) {
  expect_all(
      redactor::standard(),
      {
          {"Authorization: Bearer eyJhbGciOi.eyJzdWIi.sig", "Authorization: [REDACTED]"},
          {"authorization: Basic dXNlcjpwYXNz\r\nHost: x", "authorization: [REDACTED]\r\nHost: x"},
          {"Cookie: session=abc; theme=dark", "Cookie: [REDACTED]"},
          {"sent bearer abc-123_x.y/z= to upstream", "sent bearer [REDACTED] to upstream"},
          {"Bearer tok", "Bearer [REDACTED]"},
      });
}

TEST(Redactor, CardNumbersLuhnValid) {
  expect_all(redactor::standard(),
             {
                 {"card 4111111111111111 charged", "card [REDACTED] charged"},
                 {"card 4111 1111 1111 1111.", "card [REDACTED]."},
                 {"card 4111-1111-1111-1111", "card [REDACTED]"},
                 {"amex 378282246310005", "amex [REDACTED]"},
                 {"diners 30569309025904", "diners [REDACTED]"},
                 {"19 digits 6011000990139424009 ok", "19 digits [REDACTED] ok"},
             });
}

TEST(Redactor, SocialSecurityNumbers) {
  expect_all(redactor::standard(), {
                                       {"ssn 123-45-6789 on file", "ssn [REDACTED] on file"},
                                       {"(078-05-1120)", "([REDACTED])"},
                                   });
}

TEST(Redactor, LeavesInnocentTextAlone) {
  for (const char* s : {
           "HTTP request completed method=GET path=/health status_code=200 duration_ms=1.5",
           "order 12345 shipped",
           "timestamp 2026-11-23T06:43:08.123456Z",
           "card 4111 1111 1111 1112 fails Luhn",
           "41111111111111112222 is 20 digits",
           "tokens_used=42 key_count=3 monkey=1",
           "primary key: id",
           "passwordless login enabled",
           "the password was rotated",
           "phone 555-123-4567",
           "ssn-like 000-12-3456 666-12-3456 912-12-3456 123-00-4567 123-45-0000",
           "uuid 550e8400-e29b-41d4-a716-446655440000",
           "version 1.2.3 on 10.0.0.1:8080",
           "basic usage of bearer",
           "https://example.com:8443/path?q=1",
       }) {
    EXPECT_EQ(redactor::standard().redact(s), s);
  }
}

TEST(Redactor, UrlCredentials) {
  EXPECT_EQ(redactor::standard().redact("postgres://app:s3cret@db:5432/orders"),
            "postgres://app:[REDACTED]@db:5432/orders");
}

TEST(Redactor, IsIdempotent) {
  using namespace std::string_literals;
  for (const std::string& s : {
           "password=x token=y 4111111111111111"s,
           "https://u:p@h/ x://password:@y"s,
           // Found by fuzz_redactor: a key rule's mask must not open a URL
           // credential for the second pass.
           "41513k23keyphrase://passphrase:@\0://u'\x17@411gA:"s,
           "req://password=h:WWord@b"s,
           "x://passphrase:@\0://u'@h"s,
           // Found by fuzz_redactor: masking the number in front of a key
           // must not make the key sensitive for the second pass.
           "122-47-2767.setcookie::"s,
           "4111111111111111_api_key: v"s,
       }) {
    const std::string once = redactor::standard().redact(s);
    EXPECT_EQ(redactor::standard().redact(once), once) << s;
  }
}

TEST(Redactor, SensitiveKeysMatchTheirLastWholeWords) {
  const auto& r = redactor::standard();
  EXPECT_EQ(r.redact("stripe_api_key=sk_live_1"), "stripe_api_key=[REDACTED]");
  EXPECT_EQ(r.redact("upstream.Set-Cookie: a=b; c=d"), "upstream.Set-Cookie: [REDACTED]");
  EXPECT_EQ(r.redact("x.client-secret: abc"), "x.client-secret: [REDACTED]");
  // Only whole words: "unsetcookie" is not "set cookie", "monkey" not "key".
  EXPECT_EQ(r.redact("unsetcookie: yes"), "unsetcookie: yes");
  EXPECT_EQ(r.redact("monkey: banana"), "monkey: banana");
}

TEST(Redactor, UrlCredentialsEndAtTheAuthority) {
  EXPECT_EQ(redactor::standard().redact("see <https://u:pw@h>"), "see <https://u:[REDACTED]@h>");
  EXPECT_EQ(redactor::standard().redact("https://[::1]:80/"), "https://[::1]:80/");
}

TEST(Redactor, ReportsWhetherSomethingWasMasked) {
  std::string out;
  EXPECT_FALSE(redactor::standard().redact_into("nothing here", out));
  EXPECT_TRUE(redactor::standard().redact_into(" password=1", out));
  EXPECT_EQ(out, "nothing here password=[REDACTED]");
}

TEST(Redactor, ConfiguredPatternsAndFieldNames) {
  redactor r({.patterns = {R"(acct-\d{6})"}, .field_names = {"iban"}});
  EXPECT_EQ(r.redact("moved acct-123456 to acct-12"), "moved [REDACTED] to acct-12");
  EXPECT_EQ(r.redact("iban=DE89370400440532013000"), "iban=[REDACTED]")
      << "configured field names apply to key=value text as well";
  EXPECT_TRUE(r.is_sensitive_field("IBAN"));
  EXPECT_TRUE(r.is_sensitive_field("password"));
  EXPECT_FALSE(r.is_sensitive_field("user"));
}

TEST(Redactor, BuiltinRulesCanBeTurnedOff) {
  redactor r({.patterns = {"secret"}, .builtin_rules = false});
  EXPECT_EQ(r.redact("password=x secret"), "password=x [REDACTED]");
}

TEST(Redactor, InvalidPatternIsAConfigurationError) {
  auto r = redactor::create({.patterns = {"(unclosed"}});
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error(), codes::configuration_error);
  EXPECT_THROW(redactor({.patterns = {"[z-a]"}}), exception);
}

TEST(Redactor, SensitiveFieldNames) {
  const auto& r = redactor::standard();
  for (const char* k : {"password", "Password", "db_password", "api_key", "apiKey", "X-Api-Key",
                        "access_token", "client_secret", "Authorization", "cookie", "credentials",
                        "private_key", "ssn", "card_number"}) {
    EXPECT_TRUE(r.is_sensitive_field(k)) << k;
  }
  for (const char* k : {"user", "tokens_used", "key_count", "monkey", "duration_ms", "path"}) {
    EXPECT_FALSE(r.is_sensitive_field(k)) << k;
  }
}

TEST(Redactor, JsonValuesAtAnyDepth) {
  nlohmann::ordered_json j = {
      {"user", "bob"},
      {"auth", {{"password", "x"}, {"nested", {{"token", 1}}}}},
      {"notes", {"call 4111111111111111", "fine"}},
  };
  redactor::standard().redact_json(j);
  EXPECT_EQ(j["user"], "bob");
  EXPECT_EQ(j["auth"]["password"], "[REDACTED]");
  EXPECT_EQ(j["auth"]["nested"]["token"], "[REDACTED]");
  EXPECT_EQ(j["notes"][0], "call [REDACTED]");
  EXPECT_EQ(j["notes"][1], "fine");
}

}  // namespace
}  // namespace keel
