#include <gtest/gtest.h>

#include "keel/core/context.hpp"
#include "keel/http/request.hpp"
#include "keel/http/response.hpp"

namespace keel::http {
namespace {

TEST(PercentDecode, DecodesEscapesAndOptionallyPlus) {
  std::string out;
  EXPECT_TRUE(percent_decode("a%20b+c%2f", out, true));
  EXPECT_EQ(out, "a b c/");
  out.clear();
  EXPECT_TRUE(percent_decode("a+b", out, false));
  EXPECT_EQ(out, "a+b");
}

TEST(PercentDecode, RejectsTruncatedOrNonHexEscapes) {
  std::string out;
  EXPECT_FALSE(percent_decode("abc%2", out, false));
  EXPECT_FALSE(percent_decode("%zz", out, false));
  EXPECT_FALSE(percent_decode("%", out, false));
}

TEST(HeaderNames, ComparedCaseInsensitively) {
  EXPECT_TRUE(iequals("Content-Type", "content-type"));
  EXPECT_FALSE(iequals("Content-Type", "content-typ"));
}

TEST(Response, RefusesHeaderValuesWithControlCharacters) {
  response res;
  EXPECT_FALSE(res.set_header("X-Test", "a\r\nSet-Cookie: x=1"));
  EXPECT_FALSE(res.set_header("X-Test", std::string_view("a\0b", 3)));
  EXPECT_FALSE(res.set_header("Bad Name", "v"));
  EXPECT_FALSE(res.set_header("", "v"));
  EXPECT_EQ(res.header("X-Test"), std::nullopt);
  EXPECT_TRUE(res.set_header("X-Test", "tab\tis fine"));
}

TEST(Response, SetHeaderReplacesAddHeaderAppends) {
  response res;
  EXPECT_TRUE(res.set_header("X-A", "1"));
  EXPECT_TRUE(res.set_header("x-a", "2"));
  EXPECT_TRUE(res.add_header("Vary", "Accept"));
  EXPECT_TRUE(res.add_header("Vary", "Origin"));
  std::vector<std::string> seen;
  res.for_each_header([&](std::string_view n, std::string_view v) {
    seen.push_back(std::string(n) + "=" + std::string(v));
  });
  EXPECT_EQ(seen, (std::vector<std::string>{"x-a=2", "Vary=Accept", "Vary=Origin"}));
  res.remove_header("VARY");
  EXPECT_EQ(res.header("vary"), std::nullopt);
}

TEST(Response, ProblemCarriesStatusTypeRequestIdAndRetryAfter) {
  context_scope scope(request_context{.request_id = *request_id::parse("req-1")});
  response res;
  res.set_problem(keel::error(codes::rate_limited, "internal detail")
                      .with_retry_after(std::chrono::milliseconds(1500)),
                  "/api/v1/events");
  EXPECT_EQ(res.status(), 429);
  EXPECT_EQ(res.header("content-type"), "application/problem+json");
  EXPECT_EQ(res.header("retry-after"), "2");
  const auto j = nlohmann::json::parse(res.body());
  EXPECT_EQ(j["code"], "RATE_LIMITED");
  EXPECT_EQ(j["request_id"], "req-1");
  EXPECT_EQ(j["instance"], "/api/v1/events");
  EXPECT_EQ(res.body().find("internal detail"), std::string::npos);
}

TEST(Response, ClearKeepsNothingButCapacity) {
  response res;
  res.set_text("hello", 201);
  (void)res.set_header("X-A", "1");
  res.clear();
  EXPECT_EQ(res.status(), 200);
  EXPECT_TRUE(res.body().empty());
  EXPECT_EQ(res.header("x-a"), std::nullopt);
}

TEST(ReasonPhrase, KnownAndUnknown) {
  EXPECT_EQ(reason_phrase(404), "Not Found");
  EXPECT_EQ(reason_phrase(431), "Request Header Fields Too Large");
  EXPECT_EQ(reason_phrase(799), "Unknown");
}

}  // namespace
}  // namespace keel::http
