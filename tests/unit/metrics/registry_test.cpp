// Registration rules of registry and child lookup in families.
#include "keel/metrics/registry.hpp"

#include <gtest/gtest.h>

#include <thread>

#include "keel/metrics/exposition.hpp"

namespace keel::metrics {
namespace {

TEST(Registry, RegistersEachType) {
  registry reg;
  auto c = reg.add_counter({.name = "jobs_total", .help = "Jobs."});
  auto g = reg.add_gauge({.name = "queue_depth", .help = "Depth."});
  auto h = reg.add_histogram({.name = "job_duration_seconds", .help = "Duration."});
  ASSERT_TRUE(c && g && h);
  EXPECT_EQ((*c)->type(), metric_type::counter);
  EXPECT_EQ((*g)->type(), metric_type::gauge);
  EXPECT_EQ((*h)->type(), metric_type::histogram);
  EXPECT_EQ(reg.describe(),
            (std::vector<std::string>{"jobs", "queue_depth", "job_duration_seconds"}));
}

TEST(Registry, CounterFamilyNameDropsTotal) {
  registry reg;
  EXPECT_EQ((*reg.add_counter({.name = "jobs_total", .help = "Jobs."}))->name(), "jobs");
  EXPECT_EQ((*reg.add_counter({.name = "runs", .help = "Runs."}))->name(), "runs");
}

TEST(Registry, SameDefinitionTwiceReturnsTheSameFamily) {
  registry reg;
  auto a = reg.add_counter({.name = "jobs_total", .help = "Jobs.", .labels = {"queue"}});
  auto b = reg.add_counter({.name = "jobs_total", .help = "Jobs.", .labels = {"queue"}});
  ASSERT_TRUE(a && b);
  EXPECT_EQ(*a, *b);
  auto c = reg.add_counter({.name = "jobs", .help = "Jobs.", .labels = {"queue"}});
  ASSERT_TRUE(c);
  EXPECT_EQ(*a, *c);
}

TEST(Registry, SameNameWithAnotherTypeIsConflict) {
  registry reg;
  ASSERT_TRUE(reg.add_gauge({.name = "jobs", .help = "Jobs."}));
  auto r = reg.add_counter({.name = "jobs_total", .help = "Jobs."});
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error(), codes::conflict);
}

TEST(Registry, SameNameWithOtherLabelsHelpOrBucketsIsConflict) {
  registry reg;
  ASSERT_TRUE(reg.add_histogram({.name = "d_seconds", .help = "D.", .labels = {"a"}}));
  EXPECT_FALSE(reg.add_histogram({.name = "d_seconds", .help = "D.", .labels = {"b"}}));
  EXPECT_FALSE(reg.add_histogram({.name = "d_seconds", .help = "Other.", .labels = {"a"}}));
  EXPECT_FALSE(
      reg.add_histogram({.name = "d_seconds", .help = "D.", .labels = {"a"}, .buckets = {1, 2}}));
  EXPECT_TRUE(reg.add_histogram({.name = "d_seconds", .help = "D.", .labels = {"a"}}));
}

TEST(Registry, InvalidNameHelpOrLabelIsValidationError) {
  registry reg;
  EXPECT_EQ(reg.add_gauge({.name = "bad name", .help = "x"}).error(), codes::validation_error);
  EXPECT_EQ(reg.add_gauge({.name = "no_help"}).error(), codes::validation_error);
  EXPECT_EQ(reg.add_gauge({.name = "g", .help = "x", .labels = {"le"}}).error(),
            codes::validation_error);
  EXPECT_EQ(reg.add_histogram({.name = "h", .help = "x", .labels = {"quantile"}}).error(),
            codes::validation_error);
  EXPECT_EQ(reg.add_gauge({.name = "g", .help = "x", .labels = {"a", "a"}}).error(),
            codes::validation_error);
  EXPECT_EQ(reg.add_histogram({.name = "h", .help = "x", .buckets = {}}).error(),
            codes::validation_error);
  EXPECT_EQ(reg.add_gauge({.name = "g", .help = "x", .max_series = 0}).error(),
            codes::validation_error);
  std::vector<std::string> many;
  for (char c = 'a'; c <= 'q'; ++c)
    many.emplace_back(1, c);
  EXPECT_EQ(reg.add_gauge({.name = "g", .help = "x", .labels = many}).error(),
            codes::validation_error);
  EXPECT_TRUE(reg.describe().empty());
}

class fixed_collector final : public collector {
 public:
  explicit fixed_collector(std::string name) : name_(std::move(name)) {}
  std::vector<std::string> describe() const override { return {name_}; }
  void collect(metric_sink& out) const override {
    out.begin_family({.name = name_, .help = "Fixed.", .type = metric_type::gauge});
    out.sample("", 7);
    out.end_family();
  }

 private:
  std::string name_;
};

TEST(Registry, CollectorsAreExposedAfterFamiliesInRegistrationOrder) {
  registry reg;
  ASSERT_TRUE(reg.add_collector(std::make_shared<fixed_collector>("pool_size")));
  ASSERT_TRUE(reg.add_gauge({.name = "queue_depth", .help = "Depth."}));
  EXPECT_EQ(reg.describe(), (std::vector<std::string>{"pool_size", "queue_depth"}));
  EXPECT_NE(expose(reg).find("pool_size 7\n"), std::string::npos);
}

TEST(Registry, CollectorNameTakenIsConflict) {
  registry reg;
  ASSERT_TRUE(reg.add_gauge({.name = "pool_size", .help = "x"}));
  EXPECT_EQ(reg.add_collector(std::make_shared<fixed_collector>("pool_size")).error(),
            codes::conflict);
  ASSERT_TRUE(reg.add_collector(std::make_shared<fixed_collector>("other")));
  EXPECT_EQ(reg.add_gauge({.name = "other", .help = "x"}).error(), codes::conflict);
}

TEST(Registry, AddingTheSameCollectorTwiceIsHarmless) {
  registry reg;
  auto c = std::make_shared<fixed_collector>("pool_size");
  ASSERT_TRUE(reg.add_collector(c));
  EXPECT_TRUE(reg.add_collector(c));
  EXPECT_EQ(reg.describe().size(), 1u);
}

TEST(Registry, GlobalIsOneInstance) { EXPECT_EQ(&registry::global(), &registry::global()); }

// A sink that counts what it receives with a keel counter.
class counting_sink final : public metric_sink {
 public:
  explicit counting_sink(counter& c) : c_(c) {}
  void begin_family(const family_info&) override {}
  void sample(std::string_view, double) override { c_.inc(); }
  void histogram(std::string_view, std::span<const double>, std::span<const std::uint64_t>,
                 double) override {
    c_.inc();
  }
  void end_family() override {}

 private:
  counter& c_;
};

TEST(Registry, SinkMayIncrementACounterOnAThreadThatNeverCountedBefore) {
  registry reg;
  (*reg.add_gauge({.name = "g", .help = "G.", .labels = {"a"}}))->labels("1").set(1);
  (*reg.add_gauge({.name = "g", .help = "G.", .labels = {"a"}}))->labels("2").set(2);
  counter samples;
  // A fresh thread: its first increment happens inside the scrape, while
  // the arena lock is held.
  std::thread([&] {
    counting_sink sink(samples);
    reg.collect(sink);
  }).join();
  EXPECT_EQ(samples.value(), 2);
}

TEST(Family, SameLabelValuesGiveTheSameChild) {
  registry reg;
  auto* f = *reg.add_counter({.name = "req_total", .help = "R.", .labels = {"method", "code"}});
  counter& a = f->labels("GET", "200");
  counter& b = f->labels(std::string("GET"), std::string_view("200"));
  EXPECT_EQ(&a, &b);
  EXPECT_NE(&a, &f->labels("GET", "500"));
  EXPECT_EQ(f->size(), 2u);
}

TEST(Family, ChildrenCountIndependently) {
  registry reg;
  auto* f = *reg.add_counter({.name = "req_total", .help = "R.", .labels = {"code"}});
  f->labels("200").inc(3);
  f->labels("500").inc();
  EXPECT_EQ(f->labels("200").value(), 3);
  EXPECT_EQ(f->labels("500").value(), 1);
}

TEST(Family, WrongNumberOfValuesIsValidationError) {
  registry reg;
  auto* f = *reg.add_counter({.name = "req_total", .help = "R.", .labels = {"method", "code"}});
  auto r = f->try_labels({"GET"});
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error(), codes::validation_error);
  EXPECT_THROW(f->labels("GET", "200", "x"), keel::exception);
}

TEST(Family, UnlabelledFamilyHasOneChild) {
  registry reg;
  auto* f = *reg.add_gauge({.name = "up", .help = "Up."});
  EXPECT_EQ(&f->labels(), &f->labels());
  EXPECT_FALSE(f->try_labels({"x"}));
}

TEST(Family, SeriesLimitStopsNewChildrenButKeepsExistingOnes) {
  registry reg;
  auto* f =
      *reg.add_counter({.name = "req_total", .help = "R.", .labels = {"user"}, .max_series = 2});
  ASSERT_TRUE(f->try_labels({"a"}));
  ASSERT_TRUE(f->try_labels({"b"}));
  auto r = f->try_labels({"c"});
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error(), codes::resource_exhausted);
  EXPECT_TRUE(f->try_labels({"a"}));
}

TEST(Family, OverlongLabelValueIsValidationError) {
  registry reg;
  auto* f = *reg.add_counter({.name = "req_total", .help = "R.", .labels = {"path"}});
  const std::string huge(kMaxLabelValueBytes + 1, 'x');
  EXPECT_EQ(f->try_labels({huge}).error(), codes::validation_error);
  EXPECT_TRUE(f->try_labels({std::string(kMaxLabelValueBytes, 'x')}));
}

TEST(Family, HistogramChildrenShareTheFamilyBuckets) {
  registry reg;
  auto* f = *reg.add_histogram(
      {.name = "size_bytes", .help = "S.", .labels = {"kind"}, .buckets = {10, 100}});
  histogram& h = f->labels("a");
  EXPECT_EQ(std::vector<double>(h.bounds().begin(), h.bounds().end()),
            (std::vector<double>{10, 100}));
  EXPECT_EQ(h.bounds().data(), f->labels("b").bounds().data());
}

TEST(Registry, FindReturnsTheFamilyOfThatTypeOnly) {
  registry reg;
  auto* c = reg.add_counter({.name = "jobs_total", .help = "Jobs."}).value();
  EXPECT_EQ(reg.find_counter("jobs").get(), c);
  EXPECT_EQ(reg.find_gauge("jobs"), nullptr);
  EXPECT_EQ(reg.find_histogram("missing"), nullptr);
}

TEST(Registry, GenerationChangesOnNewFamiliesAndChildrenOnly) {
  registry reg;
  const auto g0 = reg.generation();
  auto* f = reg.add_gauge({.name = "depth", .help = "D.", .labels = {"q"}}).value();
  const auto g1 = reg.generation();
  EXPECT_GT(g1, g0);
  (void)reg.add_gauge({.name = "depth", .help = "D.", .labels = {"q"}});  // the same family
  EXPECT_EQ(reg.generation(), g1);
  f->labels("a").set(1);
  const auto g2 = reg.generation();
  EXPECT_GT(g2, g1);
  f->labels("a").set(2);
  EXPECT_EQ(reg.generation(), g2);
}

TEST(Family, ForEachChildVisitsChildrenInCreationOrderWithTheirValues) {
  registry reg;
  auto* f = reg.add_counter({.name = "hits", .help = "H.", .labels = {"route", "code"}}).value();
  f->labels("/b", "200").inc();
  f->labels("/a", "500").inc(2);
  std::vector<std::string> seen;
  f->for_each_child([&](std::span<const std::string> v, const counter& c) {
    seen.push_back(v[0] + " " + v[1] + " " + std::to_string(static_cast<int>(c.value())));
  });
  EXPECT_EQ(seen, (std::vector<std::string>{"/b 200 1", "/a 500 2"}));
}

TEST(Readers, CounterAndHistogramReadUnderAHeldReaderMatchTheirOwnReads) {
  counter c;
  c.inc(3);
  c.add(0.5);
  histogram h({1, 2});
  h.observe(0.5);
  h.observe(1.5);
  h.observe(9);
  std::thread([&] {
    c.inc(10);
    h.observe(1.5);
  }).join();  // folded into the retired totals
  const double cv = c.value();
  const histogram::snapshot hs = h.get();
  detail::arena::reader r;
  EXPECT_EQ(c.value(r), cv);
  std::uint64_t cum[3] = {};
  EXPECT_DOUBLE_EQ(h.read(r, cum), hs.sum);
  EXPECT_EQ(std::vector<std::uint64_t>(cum, cum + 3), hs.cumulative);
  std::uint64_t first[1] = {};
  (void)h.read(r, first);  // a short span gets the first entries only
  EXPECT_EQ(first[0], 1u);
}

}  // namespace
}  // namespace keel::metrics
