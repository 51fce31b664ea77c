#include "load/scenario.hpp"

#include <gtest/gtest.h>

#include <initializer_list>
#include <string_view>
#include <utility>

#include "temp_dir.hpp"

namespace keel::cli::load {
namespace {

TEST(LoadScenario, ParsesUrls) {
  auto u = parse_url("http://127.0.0.1:8080/health?x=1");
  ASSERT_TRUE(u);
  EXPECT_EQ(u->first.host, "127.0.0.1");
  EXPECT_EQ(u->first.port, 8080);
  EXPECT_EQ(u->second, "/health?x=1");
  auto v6 = parse_url("http://[::1]:9000");
  ASSERT_TRUE(v6);
  EXPECT_EQ(v6->first.host, "::1");
  EXPECT_EQ(v6->second, "/");
  EXPECT_EQ(v6->first.host_header(), "[::1]:9000");
  EXPECT_EQ(parse_url("http://localhost/")->first.host_header(), "localhost");
}

// Each refusal with what it says.
template <class R>
void expect_refused(const R& r, std::string_view input, std::string_view reason) {
  ASSERT_FALSE(r) << input << " was accepted";
  EXPECT_NE(r.error().message().find(reason), std::string::npos)
      << input << ": \"" << r.error().message() << "\" does not say " << reason;
}

TEST(LoadScenario, RefusesBadUrls) {
  for (const auto& [bad, why] : std::initializer_list<std::pair<const char*, const char*>>{
           {"https://127.0.0.1/", "https is not supported"},
           {"ftp://x/", "expected http://host[:port]/path"},
           {"127.0.0.1:80", "expected http://host[:port]/path"},
           {"http://", "missing host"},
           {"http://:80/", "missing host"},
           {"http://h:0/", "invalid port"},
           {"http://h:70000/", "invalid port"},
           {"http://u:p@h/", "credentials in URLs are not supported"},
           {"http://[::1/", "unterminated IPv6 address"},
           {"http://h:80x/", "invalid port"},
           {"http://h\r\nX: y/", "invalid host"}}) {
    expect_refused(parse_url(bad), bad, why);
  }
  EXPECT_NE(parse_url("https://x/").error().message().find("https is not supported"),
            std::string::npos);
}

TEST(LoadScenario, UrlsMustShareOneOrigin) {
  EXPECT_TRUE(scenario_from_urls({"http://127.0.0.1:1/a", "http://127.0.0.1:1/b"}));
  expect_refused(scenario_from_urls({"http://127.0.0.1:1/a", "http://127.0.0.1:2/b"}),
                 "two origins", "every URL must share the first one's host and port");
}

TEST(LoadScenario, SeedMixSplitsTheErrorShare) {
  auto s = seed_scenario("http://127.0.0.1:8000", 0.3);
  ASSERT_TRUE(s);
  ASSERT_EQ(s->endpoints.size(), 5u);
  EXPECT_EQ(s->endpoints[0].path, "/");
  EXPECT_EQ(s->endpoints[3].path, "/simulate/error");
  EXPECT_NEAR(s->endpoints[0].weight, 0.7 / 3, 1e-12);
  EXPECT_NEAR(s->endpoints[4].weight, 0.15, 1e-12);
  EXPECT_EQ(seed_scenario("", 0.0)->endpoints.size(), 3u);
  expect_refused(seed_scenario("", 1.0), "error share 1.0", "--error-share must be in [0, 1)");
  expect_refused(seed_scenario("", -0.1), "error share -0.1", "--error-share must be in [0, 1)");
}

TEST(LoadScenario, ReadsYaml) {
  auto s = scenario_from_yaml(R"(
base_url: http://127.0.0.1:9000/api
headers: {Accept: application/json}
endpoints:
  - {name: health, path: /health, weight: 3}
  - path: /events
    method: POST
    headers: {X-Tenant: acme}
    body: '{"service":"demo"}'
)",
                              "");
  ASSERT_TRUE(s) << s.error().message();
  EXPECT_EQ(s->target.port, 9000);
  ASSERT_EQ(s->endpoints.size(), 2u);
  EXPECT_EQ(s->endpoints[0].name, "health");
  EXPECT_EQ(s->endpoints[0].path, "/api/health");
  EXPECT_EQ(s->endpoints[0].weight, 3.0);
  EXPECT_EQ(s->endpoints[1].name, "POST /api/events");
  EXPECT_EQ(s->endpoints[1].body, R"({"service":"demo"})");
  ASSERT_EQ(s->endpoints[1].headers.size(), 2u);
  EXPECT_EQ(s->endpoints[1].headers[1].first, "X-Tenant");
}

TEST(LoadScenario, CommandLineUrlOverridesYamlBase) {
  auto s = scenario_from_yaml("base_url: http://127.0.0.1:1\nendpoints: [{path: /}]\n",
                              "http://127.0.0.1:2");
  ASSERT_TRUE(s);
  EXPECT_EQ(s->target.port, 2);
}

TEST(LoadScenario, RefusesHostileYaml) {
  for (const auto& [bad, why] : std::initializer_list<std::pair<const char*, const char*>>{
           {"endpoints: [{path: /}]", "base_url: missing"},
           {"base_url: http://h/\nendpoints: []", "no endpoints"},
           {"base_url: http://h/\nendpoints: [{path: nope}]", "must start with '/'"},
           {"base_url: http://h/\nendpoints: [{path: '/a b'}]", "invalid path '/a b'"},
           {"base_url: http://h/\nendpoints: [{path: /, method: 'G T'}]", "invalid method 'G T'"},
           {"base_url: http://h/\nendpoints: [{path: /, weight: 0}]", "weight must be > 0"},
           {"base_url: http://h/\nendpoints: [{path: /, weight: .nan}]",
            "endpoints[0].weight: expected a number"},
           {"base_url: http://h/\nendpoints: [{path: /, headers: {'X:': v}}]",
            "invalid header name 'X:'"},
           {"base_url: http://h/\nendpoints: [{path: /, headers: {X: \"a\\r\\nB: c\"}}]",
            "value holds control characters"},
           {"base_url: http://h/\nendpoints: {path: /}", "endpoints: expected a list"},
           {"[1, 2", "end of sequence flow not found"},
       }) {
    expect_refused(scenario_from_yaml(bad, ""), bad, why);
  }
}

TEST(LoadScenario, MissingFileIsAnError) {
  expect_refused(scenario_from_yaml_file("/nonexistent/scenario.yaml", ""), "a missing file",
                 "cannot open scenario file");
}

}  // namespace
}  // namespace keel::cli::load
