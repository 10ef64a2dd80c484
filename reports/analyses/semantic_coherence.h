#pragma once
// Semantic coherence of probe weights (SPEC §4.3): for each class, the K features with the largest |w| in
// its row of the selected linear probe; which features several classes share, and whether the classes that
// share them are semantically related (CIFAR-100 superclasses, Fashion-MNIST tops/footwear, CIFAR-10
// animals/vehicles); and how much accuracy a probe retrained on only those features keeps. SEM (the SEM
// feature at the validation-best tau_d of sem=on runs) is set against the baseline (the backbone feature of
// the sem=off run with the same method, seed and other non-SEM keys). Reads the runs' stored features and
// probes (`<db>.artifacts/<run_id>/`) of each run's probe protocol (analysis_probe.h: the converged L-BFGS
// probe when the run stored one, else the SGD probe), ranking a standardised probe's features by their weight
// on the standardised feature, and retrains with that protocol. The header is torch-free; the probes retrain
// with LibTorch.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "harness/store/store.h"
#include "reports/document.h"

namespace semharness {

// The semantic groups of a dataset's classes. Every class is in exactly one group; a class related to no
// other is a group of its own, so "same group" means "semantically related".
struct ClassGroups {
  std::vector<std::string> class_names;  // by label
  std::vector<std::string> group_names;
  std::vector<int64_t> group_of_class;  // by label: index into group_names
  std::string source;                   // where the grouping comes from
};
// cifar100 (the 20 superclasses), cifar10 (animals, vehicles), fashion_mnist (tops, footwear, and trouser,
// dress, bag alone); nullopt for synthetic data and any other dataset, whose classes have no semantic groups.
std::optional<ClassGroups> class_groups(const std::string& dataset);
// The fraction of unordered pairs of distinct classes that lie in the same group: the within-group fraction
// that shared features picked regardless of semantics would have.
double chance_within_group_fraction(const std::vector<int64_t>& group_of_class);

// For each row of a [classes, dim] row-major weight matrix, the indices of its k entries of largest |w|,
// largest first (ties: the lower index first); k is capped at dim.
std::vector<std::vector<int64_t>> top_k_features(const std::vector<float>& weight, int64_t classes, int64_t dim,
                                                 int64_t k);
// The simplex of an index of a SEM feature (or of its pre-softmax embedding): the layout is [V, L]
// vertex-major (sem/simplicial_embedding.h), vertex v of simplex l at index v * L + l.
inline int64_t simplex_of_feature(int64_t feature, int64_t L) { return feature % L; }
// Each class's features mapped to their simplices, without repeats, ascending.
std::vector<std::vector<int64_t>> simplices_of(const std::vector<std::vector<int64_t>>& features_per_class, int64_t L);

// Sharing of "units" (features, or simplices) between the classes' top-K sets.
struct SharingStats {
  int64_t shared_units = 0;        // units in the top-K of two or more classes
  int64_t shared_pairs = 0;        // (unit, unordered class pair) with the unit in both classes' top-K
  int64_t within_group_pairs = 0;  // those whose two classes are in the same group
  bool grouped = false;            // whether the classes had groups
  // within_group_pairs / shared_pairs; nullopt without groups or without any shared pair.
  std::optional<double> within_group_fraction() const;
};
// group_of_class empty: no groups (within_group_pairs stays 0).
SharingStats sharing_stats(const std::vector<std::vector<int64_t>>& units_per_class,
                           const std::vector<int64_t>& group_of_class);

// The union of the classes' top-K units, ascending.
std::vector<int64_t> union_of(const std::vector<std::vector<int64_t>>& units_per_class);
// The feature indices of whole simplices (every vertex v * L + l of each l), ascending.
std::vector<int64_t> features_of_simplices(const std::vector<int64_t>& simplices, int64_t L, int64_t V);

// One section per grid (every grid of the database when grid is empty) that has finished sem=on runs;
// a grid whose runs stored no features gets a section saying so. top_k: K of the per-class top-K.
std::vector<ReportSection> coherence_sections(Store& store, const std::string& db_path, const std::string& grid,
                                              int64_t top_k = 10);

}  // namespace semharness
