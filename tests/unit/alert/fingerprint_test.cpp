#include "keel/alert/fingerprint.hpp"

#include <gtest/gtest.h>

namespace keel::alert {
namespace {

TEST(NormalizeMessage, MasksNumbers) {
  EXPECT_EQ(normalize_message("retry 3 of 5 failed after 2.5 s"),
            "retry <num> of <num> failed after <num> s");
}

TEST(NormalizeMessage, MasksUuids) {
  EXPECT_EQ(normalize_message("order 123e4567-e89b-12d3-a456-426614174000 missing"),
            "order <uuid> missing");
}

TEST(NormalizeMessage, MasksHex) {
  EXPECT_EQ(normalize_message("bad pointer 0x7ffd5a3c and digest deadbeef12"),
            "bad pointer <hex> and digest <hex>");
}

TEST(NormalizeMessage, MasksQuotedStringsButNotApostrophes) {
  EXPECT_EQ(normalize_message(R"(user "alice" can't open 'file.txt')"),
            "user <str> can't open <str>");
}

TEST(NormalizeMessage, MasksEmails) {
  EXPECT_EQ(normalize_message("mail to bob.smith@example.com bounced"), "mail to <email> bounced");
}

TEST(NormalizeMessage, MasksIpv4WithPortAndIpv6) {
  EXPECT_EQ(normalize_message("connect 10.0.0.7:5432 refused"), "connect <ip>:<num> refused");
  EXPECT_EQ(normalize_message("peer 2001:db8::1 reset"), "peer <ip> reset");
}

TEST(NormalizeMessage, KeepsSentencePunctuationOutsideTheToken) {
  EXPECT_EQ(normalize_message("timeout talking to 10.1.2.3."), "timeout talking to <ip>.");
}

TEST(NormalizeMessage, SameShapeSameResult) {
  EXPECT_EQ(normalize_message("user 42 not found"), normalize_message("user 97 not found"));
}

TEST(Fingerprint, MessagesDifferingOnlyInVariablePartsGroupTogether) {
  error_event a{.service = "s", .code = "TIMEOUT", .message = "call to 10.0.0.1 took 5001 ms"};
  error_event b{.service = "s", .code = "TIMEOUT", .message = "call to 10.0.0.2 took 7002 ms"};
  EXPECT_EQ(fingerprint(a), fingerprint(b));
  EXPECT_EQ(fingerprint(a).size(), 32u);
}

TEST(Fingerprint, ServiceAndCodeSeparateGroups) {
  error_event a{.service = "s", .code = "TIMEOUT", .message = "m"};
  error_event b{.service = "t", .code = "TIMEOUT", .message = "m"};
  error_event c{.service = "s", .code = "NETWORK_ERROR", .message = "m"};
  EXPECT_NE(fingerprint(a), fingerprint(b));
  EXPECT_NE(fingerprint(a), fingerprint(c));
}

TEST(Fingerprint, TopInAppFrameSeparatesGroupsButLineDoesNot) {
  error_event a{.service = "s", .code = "X", .message = "m"};
  a.frames = {{.function = "memcpy", .file = "libc.so", .line = 1, .in_app = false},
              {.function = "save_order", .file = "orders.cpp", .line = 10, .in_app = true}};
  error_event b = a;
  b.frames[1].line = 99;
  b.frames[0].function = "memmove";
  error_event c = a;
  c.frames[1].function = "load_order";
  EXPECT_EQ(fingerprint(a), fingerprint(b));
  EXPECT_NE(fingerprint(a), fingerprint(c));
}

TEST(Fingerprint, ExplicitFingerprintWins) {
  error_event a{.service = "s", .code = "X", .message = "one", .fingerprint = "payments-down"};
  error_event b{.service = "t", .code = "Y", .message = "two", .fingerprint = "payments-down"};
  EXPECT_EQ(fingerprint(a), fingerprint(b));
}

}  // namespace
}  // namespace keel::alert
