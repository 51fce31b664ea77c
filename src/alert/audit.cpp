#include "keel/alert/audit.hpp"

#include <unordered_map>

#include "alert/internal/crypto.hpp"
#include "alert/internal/db.hpp"
#include "keel/core/json_writer.hpp"

namespace keel::alert {

std::string_view to_string(audit_problem p) noexcept {
  switch (p) {
    case audit_problem::none:
      return "none";
    case audit_problem::edited:
      return "edited";
    case audit_problem::removed:
      return "removed";
    case audit_problem::reordered:
      return "reordered";
    case audit_problem::truncated:
      return "truncated";
  }
  return "none";
}

namespace {

const std::string kZeroHash(64, '0');

// Length-prefixed fields, so no two different entries serialize alike. The
// seq is left out on purpose: the order lives in prev_hash, which lets
// verify() tell a moved entry (hash intact, link broken) from an edited one.
std::string canonical(std::int64_t ts, const audit_record& r, const std::string& details,
                      const std::string& prev) {
  std::string s;
  auto field = [&s](std::string_view v) {
    s += std::to_string(v.size());
    s.push_back(':');
    s.append(v);
  };
  field(std::to_string(ts));
  field(r.actor);
  field(r.action);
  field(r.resource);
  field(r.outcome);
  field(r.request_id);
  field(details);
  field(prev);
  return s;
}

std::string hash_of(std::int64_t ts, const audit_record& r, const std::string& details,
                    const std::string& prev) {
  return internal::to_hex(internal::sha256(canonical(ts, r, details, prev)));
}

std::string dump(const nlohmann::ordered_json& j) {
  return j.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
}

}  // namespace

audit_log::audit_log(store& st) : st_(st) {}

result<audit_entry> audit_log::append(audit_record r) {
  if (r.actor.empty() || r.action.empty()) {
    return fail(codes::validation_error, "audit entry needs an actor and an action");
  }
  for (const auto* f : {&r.actor, &r.action, &r.resource, &r.outcome, &r.request_id}) {
    if (f->size() > 1024 || !is_valid_utf8(*f)) {
      return fail(codes::validation_error, "audit field longer than 1 KiB or not UTF-8");
    }
  }
  if (!r.details.is_object()) r.details = nlohmann::ordered_json::object();
  const std::string details = dump(r.details);
  if (details.size() > 16 * 1024) {
    return fail(codes::validation_error, "audit details larger than 16 KiB");
  }
  auto& d = st_.db();
  std::lock_guard lock(d.mutex());
  internal::transaction tx(d);
  if (auto b = tx.begin(); !b) return fail(b.error());
  std::string prev = kZeroHash;
  {
    auto s = d.prepare("SELECT hash FROM audit ORDER BY seq DESC LIMIT 1");
    if (!s) return fail(s.error());
    auto row = (*s)->step();
    if (!row) return fail(row.error());
    if (*row) prev = (*s)->text(0);
  }
  audit_entry e;
  e.time = st_.clock().system_now();
  const auto ts =
      std::chrono::duration_cast<std::chrono::nanoseconds>(e.time.time_since_epoch()).count();
  e.hash = hash_of(ts, r, details, prev);
  e.prev_hash = prev;
  auto s = d.prepare(
      "INSERT INTO audit(ts, actor, action, resource, outcome, request_id, details, prev_hash,"
      " hash) VALUES(?,?,?,?,?,?,?,?,?)");
  if (!s) return fail(s.error());
  (*s)->bind(1, static_cast<std::int64_t>(ts)).bind(2, r.actor).bind(3, r.action);
  (*s)->bind(4, r.resource).bind(5, r.outcome).bind(6, r.request_id).bind(7, details);
  (*s)->bind(8, prev).bind(9, e.hash);
  if (auto st = (*s)->step(); !st) return fail(st.error());
  e.seq = d.last_insert_rowid();
  if (auto c = tx.commit(); !c) return fail(c.error());
  e.record = std::move(r);
  return e;
}

namespace {

result<std::vector<audit_entry>> read_entries(internal::db& d, std::int64_t after,
                                              std::size_t limit) {
  auto s = d.prepare(
      "SELECT seq, ts, actor, action, resource, outcome, request_id, details, prev_hash, hash"
      " FROM audit WHERE seq > ? ORDER BY seq LIMIT ?");
  if (!s) return fail(s.error());
  (*s)->bind(1, after).bind(2, static_cast<std::int64_t>(std::min<std::size_t>(limit, INT64_MAX)));
  std::vector<audit_entry> out;
  if (auto r = (*s)->each_row([&](const internal::stmt& q) {
        audit_entry e;
        e.seq = q.int64(0);
        e.time = std::chrono::system_clock::time_point(
            std::chrono::duration_cast<std::chrono::system_clock::duration>(
                std::chrono::nanoseconds(q.int64(1))));
        e.record.actor = q.text(2);
        e.record.action = q.text(3);
        e.record.resource = q.text(4);
        e.record.outcome = q.text(5);
        e.record.request_id = q.text(6);
        // Kept as text for hashing; parsed for callers below.
        e.record.details = nlohmann::ordered_json(q.text(7));
        e.prev_hash = q.text(8);
        e.hash = q.text(9);
        out.push_back(std::move(e));
      });
      !r)
    return fail(r.error());
  return out;
}

}  // namespace

result<std::vector<audit_entry>> audit_log::list(std::int64_t after, std::size_t limit) {
  auto& d = st_.db();
  std::lock_guard lock(d.mutex());
  auto r = read_entries(d, after, limit);
  if (!r) return r;
  for (auto& e : *r) {
    auto j = nlohmann::ordered_json::parse(e.record.details.get<std::string>(), nullptr, false);
    e.record.details = j.is_discarded() ? nlohmann::ordered_json::object() : std::move(j);
  }
  return r;
}

result<audit_head> audit_log::head() {
  auto& d = st_.db();
  std::lock_guard lock(d.mutex());
  auto s = d.prepare("SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1");
  if (!s) return fail(s.error());
  auto row = (*s)->step();
  if (!row) return fail(row.error());
  if (!*row) return audit_head{0, kZeroHash};
  return audit_head{(*s)->int64(0), (*s)->text(1)};
}

namespace {

result<audit_head> read_anchor(internal::db& d) {
  auto s = d.prepare("SELECT seq, hash FROM audit_anchor WHERE id = 1");
  if (!s) return fail(s.error());
  auto row = (*s)->step();
  if (!row) return fail(row.error());
  if (!*row) return audit_head{0, kZeroHash};
  return audit_head{(*s)->int64(0), (*s)->text(1)};
}

}  // namespace

result<audit_head> audit_log::anchor() {
  auto& d = st_.db();
  std::lock_guard lock(d.mutex());
  return read_anchor(d);
}

result<std::uint64_t> audit_log::prune_before(std::chrono::system_clock::time_point t,
                                              std::size_t limit) {
  auto& d = st_.db();
  std::lock_guard lock(d.mutex());
  internal::transaction tx(d);
  if (auto b = tx.begin(); !b) return fail(b.error());
  // The oldest entries by seq (the chain's order), up to the first one
  // recorded at or after `t`; the newest stays, as append()'s predecessor.
  auto s = d.prepare(
      "SELECT seq, ts, hash FROM audit WHERE seq < (SELECT MAX(seq) FROM audit)"
      " ORDER BY seq LIMIT ?");
  if (!s) return fail(s.error());
  (*s)->bind(1, static_cast<std::int64_t>(std::min<std::size_t>(limit, INT64_MAX)));
  const auto cutoff = std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch());
  std::optional<audit_head> last;
  std::uint64_t n = 0;
  for (;;) {
    auto row = (*s)->step();
    if (!row) return fail(row.error());
    if (!*row || (*s)->int64(1) >= cutoff.count()) break;
    last = audit_head{(*s)->int64(0), (*s)->text(2)};
    ++n;
  }
  if (!last) return std::uint64_t{0};
  auto del = d.prepare("DELETE FROM audit WHERE seq <= ?");
  if (!del) return fail(del.error());
  (*del)->bind(1, last->seq);
  if (auto r = (*del)->step(); !r) return fail(r.error());
  auto set = d.prepare("INSERT OR REPLACE INTO audit_anchor(id, seq, hash) VALUES(1, ?, ?)");
  if (!set) return fail(set.error());
  (*set)->bind(1, last->seq).bind(2, last->hash);
  if (auto r = (*set)->step(); !r) return fail(r.error());
  if (auto c = tx.commit(); !c) return fail(c.error());
  return n;
}

result<audit_verification> audit_log::verify(const std::optional<audit_head>& expected_head) {
  std::vector<audit_entry> all;
  audit_head from;
  {
    auto& d = st_.db();
    std::lock_guard lock(d.mutex());
    auto a = read_anchor(d);
    if (!a) return fail(a.error());
    from = std::move(*a);
    auto r = read_entries(d, 0, SIZE_MAX);
    if (!r) return fail(r.error());
    all = std::move(*r);
  }
  audit_verification v;
  v.entries = all.size();
  v.pruned_through = from.seq;
  std::unordered_map<std::string, std::size_t> position;  // hash -> index
  position.reserve(all.size());
  for (std::size_t i = 0; i < all.size(); ++i)
    position.emplace(all[i].hash, i);
  std::string prev = from.hash;
  for (std::size_t i = 0; i < all.size(); ++i) {
    const auto& e = all[i];
    const auto ts =
        std::chrono::duration_cast<std::chrono::nanoseconds>(e.time.time_since_epoch()).count();
    const auto expect = hash_of(ts, e.record, e.record.details.get<std::string>(), e.prev_hash);
    audit_problem p = audit_problem::none;
    if (expect != e.hash) {
      p = audit_problem::edited;
    } else if (e.prev_hash != prev) {
      auto it = position.find(e.prev_hash);
      p = (it != position.end() && it->second > i) ? audit_problem::reordered
                                                   : audit_problem::removed;
    }
    if (p != audit_problem::none) {
      v.ok = false;
      v.first_bad_seq = e.seq;
      v.problem = p;
      return v;
    }
    prev = e.hash;
  }
  if (expected_head && expected_head->seq > 0 && expected_head->seq <= from.seq) {
    // Pruned since: the anchor can still tell whether it was the same chain.
    if (expected_head->seq == from.seq && expected_head->hash != from.hash) {
      v.ok = false;
      v.first_bad_seq = from.seq;
      v.problem = audit_problem::edited;
    }
  } else if (expected_head && expected_head->seq > 0) {
    const audit_entry* at = nullptr;
    for (const auto& e : all) {
      if (e.seq == expected_head->seq) at = &e;
    }
    if (at == nullptr) {
      v.ok = false;
      v.first_bad_seq = all.empty() ? 1 : all.back().seq + 1;
      v.problem = audit_problem::truncated;
    } else if (at->hash != expected_head->hash) {
      // The chain verifies but does not end where it did: it was rewritten.
      v.ok = false;
      v.first_bad_seq = at->seq;
      v.problem = audit_problem::edited;
    }
  }
  return v;
}

}  // namespace keel::alert
