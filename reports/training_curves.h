#pragma once
// Training curves: has pretraining run long enough? Per grid, the online linear classifier's test top-1 after
// every epoch (solo-learn's online probe: a linear layer trained along on detached backbone features), mean ±
// std over seeds, one plot per method with a line per setting (sem mode and whatever else varies), and a table
// of the curve at a quarter, half, three quarters and the end of training with its change over the last
// quarter: a curve that has flattened moves by less than its seeds' spread there. Torch-free.
#include <string>
#include <vector>

#include "harness/store/store.h"
#include "reports/document.h"

namespace semharness {

// One section per grid whose finished, trained runs store the curve over at least 2 epochs (none otherwise).
std::vector<ReportSection> training_curve_sections(Store& store, const std::string& db_path, const std::string& grid);

}  // namespace semharness
