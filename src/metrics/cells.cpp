#include "keel/metrics/detail/cells.hpp"

#include <algorithm>
#include <new>

namespace keel::metrics::detail {

thread_local constinit thread_cells* tls_cells = nullptr;

namespace {

// Set while this thread holds the arena lock as a reader: a first increment
// on this thread from inside a scrape (a custom sink counting something)
// must not try to take the lock again; it goes to the retired total instead.
thread_local constinit bool tls_reading = false;

// Detaches the thread's table when the thread ends. Constructed on the slow
// path only, so the hot path never touches a thread_local with a destructor.
struct thread_exit_guard {
  thread_cells* table = nullptr;
  ~thread_exit_guard() {
    if (table != nullptr) {
      tls_cells = nullptr;
      arena::instance().detach(table);
    }
  }
};
thread_local thread_exit_guard exit_guard;

void add_f64_atomic(std::atomic<std::uint64_t>& c, double v) noexcept {
  std::uint64_t cur = c.load(std::memory_order_relaxed);
  while (!c.compare_exchange_weak(cur, std::bit_cast<std::uint64_t>(std::bit_cast<double>(cur) + v),
                                  std::memory_order_relaxed)) {
  }
}

}  // namespace

arena& arena::instance() noexcept {
  // Never destroyed: threads (including main, after main returns) fold their
  // cells into it from thread_local destructors. Static storage, so getting
  // it cannot fail.
  alignas(arena) static unsigned char storage[sizeof(arena)];
  static arena* a = ::new (static_cast<void*>(storage)) arena();
  return *a;
}

thread_cells* arena::attach_current_thread() {
  auto* t = new thread_cells();
  {
    std::lock_guard<std::mutex> lock(mu_);
    threads_.push_back(t);
  }
  exit_guard.table = t;
  tls_cells = t;
  return t;
}

void arena::detach(thread_cells* t) noexcept {
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (std::uint32_t p = 0; p < kMaxPages; ++p) {
      cell_page* page = t->pages[p].load(std::memory_order_relaxed);
      if (page == nullptr) continue;
      cell_page* ret = retired_[p].load(std::memory_order_relaxed);
      for (std::uint32_t i = 0; i < kPageCells; ++i) {
        const std::uint64_t raw = page->cells[i].load(std::memory_order_relaxed);
        if (raw == 0 || ret == nullptr) continue;
        const std::uint32_t id = p * kPageCells + i;
        if (id >= next_) continue;
        if (kinds_[id] == cell_kind::u64) {
          ret->cells[i].fetch_add(raw, std::memory_order_relaxed);
        } else {
          add_f64_atomic(ret->cells[i], std::bit_cast<double>(raw));
        }
      }
    }
    threads_.erase(std::remove(threads_.begin(), threads_.end(), t), threads_.end());
  }
  // No scraper can reach `t` any more (it was unlinked under the lock).
  for (auto& p : t->pages)
    delete p.load(std::memory_order_relaxed);
  delete t;
}

cell_page* local_page_slow(std::uint32_t page) noexcept {
  if (page >= kMaxPages || tls_reading) return nullptr;
  try {
    thread_cells* t = tls_cells;
    if (t == nullptr) t = arena::instance().attach_current_thread();
    cell_page* p = t->pages[page].load(std::memory_order_relaxed);
    if (p == nullptr) {
      p = new cell_page();
      // Release: a scraper that sees the pointer sees the zeroed cells.
      t->pages[page].store(p, std::memory_order_release);
    }
    return p;
  } catch (...) {
    return nullptr;
  }
}

std::atomic<std::uint64_t>* arena::retired_cell(std::uint32_t id) const noexcept {
  cell_page* p = retired_[id >> kPageBits].load(std::memory_order_acquire);
  return p != nullptr ? &p->cells[id & (kPageCells - 1)] : nullptr;
}

void add_retired_u64(std::uint32_t id, std::uint64_t n) noexcept {
  if (auto* c = arena::instance().retired_cell(id)) c->fetch_add(n, std::memory_order_relaxed);
}

void add_retired_f64(std::uint32_t id, double v) noexcept {
  if (auto* c = arena::instance().retired_cell(id)) add_f64_atomic(*c, v);
}

std::pair<bool, std::uint32_t> arena::allocate(const std::vector<cell_kind>& kinds) {
  const auto n = static_cast<std::uint32_t>(kinds.size());
  if (n == 0 || n > kPageCells) return {false, 0};
  std::lock_guard<std::mutex> lock(mu_);
  std::uint32_t base = 0;
  bool found = false;
  // First fit among released ranges (families of one type tend to reuse
  // ranges of the same size).
  for (auto it = free_.begin(); it != free_.end(); ++it) {
    if (it->second >= n) {
      base = it->first;
      if (it->second == n) {
        free_.erase(it);
      } else {
        it->first += n;
        it->second -= n;
      }
      found = true;
      break;
    }
  }
  if (!found) {
    std::uint32_t start = next_;
    // Never straddle a page: the hot path resolves one page per metric.
    if ((start & (kPageCells - 1)) + n > kPageCells) {
      const std::uint32_t aligned = (start + kPageCells - 1) & ~(kPageCells - 1);
      free_.emplace_back(start, aligned - start);
      start = aligned;
    }
    if (start + n > kMaxCells) return {false, 0};
    base = start;
    next_ = start + n;
  }
  const std::uint32_t page = base >> kPageBits;
  if (retired_[page].load(std::memory_order_relaxed) == nullptr) {
    retired_[page].store(new cell_page(), std::memory_order_release);
  }
  // A reused range may still hold values of its previous owner on threads
  // that touched it; nobody writes it now (its metric is gone).
  for (std::uint32_t k = 0; k < n; ++k) {
    const std::uint32_t id = base + k;
    kinds_[id] = kinds[k];
    retired_cell(id)->store(0, std::memory_order_relaxed);
    for (thread_cells* t : threads_) {
      if (cell_page* p = t->pages[page].load(std::memory_order_acquire)) {
        p->cells[id & (kPageCells - 1)].store(0, std::memory_order_relaxed);
      }
    }
  }
  in_use_ += n;
  return {true, base};
}

void arena::release(std::uint32_t base, std::uint32_t n) noexcept {
  std::lock_guard<std::mutex> lock(mu_);
  try {
    free_.emplace_back(base, n);
  } catch (...) {
    // Losing a range to fragmentation is harmless; it is never handed out.
  }
  in_use_ -= n;
}

std::uint32_t arena::cells_in_use() const {
  std::lock_guard<std::mutex> lock(mu_);
  return in_use_;
}

std::size_t arena::live_threads() const {
  std::lock_guard<std::mutex> lock(mu_);
  return threads_.size();
}

arena::reader::reader() : lock_(arena::instance().mu_) { tls_reading = true; }
arena::reader::~reader() { tls_reading = false; }

std::uint64_t arena::reader::u64(std::uint32_t id) const noexcept {
  const arena& a = arena::instance();
  std::uint64_t sum = 0;
  if (auto* r = a.retired_cell(id)) sum = r->load(std::memory_order_relaxed);
  const std::uint32_t page = id >> kPageBits;
  for (const thread_cells* t : a.threads_) {
    if (const cell_page* p = t->pages[page].load(std::memory_order_acquire)) {
      sum += p->cells[id & (kPageCells - 1)].load(std::memory_order_relaxed);
    }
  }
  return sum;
}

double arena::reader::f64(std::uint32_t id) const noexcept {
  const arena& a = arena::instance();
  double sum = 0;
  if (auto* r = a.retired_cell(id)) sum = std::bit_cast<double>(r->load(std::memory_order_relaxed));
  const std::uint32_t page = id >> kPageBits;
  for (const thread_cells* t : a.threads_) {
    if (const cell_page* p = t->pages[page].load(std::memory_order_acquire)) {
      sum += std::bit_cast<double>(p->cells[id & (kPageCells - 1)].load(std::memory_order_relaxed));
    }
  }
  return sum;
}

}  // namespace keel::metrics::detail
