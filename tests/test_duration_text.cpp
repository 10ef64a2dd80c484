// The durations the run log prints (elapsed times and ETAs): rounded once, to the unit shown.
#include <gtest/gtest.h>

#include "harness/train/grid_runner.h"

namespace semharness {
namespace {

TEST(DurationTextTest, RoundsToTheUnitShownAndNeverPrintsSixtySeconds) {
  EXPECT_EQ(duration_text(0), "0s");
  EXPECT_EQ(duration_text(12.4), "12s");
  EXPECT_EQ(duration_text(59.6), "1m00s");
  EXPECT_EQ(duration_text(245), "4m05s");
  EXPECT_EQ(duration_text(39 * 60 + 59.7), "40m00s");  // printed "39m60s" before
  EXPECT_EQ(duration_text(3599.6), "1h00m");
  EXPECT_EQ(duration_text(2 * 3600 + 10 * 60 + 29), "2h10m");
  EXPECT_EQ(duration_text(2 * 3600 + 59 * 60 + 45), "3h00m");
  EXPECT_EQ(duration_text(-3), "0s");
}

}  // namespace
}  // namespace semharness
