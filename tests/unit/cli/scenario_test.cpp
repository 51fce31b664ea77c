#include "load/scenario.hpp"

#include <gtest/gtest.h>

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

TEST(LoadScenario, RefusesBadUrls) {
  for (const char* bad :
       {"https://127.0.0.1/", "ftp://x/", "127.0.0.1:80", "http://", "http://:80/", "http://h:0/",
        "http://h:70000/", "http://u:p@h/", "http://[::1/", "http://h:80x/", "http://h\r\nX: y/"}) {
    EXPECT_FALSE(parse_url(bad)) << bad;
  }
  EXPECT_NE(parse_url("https://x/").error().message().find("https is not supported"),
            std::string::npos);
}

TEST(LoadScenario, UrlsMustShareOneOrigin) {
  EXPECT_TRUE(scenario_from_urls({"http://127.0.0.1:1/a", "http://127.0.0.1:1/b"}));
  EXPECT_FALSE(scenario_from_urls({"http://127.0.0.1:1/a", "http://127.0.0.1:2/b"}));
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
  EXPECT_FALSE(seed_scenario("", 1.0));
  EXPECT_FALSE(seed_scenario("", -0.1));
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
  for (const char* bad : {
           "endpoints: [{path: /}]",                                           // no base
           "base_url: http://h/\nendpoints: []",                               // empty
           "base_url: http://h/\nendpoints: [{path: nope}]",                   // relative
           "base_url: http://h/\nendpoints: [{path: '/a b'}]",                 // space
           "base_url: http://h/\nendpoints: [{path: /, method: 'G T'}]",       // method
           "base_url: http://h/\nendpoints: [{path: /, weight: 0}]",           // weight
           "base_url: http://h/\nendpoints: [{path: /, weight: .nan}]",        // weight
           "base_url: http://h/\nendpoints: [{path: /, headers: {'X:': v}}]",  // header name
           "base_url: http://h/\nendpoints: [{path: /, headers: {X: \"a\\r\\nB: c\"}}]",
           "base_url: http://h/\nendpoints: {path: /}",  // not a list
           "[1, 2",                                      // not YAML
       }) {
    EXPECT_FALSE(scenario_from_yaml(bad, "")) << bad;
  }
}

TEST(LoadScenario, MissingFileIsAnError) {
  EXPECT_FALSE(scenario_from_yaml_file("/nonexistent/scenario.yaml", ""));
}

}  // namespace
}  // namespace keel::cli::load
