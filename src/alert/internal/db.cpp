#include "alert/internal/db.hpp"

#include <sqlite3.h>

namespace keel::alert::internal {

stmt::~stmt() { sqlite3_finalize(s_); }

stmt& stmt::bind(int i, std::int64_t v) {
  sqlite3_bind_int64(s_, i, v);
  return *this;
}
stmt& stmt::bind(int i, double v) {
  sqlite3_bind_double(s_, i, v);
  return *this;
}
stmt& stmt::bind(int i, std::string_view v) {
  // An empty view may have a null data(), which SQLite would store as NULL.
  sqlite3_bind_text64(s_, i, v.data() != nullptr ? v.data() : "", v.size(), SQLITE_STATIC,
                      SQLITE_UTF8);
  return *this;
}
stmt& stmt::bind_null(int i) {
  sqlite3_bind_null(s_, i);
  return *this;
}

result<bool> stmt::step() {
  const int rc = sqlite3_step(s_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  sqlite3* h = sqlite3_db_handle(s_);
  return fail(error(codes::database_error, std::string("sqlite step: ") + sqlite3_errmsg(h))
                  .with_detail("sqlite_code", rc));
}

void stmt::reset() noexcept {
  sqlite3_reset(s_);
  sqlite3_clear_bindings(s_);
}

std::int64_t stmt::int64(int col) const noexcept { return sqlite3_column_int64(s_, col); }
double stmt::real(int col) const noexcept { return sqlite3_column_double(s_, col); }
std::string stmt::text(int col) const {
  const auto* p = sqlite3_column_text(s_, col);
  const int n = sqlite3_column_bytes(s_, col);
  return p == nullptr ? std::string()
                      : std::string(reinterpret_cast<const char*>(p), static_cast<std::size_t>(n));
}
bool stmt::is_null(int col) const noexcept { return sqlite3_column_type(s_, col) == SQLITE_NULL; }

result<std::unique_ptr<db>> db::open(const std::filesystem::path& path, bool full_sync) {
  sqlite3* h = nullptr;
  const int rc = sqlite3_open_v2(
      path.c_str(), &h, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, nullptr);
  if (rc != SQLITE_OK) {
    std::string msg = h != nullptr ? sqlite3_errmsg(h) : "out of memory";
    sqlite3_close(h);
    return fail(error(codes::database_error, "cannot open " + path.string() + ": " + msg));
  }
  std::unique_ptr<db> d(new db(h));
  sqlite3_busy_timeout(h, 5000);
  if (auto r = d->exec("PRAGMA journal_mode=WAL"); !r) return fail(r.error());
  if (auto r = d->exec(full_sync ? "PRAGMA synchronous=FULL" : "PRAGMA synchronous=NORMAL"); !r) {
    return fail(r.error());
  }
  if (auto r = d->exec("PRAGMA foreign_keys=ON"); !r) return fail(r.error());
  return d;
}

db::~db() {
  cache_.clear();  // finalize statements before closing
  sqlite3_close(h_);
}

result<void> db::exec(std::string_view sql) {
  char* err = nullptr;
  const std::string s(sql);
  if (sqlite3_exec(h_, s.c_str(), nullptr, nullptr, &err) != SQLITE_OK) {
    std::string msg = err != nullptr ? err : "unknown";
    sqlite3_free(err);
    return fail(error(codes::database_error, "sqlite: " + msg));
  }
  return ok();
}

result<stmt*> db::prepare(const char* sql) {
  if (auto it = cache_.find(sql); it != cache_.end()) {
    it->second->reset();
    return it->second.get();
  }
  sqlite3_stmt* s = nullptr;
  if (sqlite3_prepare_v3(h_, sql, -1, SQLITE_PREPARE_PERSISTENT, &s, nullptr) != SQLITE_OK) {
    return fail(make_error("prepare"));
  }
  auto p = std::make_unique<stmt>(s);
  stmt* raw = p.get();
  cache_.emplace(sql, std::move(p));
  return raw;
}

std::int64_t db::last_insert_rowid() const noexcept { return sqlite3_last_insert_rowid(h_); }
int db::changes() const noexcept { return sqlite3_changes(h_); }

error db::make_error(std::string_view what) const {
  return error(codes::database_error, std::string(what) + ": " + sqlite3_errmsg(h_))
      .with_detail("sqlite_code", sqlite3_extended_errcode(h_));
}

}  // namespace keel::alert::internal
