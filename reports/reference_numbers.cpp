#include "reports/reference_numbers.h"

#include <fstream>
#include <map>
#include <sstream>

#include <fmt/format.h>

#include "harness/config/errors.h"

namespace semharness {
namespace {

// A verbatim copy of results/reference.csv (ReferenceNumbersTest.BuiltinCopyMatchesResultsFile).
const char* const kReferenceCsv = R"csv(
method,dataset,backbone,epochs,protocol,top1,source
simclr,cifar10,resnet18,1000,online_linear,90.74,solo-learn README
mocov2plus,cifar10,resnet18,1000,online_linear,92.94,solo-learn README
byol,cifar10,resnet18,1000,online_linear,92.58,solo-learn README
barlow,cifar10,resnet18,1000,online_linear,92.10,solo-learn README
swav,cifar10,resnet18,1000,online_linear,89.17,solo-learn README
dino,cifar10,resnet18,1000,online_linear,89.52,solo-learn README
vicreg,cifar10,resnet18,1000,online_linear,92.07,solo-learn README
simsiam,cifar10,resnet18,1000,online_linear,90.51,solo-learn README
mocov3,cifar10,resnet18,1000,online_linear,93.10,solo-learn README
nnclr,cifar10,resnet18,1000,online_linear,91.88,solo-learn README
simclr,cifar100,resnet18,1000,online_linear,65.78,solo-learn README
mocov2plus,cifar100,resnet18,1000,online_linear,69.89,solo-learn README
byol,cifar100,resnet18,1000,online_linear,70.46,solo-learn README
barlow,cifar100,resnet18,1000,online_linear,70.90,solo-learn README
swav,cifar100,resnet18,1000,online_linear,64.88,solo-learn README
dino,cifar100,resnet18,1000,online_linear,66.76,solo-learn README
vicreg,cifar100,resnet18,1000,online_linear,68.54,solo-learn README
simsiam,cifar100,resnet18,1000,online_linear,66.04,solo-learn README
mocov3,cifar100,resnet18,1000,online_linear,68.83,solo-learn README
nnclr,cifar100,resnet18,1000,online_linear,69.62,solo-learn README
)csv";

double parse_number(const std::string& text, const std::string& where) {
  size_t used = 0;
  double value = 0;
  try {
    value = std::stod(text, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  if (used == 0 || used != text.size()) throw InputError(fmt::format("{}: expected a number, got '{}'", where, text));
  return value;
}

}  // namespace

std::vector<std::string> split_csv_record(const std::string& line) {
  std::vector<std::string> fields(1);
  bool quoted = false;
  for (size_t i = 0; i < line.size(); ++i) {
    const char c = line[i];
    if (quoted) {
      if (c == '"' && i + 1 < line.size() && line[i + 1] == '"') {
        fields.back() += '"';
        ++i;
      } else if (c == '"') {
        quoted = false;
      } else {
        fields.back() += c;
      }
    } else if (c == '"') {
      quoted = true;
    } else if (c == ',') {
      fields.emplace_back();
    } else if (c != '\r') {
      fields.back() += c;
    }
  }
  return fields;
}

const std::string& builtin_reference_csv() {
  // The raw string starts with the line break after its opening delimiter.
  static const std::string text = std::string(kReferenceCsv).substr(1);
  return text;
}

const std::vector<ReferenceNumber>& builtin_reference_numbers() {
  static const std::vector<ReferenceNumber> numbers =
      parse_reference_csv(builtin_reference_csv(), "results/reference.csv");
  return numbers;
}

std::vector<ReferenceNumber> parse_reference_csv(const std::string& text, const std::string& where) {
  std::istringstream lines(text);
  std::string line;
  int64_t line_number = 0;
  std::map<std::string, size_t> column;
  size_t field_count = 0;
  std::vector<ReferenceNumber> numbers;
  while (std::getline(lines, line)) {
    ++line_number;
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    const auto fields = split_csv_record(line);
    const std::string at = fmt::format("{}:{}", where, line_number);
    if (column.empty()) {
      for (size_t i = 0; i < fields.size(); ++i) column[fields[i]] = i;
      for (const char* name : {"method", "dataset", "backbone", "epochs", "protocol", "top1", "source"}) {
        if (!column.count(name)) throw InputError(fmt::format("{}: header lacks the column '{}'", at, name));
      }
      field_count = fields.size();
      continue;
    }
    if (fields.size() != field_count) {
      throw InputError(fmt::format("{}: {} fields, the header has {}", at, fields.size(), field_count));
    }
    ReferenceNumber number;
    number.method = fields[column.at("method")];
    number.dataset = fields[column.at("dataset")];
    number.backbone = fields[column.at("backbone")];
    const double epochs = parse_number(fields[column.at("epochs")], at + ": epochs");
    number.epochs = static_cast<int64_t>(epochs);
    if (static_cast<double>(number.epochs) != epochs) {
      throw InputError(fmt::format("{}: epochs: expected an integer, got '{}'", at, fields[column.at("epochs")]));
    }
    number.protocol = fields[column.at("protocol")];
    number.top1 = parse_number(fields[column.at("top1")], at + ": top1");
    number.source = fields[column.at("source")];
    numbers.push_back(number);
  }
  if (column.empty()) throw InputError(where + ": empty (expected a header line)");
  return numbers;
}

std::vector<ReferenceNumber> load_reference_csv(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw InputError(fmt::format("{}: cannot read the reference numbers", path));
  std::ostringstream text;
  text << in.rdbuf();
  return parse_reference_csv(text.str(), path);
}

const ReferenceNumber* find_reference(const std::vector<ReferenceNumber>& references, const std::string& method,
                                      const std::string& dataset, const std::string& backbone) {
  for (const auto& reference : references) {
    if (reference.method == method && reference.dataset == dataset && reference.backbone == backbone) return &reference;
  }
  return nullptr;
}

}  // namespace semharness
