#pragma once
// Published reference accuracies (SPEC §5: solo-learn's README, ResNet-18, 1000 epochs, online linear top-1
// on CIFAR-10/100), as kept in results/reference.csv with the columns
//   method,dataset,backbone,epochs,protocol,top1,source
// The binary carries a copy of that file (a test checks they are identical), so `report` finds the numbers
// from any folder; `report --reference FILE` reads another file of the same columns. Torch-free.
#include <cstdint>
#include <string>
#include <vector>

namespace semharness {

struct ReferenceNumber {
  std::string method, dataset, backbone;  // harness names: "mocov2plus", "cifar100", "resnet18"
  int64_t epochs = 0;
  std::string protocol;  // how the number was measured, e.g. kOnlineLinearProtocol (harness/results/vocabulary.h)
  double top1 = 0;       // %
  std::string source;
};

// The text of results/reference.csv as built into the binary.
const std::string& builtin_reference_csv();
// builtin_reference_csv(), parsed.
const std::vector<ReferenceNumber>& builtin_reference_numbers();
// Parses CSV text with the header above (columns in any order; double quotes as in RFC 4180). Throws
// InputError("<where>:<line>: ...") on a missing column, a wrong field count or a malformed number.
std::vector<ReferenceNumber> parse_reference_csv(const std::string& text, const std::string& where);
// Reads and parses a file; InputError naming the path when it cannot be read.
std::vector<ReferenceNumber> load_reference_csv(const std::string& path);

// The reference for a method on a dataset and backbone, nullptr when none: a number measured with another
// backbone or on another dataset is not comparable, so these three must match. Epochs and protocol may
// differ: the report says so next to the number.
const ReferenceNumber* find_reference(const std::vector<ReferenceNumber>& references, const std::string& method,
                                      const std::string& dataset, const std::string& backbone);

// One CSV record split into fields (RFC 4180 quoting, no line breaks inside fields).
std::vector<std::string> split_csv_record(const std::string& line);

}  // namespace semharness
