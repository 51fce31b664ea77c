#include "keel/alert/store.hpp"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <sys/stat.h>

#include <cstdio>
#include <map>
#include <vector>

#include "alert/internal/db.hpp"
#include "keel/alert/outbox.hpp"
#include "unit/alert/temp_dir.hpp"

namespace keel::alert {
namespace {

using namespace std::chrono_literals;

class Store : public ::testing::Test {
 protected:
  std::unique_ptr<store> open(std::size_t batch = 1000) {
    return store::open({.data_dir = dir.path() / "data", .event_batch = batch}, clock).value();
  }
  error_event ev(std::string code = "DATABASE_ERROR") {
    return {.service = "checkout",
            .code = std::move(code),
            .message = "insert 5 failed",
            .timestamp = clock.system_now()};
  }
  testing::temp_dir dir;
  manual_clock clock;
};

TEST_F(Store, CreatesTheDataDirectoryAndUsesWal) {
  auto st = open();
  EXPECT_TRUE(std::filesystem::exists(dir.path() / "data" / "alert.db"));
  st.reset();
  EXPECT_TRUE(testing::sqlite3_cli(dir.path() / "data" / "alert.db",
                                   "SELECT 1 WHERE (SELECT journal_mode FROM pragma_journal_mode)"
                                   "='wal'"));
}

TEST_F(Store, DataDirectoryAndDatabaseFilesAreTheOwnersOnlyWhateverTheUmask) {
  const mode_t before = ::umask(022);
  auto st = open();
  st->on_event(ev(), "fp");
  ASSERT_TRUE(st->flush());  // the WAL and shared-memory files exist now
  ::umask(before);
  auto mode = [](const std::filesystem::path& p) {
    struct stat sb {};
    EXPECT_EQ(::stat(p.c_str(), &sb), 0) << p;
    return sb.st_mode & 0777;
  };
  const auto data = dir.path() / "data";
  EXPECT_EQ(mode(data), 0700u);
  for (const char* f : {"alert.db", "alert.db-wal", "alert.db-shm"})
    EXPECT_EQ(mode(data / f), 0600u) << f;
}

TEST_F(Store, EventsAreDurableAfterFlush) {
  {
    auto st = open();
    error_tracker t(clock, {}, st.get());
    for (int i = 0; i < 10; ++i)
      ASSERT_TRUE(t.record(ev()));
    ASSERT_TRUE(st->flush());
  }
  auto st = open();
  EXPECT_EQ(st->event_count().value(), 10u);
}

TEST_F(Store, FullBatchIsWrittenWithoutExplicitFlush) {
  auto st = open(4);
  error_tracker t(clock, {}, st.get());
  for (int i = 0; i < 5; ++i)
    ASSERT_TRUE(t.record(ev()));
  EXPECT_EQ(st->event_count().value(), 4u);
}

TEST_F(Store, GroupsSurviveARestartAndRestoreIntoATracker) {
  std::string fp;
  {
    auto st = open();
    error_tracker t(clock, {}, st.get());
    fp = t.record(ev())->fingerprint;
    (void)t.record(ev());
    ASSERT_TRUE(t.resolve(fp));
    ASSERT_TRUE(st->flush());
  }
  auto st = open();
  auto groups = st->load_groups().value();
  ASSERT_EQ(groups.size(), 1u);
  EXPECT_EQ(groups[0].count, 2u);
  EXPECT_EQ(groups[0].status, group_status::resolved);
  error_tracker t(clock, {}, st.get());
  t.restore(groups[0]);
  auto r = t.record(ev());
  EXPECT_TRUE(r->regression);
  EXPECT_EQ(r->count, 3u);
}

TEST_F(Store, EventsOfAGroupComeBackNewestFirst) {
  auto st = open();
  error_tracker t(clock, {}, st.get());
  auto fp = t.record(ev())->fingerprint;
  clock.advance(1s);
  auto e = ev();
  e.request_id = "second";
  (void)t.record(e);
  (void)t.record(ev("OTHER"));
  ASSERT_TRUE(st->flush());
  auto got = st->events_of(fp, 10).value();
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[0].event.request_id, "second");
}

TEST_F(Store, PruneDeletesOldEvents) {
  auto st = open();
  error_tracker t(clock, {}, st.get());
  (void)t.record(ev());
  clock.advance(2h);
  (void)t.record(ev());
  ASSERT_TRUE(st->flush());
  EXPECT_EQ(st->prune_events_before(clock.system_now() - 1h).value(), 1u);
  EXPECT_EQ(st->event_count().value(), 1u);
}

// Issue 19 #14: a client that retries after a lost answer stores nothing
// twice: event ids and batch keys are claimed in the events' transaction.
TEST_F(Store, EventIdsAndBatchKeysAreStoredOnceAndSurviveAReopen) {
  std::vector<error_event> batch{ev(), ev("TIMEOUT"), ev()};
  batch[0].event_id = "9f2c4e0a7b1d4c3e8a5f6b7c8d9e0f1a";
  batch[2].event_id = "9f2c4e0a7b1d4c3e8a5f6b7c8d9e0f1a";  // the same event twice in one batch
  const std::vector<std::string> fps{"fp-a", "fp-b", "fp-a"};
  {
    auto st = open();
    EXPECT_EQ(st->append(batch, fps).value(), (std::vector<bool>{true, true, false}));
    EXPECT_EQ(st->event_count().value(), 2u);
  }
  auto st = open();  // what was claimed is durable
  // A retry of the batch without a key: only the event with an id is known.
  EXPECT_EQ(st->append(batch, fps).value(), (std::vector<bool>{false, true, false}));
  EXPECT_EQ(st->event_count().value(), 3u);

  const ingest_key key{.key = "retry-7", .digest = "d1"};
  const std::vector<error_event> plain{ev("CONFLICT"), ev("CONFLICT")};
  const std::vector<std::string> two{"fp-c", "fp-c"};
  EXPECT_EQ(st->append(plain, two, key).value(), (std::vector<bool>{true, true}));
  EXPECT_EQ(st->append(plain, two, key).value(), (std::vector<bool>{false, false}));  // a replay
  auto reused = st->append(plain, two, {.key = "retry-7", .digest = "another body"});
  ASSERT_FALSE(reused);
  EXPECT_TRUE(reused.error() == codes::field_validation_error);
  EXPECT_NE(reused.error().message().find("different body"), std::string::npos);
  EXPECT_EQ(st->event_count().value(), 5u);
  const auto groups = st->load_groups().value();
  std::map<std::string, std::uint64_t> counts;
  for (const auto& g : groups)
    counts[g.fingerprint] = g.count;
  EXPECT_EQ(counts["fp-a"], 1u);  // groups count each event once too
  EXPECT_EQ(counts["fp-b"], 2u);  // no id, no key: the keyless retry stored it again
  EXPECT_EQ(counts["fp-c"], 2u);
}

TEST_F(Store, IngestKeysAreForgottenPastTheWindow) {
  auto st = open();
  error_event e = ev();
  e.event_id = "evt-1";
  const std::vector<std::string> fp{"fp"};
  EXPECT_EQ(st->append(std::span(&e, 1), fp).value(), std::vector<bool>{true});
  clock.advance(25h);
  EXPECT_EQ(st->prune_ingest_keys_before(clock.system_now() - 24h).value(), 1u);
  EXPECT_EQ(st->append(std::span(&e, 1), fp).value(), std::vector<bool>{true});  // new again
  EXPECT_EQ(st->prune_ingest_keys_before(clock.system_now() - 24h).value(), 0u);
}

TEST_F(Store, SilencesSurviveAReopenAndTheLatestVersionWins) {
  const auto now = clock.system_now();
  silence s{.id = "s1",
            .matchers = {parse_matcher(R"(alertname="Disk")").value(),
                         parse_matcher(R"(instance=~"db-[0-9]+")").value()},
            .starts_at = now,
            .ends_at = now + 2h,
            .created_by = "ops",
            .comment = "maintenance \"window\""};
  {
    auto st = open();
    ASSERT_TRUE(st->save_silence(s));
    s.ends_at = now + 1h;  // expired early: saved again under the same id
    ASSERT_TRUE(st->save_silence(s));
  }
  auto st = open();
  const auto loaded = st->load_silences(now - 1h).value();
  ASSERT_EQ(loaded.size(), 1u);
  EXPECT_EQ(loaded[0].id, "s1");
  ASSERT_EQ(loaded[0].matchers.size(), 2u);
  EXPECT_EQ(loaded[0].matchers[1].to_string(), s.matchers[1].to_string());
  EXPECT_TRUE(loaded[0].matchers[1].matches(label_set{{"instance", "db-12"}}));
  EXPECT_EQ(loaded[0].starts_at, s.starts_at);
  EXPECT_EQ(loaded[0].ends_at, now + 1h);
  EXPECT_EQ(loaded[0].created_by, "ops");
  EXPECT_EQ(loaded[0].comment, s.comment);
}

TEST_F(Store, SilencesEndedLongAgoAreDeletedAndBadRowsSkipped) {
  const auto now = clock.system_now();
  auto st = open();
  const auto m = parse_matcher(R"(alertname="X")").value();
  ASSERT_TRUE(st->save_silence({.id = "old",
                                .matchers = {m},
                                .starts_at = now - 3h,
                                .ends_at = now - 2h,
                                .created_by = "a"}));
  ASSERT_TRUE(st->save_silence(
      {.id = "new", .matchers = {m}, .starts_at = now, .ends_at = now + 1h, .created_by = "a"}));
  // A row edited by hand into something unreadable is skipped, not fatal.
  ASSERT_TRUE(
      st->db().exec("INSERT INTO silences(id, ends_at, body) VALUES('bad', 9000000000000000000, "
                    "'{\"matchers\": 3}')"));
  const auto loaded = st->load_silences(now - 1h).value();
  ASSERT_EQ(loaded.size(), 1u);
  EXPECT_EQ(loaded[0].id, "new");
  EXPECT_EQ(st->load_silences(now - 1h)->size(), 1u);  // "old" is gone for good
}

// A database as keel first shipped it (before schema versions were
// recorded: user_version 0), with a group in it, is brought forward intact.
TEST_F(Store, DatabaseOfTheFirstSchemaIsMigratedWithItsData) {
  const auto db = dir.path() / "data" / "alert.db";
  std::filesystem::create_directories(db.parent_path());
  ASSERT_TRUE(testing::sqlite3_cli(
      db,
      "CREATE TABLE IF NOT EXISTS events( id INTEGER PRIMARY KEY, fingerprint TEXT NOT NULL, ts "
      "INTEGER NOT NULL, service TEXT NOT NULL, code TEXT NOT NULL, severity TEXT NOT NULL, body "
      "TEXT NOT NULL); CREATE INDEX IF NOT EXISTS events_by_group ON events(fingerprint, id); "
      "CREATE INDEX IF NOT EXISTS events_by_time ON events(ts); CREATE TABLE IF NOT EXISTS groups( "
      "fingerprint TEXT PRIMARY KEY, service TEXT NOT NULL, code TEXT NOT NULL, category TEXT NOT "
      "NULL, severity TEXT NOT NULL, title TEXT NOT NULL, count INTEGER NOT NULL, first_seen "
      "INTEGER NOT NULL, last_seen INTEGER NOT NULL, status TEXT NOT NULL, regressions INTEGER NOT "
      "NULL, ignore_until_count INTEGER, ignore_until INTEGER); CREATE TABLE IF NOT EXISTS outbox( "
      "id INTEGER PRIMARY KEY, receiver TEXT NOT NULL, dedup_key TEXT NOT NULL, content_type TEXT "
      "NOT NULL, body TEXT NOT NULL, state INTEGER NOT NULL, attempts INTEGER NOT NULL, created_at "
      "INTEGER NOT NULL, next_attempt_at INTEGER NOT NULL, delivered_at INTEGER, last_error TEXT "
      "NOT NULL DEFAULT ''); CREATE INDEX IF NOT EXISTS outbox_due ON outbox(state, receiver, "
      "next_attempt_at); CREATE TABLE IF NOT EXISTS dead_letters( id INTEGER PRIMARY KEY, receiver "
      "TEXT NOT NULL, dedup_key TEXT NOT NULL, content_type TEXT NOT NULL, body TEXT NOT NULL, "
      "attempts INTEGER NOT NULL, created_at INTEGER NOT NULL, dead_at INTEGER NOT NULL, reason "
      "TEXT NOT NULL); CREATE TABLE IF NOT EXISTS silences( id TEXT PRIMARY KEY, ends_at INTEGER "
      "NOT NULL, body TEXT NOT NULL); CREATE TABLE IF NOT EXISTS audit( seq INTEGER PRIMARY KEY, "
      "ts INTEGER NOT NULL, actor TEXT NOT NULL, action TEXT NOT NULL, resource TEXT NOT NULL, "
      "outcome TEXT NOT NULL, request_id TEXT NOT NULL, details TEXT NOT NULL, prev_hash TEXT NOT "
      "NULL, hash TEXT NOT NULL); INSERT INTO groups VALUES('fp1', 'checkout', 'DATABASE_ERROR', "
      "'systemic', 'high', 'insert <num> failed', 7, 1, 2, 'open', 0, NULL, NULL);"));
  auto st = open();
  auto groups = st->load_groups().value();
  ASSERT_EQ(groups.size(), 1u);
  EXPECT_EQ(groups[0].count, 7u);
  ASSERT_TRUE(st->save_settings({{"k", "v"}}));  // the tables of version 2
  EXPECT_EQ(st->load_settings("k").value().at(0).second, "v");
  ASSERT_TRUE(st->probe_write());
  st.reset();
  auto version = [&] {
    const std::string cmd = "sqlite3 '" + db.string() + "' 'PRAGMA user_version'";
    std::string out;
    if (FILE* f = ::popen(cmd.c_str(), "r")) {
      char buf[32] = {};
      if (std::fgets(buf, sizeof buf, f) != nullptr) out = buf;
      ::pclose(f);
    }
    return out;
  };
  EXPECT_EQ(version(), "5\n");
  EXPECT_TRUE(testing::sqlite3_cli(db, "SELECT seq, hash FROM audit_anchor"));   // version 4's
  EXPECT_TRUE(testing::sqlite3_cli(db, "SELECT key, digest FROM ingest_keys"));  // version 5's
  EXPECT_EQ(open()->load_groups().value().at(0).count, 7u);  // a second open changes nothing
}

TEST_F(Store, DatabaseOfANewerSchemaIsRefused) {
  const auto db = dir.path() / "data" / "alert.db";
  std::filesystem::create_directories(db.parent_path());
  ASSERT_TRUE(testing::sqlite3_cli(db, "PRAGMA user_version=99;"));
  auto st = store::open({.data_dir = dir.path() / "data"}, clock);
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error(), codes::configuration_error);
  EXPECT_NE(st.error().message().find("newer"), std::string::npos);
}

TEST_F(Store, UnusableDirectoryIsAnError) {
  auto r = store::open({.data_dir = "/proc/keel-cannot-create"}, clock);
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message().find("create data directory /proc/keel-cannot-create"),
            std::string::npos)
      << r.error().message();
}

class Outbox : public Store {
 protected:
  outbox_message msg(std::string receiver = "hook", std::string key = "k1") {
    return {.receiver = std::move(receiver),
            .dedup_key = std::move(key),
            .content_type = "application/json",
            .body = R"({"x":1})"};
  }
};

TEST_F(Outbox, EnqueuedMessageIsDueAtOnceAndSurvivesReopen) {
  std::int64_t id = 0;
  {
    auto st = open();
    outbox box(*st);
    id = box.enqueue(msg()).value();
  }
  auto st = open();
  outbox box(*st);
  auto due = box.due("hook", clock.system_now(), 10).value();
  ASSERT_EQ(due.size(), 1u);
  EXPECT_EQ(due[0].id, id);
  EXPECT_EQ(due[0].body, R"({"x":1})");
  EXPECT_EQ(due[0].attempts, 0u);
  EXPECT_TRUE(box.due("other", clock.system_now(), 10)->empty());
}

TEST_F(Outbox, RetryLaterHidesTheMessageUntilItsTime) {
  auto st = open();
  outbox box(*st);
  auto id = box.enqueue(msg()).value();
  ASSERT_TRUE(box.retry_later(id, clock.system_now() + 30s, "HTTP 503"));
  EXPECT_TRUE(box.due("hook", clock.system_now(), 10)->empty());
  EXPECT_EQ(box.next_due("hook").value(), clock.system_now() + 30s);
  clock.advance(30s);
  auto due = box.due("hook", clock.system_now(), 10).value();
  ASSERT_EQ(due.size(), 1u);
  EXPECT_EQ(due[0].attempts, 1u);
  EXPECT_EQ(due[0].last_error, "HTTP 503");
}

TEST_F(Outbox, DeliveredMessageLeavesTheQueue) {
  auto st = open();
  outbox box(*st);
  auto id = box.enqueue(msg()).value();
  ASSERT_TRUE(box.delivered(id));
  EXPECT_TRUE(box.due("hook", clock.system_now(), 10)->empty());
  auto s = box.stats().value();
  EXPECT_EQ(s.pending, 0u);
  EXPECT_EQ(s.delivered, 1u);
  EXPECT_EQ(box.delivered(id).error(), codes::resource_not_found);
}

TEST_F(Outbox, DeadLetterMovesTheMessageAndRequeueBringsItBack) {
  auto st = open();
  outbox box(*st);
  auto id = box.enqueue(msg()).value();
  ASSERT_TRUE(box.dead_letter(id, "HTTP 400"));
  EXPECT_TRUE(box.pending(10)->empty());
  auto dead = box.dead_letters(10).value();
  ASSERT_EQ(dead.size(), 1u);
  EXPECT_EQ(dead[0].reason, "HTTP 400");
  EXPECT_EQ(dead[0].dedup_key, "k1");
  EXPECT_EQ(dead[0].attempts, 1u);
  auto again = box.requeue(dead[0].id).value();
  EXPECT_TRUE(box.dead_letters(10)->empty());
  EXPECT_EQ(box.due("hook", clock.system_now(), 10)->at(0).id, again);
}

TEST_F(Outbox, LogListsWhatWasSentToWhomAndHowItEndedNewestFirst) {
  auto st = open();
  outbox box(*st);
  const auto delivered = box.enqueue(msg("hook", "a")).value();
  clock.advance(1s);
  const auto dead = box.enqueue(msg("pager", "b")).value();
  clock.advance(1s);
  const auto waiting = box.enqueue(msg("hook", "c")).value();
  clock.advance(1s);
  ASSERT_TRUE(box.delivered(delivered));
  ASSERT_TRUE(box.dead_letter(dead, "HTTP 400 bad routing key"));
  ASSERT_TRUE(box.retry_later(waiting, clock.system_now() + 30s, "HTTP 503"));

  auto all = box.log({}).value();
  ASSERT_EQ(all.size(), 3u);
  EXPECT_EQ(all[0].dedup_key, "c");
  EXPECT_EQ(all[0].outcome, notification_outcome::pending);
  EXPECT_EQ(all[0].detail, "HTTP 503");
  EXPECT_EQ(all[0].finished_at, clock.system_now() + 30s);
  EXPECT_EQ(all[1].dedup_key, "b");
  EXPECT_EQ(all[1].outcome, notification_outcome::dead);
  EXPECT_EQ(all[1].receiver, "pager");
  EXPECT_EQ(all[1].detail, "HTTP 400 bad routing key");
  EXPECT_EQ(all[2].dedup_key, "a");
  EXPECT_EQ(all[2].outcome, notification_outcome::delivered);
  EXPECT_EQ(all[2].attempts, 1u);
  EXPECT_EQ(all[2].finished_at, clock.system_now());
  EXPECT_EQ(all[2].body_bytes, 7u);

  EXPECT_EQ(box.log({.receiver = "hook"}).value().size(), 2u);
  const auto only_dead = box.log({.outcome = notification_outcome::dead}).value();
  ASSERT_EQ(only_dead.size(), 1u);
  EXPECT_EQ(only_dead[0].dedup_key, "b");
  // Paging: the next page starts before the last record's creation.
  const auto first = box.log({.limit = 2}).value();
  ASSERT_EQ(first.size(), 2u);
  const auto rest = box.log({.before = first.back().created_at, .limit = 2}).value();
  ASSERT_EQ(rest.size(), 1u);
  EXPECT_EQ(rest[0].dedup_key, "a");
  const auto view = to_json(all[1]);
  EXPECT_EQ(view.at("outcome"), "dead");
  EXPECT_TRUE(view.contains("finished_at"));
}

TEST_F(Outbox, StatsReportDepthAndOldestPending) {
  auto st = open();
  outbox box(*st);
  const auto t0 = clock.system_now();
  (void)box.enqueue(msg("a"));
  clock.advance(5s);
  (void)box.enqueue(msg("b"));
  auto s = box.stats().value();
  EXPECT_EQ(s.pending, 2u);
  EXPECT_EQ(s.oldest_pending, t0);
  EXPECT_EQ(box.stats("b")->pending, 1u);
}

TEST_F(Outbox, OversizedBodyIsRefused) {
  auto st = open();
  outbox box(*st);
  auto m = msg();
  m.body.assign(2 * 1024 * 1024, 'x');
  EXPECT_EQ(box.enqueue(m).error(), codes::validation_error);
}

}  // namespace
}  // namespace keel::alert
