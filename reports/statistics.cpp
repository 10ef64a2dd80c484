#include "reports/statistics.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <numeric>
#include <random>
#include <stdexcept>

#include <boost/math/distributions/students_t.hpp>

namespace semharness {

WelchTest welch_t_test(const SeedStats& a, const SeedStats& b) {
  if (a.n < 2 || b.n < 2) throw std::invalid_argument("welch_t_test: needs at least 2 values on each side");
  const double va = a.std * a.std / static_cast<double>(a.n);  // squared standard error of each mean
  const double vb = b.std * b.std / static_cast<double>(b.n);
  const double se2 = va + vb;
  if (!(se2 > 0)) throw std::invalid_argument("welch_t_test: both samples have zero variance");
  WelchTest test;
  test.t = (a.mean - b.mean) / std::sqrt(se2);
  test.df = se2 * se2 / (va * va / static_cast<double>(a.n - 1) + vb * vb / static_cast<double>(b.n - 1));
  test.p_lower = boost::math::cdf(boost::math::students_t_distribution<double>(test.df), test.t);
  return test;
}

std::vector<double> holm_adjusted(const std::vector<double>& p) {
  std::vector<size_t> order(p.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return p[a] < p[b]; });
  std::vector<double> adjusted(p.size());
  double running = 0;
  for (size_t i = 0; i < order.size(); ++i) {
    running = std::max(running, std::min(1.0, static_cast<double>(p.size() - i) * p[order[i]]));
    adjusted[order[i]] = running;
  }
  return adjusted;
}

std::optional<SignFlipTest> sign_flip_test(const std::vector<double>& values) {
  const size_t n = values.size();
  if (n < 2) return std::nullopt;
  SignFlipTest test;
  test.n = static_cast<int64_t>(n);
  const SeedStats stats = seed_stats(values);
  test.mean = stats.mean;
  const double half = boost::math::quantile(boost::math::complement(
                          boost::math::students_t_distribution<double>(static_cast<double>(n - 1)), 0.025)) *
                      stats.std / std::sqrt(static_cast<double>(n));
  test.low = test.mean - half;
  test.high = test.mean + half;
  // Sums compared with a relative margin, so that a pattern equal to the observed one in exact arithmetic counts.
  const double observed = test.mean * static_cast<double>(n);
  const double margin = 1e-12 * std::max(1.0, std::abs(observed));
  const auto flipped_sum = [&](uint64_t pattern) {
    double sum = 0;
    for (size_t i = 0; i < n; ++i) sum += (pattern >> i & 1u) ? -values[i] : values[i];
    return sum;
  };
  int64_t at_least = 0, patterns = 0;
  if (n <= 16) {
    for (uint64_t pattern = 0; pattern < (uint64_t{1} << n); ++pattern, ++patterns)
      at_least += flipped_sum(pattern) >= observed - margin;
  } else {
    std::mt19937_64 generator(20230401);
    at_least = 1;  // the observed pattern
    patterns = 1;
    for (int draw = 0; draw < 20000; ++draw, ++patterns) {
      double sum = 0;
      for (size_t i = 0; i < n; ++i) sum += (generator() & 1u) ? -values[i] : values[i];
      at_least += sum >= observed - margin;
    }
  }
  test.p_positive = static_cast<double>(at_least) / static_cast<double>(patterns);
  return test;
}

}  // namespace semharness
