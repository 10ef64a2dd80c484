#include "reports/statistics.h"

#include <cmath>
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

}  // namespace semharness
