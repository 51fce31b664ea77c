// keel/metrics/detail/cells.hpp
//
// The storage behind counters and histograms: per-thread cells. Not part of
// the public API; it is in a header only so the hot path inlines.
//
// Every counter or histogram child owns a small range of cell ids, allocated
// from one process-wide arena. Each thread has its own page table; the cell
// for id `i` on thread T lives in T's page `i / kPageCells`. Only T writes
// it, with a relaxed load and a relaxed store (no locked read-modify-write,
// no shared cache line). A scrape sums the cell over every live thread plus
// the `retired` total, into which an exiting thread folds its cells, so no
// increment is lost when a thread ends.
//
// Why not one atomic per metric and fetch_add: an uncontended `lock xadd`
// costs ~5 ns on the project's machines and two threads bouncing the line
// cost more; a thread-owned cell is a plain load and store (~1 ns). The price
// is paid at scrape time (a sum over threads) and in memory (a 4 KiB page per
// thread per 512 cells actually touched by that thread).
//
// Memory order: cells are std::atomic accessed with relaxed order — a scrape
// sees some recent value of each cell, never a torn one, and TSan sees no
// race. Page pointers are published with release and read with acquire so a
// scraper never reads a page before its zero-initialisation.
//
// Thread safety: local_cells() is for the calling thread only; everything
// else in arena is internally synchronised.
#pragma once

#include <array>
#include <atomic>
#include <bit>
#include <cstdint>
#include <memory>
#include <mutex>
#include <utility>
#include <vector>

namespace keel::metrics::detail {

inline constexpr std::uint32_t kPageBits = 9;
inline constexpr std::uint32_t kPageCells = 1u << kPageBits;  // 512 cells = 4 KiB
inline constexpr std::uint32_t kMaxPages = 2048;              // 1 Mi cells per process
inline constexpr std::uint32_t kMaxCells = kPageCells * kMaxPages;

// What a cell holds, so an exiting thread folds it correctly.
enum class cell_kind : std::uint8_t { u64, f64 };

struct cell_page {
  std::atomic<std::uint64_t> cells[kPageCells]{};
};

// One thread's page table. Pages are created by the owning thread on first
// touch and freed when it exits (after folding into the retired totals).
struct thread_cells {
  std::atomic<cell_page*> pages[kMaxPages]{};
};

// The calling thread's table, or nullptr before its first increment.
// constinit: no dynamic initialisation, so reading it is one TLS load
// (no init-guard call on the hot path).
extern thread_local constinit thread_cells* tls_cells;

// Creates the calling thread's table and/or page `page` and returns it;
// nullptr only when memory is exhausted (the caller then adds to the retired
// total atomically instead).
cell_page* local_page_slow(std::uint32_t page) noexcept;

// Atomic fallback used when a thread could not get a page.
void add_retired_u64(std::uint32_t id, std::uint64_t n) noexcept;
void add_retired_f64(std::uint32_t id, double v) noexcept;

// The calling thread's cell for `id`. A range from arena::allocate never
// crosses a page, so `local_cells(base) + k` is the cell for `base + k`.
inline std::atomic<std::uint64_t>* local_cells(std::uint32_t id) noexcept {
  thread_cells* t = tls_cells;
  if (t != nullptr) [[likely]] {
    // Only this thread stores its page pointers: relaxed is enough here.
    cell_page* p = t->pages[id >> kPageBits].load(std::memory_order_relaxed);
    if (p != nullptr) [[likely]]
      return &p->cells[id & (kPageCells - 1)];
  }
  cell_page* p = local_page_slow(id >> kPageBits);
  return p != nullptr ? &p->cells[id & (kPageCells - 1)] : nullptr;
}

inline void bump_u64(std::atomic<std::uint64_t>& c, std::uint64_t n) noexcept {
  c.store(c.load(std::memory_order_relaxed) + n, std::memory_order_relaxed);
}
inline void bump_f64(std::atomic<std::uint64_t>& c, double v) noexcept {
  const double cur = std::bit_cast<double>(c.load(std::memory_order_relaxed));
  c.store(std::bit_cast<std::uint64_t>(cur + v), std::memory_order_relaxed);
}

inline void add_u64(std::uint32_t id, std::uint64_t n) noexcept {
  if (auto* c = local_cells(id)) [[likely]] {
    bump_u64(*c, n);
  } else {
    add_retired_u64(id, n);
  }
}
inline void add_f64(std::uint32_t id, double v) noexcept {
  if (auto* c = local_cells(id)) [[likely]] {
    bump_f64(*c, v);
  } else {
    add_retired_f64(id, v);
  }
}

// arena
//
// Allocates cell ranges and sums cells at scrape time. One per process
// (instance() is never destroyed, so thread-exit folding at process exit
// still finds it).
class arena {
 public:
  static arena& instance() noexcept;

  // A range of `kinds.size()` (1..kPageCells) consecutive ids inside one
  // page, every cell zero on every thread; nullopt-like {false, 0} when the
  // arena is full.
  std::pair<bool, std::uint32_t> allocate(const std::vector<cell_kind>& kinds);
  void release(std::uint32_t base, std::uint32_t n) noexcept;

  // reader — holds the arena lock while a scrape sums cells, so no thread
  // exits (and frees its pages) half-way through.
  class reader {
   public:
    reader();
    ~reader();
    reader(const reader&) = delete;
    reader& operator=(const reader&) = delete;
    std::uint64_t u64(std::uint32_t id) const noexcept;
    double f64(std::uint32_t id) const noexcept;

   private:
    std::unique_lock<std::mutex> lock_;
  };

  // Cells in use and live thread tables, for tests and diagnostics.
  std::uint32_t cells_in_use() const;
  std::size_t live_threads() const;

  // Internal: registration and exit of the calling thread's table.
  thread_cells* attach_current_thread();
  void detach(thread_cells* t) noexcept;

 private:
  arena() = default;
  friend void add_retired_u64(std::uint32_t, std::uint64_t) noexcept;
  friend void add_retired_f64(std::uint32_t, double) noexcept;
  friend cell_page* local_page_slow(std::uint32_t) noexcept;

  std::atomic<std::uint64_t>* retired_cell(std::uint32_t id) const noexcept;

  mutable std::mutex mu_;
  std::vector<thread_cells*> threads_;
  // Retired totals, paged like thread tables; pages created at allocation.
  std::atomic<cell_page*> retired_[kMaxPages]{};
  std::array<cell_kind, kMaxCells> kinds_{};  // 1 MiB of static storage, touched as used
  std::uint32_t next_ = 0;                    // high-water mark
  std::vector<std::pair<std::uint32_t, std::uint32_t>> free_{};  // (base, n)
  std::uint32_t in_use_ = 0;
};

}  // namespace keel::metrics::detail
