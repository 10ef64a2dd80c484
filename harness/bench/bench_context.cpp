#include "harness/bench/bench_context.h"

namespace semharness {

BenchContext& bench_context() {
  static BenchContext context;
  return context;
}

}  // namespace semharness
