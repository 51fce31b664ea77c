// keel::core used from several threads at once: ids, contexts, the code
// registry, shared errors and the redactor. Run under TSan by `make test`.
#include <gtest/gtest.h>

#include <atomic>
#include <set>
#include <thread>
#include <vector>

#include "keel/core/code_registry.hpp"
#include "keel/core/context.hpp"
#include "keel/core/error.hpp"
#include "keel/core/ids.hpp"
#include "keel/core/random.hpp"
#include "keel/core/redactor.hpp"

namespace keel {
namespace {

template <class F>
void on_threads(int n, F f) {
  std::vector<std::thread> ts;
  for (int i = 0; i < n; ++i)
    ts.emplace_back(f, i);
  for (auto& t : ts)
    t.join();
}

TEST(Concurrent, IdsFromManyThreadsAreDistinct) {
  std::vector<std::vector<id128>> got(4);
  on_threads(4, [&](int t) {
    for (int i = 0; i < 20000; ++i)
      got[t].push_back(new_id128());
  });
  std::set<std::pair<std::uint64_t, std::uint64_t>> all;
  for (auto& v : got) {
    for (auto id : v)
      all.emplace(id.hi, id.lo);
  }
  EXPECT_EQ(all.size(), 80000u);
}

TEST(Concurrent, ContextsStayOnTheirThread) {
  std::atomic<int> mismatches{0};
  on_threads(4, [&](int t) {
    const std::string mine = "thread-" + std::to_string(t);
    context_scope scope({.request_id = *request_id::parse(mine)});
    for (int i = 0; i < 10000; ++i) {
      context_scope inner({.fields = {{"i", std::to_string(i)}}});
      if (current_context()->request_id.view() != mine) mismatches.fetch_add(1);
    }
  });
  EXPECT_EQ(mismatches.load(), 0);
}

TEST(Concurrent, SharedErrorCopiesAreIndependent) {
  const error base = error(codes::timeout, "shared").with_detail("n", 0);
  on_threads(4, [&](int t) {
    for (int i = 0; i < 2000; ++i) {
      error mine = base;
      mine.with_detail("thread", t);
      EXPECT_EQ(mine.details()["thread"], t);
    }
  });
  EXPECT_FALSE(base.details().contains("thread"));
}

TEST(Concurrent, RegistryReadsDuringWrites) {
  static constexpr error_code app_codes[] = {
      {"APP_ONE", category::business, severity::low, 400, false, "One", "One."},
      {"APP_TWO", category::business, severity::low, 400, false, "Two", "Two."},
      {"APP_THREE", category::business, severity::low, 400, false, "Three", "Three."},
  };
  code_registry reg;
  on_threads(4, [&](int t) {
    for (int i = 0; i < 1000; ++i) {
      if (t == 0) {
        EXPECT_TRUE(reg.add(app_codes[i % 3]));
      } else {
        const error_code* c = reg.find("APP_TWO");
        if (c) {
          EXPECT_EQ(c->title, "Two");
        }
        EXPECT_EQ(code_registry::global().find("TIMEOUT"), &codes::timeout);
      }
    }
  });
  EXPECT_EQ(reg.all().size(), 3u);
}

TEST(Concurrent, RedactorAndRandomAreThreadSafe) {
  on_threads(4, [&](int) {
    auto& r = random_source::thread_safe();
    for (int i = 0; i < 2000; ++i) {
      EXPECT_EQ(redactor::standard().redact("password=x"), "password=[REDACTED]");
      EXPECT_LT(r.next_double(), 1.0);
    }
  });
}

}  // namespace
}  // namespace keel
