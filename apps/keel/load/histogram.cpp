#include "load/histogram.hpp"

#include <algorithm>
#include <cmath>

namespace keel::cli::load {

void latency_histogram::merge(const latency_histogram& o) noexcept {
  for (std::size_t i = 0; i < counts_.size(); ++i)
    counts_[i] += o.counts_[i];
  total_ += o.total_;
  sum_ += o.sum_;
  max_ = std::max(max_, o.max_);
  min_ = std::min(min_, o.min_);
}

void latency_histogram::reset() noexcept { *this = latency_histogram{}; }

std::uint64_t latency_histogram::highest_of(std::size_t i) noexcept {
  if (i < sub_bucket_count) return i;
  const std::uint64_t shift = i / half_count - 1;
  const std::uint64_t sub = i - half_count * shift;  // in [64, 128)
  const std::uint64_t low = sub << shift;
  return low + ((std::uint64_t{1} << shift) - 1);
}

std::uint64_t latency_histogram::percentile(double p) const noexcept {
  if (total_ == 0) return 0;
  p = std::clamp(p, 0.0, 100.0);
  // The rank of the value at p: at least 1, so p=0 reports the minimum bucket.
  const auto rank = std::max<std::uint64_t>(
      1, static_cast<std::uint64_t>(std::ceil(p / 100.0 * static_cast<double>(total_))));
  std::uint64_t seen = 0;
  for (std::size_t i = 0; i < counts_.size(); ++i) {
    seen += counts_[i];
    if (seen >= rank) return std::min(std::max(highest_of(i), min_), max_);
  }
  return max_;
}

}  // namespace keel::cli::load
