#include "keel/core/error.hpp"

#include <gtest/gtest.h>

#include <new>
#include <stdexcept>
#include <system_error>

namespace keel {
namespace {

TEST(Error, TakesItsAttributesFromTheCode) {
  error e(codes::database_error, "insert into orders failed");
  EXPECT_EQ(e.name(), "DATABASE_ERROR");
  EXPECT_EQ(e.category(), category::systemic);
  EXPECT_EQ(e.severity(), severity::high);
  EXPECT_EQ(e.http_status(), 500);
  EXPECT_TRUE(e.retryable());
  EXPECT_EQ(e.message(), "insert into orders failed");
  EXPECT_TRUE(e.details().is_object());
  EXPECT_TRUE(e.details().empty());
  EXPECT_EQ(e.cause(), nullptr);
  EXPECT_TRUE(e == codes::database_error);
  EXPECT_FALSE(e == codes::timeout);
}

TEST(Error, RecordsWhereAndWhenItWasRaised) {
  const auto before = std::chrono::system_clock::now();
  const int line = __LINE__ + 1;
  error e(codes::timeout);
  EXPECT_EQ(e.where().line(), static_cast<unsigned>(line));
  EXPECT_NE(std::string_view(e.where().file_name()).find("error_test.cpp"), std::string_view::npos);
  EXPECT_GE(e.timestamp(), before);
  EXPECT_LE(e.timestamp(), std::chrono::system_clock::now());
}

TEST(Error, DetailsKeepInsertionOrder) {
  auto e = error(codes::field_validation_error, "bad")
               .with_detail("zeta", 1)
               .with_detail("alpha", "two")
               .with_detail("fields", {{"email", "must contain @"}});
  ASSERT_EQ(e.details().size(), 3u);
  auto it = e.details().begin();
  EXPECT_EQ(it.key(), "zeta");
  EXPECT_EQ((++it).key(), "alpha");
  EXPECT_EQ(e.details()["fields"]["email"], "must contain @");
}

TEST(Error, CauseChainIsKept) {
  auto e =
      error(codes::external_service_error, "payment gateway failed")
          .with_cause(
              error(codes::timeout, "no answer in 2s").with_cause(error(codes::network_error)));
  ASSERT_NE(e.cause(), nullptr);
  EXPECT_EQ(e.cause()->name(), "TIMEOUT");
  ASSERT_NE(e.cause()->cause(), nullptr);
  EXPECT_EQ(e.cause()->cause()->name(), "NETWORK_ERROR");
  EXPECT_EQ(e.to_string(),
            "EXTERNAL_SERVICE_ERROR: payment gateway failed; caused by: TIMEOUT: no answer in 2s; "
            "caused by: NETWORK_ERROR");
}

TEST(Error, CopiesDoNotSeeLaterChanges) {
  error a(codes::conflict, "x");
  error b = a;
  b.with_detail("k", 1).with_severity(severity::critical);
  EXPECT_TRUE(a.details().empty());
  EXPECT_EQ(a.severity(), severity::low);
  EXPECT_EQ(b.severity(), severity::critical);
  EXPECT_EQ(b.details()["k"], 1);
}

TEST(Error, MovedFromErrorIsSafeToRead) {
  error a(codes::conflict, "x");
  error b = std::move(a);
  // NOLINTNEXTLINE(bugprone-use-after-move): this is the point of the test
  EXPECT_EQ(a.name(), "INTERNAL_ERROR");
  EXPECT_EQ(b.name(), "CONFLICT");
}

TEST(Error, RetryAfter) {
  auto e = error(codes::rate_limited).with_retry_after(std::chrono::milliseconds(1500));
  ASSERT_TRUE(e.retry_after());
  EXPECT_EQ(e.retry_after()->count(), 1500);
}

TEST(Error, ToJsonHasTheCanonicalShape) {
  auto e = error(codes::database_error, "boom")
               .with_detail("table", "orders")
               .with_cause(error(codes::timeout));
  auto j = to_json(e);
  EXPECT_EQ(j["code"], "DATABASE_ERROR");
  EXPECT_EQ(j["category"], "systemic");
  EXPECT_EQ(j["severity"], "high");
  EXPECT_EQ(j["status"], 500);
  EXPECT_EQ(j["retryable"], true);
  EXPECT_EQ(j["message"], "boom");
  EXPECT_EQ(j["details"]["table"], "orders");
  EXPECT_TRUE(j["where"]["line"].is_number());
  EXPECT_EQ(j["cause"]["code"], "TIMEOUT");
  std::vector<std::string> keys;
  for (auto it = j.begin(); it != j.end(); ++it)
    keys.push_back(it.key());
  EXPECT_EQ(keys, (std::vector<std::string>{"code", "category", "severity", "status", "retryable",
                                            "message", "details", "where", "timestamp", "cause"}));
}

TEST(Exception, CarriesTheError) {
  try {
    throw exception(error(codes::resource_not_found, "order 42"));
  } catch (const exception& ex) {
    EXPECT_EQ(ex.error().name(), "RESOURCE_NOT_FOUND");
    EXPECT_STREQ(ex.what(), "order 42");
  }
}

TEST(FromErrorCode, MapsByMeaning) {
  auto code_of = [](std::errc e) { return from_error_code(std::make_error_code(e)).name(); };
  EXPECT_EQ(code_of(std::errc::timed_out), "TIMEOUT");
  EXPECT_EQ(code_of(std::errc::connection_refused), "NETWORK_ERROR");
  EXPECT_EQ(code_of(std::errc::connection_reset), "NETWORK_ERROR");
  EXPECT_EQ(code_of(std::errc::host_unreachable), "NETWORK_ERROR");
  EXPECT_EQ(code_of(std::errc::operation_canceled), "CANCELLED");
  EXPECT_EQ(code_of(std::errc::not_enough_memory), "RESOURCE_EXHAUSTED");
  EXPECT_EQ(code_of(std::errc::too_many_files_open), "RESOURCE_EXHAUSTED");
  EXPECT_EQ(code_of(std::errc::resource_unavailable_try_again), "SERVICE_UNAVAILABLE");
  EXPECT_EQ(code_of(std::errc::no_space_on_device), "IO_ERROR");
  EXPECT_EQ(code_of(std::errc::permission_denied), "IO_ERROR");
}

TEST(FromErrorCode, KeepsTheOriginalValue) {
  auto e =
      from_error_code(std::make_error_code(std::errc::connection_refused), "connect to db:5432");
  EXPECT_EQ(e.details()["errno"], static_cast<int>(std::errc::connection_refused));
  EXPECT_EQ(e.details()["error_category"], "generic");
  EXPECT_NE(e.message().find("connect to db:5432"), std::string::npos);
  EXPECT_EQ(e.category(), category::transient);
}

TEST(FromException, MapsStandardExceptions) {
  EXPECT_EQ(from_exception(std::system_error(std::make_error_code(std::errc::timed_out))).name(),
            "TIMEOUT");
  EXPECT_EQ(from_exception(std::bad_alloc()).name(), "RESOURCE_EXHAUSTED");
  auto e = from_exception(std::runtime_error("db password wrong at /etc/app.conf"));
  EXPECT_EQ(e.name(), "INTERNAL_ERROR");
  EXPECT_NE(e.message().find("db password wrong"), std::string::npos);
  EXPECT_EQ(from_exception(exception(error(codes::conflict))).name(), "CONFLICT");
}

TEST(FromException, HandlesNonStandardThrows) {
  std::exception_ptr p;
  try {
    throw 42;
  } catch (...) {
    p = std::current_exception();
  }
  EXPECT_EQ(from_exception_ptr(p).name(), "INTERNAL_ERROR");
  EXPECT_EQ(from_exception_ptr(nullptr).name(), "INTERNAL_ERROR");
}

TEST(FromException, OutOfMemoryDoesNotAllocate) {
  auto a = from_exception_ptr(std::make_exception_ptr(std::bad_alloc()));
  auto b = from_exception_ptr(std::make_exception_ptr(std::bad_alloc()));
  EXPECT_EQ(a.name(), "RESOURCE_EXHAUSTED");
  EXPECT_EQ(a.severity(), severity::critical);
  EXPECT_EQ(&a.message(), &b.message()) << "both share the preallocated representation";
}

}  // namespace
}  // namespace keel
