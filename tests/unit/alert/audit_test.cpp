#include "keel/alert/audit.hpp"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "unit/alert/temp_dir.hpp"

namespace keel::alert {
namespace {

using namespace std::chrono_literals;

// Tamper tests edit the database file with the sqlite3 shell, as an attacker
// with file access would, with the store closed.
class Audit : public ::testing::Test {
 protected:
  void SetUp() override {
    auto st = store::open({.data_dir = dir.path()}, clock).value();
    audit_log log(*st);
    for (int i = 1; i <= 5; ++i) {
      clock.advance(1s);
      ASSERT_TRUE(log.append({.actor = "alice",
                              .action = "rule.update",
                              .resource = fmt::format("rule/{}", i),
                              .request_id = fmt::format("r{}", i),
                              .details = {{"n", i}}}));
    }
    head = log.head().value();
  }
  audit_verification verify(std::optional<audit_head> h = std::nullopt) {
    auto st = store::open({.data_dir = dir.path()}, clock).value();
    audit_log log(*st);
    return log.verify(h).value();
  }
  void tamper(const std::string& sql) {
    ASSERT_TRUE(testing::sqlite3_cli(dir.path() / "alert.db", sql)) << sql;
  }
  testing::temp_dir dir;
  manual_clock clock;
  audit_head head;
};

TEST_F(Audit, UntouchedChainVerifies) {
  auto v = verify(head);
  EXPECT_TRUE(v.ok);
  EXPECT_EQ(v.entries, 5u);
  EXPECT_EQ(v.problem, audit_problem::none);
}

TEST_F(Audit, EntriesLinkToTheirPredecessor) {
  auto st = store::open({.data_dir = dir.path()}, clock).value();
  audit_log log(*st);
  auto all = log.list(0, 100).value();
  ASSERT_EQ(all.size(), 5u);
  EXPECT_EQ(all[0].prev_hash, std::string(64, '0'));
  for (std::size_t i = 1; i < all.size(); ++i)
    EXPECT_EQ(all[i].prev_hash, all[i - 1].hash);
  EXPECT_EQ(all[2].record.details.at("n"), 3);
  EXPECT_EQ(all[2].record.resource, "rule/3");
}

TEST_F(Audit, EditedFieldIsReportedAtThatEntry) {
  tamper("UPDATE audit SET actor='mallory' WHERE seq=3");
  auto v = verify();
  EXPECT_FALSE(v.ok);
  EXPECT_EQ(v.first_bad_seq, 3);
  EXPECT_EQ(v.problem, audit_problem::edited);
}

TEST_F(Audit, EditedDetailsAreReported) {
  tamper("UPDATE audit SET details='{\\\"n\\\":99}' WHERE seq=2");
  auto v = verify();
  EXPECT_EQ(v.first_bad_seq, 2);
  EXPECT_EQ(v.problem, audit_problem::edited);
}

TEST_F(Audit, RemovedEntryIsReportedAtItsSuccessor) {
  tamper("DELETE FROM audit WHERE seq=2");
  auto v = verify();
  EXPECT_FALSE(v.ok);
  EXPECT_EQ(v.first_bad_seq, 3);
  EXPECT_EQ(v.problem, audit_problem::removed);
}

TEST_F(Audit, RemovedFirstEntryIsReported) {
  tamper("DELETE FROM audit WHERE seq=1");
  auto v = verify();
  EXPECT_EQ(v.first_bad_seq, 2);
  EXPECT_EQ(v.problem, audit_problem::removed);
}

TEST_F(Audit, SwappedEntriesAreReportedAsReordered) {
  tamper(
      "UPDATE audit SET seq=100 WHERE seq=3; UPDATE audit SET seq=3 WHERE seq=4;"
      " UPDATE audit SET seq=4 WHERE seq=100");
  auto v = verify();
  EXPECT_FALSE(v.ok);
  EXPECT_EQ(v.first_bad_seq, 3);
  EXPECT_EQ(v.problem, audit_problem::reordered);
}

TEST_F(Audit, TruncatedTailIsCaughtOnlyWithAnAnchoredHead) {
  tamper("DELETE FROM audit WHERE seq=5");
  EXPECT_TRUE(verify().ok);
  auto v = verify(head);
  EXPECT_FALSE(v.ok);
  EXPECT_EQ(v.problem, audit_problem::truncated);
  EXPECT_EQ(v.first_bad_seq, 5);
}

TEST_F(Audit, RewrittenChainIsCaughtByTheAnchoredHead) {
  tamper("UPDATE audit SET hash='" + std::string(64, 'f') + "' WHERE seq=5");
  EXPECT_FALSE(verify(head).ok);
}

TEST_F(Audit, AppendAfterReopenContinuesTheChain) {
  {
    auto st = store::open({.data_dir = dir.path()}, clock).value();
    audit_log log(*st);
    auto e = log.append({.actor = "bob", .action = "silence.create"}).value();
    EXPECT_EQ(e.seq, 6);
    EXPECT_EQ(e.prev_hash, head.hash);
  }
  EXPECT_TRUE(verify().ok);
}

TEST_F(Audit, InvalidRecordsAreRefused) {
  auto st = store::open({.data_dir = dir.path()}, clock).value();
  audit_log log(*st);
  EXPECT_EQ(log.append({.actor = "", .action = "x"}).error(), codes::validation_error);
  EXPECT_EQ(log.append({.actor = "a", .action = "x", .resource = std::string(2000, 'r')}).error(),
            codes::validation_error);
}

// Entries were appended at 1 s … 5 s after the clock's start.
TEST_F(Audit, PruningKeepsTheChainVerifiableFromItsAnchor) {
  const auto start = clock.system_now() - 5s;
  {
    auto st = store::open({.data_dir = dir.path()}, clock).value();
    audit_log log(*st);
    EXPECT_EQ(log.prune_before(start + 3500ms, 1).value(), 1u);  // bounded batch
    EXPECT_EQ(log.prune_before(start + 3500ms, 100).value(), 2u);
    EXPECT_EQ(log.prune_before(start + 3500ms, 100).value(), 0u);
    EXPECT_EQ(log.anchor().value().seq, 3);
    EXPECT_EQ(log.list(0, 100).value().size(), 2u);
    clock.advance(1s);
    ASSERT_TRUE(log.append({.actor = "bob", .action = "silence.create"}));
  }
  auto v = verify(head);  // the head taken before pruning is still in the chain
  EXPECT_TRUE(v.ok);
  EXPECT_EQ(v.entries, 3u);
  EXPECT_EQ(v.pruned_through, 3);
}

TEST_F(Audit, NewestEntryIsNeverPrunedSoAppendsStayLinked) {
  {
    auto st = store::open({.data_dir = dir.path()}, clock).value();
    audit_log log(*st);
    EXPECT_EQ(log.prune_before(clock.system_now() + 1h, 100).value(), 4u);
    ASSERT_TRUE(log.append({.actor = "bob", .action = "silence.create"}));
  }
  auto v = verify(head);
  EXPECT_TRUE(v.ok);
  EXPECT_EQ(v.entries, 2u);
}

TEST_F(Audit, EntryRemovedAfterTheAnchorStillReadsAsRemoved) {
  {
    auto st = store::open({.data_dir = dir.path()}, clock).value();
    audit_log log(*st);
    ASSERT_EQ(log.prune_before(clock.system_now() - 3500ms, 100).value(), 1u);
  }
  tamper("DELETE FROM audit WHERE seq=2");
  auto v = verify();
  EXPECT_FALSE(v.ok);
  EXPECT_EQ(v.first_bad_seq, 3);
  EXPECT_EQ(v.problem, audit_problem::removed);
}

TEST_F(Audit, MovedAnchorIsCaught) {
  {
    auto st = store::open({.data_dir = dir.path()}, clock).value();
    audit_log log(*st);
    ASSERT_EQ(log.prune_before(clock.system_now() - 2500ms, 100).value(), 2u);
  }
  tamper("UPDATE audit_anchor SET hash='" + std::string(64, 'a') + "'");
  auto v = verify();
  EXPECT_FALSE(v.ok);
  EXPECT_EQ(v.first_bad_seq, 3);
}

}  // namespace
}  // namespace keel::alert
