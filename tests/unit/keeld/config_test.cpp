#include "config.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>

#include "unit/alert/temp_dir.hpp"

namespace keeld {
namespace {

using namespace std::chrono_literals;

class KeeldConfig : public ::testing::Test {
 protected:
  std::string file(const std::string& yaml) {
    const auto p = dir.path() / "keeld.yaml";
    std::ofstream(p) << yaml;
    return p.string();
  }
  keel::alert::testing::temp_dir dir;
};

TEST_F(KeeldConfig, FlagsOverTheEnvironmentOverTheFile) {
  const auto f = file(
      "server: {listen: 127.0.0.1:7000}\nstorage: {data_dir: /from/file}\n"
      "logging: {level: warn}\n");
  auto only_file = load_config({.file = f}).value();
  EXPECT_EQ(only_file.listen_port, 7000);
  EXPECT_EQ(only_file.data_dir, "/from/file");
  EXPECT_EQ(only_file.log_level, keel::log::level::warn);

  const std::map<std::string, std::string> env{{"KEEL_LISTEN", "127.0.0.1:7001"},
                                               {"KEEL_DATA_DIR", "/from/env"},
                                               {"KEEL_LOG_LEVEL", "debug"}};
  auto with_env = load_config({.file = f, .env = env}).value();
  EXPECT_EQ(with_env.listen_port, 7001);
  EXPECT_EQ(with_env.data_dir, "/from/env");
  EXPECT_EQ(with_env.log_level, keel::log::level::debug);

  auto with_flags =
      load_config({.file = f, .env = env, .flags = {.listen = "0.0.0.0:7002", .io_threads = 3}})
          .value();
  EXPECT_EQ(with_flags.listen_host, "0.0.0.0");
  EXPECT_EQ(with_flags.listen_port, 7002);
  EXPECT_EQ(with_flags.io_threads, 3u);
  EXPECT_EQ(with_flags.data_dir, "/from/env");  // no flag for it: the environment's
}

TEST_F(KeeldConfig, KeelConfigNamesTheFileWhenNoneIsGiven) {
  const auto f = file("service: from-env-file\n");
  EXPECT_EQ(load_config({.env = {{"KEEL_CONFIG", f}}}).value().service_name, "from-env-file");
  EXPECT_EQ(load_config({}).value().service_name, "keeld");  // the embedded default
}

TEST_F(KeeldConfig, BadOverridesNameTheVariableOrTheFlag) {
  auto env = load_config({.env = {{"KEEL_IO_THREADS", "lots"}}});
  ASSERT_FALSE(env);
  EXPECT_EQ(env.error().details().value("variable", ""), "KEEL_IO_THREADS");
  auto flag = load_config({.flags = {.log_level = "loud"}});
  ASSERT_FALSE(flag);
  EXPECT_EQ(flag.error().details().value("flag", ""), "log-level");
  EXPECT_NE(flag.error().message().find("--log-level"), std::string::npos);
  auto token = load_config({.env = {{"KEEL_ADMIN_TOKEN", "short"}}});
  ASSERT_FALSE(token);
  EXPECT_EQ(token.error().details().value("variable", ""), "KEEL_ADMIN_TOKEN");
}

TEST_F(KeeldConfig, RetriesAreReadAndBounded) {
  auto c = parse_config(
               "retries:\n  delivery: {max_attempts: 0, initial_delay: 1s, max_delay: 1m}\n"
               "  targets: {max_attempts: 4}\n")
               .value();
  EXPECT_EQ(c.delivery_retry.max_attempts, 0u);  // for ever
  EXPECT_EQ(c.delivery_retry.initial_delay, 1s);
  EXPECT_EQ(c.delivery_retry.max_delay, 1min);
  EXPECT_EQ(c.target_retry.max_attempts, 4u);
  EXPECT_EQ(c.target_retry.initial_delay, 100ms);  // the default kept
  for (const char* bad :
       {"retries: {targets: {max_attempts: 0}}", "retries: {delivery: {max_attempts: 2.5}}",
        "retries: {delivery: {initial_delay: 2m, max_delay: 1m}}",
        "retries: {delivery: {jitter: full}}", "retries: {others: {}}"}) {
    auto r = parse_config(bad);
    ASSERT_FALSE(r) << bad;
    EXPECT_FALSE(r.error().details().value("path", "").empty()) << bad;
  }
}

TEST_F(KeeldConfig, CorsIsOffByDefaultReadAndCheckedWithItsLine) {
  const auto defaults = parse_config("").value();
  EXPECT_TRUE(defaults.cors.allowed_origins.empty());
  EXPECT_NE(std::ranges::find(defaults.cors.allowed_headers, "Idempotency-Key"),
            defaults.cors.allowed_headers.end());
  const auto c = parse_config(
                     "server:\n  cors:\n    allowed_origins: [\"https://console.example.com\"]\n"
                     "    allowed_methods: [GET]\n    allow_credentials: true\n    max_age: 2h\n")
                     .value();
  EXPECT_EQ(c.cors.allowed_origins, std::vector<std::string>{"https://console.example.com"});
  EXPECT_EQ(c.cors.allowed_methods, std::vector<std::string>{"GET"});
  EXPECT_TRUE(c.cors.allow_credentials);
  EXPECT_EQ(c.cors.max_age, 2h);
  const std::pair<const char*, const char*> refused[] = {
      {"server: {cors: {allowed_origins: [\"https://console.example.com/\"]}}",
       "https://console.example.com/"},
      {"server: {cors: {allowed_origins: [\"*\"], allow_credentials: true}}", "allow_credentials"},
      {"server: {cors: {allowed_origins: [\"null\"]}}", "anyone can send"},
      {"server: {cors: {max_age: 2d}}", "at most 24h"},
      {"server: {cors: {allowed_headers: [\"X Bad\"]}}", "not a header name"},
      {"server: {cors: {origins: []}}", "unknown key"}};
  for (const auto& [yaml, why] : refused) {
    auto r = parse_config(yaml);
    ASSERT_FALSE(r) << yaml;
    EXPECT_NE(r.error().message().find(why), std::string::npos)
        << yaml << ": " << r.error().message();
    EXPECT_EQ(r.error().details().value("path", "").rfind("server.cors", 0), 0u) << yaml;
  }
  auto d = defaults;
  d.cors.allowed_origins = {"https://console.example.com"};
  EXPECT_EQ(restart_needed(defaults, d), std::vector<std::string>{"server.cors"});
}

TEST_F(KeeldConfig, IdempotencyWindowIsReadAndBounded) {
  EXPECT_EQ(parse_config("").value().idempotency_window, 24h);
  EXPECT_EQ(parse_config("storage: {idempotency_window: 2h}").value().idempotency_window, 2h);
  auto r = parse_config("storage: {idempotency_window: 30s}");
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message().find("at least 1m"), std::string::npos);
  EXPECT_EQ(r.error().details().value("path", ""), "storage.idempotency_window");
}

TEST_F(KeeldConfig, RestartNeededNamesWhatAReloadDoesNotApply) {
  const auto a = parse_config("server: {listen: 127.0.0.1:7000, shutdown_grace: 5s}\n").value();
  auto b = parse_config(
               "server: {listen: 127.0.0.1:7001, shutdown_grace: 5s}\n"
               "storage: {retention: 2d}\nalerting: {rules: [{alert: New, events: {window: 1m, "
               "at_least: 1}}]}\n")
               .value();
  EXPECT_EQ(restart_needed(a, b), (std::vector<std::string>{"server.listen", "storage.retention"}));
  // What a reload applies (rules here) is not listed.
  auto c = a;
  c.alerting = b.alerting;
  EXPECT_TRUE(restart_needed(a, c).empty());
}

}  // namespace
}  // namespace keeld
