// keel/alert/store.hpp
//
// store is keel::alert's durable state: one SQLite database (WAL journal) in
// the data directory holding error events and groups, silences, the
// notification outbox and its dead letters (outbox.hpp), and the audit trail
// (audit.hpp).
//
//   auto st = keel::alert::store::open({.data_dir = "/var/lib/keeld"}, clock).value();
//   keel::alert::error_tracker tracker(clock, {}, st.get());   // events and groups persist
//   for (auto& g : st->load_groups().value()) tracker.restore(g);  // after a restart
//   st->flush().value();                                      // e.g. every second
//
// Events are written in batches (`event_batch` per transaction, or at
// flush()): an event is durable once the flush that carries it returns.
// Groups are written at the same flush, latest state per group.
// synchronous=FULL (the default) makes every committed transaction survive
// power loss; NORMAL survives a process crash only and is faster.
//
// Thread safety: all member functions may be called concurrently (one mutex
// around the connection). Cost: on_event() serializes the event and appends
// it to a buffer; a flush is one transaction with one fsync.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <unordered_map>
#include <vector>

#include "keel/alert/dispatcher.hpp"
#include "keel/alert/error_tracker.hpp"
#include "keel/core/clock.hpp"

namespace keel::alert {

namespace internal {
class db;
}

// store_options
struct store_options {
  std::filesystem::path data_dir{};  // created if missing
  std::string file_name = "alert.db";
  std::size_t event_batch = 1000;  // events per transaction
  bool full_sync = true;           // PRAGMA synchronous=FULL (else NORMAL)
};

// stored_event
struct stored_event {
  std::int64_t id = 0;
  std::string fingerprint{};
  error_event event{};
};

// ingest_key
//
// A batch's identity for store::append(): the client's Idempotency-Key
// (empty: none) and a digest of the body it came with.
struct ingest_key {
  std::string key{};
  std::string digest{};
};

class store final : public event_sink {
 public:
  // Opens or creates the database and its schema. DATABASE_ERROR /
  // IO_ERROR when the directory or file cannot be used.
  [[nodiscard]] static result<std::unique_ptr<store>> open(const store_options& opts,
                                                           const keel::clock& clock);
  ~store() override;
  store(const store&) = delete;
  store& operator=(const store&) = delete;

  // event_sink: buffered, written at the next batch or flush().
  void on_event(const error_event& e, std::string_view fingerprint) override;
  void on_group(const error_group& g) override;
  // Writes everything buffered in one transaction.
  [[nodiscard]] result<void> flush();

  // Writes `events` (with their fingerprints) and their groups' counts in
  // one committed transaction before it returns, bypassing the buffer:
  // on failure nothing of them is kept, so the caller can refuse them
  // honestly. Concurrent callers share one transaction (group commit).
  //
  // Exactly once for a client that retries: an event with an event_id
  // already stored, and every event of a batch whose `idempotency` key was
  // stored with the same digest, are not written again (false in the
  // answer, one flag per event; true: stored now). The keys are written in
  // the same transaction, so a crash between the commit and the client's
  // answer leaves a retry a replay. A key stored with another digest is
  // FIELD_VALIDATION_ERROR (422) and nothing is written. Keys are kept
  // until prune_ingest_keys_before().
  [[nodiscard]] result<std::vector<bool>> append(std::span<const error_event> events,
                                                 std::span<const std::string> fingerprints,
                                                 const ingest_key& idempotency = {});
  // Forgets ingest keys (batch keys and event ids) first seen before `t`,
  // at most `limit` (0: all); returns how many.
  [[nodiscard]] result<std::uint64_t> prune_ingest_keys_before(
      std::chrono::system_clock::time_point t, std::size_t limit = 0);
  // One small committed write: whether the store can take writes now
  // (after a failure, to know when a full disk has room again).
  [[nodiscard]] result<void> probe_write();
  // Failures of automatic (batch-full) flushes since open; they are retried
  // at the next flush, the buffered rows are not dropped.
  std::uint64_t flush_failures() const noexcept { return flush_failures_; }

  [[nodiscard]] result<std::uint64_t> event_count();
  // series_count — stored events of one keel_error_events_total series.
  struct series_count {
    std::string service, code, category, severity;
    std::uint64_t events = 0;
  };
  // Events at or after `since` by service, code, category and severity (of
  // groups not ignored), for rule windows that span a restart.
  [[nodiscard]] result<std::vector<series_count>> event_counts_since(
      std::chrono::system_clock::time_point since);
  // The newest events across groups, newest first.
  [[nodiscard]] result<std::vector<stored_event>> recent_events(std::size_t limit);
  // The newest events of a group, newest first.
  [[nodiscard]] result<std::vector<stored_event>> events_of(std::string_view fingerprint,
                                                            std::size_t limit);
  // Every stored group (without `recent`), for error_tracker::restore. A
  // group's count is the number of its events ever written (append(), or
  // on_event() and a flush): both are written in one transaction.
  [[nodiscard]] result<std::vector<error_group>> load_groups();
  // Deletes events older than `t`, the oldest first and at most `limit`
  // (0: all) in one statement; returns how many. Groups keep their counts.
  [[nodiscard]] result<std::uint64_t> prune_events_before(std::chrono::system_clock::time_point t,
                                                          std::size_t limit = 0);

  // Silences, so that a restart does not end a maintenance window early:
  // save_silence writes one (by id, replacing an earlier version, e.g. the
  // expired one) durably before it returns; load_silences reads those that
  // end at or after `ended_after`, and deletes the older ones.
  [[nodiscard]] result<void> save_silence(const silence& s);
  [[nodiscard]] result<std::vector<silence>> load_silences(
      std::chrono::system_clock::time_point ended_after);

  // Settings: small named texts kept durably (pipeline.hpp keeps the
  // configuration made through an API here). save_settings deletes every
  // key starting with `erase_prefix` (none when empty) and writes `set`, in
  // one committed transaction; load_settings reads the keys starting with
  // `prefix`, in key order.
  [[nodiscard]] result<void> save_settings(
      const std::vector<std::pair<std::string, std::string>>& set,
      std::string_view erase_prefix = {});
  [[nodiscard]] result<std::vector<std::pair<std::string, std::string>>> load_settings(
      std::string_view prefix);

  const std::filesystem::path& path() const noexcept { return path_; }
  const keel::clock& clock() const noexcept { return clock_; }
  // The connection, for outbox and audit_log (opaque outside keel::alert).
  internal::db& db() noexcept { return *db_; }

  // An event as written (for the store's own use).
  struct pending_event {
    std::string fingerprint;
    std::int64_t ts_ns = 0;
    std::string service, code, severity, category, title, body;
    std::string key{};               // "event:<event_id>", or empty
    std::int64_t received_ns = 0;    // when the key was first seen
    mutable bool duplicate = false;  // set by the transaction: key seen before
  };

 private:
  store(std::unique_ptr<internal::db> d, std::filesystem::path p, const keel::clock& c,
        std::size_t batch);
  result<void> flush_locked();
  void note_write_failure_locked();  // db mutex held

  std::unique_ptr<internal::db> db_;
  std::filesystem::path path_;
  const keel::clock& clock_;
  std::size_t batch_;
  std::mutex buf_mu_;                  // guards the buffers; taken before the db mutex
  std::vector<pending_event> events_;  // slots [0, used_) are filled
  std::size_t used_ = 0;
  std::unordered_map<std::string, error_group> groups_;
  std::uint64_t flush_failures_ = 0;

  struct commit_slot {
    std::vector<pending_event> events;
    std::string batch_key{};  // "batch:<Idempotency-Key>", or empty
    std::string batch_digest{};
    std::uint8_t claim = 0;  // store.cpp's batch_claim, set by the transaction
    bool done = false;
    result<void> outcome = ok();
  };
  std::mutex commit_mu_;
  std::condition_variable commit_cv_;
  bool committing_ = false;
  std::vector<std::shared_ptr<commit_slot>> queue_;
};

}  // namespace keel::alert
