// A thin RAII layer over one SQLite connection: prepared statements cached by
// their SQL text's address, errors as keel::error (DATABASE_ERROR), and a
// scoped transaction. Private to keel::alert; callers hold mutex() around use.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

#include "keel/core/result.hpp"

struct sqlite3;
struct sqlite3_stmt;

namespace keel::alert::internal {

class stmt {
 public:
  explicit stmt(sqlite3_stmt* s) noexcept : s_(s) {}
  ~stmt();
  stmt(const stmt&) = delete;
  stmt& operator=(const stmt&) = delete;

  stmt& bind(int i, std::int64_t v);
  stmt& bind(int i, double v);
  stmt& bind(int i, std::string_view v);  // as TEXT; the view must outlive step()
  stmt& bind_null(int i);
  // true: a row is available; false: done. DATABASE_ERROR on failure.
  result<bool> step();
  void reset() noexcept;  // also clears bindings
  // Steps through every row, calling f(const stmt&) on each. DATABASE_ERROR
  // when a step fails (f has seen the rows before it).
  template <class F>
  result<void> each_row(F&& f) {
    for (;;) {
      auto row = step();
      if (!row) return fail(row.error());
      if (!*row) return {};
      f(static_cast<const stmt&>(*this));
    }
  }

  std::int64_t int64(int col) const noexcept;
  double real(int col) const noexcept;
  std::string text(int col) const;
  bool is_null(int col) const noexcept;

 private:
  sqlite3_stmt* s_;
};

class db {
 public:
  // Opens (creating) the database at `path` in WAL mode.
  // synchronous=FULL makes every commit survive power loss; NORMAL only a process crash.
  static result<std::unique_ptr<db>> open(const std::filesystem::path& path, bool full_sync);
  ~db();
  db(const db&) = delete;
  db& operator=(const db&) = delete;

  result<void> exec(std::string_view sql);
  // A cached statement, reset and ready to bind; DATABASE_ERROR if it does not compile.
  result<stmt*> prepare(const char* sql);
  std::int64_t last_insert_rowid() const noexcept;
  int changes() const noexcept;
  error make_error(std::string_view what) const;
  std::mutex& mutex() noexcept { return mu_; }

 private:
  explicit db(sqlite3* h) noexcept : h_(h) {}
  sqlite3* h_;
  std::mutex mu_;
  std::unordered_map<const char*, std::unique_ptr<stmt>> cache_;
};

// Commits on commit(), rolls back otherwise.
class transaction {
 public:
  explicit transaction(db& d) : d_(d) {}
  result<void> begin() { return d_.exec("BEGIN IMMEDIATE"); }
  result<void> commit() {
    auto r = d_.exec("COMMIT");
    if (r) done_ = true;
    return r;
  }
  ~transaction() {
    if (!done_) (void)d_.exec("ROLLBACK");
  }

 private:
  db& d_;
  bool done_ = false;
};

}  // namespace keel::alert::internal
