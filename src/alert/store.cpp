#include "keel/alert/store.hpp"

#include <sys/stat.h>

#include <algorithm>
#include <span>
#include <stdexcept>
#include <system_error>
#include <unordered_map>

#include <nlohmann/json.hpp>

#include "alert/internal/db.hpp"
#include "alert/internal/nanos.hpp"
#include "keel/alert/fingerprint.hpp"

namespace keel::alert {
namespace {

using internal::from_ns;
using internal::to_ns;

// The schema, as versioned migrations: migration i takes a database at
// user_version i to i + 1, in one transaction. Append, never edit: a
// database written by an older keel is brought forward at open. Version 1
// is the schema keel first shipped (IF NOT EXISTS, so a database made
// before versions were recorded, at user_version 0, takes it unchanged).
constexpr const char* kMigrations[] = {
    // 1: events and groups, outbox and dead letters, silences, audit.
    R"sql(
CREATE TABLE IF NOT EXISTS events(
  id INTEGER PRIMARY KEY, fingerprint TEXT NOT NULL, ts INTEGER NOT NULL,
  service TEXT NOT NULL, code TEXT NOT NULL, severity TEXT NOT NULL, body TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS events_by_group ON events(fingerprint, id);
CREATE INDEX IF NOT EXISTS events_by_time ON events(ts);
CREATE TABLE IF NOT EXISTS groups(
  fingerprint TEXT PRIMARY KEY, service TEXT NOT NULL, code TEXT NOT NULL,
  category TEXT NOT NULL, severity TEXT NOT NULL, title TEXT NOT NULL, count INTEGER NOT NULL,
  first_seen INTEGER NOT NULL, last_seen INTEGER NOT NULL, status TEXT NOT NULL,
  regressions INTEGER NOT NULL, ignore_until_count INTEGER, ignore_until INTEGER);
CREATE TABLE IF NOT EXISTS outbox(
  id INTEGER PRIMARY KEY, receiver TEXT NOT NULL, dedup_key TEXT NOT NULL,
  content_type TEXT NOT NULL, body TEXT NOT NULL, state INTEGER NOT NULL,
  attempts INTEGER NOT NULL, created_at INTEGER NOT NULL, next_attempt_at INTEGER NOT NULL,
  delivered_at INTEGER, last_error TEXT NOT NULL DEFAULT '');
CREATE INDEX IF NOT EXISTS outbox_due ON outbox(state, receiver, next_attempt_at);
CREATE TABLE IF NOT EXISTS dead_letters(
  id INTEGER PRIMARY KEY, receiver TEXT NOT NULL, dedup_key TEXT NOT NULL,
  content_type TEXT NOT NULL, body TEXT NOT NULL, attempts INTEGER NOT NULL,
  created_at INTEGER NOT NULL, dead_at INTEGER NOT NULL, reason TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS silences(
  id TEXT PRIMARY KEY, ends_at INTEGER NOT NULL, body TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS audit(
  seq INTEGER PRIMARY KEY, ts INTEGER NOT NULL, actor TEXT NOT NULL, action TEXT NOT NULL,
  resource TEXT NOT NULL, outcome TEXT NOT NULL, request_id TEXT NOT NULL,
  details TEXT NOT NULL, prev_hash TEXT NOT NULL, hash TEXT NOT NULL);
)sql",
    // 2: head-of-line outbox order, the write probe, settings (configuration
    // made through an API, alert state).
    R"sql(
CREATE INDEX IF NOT EXISTS outbox_fifo ON outbox(state, receiver, id);
CREATE TABLE IF NOT EXISTS store_probe(id INTEGER PRIMARY KEY, ts INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS settings(key TEXT PRIMARY KEY, value TEXT NOT NULL);
)sql",
    // 3: the notification log, newest first.
    R"sql(
CREATE INDEX IF NOT EXISTS outbox_created ON outbox(created_at);
CREATE INDEX IF NOT EXISTS dead_letters_created ON dead_letters(created_at);
)sql",
    // 4: the audit trail's anchor: the last entry pruned past retention,
    // which the first one kept links to.
    R"sql(
CREATE TABLE IF NOT EXISTS audit_anchor(
  id INTEGER PRIMARY KEY CHECK(id = 1), seq INTEGER NOT NULL, hash TEXT NOT NULL);
)sql",
    // 5: ingest keys seen within the idempotency window: a batch's
    // Idempotency-Key ("batch:", with its body's digest) and events' ids
    // ("event:"), written in the transaction that stores their events.
    R"sql(
CREATE TABLE IF NOT EXISTS ingest_keys(
  key TEXT PRIMARY KEY, digest TEXT NOT NULL, created_at INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS ingest_keys_created ON ingest_keys(created_at);
)sql",
};
constexpr int kSchemaVersion = static_cast<int>(std::size(kMigrations));

result<void> migrate(internal::db& d, const std::filesystem::path& path) {
  auto v = d.prepare("PRAGMA user_version");
  if (!v) return fail(v.error());
  if (auto r = (*v)->step(); !r) return fail(r.error());
  const auto version = static_cast<int>((*v)->int64(0));
  (*v)->reset();
  if (version > kSchemaVersion) {
    return fail(error(codes::configuration_error,
                      "database written by a newer keel (schema " + std::to_string(version) +
                          ", this one knows " + std::to_string(kSchemaVersion) + ")")
                    .with_detail("path", path.string()));
  }
  for (int i = version; i < kSchemaVersion; ++i) {
    internal::transaction tx(d);
    if (auto r = tx.begin(); !r) return r;
    if (auto r = d.exec(kMigrations[i]); !r) return r;
    if (auto r = d.exec(("PRAGMA user_version=" + std::to_string(i + 1)).c_str()); !r) return r;
    if (auto r = tx.commit(); !r) return r;
  }
  return ok();
}

}  // namespace

result<std::unique_ptr<store>> store::open(const store_options& opts, const keel::clock& clock) {
  if (opts.data_dir.empty()) return fail(codes::configuration_error, "store: data_dir is empty");
  std::error_code ec;
  if (std::filesystem::create_directories(opts.data_dir, ec)) ::chmod(opts.data_dir.c_str(), 0700);
  if (ec) return fail(from_error_code(ec, "create data directory " + opts.data_dir.string()));
  auto path = opts.data_dir / opts.file_name;
  auto d = internal::db::open(path, opts.full_sync);
  if (!d) return fail(d.error());
  // Events and notification bodies are the owner's only, whatever the
  // umask: SQLite makes the WAL and shared-memory files with the mode of
  // the database file, so they follow.
  for (const char* suffix : {"", "-wal", "-shm"}) {
    const auto file = path.string() + suffix;
    ::chmod(file.c_str(), 0600);
  }
  if (auto r = migrate(**d, path); !r) return fail(r.error());
  return std::unique_ptr<store>(
      new store(std::move(*d), std::move(path), clock, std::max<std::size_t>(1, opts.event_batch)));
}

store::store(std::unique_ptr<internal::db> d, std::filesystem::path p, const keel::clock& c,
             std::size_t batch)
    : db_(std::move(d)), path_(std::move(p)), clock_(c), batch_(batch) {
  events_.reserve(batch_);
}

store::~store() {
  std::lock_guard lock(buf_mu_);
  (void)flush_locked();
}

void store::on_event(const error_event& e, std::string_view fingerprint) {
  std::lock_guard lock(buf_mu_);
  // Reuse a buffer slot's strings when one is free (capacity kept across flushes).
  if (used_ == events_.size()) events_.emplace_back();
  pending_event& p = events_[used_++];
  p.fingerprint.assign(fingerprint);
  p.ts_ns = to_ns(e.timestamp);
  p.service.assign(e.service);
  p.code.assign(e.code);
  p.severity.assign(to_string(e.severity));
  p.category.assign(to_string(e.category));
  p.title = normalize_message(e.message);
  p.body.clear();
  append_json(p.body, e);
  if (used_ >= batch_ && !flush_locked()) ++flush_failures_;
}

void store::on_group(const error_group& g) {
  std::lock_guard lock(buf_mu_);
  auto& slot = groups_[g.fingerprint];
  slot = g;
  slot.recent.clear();
}

result<void> store::flush() {
  std::lock_guard lock(buf_mu_);
  return flush_locked();
}

namespace {

// Event rows and their groups' counts, in the caller's transaction. A group
// row is created from its first event when it is new; its count only ever
// moves here, with its events, so it always equals the events written. One
// upsert per group of the batch, not per event.
template <class Events>
result<void> insert_events(internal::db& d, const Events& batches) {
  struct group_delta {
    const store::pending_event* first = nullptr;
    std::int64_t count = 0, min_ts = 0, max_ts = 0;
  };
  std::unordered_map<std::string_view, group_delta> groups;
  auto s = d.prepare(
      "INSERT INTO events(fingerprint, ts, service, code, severity, body) VALUES(?,?,?,?,?,?)");
  if (!s) return fail(s.error());
  auto seen = d.prepare(
      "INSERT INTO ingest_keys(key, digest, created_at) VALUES(?, '', ?) ON CONFLICT DO NOTHING");
  if (!seen) return fail(seen.error());
  for (const auto& batch : batches) {
    for (const store::pending_event& e : batch) {
      e.duplicate = false;
      if (!e.key.empty()) {
        (*seen)->reset();
        (*seen)->bind(1, e.key).bind(2, e.received_ns);
        if (auto r = (*seen)->step(); !r) return fail(r.error());
        if (d.changes() == 0) {  // stored once already, within the window
          e.duplicate = true;
          continue;
        }
      }
      (*s)->reset();
      (*s)->bind(1, e.fingerprint).bind(2, e.ts_ns).bind(3, e.service).bind(4, e.code);
      (*s)->bind(5, e.severity).bind(6, e.body);
      if (auto r = (*s)->step(); !r) return fail(r.error());
      auto& g = groups[e.fingerprint];
      if (g.first == nullptr) {
        g = {&e, 0, e.ts_ns, e.ts_ns};
      }
      ++g.count;
      g.min_ts = std::min(g.min_ts, e.ts_ns);
      g.max_ts = std::max(g.max_ts, e.ts_ns);
    }
  }
  auto up = d.prepare(
      "INSERT INTO groups(fingerprint, service, code, category, severity, title, count,"
      " first_seen, last_seen, status, regressions) VALUES(?,?,?,?,?,?,?,?,?,'open',0)"
      " ON CONFLICT(fingerprint) DO UPDATE SET count=count+excluded.count,"
      " first_seen=min(first_seen, excluded.first_seen),"
      " last_seen=max(last_seen, excluded.last_seen)");
  if (!up) return fail(up.error());
  for (const auto& [fp, g] : groups) {
    const auto& e = *g.first;
    (*up)->reset();
    (*up)->bind(1, e.fingerprint).bind(2, e.service).bind(3, e.code).bind(4, e.category);
    (*up)->bind(5, e.severity).bind(6, e.title).bind(7, g.count).bind(8, g.min_ts);
    (*up)->bind(9, g.max_ts);
    if (auto r = (*up)->step(); !r) return fail(r.error());
  }
  return ok();
}

// A group's state (status, regressions, ignore), never its count.
result<void> upsert_group_state(internal::db& d, const error_group& g) {
  auto s = d.prepare(
      "INSERT INTO groups(fingerprint, service, code, category, severity, title, count,"
      " first_seen, last_seen, status, regressions, ignore_until_count, ignore_until)"
      " VALUES(?,?,?,?,?,?,0,?,?,?,?,?,?) ON CONFLICT(fingerprint) DO UPDATE SET"
      " status=excluded.status, regressions=excluded.regressions,"
      " ignore_until_count=excluded.ignore_until_count, ignore_until=excluded.ignore_until");
  if (!s) return fail(s.error());
  const auto cat = to_string(g.category);
  const auto sev = to_string(g.severity);
  const auto st = to_string(g.status);
  (*s)->bind(1, g.fingerprint).bind(2, g.service).bind(3, g.code).bind(4, cat).bind(5, sev);
  (*s)->bind(6, g.title);
  (*s)->bind(7, to_ns(g.first_seen)).bind(8, to_ns(g.last_seen)).bind(9, st);
  (*s)->bind(10, static_cast<std::int64_t>(g.regressions));
  if (g.ignore_until_count) (*s)->bind(11, static_cast<std::int64_t>(*g.ignore_until_count));
  if (g.ignore_until) (*s)->bind(12, to_ns(*g.ignore_until));
  if (auto r = (*s)->step(); !r) return fail(r.error());
  return ok();
}

}  // namespace

result<void> store::flush_locked() {
  if (used_ == 0 && groups_.empty()) return ok();
  std::lock_guard dblock(db_->mutex());
  internal::transaction tx(*db_);
  auto written = [&]() -> result<void> {
    if (auto r = tx.begin(); !r) return r;
    const std::span<const pending_event> buffered(events_.data(), used_);
    if (auto r = insert_events(*db_, std::span(&buffered, 1)); !r) return r;
    for (const auto& [fp, g] : groups_) {
      if (auto r = upsert_group_state(*db_, g); !r) return r;
    }
    return tx.commit();
  }();
  if (!written) {
    note_write_failure_locked();
    return written;
  }
  used_ = 0;
  groups_.clear();
  return ok();
}

namespace {

// A retried batch: the same Idempotency-Key with the same body is a replay
// (every event a duplicate), with another body a client error. The key is
// claimed in the transaction that stores the batch.
enum class batch_claim : std::uint8_t { fresh, replay, reused };

result<batch_claim> claim_batch(internal::db& d, std::string_view key, std::string_view digest,
                                std::int64_t now_ns) {
  auto ins = d.prepare(
      "INSERT INTO ingest_keys(key, digest, created_at) VALUES(?, ?, ?) ON CONFLICT DO NOTHING");
  if (!ins) return fail(ins.error());
  (*ins)->bind(1, key).bind(2, digest).bind(3, now_ns);
  if (auto r = (*ins)->step(); !r) return fail(r.error());
  if (d.changes() == 1) return batch_claim::fresh;
  auto q = d.prepare("SELECT digest FROM ingest_keys WHERE key = ?");
  if (!q) return fail(q.error());
  (*q)->bind(1, key);
  auto row = (*q)->step();
  if (!row) return fail(row.error());
  return (*q)->text(0) == digest ? batch_claim::replay : batch_claim::reused;
}

}  // namespace

result<std::vector<bool>> store::append(std::span<const error_event> events,
                                        std::span<const std::string> fingerprints,
                                        const ingest_key& idempotency) {
  if (events.size() != fingerprints.size()) {
    return fail(codes::internal_error, "store::append: one fingerprint per event");
  }
  const std::int64_t now_ns = to_ns(clock_.system_now());
  auto mine = std::make_shared<commit_slot>();
  if (!idempotency.key.empty()) {
    mine->batch_key = "batch:" + idempotency.key;
    mine->batch_digest = idempotency.digest;
  }
  mine->events.resize(events.size());
  for (std::size_t i = 0; i < events.size(); ++i) {
    pending_event& p = mine->events[i];
    const error_event& e = events[i];
    p.fingerprint = fingerprints[i];
    if (!e.event_id.empty()) p.key = "event:" + e.event_id;
    p.received_ns = now_ns;
    p.ts_ns = to_ns(e.timestamp);
    p.service = e.service;
    p.code = e.code;
    p.severity = to_string(e.severity);
    p.category = to_string(e.category);
    p.title = normalize_message(e.message);
    append_json(p.body, e);
  }
  // Group commit: the first caller to find no commit running writes every
  // batch queued so far in one transaction; the others wait for its result.
  std::unique_lock lock(commit_mu_);
  queue_.push_back(mine);
  while (!mine->done) {
    if (committing_) {
      commit_cv_.wait(lock);
      continue;
    }
    committing_ = true;
    std::vector<std::shared_ptr<commit_slot>> batch;
    batch.swap(queue_);
    lock.unlock();
    result<void> r = ok();
    {
      std::lock_guard dblock(db_->mutex());
      internal::transaction tx(*db_);
      r = [&]() -> result<void> {
        if (auto b = tx.begin(); !b) return b;
        std::vector<std::span<const pending_event>> all;
        all.reserve(batch.size());
        for (const auto& slot : batch) {
          slot->claim = static_cast<std::uint8_t>(batch_claim::fresh);
          if (!slot->batch_key.empty()) {
            auto c = claim_batch(*db_, slot->batch_key, slot->batch_digest, now_ns);
            if (!c) return fail(c.error());
            slot->claim = static_cast<std::uint8_t>(*c);
            if (*c != batch_claim::fresh) continue;  // nothing of it is written again
          }
          all.emplace_back(slot->events);
        }
        if (auto w = insert_events(*db_, all); !w) return w;
        return tx.commit();
      }();
      if (!r) note_write_failure_locked();
    }
    lock.lock();
    for (auto& slot : batch) {
      slot->outcome = r;
      slot->done = true;
    }
    committing_ = false;
    commit_cv_.notify_all();
  }
  if (!mine->outcome) return fail(mine->outcome.error());
  const auto claim = static_cast<batch_claim>(mine->claim);
  if (claim == batch_claim::reused) {
    return fail(
        error(codes::field_validation_error, "Idempotency-Key already used for a different body")
            .with_detail("field", "Idempotency-Key"));
  }
  std::vector<bool> stored(mine->events.size(), claim == batch_claim::fresh);
  if (claim == batch_claim::fresh) {
    for (std::size_t i = 0; i < stored.size(); ++i)
      stored[i] = !mine->events[i].duplicate;
  }
  return stored;
}

result<std::uint64_t> store::prune_ingest_keys_before(std::chrono::system_clock::time_point t,
                                                      std::size_t limit) {
  std::lock_guard dblock(db_->mutex());
  auto s = db_->prepare(
      "DELETE FROM ingest_keys WHERE key IN"
      " (SELECT key FROM ingest_keys WHERE created_at < ? ORDER BY created_at LIMIT ?)");
  if (!s) return fail(s.error());
  (*s)->bind(1, to_ns(t)).bind(2, limit == 0 ? std::int64_t{-1} : static_cast<std::int64_t>(limit));
  if (auto r = (*s)->step(); !r) return fail(r.error());
  return static_cast<std::uint64_t>(db_->changes());
}

void store::note_write_failure_locked() {
  // A failed transaction leaves its pages in the WAL; give the space back
  // so that a disk that was full can take the next write once freed.
  (void)db_->exec("PRAGMA wal_checkpoint(TRUNCATE)");
}

result<void> store::probe_write() {
  std::lock_guard dblock(db_->mutex());
  auto s = db_->prepare("INSERT OR REPLACE INTO store_probe(id, ts) VALUES(1, ?)");
  if (!s) return fail(s.error());
  (*s)->bind(1, to_ns(clock_.system_now()));
  if (auto r = (*s)->step(); !r) {
    note_write_failure_locked();
    return fail(r.error());
  }
  return ok();
}

result<std::vector<store::series_count>> store::event_counts_since(
    std::chrono::system_clock::time_point since) {
  std::lock_guard dblock(db_->mutex());
  auto s = db_->prepare(
      "SELECT g.service, g.code, g.category, g.severity, count(*) FROM events e"
      " JOIN groups g ON g.fingerprint = e.fingerprint WHERE e.ts >= ? AND g.status != 'ignored'"
      " GROUP BY g.service, g.code, g.category, g.severity");
  if (!s) return fail(s.error());
  (*s)->bind(1, to_ns(since));
  std::vector<series_count> out;
  if (auto r = (*s)->each_row([&](const internal::stmt& q) {
        out.push_back(
            {q.text(0), q.text(1), q.text(2), q.text(3), static_cast<std::uint64_t>(q.int64(4))});
      });
      !r)
    return fail(r.error());
  return out;
}

result<std::vector<stored_event>> store::recent_events(std::size_t limit) {
  std::lock_guard dblock(db_->mutex());
  auto s = db_->prepare("SELECT id, fingerprint, body FROM events ORDER BY id DESC LIMIT ?");
  if (!s) return fail(s.error());
  (*s)->bind(1, static_cast<std::int64_t>(limit));
  std::vector<stored_event> out;
  if (auto r = (*s)->each_row([&](const internal::stmt& q) {
        auto e = event_from_json(q.text(2), clock_.system_now());
        if (!e) return;
        out.push_back({q.int64(0), q.text(1), std::move(*e)});
      });
      !r)
    return fail(r.error());
  return out;
}

result<std::uint64_t> store::event_count() {
  std::lock_guard dblock(db_->mutex());
  auto s = db_->prepare("SELECT count(*) FROM events");
  if (!s) return fail(s.error());
  auto r = (*s)->step();
  if (!r) return fail(r.error());
  return static_cast<std::uint64_t>((*s)->int64(0));
}

result<std::vector<stored_event>> store::events_of(std::string_view fingerprint,
                                                   std::size_t limit) {
  std::lock_guard dblock(db_->mutex());
  auto s = db_->prepare("SELECT id, body FROM events WHERE fingerprint=? ORDER BY id DESC LIMIT ?");
  if (!s) return fail(s.error());
  (*s)->bind(1, fingerprint).bind(2, static_cast<std::int64_t>(limit));
  std::vector<stored_event> out;
  if (auto r = (*s)->each_row([&](const internal::stmt& q) {
        auto e = event_from_json(q.text(1), clock_.system_now());
        if (!e) return;  // a row this version cannot read is skipped, not fatal
        out.push_back({q.int64(0), std::string(fingerprint), std::move(*e)});
      });
      !r)
    return fail(r.error());
  return out;
}

result<std::vector<error_group>> store::load_groups() {
  std::lock_guard dblock(db_->mutex());
  auto s = db_->prepare(
      "SELECT fingerprint, service, code, category, severity, title, count, first_seen,"
      " last_seen, status, regressions, ignore_until_count, ignore_until FROM groups");
  if (!s) return fail(s.error());
  std::vector<error_group> out;
  if (auto r = (*s)->each_row([&](const internal::stmt& q) {
        error_group g;
        g.fingerprint = q.text(0);
        g.service = q.text(1);
        g.code = q.text(2);
        g.category = parse_category(q.text(3)).value_or(category::permanent);
        g.severity = parse_severity(q.text(4)).value_or(severity::medium);
        g.title = q.text(5);
        g.count = static_cast<std::uint64_t>(q.int64(6));
        g.first_seen = from_ns(q.int64(7));
        g.last_seen = from_ns(q.int64(8));
        const auto st = q.text(9);
        g.status = st == "resolved"  ? group_status::resolved
                   : st == "ignored" ? group_status::ignored
                                     : group_status::open;
        g.regressions = static_cast<std::uint64_t>(q.int64(10));
        if (!q.is_null(11)) g.ignore_until_count = static_cast<std::uint64_t>(q.int64(11));
        if (!q.is_null(12)) g.ignore_until = from_ns(q.int64(12));
        out.push_back(std::move(g));
      });
      !r)
    return fail(r.error());
  return out;
}

result<void> store::save_silence(const silence& s) {
  nlohmann::json matchers = nlohmann::json::array();
  for (const auto& m : s.matchers)
    matchers.push_back(m.to_string());
  const std::string body = nlohmann::json{
      {"matchers", std::move(matchers)},
      {"starts_at", to_ns(s.starts_at)},
      {"ends_at", to_ns(s.ends_at)},
      {"created_by", s.created_by},
      {"comment", s.comment}}.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  std::lock_guard dblock(db_->mutex());
  auto st = db_->prepare("INSERT OR REPLACE INTO silences(id, ends_at, body) VALUES(?, ?, ?)");
  if (!st) return fail(st.error());
  (*st)->bind(1, std::string_view(s.id)).bind(2, to_ns(s.ends_at)).bind(3, std::string_view(body));
  if (auto r = (*st)->step(); !r) return fail(r.error());
  return ok();
}

result<std::vector<silence>> store::load_silences(
    std::chrono::system_clock::time_point ended_after) {
  std::lock_guard dblock(db_->mutex());
  auto del = db_->prepare("DELETE FROM silences WHERE ends_at < ?");
  if (!del) return fail(del.error());
  (*del)->bind(1, to_ns(ended_after));
  if (auto r = (*del)->step(); !r) return fail(r.error());
  auto q = db_->prepare("SELECT id, body FROM silences ORDER BY id");
  if (!q) return fail(q.error());
  std::vector<silence> out;
  if (auto r = (*q)->each_row([&](const internal::stmt& row) {
        // A row this code did not write (edited by hand, a newer version) is
        // skipped rather than fatal: the rest still load.
        try {
          const auto j = nlohmann::json::parse(row.text(1));
          silence s;
          s.id = row.text(0);
          for (const auto& m : j.at("matchers")) {
            auto parsed = parse_matcher(m.get<std::string>());
            if (!parsed) throw std::invalid_argument("matcher");
            s.matchers.push_back(std::move(*parsed));
          }
          s.starts_at = from_ns(j.at("starts_at").get<std::int64_t>());
          s.ends_at = from_ns(j.at("ends_at").get<std::int64_t>());
          s.created_by = j.at("created_by").get<std::string>();
          s.comment = j.at("comment").get<std::string>();
          out.push_back(std::move(s));
        } catch (const std::exception&) {
          return;
        }
      });
      !r)
    return fail(r.error());
  return out;
}

result<std::uint64_t> store::prune_events_before(std::chrono::system_clock::time_point t,
                                                 std::size_t limit) {
  std::lock_guard dblock(db_->mutex());
  auto s = db_->prepare(
      "DELETE FROM events WHERE id IN (SELECT id FROM events WHERE ts < ? ORDER BY ts LIMIT ?)");
  if (!s) return fail(s.error());
  (*s)->bind(1, to_ns(t)).bind(2, limit == 0 ? std::int64_t{-1} : static_cast<std::int64_t>(limit));
  if (auto r = (*s)->step(); !r) return fail(r.error());
  return static_cast<std::uint64_t>(db_->changes());
}

result<void> store::save_settings(const std::vector<std::pair<std::string, std::string>>& set,
                                  std::string_view erase_prefix) {
  std::lock_guard dblock(db_->mutex());
  internal::transaction tx(*db_);
  if (auto r = tx.begin(); !r) return r;
  if (!erase_prefix.empty()) {
    // A prefix match without LIKE's wildcards: keys in [prefix, prefix + 0xFF).
    auto del = db_->prepare("DELETE FROM settings WHERE key >= ? AND key < ?");
    if (!del) return fail(del.error());
    const std::string hi = std::string(erase_prefix) + "\xff";
    (*del)->bind(1, erase_prefix).bind(2, std::string_view(hi));
    if (auto r = (*del)->step(); !r) return fail(r.error());
  }
  for (const auto& [k, v] : set) {
    auto s = db_->prepare("INSERT OR REPLACE INTO settings(key, value) VALUES(?, ?)");
    if (!s) return fail(s.error());
    (*s)->bind(1, std::string_view(k)).bind(2, std::string_view(v));
    if (auto r = (*s)->step(); !r) return fail(r.error());
  }
  return tx.commit();
}

result<std::vector<std::pair<std::string, std::string>>> store::load_settings(
    std::string_view prefix) {
  std::lock_guard dblock(db_->mutex());
  auto s = db_->prepare("SELECT key, value FROM settings WHERE key >= ? AND key < ? ORDER BY key");
  if (!s) return fail(s.error());
  const std::string hi = std::string(prefix) + "\xff";
  (*s)->bind(1, prefix).bind(2, std::string_view(hi));
  std::vector<std::pair<std::string, std::string>> out;
  if (auto r =
          (*s)->each_row([&](const internal::stmt& q) { out.emplace_back(q.text(0), q.text(1)); });
      !r)
    return fail(r.error());
  return out;
}

}  // namespace keel::alert
