#include "keel/alert/outbox.hpp"

#include <algorithm>
#include <limits>

#include "alert/internal/db.hpp"
#include "alert/internal/nanos.hpp"

namespace keel::alert {
namespace {

using internal::from_ns;
using internal::to_ns;

constexpr const char* kColumns =
    "id, receiver, dedup_key, content_type, body, attempts, created_at, next_attempt_at, "
    "last_error";

outbox_message read_message(const internal::stmt& q) {
  outbox_message m;
  m.id = q.int64(0);
  m.receiver = q.text(1);
  m.dedup_key = q.text(2);
  m.content_type = q.text(3);
  m.body = q.text(4);
  m.attempts = static_cast<std::uint32_t>(q.int64(5));
  m.created_at = from_ns(q.int64(6));
  m.next_attempt_at = from_ns(q.int64(7));
  m.last_error = q.text(8);
  return m;
}

result<std::vector<outbox_message>> read_messages(internal::stmt& s) {
  std::vector<outbox_message> out;
  if (auto r = s.each_row([&](const internal::stmt& q) { out.push_back(read_message(q)); }); !r)
    return fail(r.error());
  return out;
}

result<void> step_one_change(internal::db& d, internal::stmt& s, std::int64_t id) {
  if (auto r = s.step(); !r) return fail(r.error());
  if (d.changes() == 0) {
    return fail(codes::resource_not_found, "no pending outbox message " + std::to_string(id));
  }
  return ok();
}

}  // namespace

outbox::outbox(store& st) : st_(st) {}

result<std::int64_t> outbox::enqueue(outbox_message m) {
  if (m.receiver.empty()) return fail(codes::validation_error, "outbox message needs a receiver");
  if (m.body.size() > 1024 * 1024) {
    return fail(codes::validation_error, "outbox message body larger than 1 MiB");
  }
  const auto now = to_ns(st_.clock().system_now());
  auto& d = st_.db();
  std::lock_guard lock(d.mutex());
  auto s = d.prepare(
      "INSERT INTO outbox(receiver, dedup_key, content_type, body, state, attempts, created_at,"
      " next_attempt_at) VALUES(?,?,?,?,0,0,?,?)");
  if (!s) return fail(s.error());
  (*s)->bind(1, m.receiver).bind(2, m.dedup_key).bind(3, m.content_type).bind(4, m.body);
  (*s)->bind(5, now).bind(6, now);
  if (auto r = (*s)->step(); !r) return fail(r.error());
  return d.last_insert_rowid();
}

result<std::vector<outbox_message>> outbox::due(std::string_view receiver,
                                                std::chrono::system_clock::time_point now,
                                                std::size_t limit) {
  auto& d = st_.db();
  std::lock_guard lock(d.mutex());
  // Head of line: the receiver's oldest pending messages, up to the first
  // that is not due. A newer message never overtakes an older one that is
  // backing off, so a `resolved` cannot arrive before its `firing`.
  static const std::string sql = std::string("SELECT ") + kColumns +
                                 " FROM outbox WHERE state=0 AND receiver=? ORDER BY id LIMIT ?";
  auto s = d.prepare(sql.c_str());
  if (!s) return fail(s.error());
  (*s)->bind(1, receiver).bind(2, static_cast<std::int64_t>(limit));
  auto rows = read_messages(**s);
  if (!rows) return rows;
  const auto first_waiting = std::find_if(rows->begin(), rows->end(),
                                          [&](const auto& m) { return m.next_attempt_at > now; });
  rows->erase(first_waiting, rows->end());
  return rows;
}

result<std::optional<std::chrono::system_clock::time_point>> outbox::next_due(
    std::string_view receiver) {
  auto& d = st_.db();
  std::lock_guard lock(d.mutex());
  auto s = d.prepare(
      "SELECT next_attempt_at FROM outbox WHERE state=0 AND receiver=? ORDER BY id LIMIT 1");
  if (!s) return fail(s.error());
  (*s)->bind(1, receiver);
  auto row = (*s)->step();
  if (!row) return fail(row.error());
  if (!*row || (*s)->is_null(0)) return std::optional<std::chrono::system_clock::time_point>{};
  return std::optional(from_ns((*s)->int64(0)));
}

result<void> outbox::delivered(std::int64_t id) {
  auto& d = st_.db();
  std::lock_guard lock(d.mutex());
  auto s = d.prepare(
      "UPDATE outbox SET state=1, attempts=attempts+1, delivered_at=?, last_error=''"
      " WHERE id=? AND state=0");
  if (!s) return fail(s.error());
  (*s)->bind(1, to_ns(st_.clock().system_now())).bind(2, id);
  return step_one_change(d, **s, id);
}

result<void> outbox::retry_later(std::int64_t id, std::chrono::system_clock::time_point at,
                                 std::string_view last_error) {
  auto& d = st_.db();
  std::lock_guard lock(d.mutex());
  auto s = d.prepare(
      "UPDATE outbox SET attempts=attempts+1, next_attempt_at=?, last_error=?"
      " WHERE id=? AND state=0");
  if (!s) return fail(s.error());
  const std::string err(last_error.substr(0, 1024));
  (*s)->bind(1, to_ns(at)).bind(2, err).bind(3, id);
  return step_one_change(d, **s, id);
}

result<void> outbox::postpone(std::int64_t id, std::chrono::system_clock::time_point at) {
  auto& d = st_.db();
  std::lock_guard lock(d.mutex());
  auto s =
      d.prepare("UPDATE outbox SET next_attempt_at=max(next_attempt_at, ?) WHERE id=? AND state=0");
  if (!s) return fail(s.error());
  (*s)->bind(1, to_ns(at)).bind(2, id);
  return step_one_change(d, **s, id);
}

result<void> outbox::dead_letter(std::int64_t id, std::string_view reason) {
  auto& d = st_.db();
  std::lock_guard lock(d.mutex());
  internal::transaction tx(d);
  if (auto b = tx.begin(); !b) return b;
  auto s = d.prepare(
      "INSERT INTO dead_letters(receiver, dedup_key, content_type, body, attempts, created_at,"
      " dead_at, reason) SELECT receiver, dedup_key, content_type, body, attempts+1, created_at,"
      " ?, ? FROM outbox WHERE id=? AND state=0");
  if (!s) return fail(s.error());
  const std::string why(reason.substr(0, 1024));
  (*s)->bind(1, to_ns(st_.clock().system_now())).bind(2, why).bind(3, id);
  if (auto r = step_one_change(d, **s, id); !r) return r;
  auto del = d.prepare("DELETE FROM outbox WHERE id=?");
  if (!del) return fail(del.error());
  (*del)->bind(1, id);
  if (auto r = (*del)->step(); !r) return fail(r.error());
  return tx.commit();
}

result<std::int64_t> outbox::requeue(std::int64_t dead_id) {
  auto& d = st_.db();
  std::lock_guard lock(d.mutex());
  internal::transaction tx(d);
  if (auto b = tx.begin(); !b) return fail(b.error());
  const auto now = to_ns(st_.clock().system_now());
  auto s = d.prepare(
      "INSERT INTO outbox(receiver, dedup_key, content_type, body, state, attempts, created_at,"
      " next_attempt_at) SELECT receiver, dedup_key, content_type, body, 0, 0, created_at, ?"
      " FROM dead_letters WHERE id=?");
  if (!s) return fail(s.error());
  (*s)->bind(1, now).bind(2, dead_id);
  if (auto r = (*s)->step(); !r) return fail(r.error());
  if (d.changes() == 0) {
    return fail(codes::resource_not_found, "no dead letter " + std::to_string(dead_id));
  }
  const auto id = d.last_insert_rowid();
  auto del = d.prepare("DELETE FROM dead_letters WHERE id=?");
  if (!del) return fail(del.error());
  (*del)->bind(1, dead_id);
  if (auto r = (*del)->step(); !r) return fail(r.error());
  if (auto c = tx.commit(); !c) return fail(c.error());
  return id;
}

result<std::vector<outbox_message>> outbox::pending(std::size_t limit) {
  auto& d = st_.db();
  std::lock_guard lock(d.mutex());
  static const std::string sql =
      std::string("SELECT ") + kColumns + " FROM outbox WHERE state=0 ORDER BY id LIMIT ?";
  auto s = d.prepare(sql.c_str());
  if (!s) return fail(s.error());
  (*s)->bind(1, static_cast<std::int64_t>(limit));
  return read_messages(**s);
}

result<std::vector<dead_letter>> outbox::dead_letters(std::size_t limit) {
  auto& d = st_.db();
  std::lock_guard lock(d.mutex());
  auto s = d.prepare(
      "SELECT id, receiver, dedup_key, content_type, body, attempts, created_at, dead_at, reason"
      " FROM dead_letters ORDER BY id LIMIT ?");
  if (!s) return fail(s.error());
  (*s)->bind(1, static_cast<std::int64_t>(limit));
  std::vector<keel::alert::dead_letter> out;
  if (auto r = (*s)->each_row([&](const internal::stmt& q) {
        out.push_back({q.int64(0), q.text(1), q.text(2), q.text(3), q.text(4),
                       static_cast<std::uint32_t>(q.int64(5)), from_ns(q.int64(6)),
                       from_ns(q.int64(7)), q.text(8)});
      });
      !r)
    return fail(r.error());
  return out;
}

std::string_view to_string(notification_outcome o) noexcept {
  switch (o) {
    case notification_outcome::pending:
      return "pending";
    case notification_outcome::delivered:
      return "delivered";
    case notification_outcome::dead:
      return "dead";
  }
  return "pending";
}

result<std::vector<notification_record>> outbox::log(const notification_query& q) {
  auto& d = st_.db();
  std::lock_guard lock(d.mutex());
  // state: 0 pending, 1 delivered (outbox), 2 dead (dead_letters).
  auto s = d.prepare(
      "SELECT * FROM ("
      " SELECT id, receiver, dedup_key, content_type, length(body), state, attempts, created_at,"
      "  COALESCE(delivered_at, next_attempt_at), last_error FROM outbox"
      "  WHERE (?1 = '' OR receiver = ?1) AND created_at < ?2 AND (?3 < 0 OR state = ?3)"
      " UNION ALL"
      " SELECT id, receiver, dedup_key, content_type, length(body), 2, attempts, created_at,"
      "  dead_at, reason FROM dead_letters"
      "  WHERE (?1 = '' OR receiver = ?1) AND created_at < ?2 AND (?3 < 0 OR ?3 = 2))"
      " ORDER BY 8 DESC, 1 DESC LIMIT ?4");
  if (!s) return fail(s.error());
  const std::int64_t outcome = q.outcome ? static_cast<std::int64_t>(*q.outcome) : -1;
  (*s)->bind(1, std::string_view(q.receiver))
      .bind(2, q.before ? to_ns(*q.before) : std::numeric_limits<std::int64_t>::max())
      .bind(3, outcome)
      .bind(4, static_cast<std::int64_t>(std::min<std::size_t>(q.limit, 1000)));
  std::vector<notification_record> out;
  if (auto r = (*s)->each_row([&](const internal::stmt& row) {
        out.push_back({.id = row.int64(0),
                       .receiver = row.text(1),
                       .dedup_key = row.text(2),
                       .content_type = row.text(3),
                       .body_bytes = static_cast<std::uint64_t>(row.int64(4)),
                       .outcome = static_cast<notification_outcome>(
                           std::clamp<std::int64_t>(row.int64(5), 0, 2)),
                       .attempts = static_cast<std::uint32_t>(row.int64(6)),
                       .created_at = from_ns(row.int64(7)),
                       .finished_at = from_ns(row.int64(8)),
                       .detail = row.text(9)});
      });
      !r)
    return fail(r.error());
  return out;
}

result<outbox_stats> outbox::stats(std::string_view receiver) {
  auto& d = st_.db();
  std::lock_guard lock(d.mutex());
  outbox_stats st;
  auto s = d.prepare(
      "SELECT sum(state=0), sum(state=1), min(CASE WHEN state=0 THEN created_at END)"
      " FROM outbox WHERE ?='' OR receiver=?");
  if (!s) return fail(s.error());
  (*s)->bind(1, receiver).bind(2, receiver);
  if (auto r = (*s)->step(); !r) return fail(r.error());
  st.pending = static_cast<std::uint64_t>((*s)->int64(0));
  st.delivered = static_cast<std::uint64_t>((*s)->int64(1));
  if (!(*s)->is_null(2)) st.oldest_pending = from_ns((*s)->int64(2));
  auto dl = d.prepare("SELECT count(*) FROM dead_letters WHERE ?='' OR receiver=?");
  if (!dl) return fail(dl.error());
  (*dl)->bind(1, receiver).bind(2, receiver);
  if (auto r = (*dl)->step(); !r) return fail(r.error());
  st.dead = static_cast<std::uint64_t>((*dl)->int64(0));
  return st;
}

result<std::uint64_t> outbox::prune_delivered(std::chrono::system_clock::time_point t,
                                              std::size_t limit) {
  auto& d = st_.db();
  std::lock_guard lock(d.mutex());
  auto s = d.prepare(
      "DELETE FROM outbox WHERE id IN (SELECT id FROM outbox WHERE state=1 AND delivered_at < ?"
      " LIMIT ?)");
  if (!s) return fail(s.error());
  (*s)->bind(1, to_ns(t)).bind(2, limit == 0 ? std::int64_t{-1} : static_cast<std::int64_t>(limit));
  if (auto r = (*s)->step(); !r) return fail(r.error());
  return static_cast<std::uint64_t>(d.changes());
}

}  // namespace keel::alert
