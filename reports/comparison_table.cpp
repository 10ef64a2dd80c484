#include "reports/comparison_table.h"

#include "reports/run_labels.h"

#include <algorithm>
#include <cmath>
#include <iterator>
#include <limits>
#include <set>
#include <tuple>
#include <utility>

#include <boost/math/distributions/students_t.hpp>
#include <fmt/format.h>

#include "harness/results/vocabulary.h"
#include "reports/probe_scores.h"
#include "reports/writers/writers.h"

namespace semharness {
namespace {

bool is_sem_key(const std::string& key) { return key == "sem" || key.rfind("sem.", 0) == 0; }

// The keys that identify a row: identity keys other than the SEM ones.
std::vector<std::string> row_keys() {
  std::vector<std::string> keys;
  for (const auto& spec : config_keys()) {
    if (spec.identity && !is_sem_key(spec.name)) keys.push_back(spec.name);
  }
  return keys;
}

// The SEM settings a row's runs of one sem mode may differ in: sem.L, sem.V, sem.tau_online, sem.tau_target.
std::vector<std::string> sem_setting_keys() {
  std::vector<std::string> keys;
  for (const auto& spec : config_keys()) {
    if (spec.identity && spec.name.rfind("sem.", 0) == 0) keys.push_back(spec.name);
  }
  return keys;
}

// Validation top-1 of the feature the table reports for a run of the given sem mode (what picks a setting).
std::map<std::string, double> headline_validation(const std::vector<ResultRow>& results,
                                                  const std::vector<RunRecord>& runs, std::string_view protocol) {
  const auto best_tau = best_sem_tau_d(results, protocol);
  std::map<std::string, EmbedderMode> mode;
  for (const auto& run : runs) mode[run.run_id] = stored_sem_mode(run);
  std::map<std::string, double> val;
  for (const auto& r : results) {
    if (r.protocol != protocol || r.metric != kTop1Metric || r.split != text(Split::Val)) continue;
    const auto it = mode.find(r.run_id);
    if (it == mode.end()) continue;
    const EmbedderMode m = it->second;
    const auto feature = parse_feature(r.feature);
    const bool wanted = (m == EmbedderMode::Off && feature == Feature::Backbone) ||
                        (m == EmbedderMode::Linear && feature == Feature::Embedding) ||
                        ((m == EmbedderMode::Softmax || m == EmbedderMode::Gumbel) && feature == Feature::Sem &&
                         r.tau_d && best_tau.count(r.run_id) && best_tau.at(r.run_id) == *r.tau_d);
    if (wanted) val[r.run_id] = r.value;
  }
  return val;
}

// Values of one column before a setting is chosen: setting -> seed -> (test values, validation values).
struct SettingValues {
  std::map<int64_t, std::vector<double>> test, val;
};

double mean_of(const std::vector<double>& values) {
  double sum = 0;
  for (double v : values) sum += v;
  return sum / static_cast<double>(values.size());
}

std::map<int64_t, double> per_seed_mean(const std::map<int64_t, std::vector<double>>& values) {
  std::map<int64_t, double> out;
  for (const auto& [seed, v] : values) {
    if (!v.empty()) out[seed] = mean_of(v);
  }
  return out;
}

std::string stats_text(const SeedStats& s) { return fmt::format("{:.2f} ± {:.2f} (n={})", s.mean, s.std, s.n); }

ReportCell stats_cell(const std::optional<SeedStats>& s) {
  if (!s) return {"-", std::nullopt};
  return {stats_text(*s), s->mean, false, {{"std", s->std}, {"n", static_cast<double>(s->n)}}};
}

std::string signed_2(double v) { return fmt::format("{:+.2f}", v); }

// Where the 95% interval of +SEM - baseline puts a row.
enum class Verdict { Above, Below, Undecided, NoInterval, Missing };

struct DifferenceCell {
  ReportCell cell;
  Verdict verdict = Verdict::Missing;
};

// +SEM - baseline of a row as the comparison table prints it: the difference, its interval and the test.
DifferenceCell difference_cell(const ComparisonRow& row) {
  DifferenceCell out{{"", std::nullopt}};
  if (!row.baseline || !row.sem) return out;
  if (const auto& ci = row.sem_minus_baseline) {
    out.cell.text = fmt::format("{} [{}, {}] {}", signed_2(ci->difference), signed_2(ci->low), signed_2(ci->high),
                                ci->paired ? fmt::format("paired, n={}", static_cast<int64_t>(ci->df) + 1)
                                           : fmt::format("Welch, df={:.1f}", ci->df));
    out.cell.value = ci->difference;
    out.cell.details = {{"ci_low", ci->low}, {"ci_high", ci->high}, {"df", ci->df}};
    out.verdict = ci->low > 0 ? Verdict::Above : ci->high < 0 ? Verdict::Below : Verdict::Undecided;
  } else {
    const double difference = row.sem->mean - row.baseline->mean;
    out.cell.text = fmt::format("{} (no CI: n=1)", signed_2(difference));
    out.cell.value = difference;
    out.verdict = Verdict::NoInterval;
  }
  return out;
}

std::string table_id(const std::string& protocol) {
  // linear_probe keeps the id the table had before there were several protocols.
  return protocol == kSgdProbe ? std::string("comparison") : "comparison_" + protocol;
}

// The note on a table's L-BFGS solves; empty when none of its runs stored a convergence record.
std::string convergence_note(const std::vector<ComparisonRow>& rows, const std::string& protocol) {
  int64_t probes = 0;
  std::vector<UnconvergedProbe> unconverged;
  for (const auto& row : rows) {
    probes += row.probes_with_convergence;
    unconverged.insert(unconverged.end(), row.unconverged.begin(), row.unconverged.end());
  }
  if (probes == 0) return "";
  if (unconverged.empty()) {
    return fmt::format("Convergence: all {} {} probes reached the gradient tolerance (probe.tolerance).", probes,
                       protocol);
  }
  std::stable_sort(unconverged.begin(), unconverged.end(), [](const UnconvergedProbe& a, const UnconvergedProbe& b) {
    return a.grad_norm.value_or(-1) > b.grad_norm.value_or(-1);
  });
  constexpr size_t kListed = 8;
  std::string listed;
  for (size_t i = 0; i < unconverged.size() && i < kListed; ++i) {
    const UnconvergedProbe& probe = unconverged[i];
    listed += fmt::format("{}{} {}", i ? "; " : "", probe.run_label, probe.feature);
    if (probe.tau_d) listed += fmt::format(" tau_d={}", *probe.tau_d);
    if (probe.grad_norm) listed += fmt::format(" (probe_grad_norm {:.3g})", *probe.grad_norm);
  }
  if (unconverged.size() > kListed) listed += fmt::format("; {} more", unconverged.size() - kListed);
  return fmt::format(
      "Convergence: {} of {} {} probes did not reach the gradient tolerance (probe_converged = 0), "
      "largest probe_grad_norm first: {}. Their accuracies are in the table as they are; a larger "
      "probe.max_iter would let them converge.",
      unconverged.size(), probes, protocol, listed);
}

// Which optional columns a table of rows has, and the published number of a row.
struct ComparisonColumns {
  bool linear = false, gumbel = false, online = false, reference = false;
  const std::vector<ReferenceNumber>* references = nullptr;

  ComparisonColumns(const std::vector<ComparisonRow>& rows, const std::vector<ReferenceNumber>& refs)
      : references(&refs) {
    for (const auto& row : rows) {
      linear |= row.linear.has_value();
      gumbel |= row.gumbel.has_value();
      online |= row.baseline_online.has_value();
      reference |= reference_of(row) != nullptr;
    }
  }

  const ReferenceNumber* reference_of(const ComparisonRow& row) const {
    if (row.untrained) return nullptr;  // published numbers are of trained backbones
    const auto key = [&](const char* k) {
      const auto it = row.keys.find(k);
      return it == row.keys.end() ? std::string() : it->second;
    };
    return find_reference(*references, key("method"), key("dataset"), key("backbone"));
  }

  // The columns holding the row's own accuracies of the protocol (baseline, +SEM, the controls).
  std::vector<size_t> accuracy_columns() const {
    std::vector<size_t> columns = {1, 2};
    if (linear) columns.push_back(4);
    if (gumbel) columns.push_back(linear ? 5 : 4);
    return columns;
  }
};

// How the +SEM - baseline intervals of a table's trained rows fall, for the claim's verdict.
struct VerdictCounts {
  int above = 0, below = 0, undecided = 0, without_interval = 0, untrained_rows = 0;

  void add(const ComparisonRow& row, Verdict verdict) {
    // The floor is no evidence for or against the claim, which is about trained backbones.
    if (row.untrained) {
      ++untrained_rows;
      return;
    }
    switch (verdict) {
      case Verdict::Above: ++above; break;
      case Verdict::Below: ++below; break;
      case Verdict::Undecided: ++undecided; break;
      case Verdict::NoInterval: ++without_interval; break;
      case Verdict::Missing: break;
    }
  }

  std::string paragraph(const std::string& protocol) const {
    const int with_interval = above + below + undecided;
    if (with_interval + without_interval == 0)
      return "No row of a trained backbone has both a baseline and a +SEM number yet.";
    std::string verdict = fmt::format(
        "Claim 1, SEM raises linear-probe top-1 ({}): +SEM is above the baseline with 95% confidence in {} of {} rows "
        "with an interval, below in {}, undecided in {}",
        protocol, above, with_interval, below, undecided);
    if (without_interval > 0)
      verdict += fmt::format("; {} rows have a single seed on a side and no interval", without_interval);
    if (untrained_rows > 0) verdict += "; untrained-backbone rows are not counted";
    return verdict + ".";
  }
};

// What the notes under a table say beyond its columns: the published numbers' sources, the rows whose epochs
// differ from their reference's, the SEM settings chosen on validation.
struct TableFacts {
  std::set<std::string> reference_sources;
  std::vector<std::string> epoch_mismatches;
  std::vector<std::string> chosen_settings;
};

ReportCell reference_cell(const ComparisonRow& row, const ComparisonColumns& columns, TableFacts& facts) {
  const ReferenceNumber* reference = columns.reference_of(row);
  if (!reference) return {"-", std::nullopt};
  ReportCell cell{fmt::format("{:.2f}", reference->top1), reference->top1};
  const auto epochs = row.keys.find("epochs");
  if (epochs != row.keys.end() && epochs->second != std::to_string(reference->epochs)) {
    cell.text += fmt::format(" ({} ep)", reference->epochs);
    facts.epoch_mismatches.push_back(row.label);
  }
  facts.reference_sources.insert(fmt::format("{} ({}, {}, {} epochs)", reference->source, reference->protocol,
                                             reference->backbone, reference->epochs));
  return cell;
}

// A row's cells, the best of its own accuracies marked.
std::vector<ReportCell> row_cells(const ComparisonRow& row, const DifferenceCell& delta,
                                  const ComparisonColumns& columns, TableFacts& facts) {
  std::vector<ReportCell> cells = {{row.label, std::nullopt}, stats_cell(row.baseline), stats_cell(row.sem)};
  cells.push_back(delta.cell);
  if (columns.linear) cells.push_back(stats_cell(row.linear));
  if (columns.gumbel) cells.push_back(stats_cell(row.gumbel));
  double best = -std::numeric_limits<double>::infinity();
  int with_value = 0;
  for (size_t c : columns.accuracy_columns()) {
    if (cells[c].value) best = std::max(best, *cells[c].value);
    with_value += cells[c].value.has_value();
  }
  for (size_t c : columns.accuracy_columns())
    cells[c].best = with_value > 1 && cells[c].value && *cells[c].value == best;
  if (columns.online) cells.push_back(stats_cell(row.baseline_online));
  if (columns.reference) cells.push_back(reference_cell(row, columns, facts));
  for (const auto& [mode, arm] : row.arms) {
    if (!arm.setting.empty())
      facts.chosen_settings.push_back(fmt::format("{} sem={}: {}", row.label, text(mode), arm.setting));
  }
  return cells;
}

std::vector<std::string> table_notes(const std::vector<ComparisonRow>& rows, const std::string& protocol,
                                     const ComparisonColumns& columns, const TableFacts& facts, bool untrained_rows) {
  std::vector<std::string> notes;
  notes.push_back(fmt::format("Top-1 % on the test split, mean ± std over seeds (n = seeds). Protocol {}: {}.",
                              protocol, probe_protocol_description(protocol)));
  if (const std::string note = convergence_note(rows, protocol); !note.empty()) notes.push_back(note);
  std::string names =
      "baseline = backbone feature of sem=off runs; +SEM = SEM feature of sem=on runs at the tau_d "
      "best on validation";
  if (columns.linear) names += "; +linear = embedder output of sem=linear runs (no softmax)";
  if (columns.gumbel) names += "; +gumbel = sem=gumbel runs, like +SEM";
  notes.push_back(names + ". Bold: the best of a row's " + protocol + " columns.");
  notes.push_back(
      "+SEM - baseline: difference of the means with a 95% confidence interval: a paired t-interval "
      "on the per-seed differences when both columns hold the same seeds, Welch's interval otherwise.");
  if (untrained_rows) {
    notes.push_back(
        "untrained backbone: runs with epochs = 0, the probe on a randomly initialised network: the "
        "floor that pretraining should beat.");
  }
  if (columns.online) {
    notes.push_back(
        "baseline online: protocol online_linear, the classifier trained on detached backbone "
        "features during pretraining (solo-learn's protocol), test split.");
  }
  if (columns.reference) {
    std::string sources;
    for (const auto& s : facts.reference_sources) sources += (sources.empty() ? "" : "; ") + s;
    notes.push_back("reference: published top-1, " + sources +
                    "; shown only where method, dataset and backbone match the row. Its protocol is "
                    "online_linear: compare it with the baseline online column, not with " +
                    protocol + ".");
  }
  if (!facts.epoch_mismatches.empty())
    notes.push_back("(N ep): the reference trained N epochs, these runs another number (see the row's epochs).");
  if (!facts.chosen_settings.empty()) {
    std::string text = "Several SEM settings in a row: the one with the best mean validation top-1 is reported (";
    for (size_t i = 0; i < facts.chosen_settings.size(); ++i) text += (i ? "; " : "") + facts.chosen_settings[i];
    notes.push_back(text + "); the ablation sections show them all.");
  }
  return notes;
}

// The comparison section of rows of one protocol.
ReportSection protocol_section(const std::vector<ComparisonRow>& rows, const std::vector<ReferenceNumber>& references,
                               const std::string& protocol) {
  const ComparisonColumns columns(rows, references);
  ReportTable table;
  table.id = table_id(protocol);
  table.title = "Test top-1 (%): baseline vs +SEM, " + protocol;
  // The subheader names the protocol of every column's numbers.
  const auto add_column = [&](const std::string& name, const std::string& column_protocol) {
    table.header.push_back(name);
    table.subheader.push_back(column_protocol);
  };
  add_column("method", "");
  add_column("baseline", protocol);
  add_column("+SEM", protocol);
  add_column("+SEM - baseline (95% CI)", protocol);
  if (columns.linear) add_column("+linear", protocol);
  if (columns.gumbel) add_column("+gumbel", protocol);
  if (columns.online) add_column("baseline online", std::string(kOnlineLinearProtocol));
  if (columns.reference) add_column("reference", std::string(kOnlineLinearProtocol) + " (published)");

  VerdictCounts counts;
  TableFacts facts;
  for (const auto& row : rows) {
    const DifferenceCell delta = difference_cell(row);
    counts.add(row, delta.verdict);
    table.rows.push_back(row_cells(row, delta, columns, facts));
  }
  table.notes = table_notes(rows, protocol, columns, facts, counts.untrained_rows > 0);

  ReportSection section;
  section.id = table.id;
  section.title = "Baseline vs +SEM (SPEC §4.1), " + protocol;
  section.paragraphs.push_back(counts.paragraph(protocol));
  section.tables.push_back(table);
  return section;
}

// The protocols of rows in linear_probe_protocols() order (any other name after them), and the rows of each.
using ProtocolRows = std::vector<std::pair<std::string, std::vector<ComparisonRow>>>;

ProtocolRows rows_by_protocol(const std::vector<ComparisonRow>& rows) {
  std::vector<std::string> order = linear_probe_protocols();
  for (const auto& row : rows) {
    if (std::find(order.begin(), order.end(), row.protocol) == order.end()) order.push_back(row.protocol);
  }
  ProtocolRows groups;
  for (const auto& protocol : order) {
    std::vector<ComparisonRow> of_protocol;
    std::copy_if(rows.begin(), rows.end(), std::back_inserter(of_protocol),
                 [&](const ComparisonRow& row) { return row.protocol == protocol; });
    if (!of_protocol.empty()) groups.emplace_back(protocol, std::move(of_protocol));
  }
  return groups;
}

}  // namespace

SeedStats seed_stats(const std::vector<double>& values) {
  SeedStats s;
  s.n = static_cast<int64_t>(values.size());
  if (s.n == 0) return s;
  for (double v : values) s.mean += v;
  s.mean /= static_cast<double>(s.n);
  if (s.n > 1) {
    double ss = 0;
    for (double v : values) ss += (v - s.mean) * (v - s.mean);
    s.std = std::sqrt(ss / static_cast<double>(s.n - 1));
  }
  return s;
}

std::optional<DifferenceInterval> difference_interval(const std::map<int64_t, double>& a,
                                                      const std::map<int64_t, double>& b, double confidence) {
  const auto quantile = [&](double df) {
    return boost::math::quantile(
        boost::math::complement(boost::math::students_t_distribution<double>(df), (1 - confidence) / 2));
  };
  DifferenceInterval interval;
  interval.confidence = confidence;
  bool same_seeds = a.size() == b.size() && a.size() >= 2;
  for (auto ia = a.begin(), ib = b.begin(); same_seeds && ia != a.end(); ++ia, ++ib)
    same_seeds = ia->first == ib->first;
  if (same_seeds) {
    std::vector<double> differences;
    for (const auto& [seed, value] : a) differences.push_back(b.at(seed) - value);
    const SeedStats d = seed_stats(differences);
    interval.paired = true;
    interval.difference = d.mean;
    interval.df = static_cast<double>(d.n - 1);
    const double half = quantile(interval.df) * d.std / std::sqrt(static_cast<double>(d.n));
    interval.low = d.mean - half;
    interval.high = d.mean + half;
    return interval;
  }
  if (a.size() < 2 || b.size() < 2) return std::nullopt;
  std::vector<double> va, vb;
  for (const auto& [seed, value] : a) va.push_back(value);
  for (const auto& [seed, value] : b) vb.push_back(value);
  const SeedStats sa = seed_stats(va), sb = seed_stats(vb);
  const double ea = sa.std * sa.std / static_cast<double>(sa.n);  // squared standard errors of the means
  const double eb = sb.std * sb.std / static_cast<double>(sb.n);
  const double se2 = ea + eb;
  interval.difference = sb.mean - sa.mean;
  if (se2 > 0) {
    interval.df = se2 * se2 / (ea * ea / static_cast<double>(sa.n - 1) + eb * eb / static_cast<double>(sb.n - 1));
  } else {
    interval.df = static_cast<double>(sa.n + sb.n - 2);
  }
  const double half = quantile(interval.df) * std::sqrt(se2);
  interval.low = interval.difference - half;
  interval.high = interval.difference + half;
  return interval;
}

std::map<std::string, double> best_sem_tau_d(const std::vector<ResultRow>& results, std::string_view protocol) {
  std::map<std::string, std::map<double, double>> val;  // run -> tau_d -> validation top-1
  for (const auto& r : results) {
    if (r.protocol == protocol && r.metric == kTop1Metric && r.feature == text(Feature::Sem) &&
        r.split == text(Split::Val) && r.tau_d) {
      val[r.run_id][*r.tau_d] = r.value;
    }
  }
  std::map<std::string, double> best;
  for (const auto& [run_id, by_tau] : val) {
    const std::pair<const double, double>* chosen = nullptr;
    for (const auto& entry : by_tau) {  // ascending tau_d: a strict > keeps the smallest of tied ones
      if (!chosen || entry.second > chosen->second) chosen = &entry;
    }
    best[run_id] = chosen->first;
  }
  return best;
}

SeedStats ComparisonArm::stats() const {
  std::vector<double> values;
  for (const auto& [seed, value] : by_seed) values.push_back(value);
  return seed_stats(values);
}

namespace {

// The finished runs a table of `protocol` counts: those storing its rows, and those storing no linear-probe row
// at all (a run of probe.protocols = sgd has no place in the lbfgs_probe table).
std::vector<const RunRecord*> finished_runs_of(const std::vector<RunRecord>& runs,
                                               const std::vector<ResultRow>& results, std::string_view protocol) {
  std::set<std::string> with_protocol, with_probe;
  for (const auto& r : results) {
    if (!is_linear_probe_protocol(r.protocol)) continue;
    with_probe.insert(r.run_id);
    if (r.protocol == protocol) with_protocol.insert(r.run_id);
  }
  std::vector<const RunRecord*> finished;
  for (const auto& run : runs) {
    if (run.status == text(RunStatus::Finished) && (with_protocol.count(run.run_id) || !with_probe.count(run.run_id))) {
      finished.push_back(&run);
    }
  }
  return finished;
}

// run -> its online linear classifier's test top-1.
std::map<std::string, double> online_top1_by_run(const std::vector<ResultRow>& results) {
  std::map<std::string, double> online;
  for (const auto& r : results) {
    if (r.protocol == kOnlineLinearProtocol && r.metric == kTop1Metric && r.split == text(Split::Test) &&
        r.feature == text(Feature::Backbone)) {
      online[r.run_id] = r.value;
    }
  }
  return online;
}

// A row's name: the method first (always), then "key=value" for the other keys telling the finished runs apart,
// SEM's own keys aside (they make the columns). Untrained runs are labelled as such rather than by "epochs=0";
// when the trained runs share one epochs value, that leaves nothing for the key to tell apart.
class RowLabels {
 public:
  explicit RowLabels(const std::vector<const RunRecord*>& finished) {
    std::set<std::string> trained_epochs;
    for (const auto* run : finished) {
      if (!is_untrained(*run)) trained_epochs.insert(run->config.at("epochs"));
    }
    for (const auto& key : distinguishing_keys(finished, true)) {
      if (is_sem_key(key)) continue;
      if (key != "epochs" || trained_epochs.size() > 1) label_keys_.push_back(key);
      if (key != "epochs") identity_keys_.push_back(key);
    }
    std::set<std::string> identities;
    for (const auto* run : finished) identities.insert(row_label(*run, identity_keys_));
    several_identities_ = identities.size() > 1;
  }

  std::string operator()(const RunRecord& run) const {
    if (!is_untrained(run)) return row_label(run, label_keys_);
    return several_identities_ ? "untrained backbone (" + row_label(run, identity_keys_) + ")"
                               : std::string("untrained backbone");
  }

 private:
  std::vector<std::string> label_keys_, identity_keys_;
  bool several_identities_ = false;
};

// One row's runs before its columns are computed.
struct RowRuns {
  ComparisonRow row;  // label, protocol, untrained and keys set
  // sem mode -> SEM setting ("sem.L=8 sem.V=4 ...") -> values per seed; the settings in first-seen order.
  std::map<EmbedderMode, std::map<std::string, SettingValues>> by_setting;
  std::map<EmbedderMode, std::vector<std::string>> setting_order;
  std::map<int64_t, std::vector<double>> online;  // the sem=off runs' online top-1 per seed
};

struct TableRuns {
  std::vector<std::string> order;  // row labels in the order of their first run
  std::map<std::string, RowRuns> rows;
  std::map<std::string, std::string> label_of_run;
};

// The finished runs grouped into rows, each run's numbers under its sem mode and SEM setting.
TableRuns group_into_rows(const std::vector<const RunRecord*>& finished, const std::vector<RunRecord>& runs,
                          const std::vector<ResultRow>& results, std::string_view protocol) {
  const auto keys = row_keys();
  const auto setting_keys = sem_setting_keys();
  const auto scores = probe_scores_by_run(results, protocol);
  const auto validation = headline_validation(results, runs, protocol);
  const auto online = online_top1_by_run(results);
  const RowLabels label_of(finished);
  TableRuns table;
  for (const auto* run : finished) {
    const std::string label = label_of(*run);
    table.label_of_run[run->run_id] = label;
    if (!table.rows.count(label)) {
      table.order.push_back(label);
      ComparisonRow& row = table.rows[label].row;
      row.label = label;
      row.protocol = std::string(protocol);
      row.untrained = is_untrained(*run);
      for (const auto& key : keys) row.keys[key] = stored_value(*run, key);
    }
    RowRuns& row_runs = table.rows.at(label);
    const EmbedderMode mode = stored_sem_mode(*run);
    std::string setting;
    for (const auto& key : setting_keys)
      setting += fmt::format("{}{}={}", setting.empty() ? "" : " ", key, stored_value(*run, key));
    auto& by_setting = row_runs.by_setting[mode];
    if (!by_setting.count(setting)) row_runs.setting_order[mode].push_back(setting);
    SettingValues& values = by_setting[setting];
    if (const auto score = scores.find(run->run_id); score != scores.end()) {
      if (const auto test = headline_accuracy(score->second, mode)) values.test[run->seed].push_back(*test);
    }
    if (const auto val = validation.find(run->run_id); val != validation.end())
      values.val[run->seed].push_back(val->second);
    if (mode == EmbedderMode::Off) {
      if (const auto it = online.find(run->run_id); it != online.end())
        row_runs.online[run->seed].push_back(it->second);
    }
  }
  return table;
}

// L-BFGS protocols: each row counts its runs' probe_converged records and lists the probes at 0.
void add_convergence(TableRuns& table, const std::vector<RunRecord>& runs, const std::vector<ResultRow>& results,
                     std::string_view protocol) {
  const auto run_names = run_labels(runs);
  using ProbeKey = std::tuple<std::string, std::string, std::optional<double>>;  // run, feature, tau_d
  std::map<ProbeKey, double> grad_norm;
  for (const auto& r : results) {
    if (r.protocol == protocol && r.split == text(Split::Train) && r.metric == kProbeGradNormMetric) {
      grad_norm[{r.run_id, r.feature, r.tau_d}] = r.value;
    }
  }
  for (const auto& r : results) {
    if (r.protocol != protocol || r.split != text(Split::Train) || r.metric != kProbeConvergedMetric) continue;
    const auto label = table.label_of_run.find(r.run_id);
    if (label == table.label_of_run.end()) continue;
    ComparisonRow& row = table.rows.at(label->second).row;
    ++row.probes_with_convergence;
    if (r.value != 0) continue;
    UnconvergedProbe probe{run_names.at(r.run_id), r.feature, r.tau_d, std::nullopt};
    if (const auto norm = grad_norm.find({r.run_id, r.feature, r.tau_d}); norm != grad_norm.end()) {
      probe.grad_norm = norm->second;
    }
    row.unconverged.push_back(probe);
  }
}

// The value of `key` in a setting text "sem.L=8 sem.V=4": "sem.L=8".
std::string setting_item(const std::string& setting, const std::string& key) {
  const auto at = setting.find(key + "=");
  return setting.substr(at, setting.find(' ', at) - at);
}

// One column of a row. The baseline ignores the SEM settings: runs of one seed that differ only in them are
// one computation, averaged. Another mode with several settings reports the one with the best mean validation
// top-1 (the first of tied ones), named by the keys that differ between the candidates.
ComparisonArm column_of(EmbedderMode mode, const std::vector<std::string>& settings,
                        const std::map<std::string, SettingValues>& by_setting) {
  ComparisonArm arm;
  if (mode == EmbedderMode::Off || settings.size() == 1) {
    std::map<int64_t, std::vector<double>> merged;
    for (const auto& setting : settings) {
      for (const auto& [seed, v] : by_setting.at(setting).test)
        merged[seed].insert(merged[seed].end(), v.begin(), v.end());
    }
    arm.by_seed = per_seed_mean(merged);
    return arm;
  }
  const std::string* chosen = nullptr;
  double chosen_val = -std::numeric_limits<double>::infinity();
  for (const auto& setting : settings) {
    const auto& values = by_setting.at(setting);
    if (per_seed_mean(values.test).empty()) continue;
    std::vector<double> val;
    for (const auto& [seed, v] : per_seed_mean(values.val)) val.push_back(v);
    const double mean_val = val.empty() ? -std::numeric_limits<double>::infinity() : mean_of(val);
    if (!chosen || mean_val > chosen_val) {
      chosen = &setting;
      chosen_val = mean_val;
    }
  }
  if (!chosen) return arm;
  arm.by_seed = per_seed_mean(by_setting.at(*chosen).test);
  for (const auto& key : sem_setting_keys()) {
    std::set<std::string> values;
    for (const auto& setting : settings) values.insert(setting_item(setting, key));
    if (values.size() > 1) arm.setting += (arm.setting.empty() ? "" : " ") + setting_item(*chosen, key);
  }
  return arm;
}

// A row's columns, their statistics and the +SEM - baseline interval.
ComparisonRow finish_row(const RowRuns& runs) {
  ComparisonRow row = runs.row;
  for (const EmbedderMode mode : kEmbedderModes) {
    const auto by_setting = runs.by_setting.find(mode);
    if (by_setting == runs.by_setting.end()) continue;
    ComparisonArm arm = column_of(mode, runs.setting_order.at(mode), by_setting->second);
    if (!arm.by_seed.empty()) row.arms[mode] = std::move(arm);
  }
  const auto stats = [&](EmbedderMode mode) {
    const auto it = row.arms.find(mode);
    return it == row.arms.end() ? std::nullopt : std::optional<SeedStats>(it->second.stats());
  };
  row.baseline = stats(EmbedderMode::Off);
  row.sem = stats(EmbedderMode::Softmax);
  row.linear = stats(EmbedderMode::Linear);
  row.gumbel = stats(EmbedderMode::Gumbel);
  if (row.baseline && row.sem) {
    row.sem_minus_baseline =
        difference_interval(row.arms.at(EmbedderMode::Off).by_seed, row.arms.at(EmbedderMode::Softmax).by_seed);
  }
  if (!runs.online.empty()) {
    std::vector<double> values;
    for (const auto& [seed, v] : per_seed_mean(runs.online)) values.push_back(v);
    row.baseline_online = seed_stats(values);
  }
  return row;
}

}  // namespace

std::vector<ComparisonRow> comparison_table(const std::vector<RunRecord>& runs, const std::vector<ResultRow>& results,
                                            std::string_view protocol) {
  TableRuns table = group_into_rows(finished_runs_of(runs, results, protocol), runs, results, protocol);
  if (is_lbfgs_protocol(protocol)) add_convergence(table, runs, results, protocol);
  std::vector<ComparisonRow> rows;
  for (const auto& label : table.order) rows.push_back(finish_row(table.rows.at(label)));
  std::stable_partition(rows.begin(), rows.end(), [](const ComparisonRow& row) { return !row.untrained; });
  return rows;
}

std::vector<ComparisonRow> comparison_table(const std::vector<RunRecord>& runs, const std::vector<ResultRow>& results) {
  std::set<std::string> run_ids;
  for (const auto& run : runs) run_ids.insert(run.run_id);
  std::vector<std::string> protocols = probe_protocols_present(results_of_runs(results, run_ids));
  if (protocols.empty()) protocols.push_back(linear_probe_protocols().front());
  std::vector<ComparisonRow> rows;
  for (const auto& protocol : protocols) {
    for (auto& row : comparison_table(runs, results, protocol)) rows.push_back(std::move(row));
  }
  return rows;
}

ReportSection comparison_section(const std::vector<ComparisonRow>& rows,
                                 const std::vector<ReferenceNumber>& references) {
  return protocol_section(rows, references, rows.empty() ? linear_probe_protocols().front() : rows.front().protocol);
}

std::optional<ReportSection> probe_survival_section(const std::vector<ComparisonRow>& rows) {
  const auto groups = rows_by_protocol(rows);
  if (groups.size() < 2) return std::nullopt;
  ReportTable table;
  table.id = "probe_survival";
  table.title = "Does SEM's gain survive the probe?";
  table.header = {"configuration"};
  table.subheader = {""};
  for (const auto& [protocol, of_protocol] : groups) {
    table.header.push_back(protocol);
    table.subheader.push_back("+SEM - baseline (95% CI)");
  }
  // Configurations in the order of the first table that has them.
  std::vector<std::string> labels;
  for (const auto& [protocol, of_protocol] : groups) {
    for (const auto& row : of_protocol) {
      if (std::find(labels.begin(), labels.end(), row.label) == labels.end()) labels.push_back(row.label);
    }
  }
  std::stable_partition(labels.begin(), labels.end(), [&](const std::string& label) {
    return std::none_of(rows.begin(), rows.end(),
                        [&](const ComparisonRow& r) { return r.label == label && r.untrained; });
  });
  const auto sign = [](double v) { return (v > 0) - (v < 0); };
  int with_difference = 0, sign_agrees = 0, with_intervals = 0, verdict_agrees = 0;
  for (const auto& label : labels) {
    std::vector<ReportCell> cells = {{label, std::nullopt}};
    std::set<int> signs;
    std::set<Verdict> verdicts;
    bool every_difference = true, every_interval = true;
    for (const auto& [protocol, of_protocol] : groups) {
      const auto row = std::find_if(of_protocol.begin(), of_protocol.end(),
                                    [&](const ComparisonRow& r) { return r.label == label; });
      const DifferenceCell delta =
          row == of_protocol.end() ? DifferenceCell{{"", std::nullopt}} : difference_cell(*row);
      cells.push_back(delta.cell.value ? delta.cell : ReportCell{"-", std::nullopt});
      every_difference = every_difference && delta.cell.value.has_value();
      const bool interval =
          delta.verdict == Verdict::Above || delta.verdict == Verdict::Below || delta.verdict == Verdict::Undecided;
      every_interval = every_interval && interval;
      if (delta.cell.value) signs.insert(sign(*delta.cell.value));
      if (interval) verdicts.insert(delta.verdict);
    }
    if (every_difference) {
      ++with_difference;
      sign_agrees += signs.size() == 1;
    }
    if (every_interval) {
      ++with_intervals;
      verdict_agrees += verdicts.size() == 1;
    }
    table.rows.push_back(cells);
  }
  std::string protocols;
  for (size_t i = 0; i < groups.size(); ++i) protocols += (i ? ", " : "") + groups[i].first;
  table.notes.push_back(fmt::format(
      "Each column: +SEM - baseline of that protocol's comparison table, test top-1 points with a 95% confidence "
      "interval; the protocols probe the same checkpoints. The sign of the difference agrees across {} in {} of {} "
      "rows with a difference under every protocol; the interval's verdict (above / below / undecided) agrees in {} "
      "of {} rows with an interval under every protocol.",
      protocols, sign_agrees, with_difference, verdict_agrees, with_intervals));
  ReportSection section;
  section.id = "probe_survival";
  section.title = "Baseline vs +SEM across probe protocols";
  section.tables.push_back(table);
  return section;
}

std::string format_comparison(const std::vector<ComparisonRow>& rows) {
  const auto groups = rows_by_protocol(rows);
  if (groups.size() <= 1) return render_text_table(comparison_section(rows, builtin_reference_numbers()).tables.at(0));
  std::string out;
  for (const auto& [protocol, of_protocol] : groups) {
    const ReportTable table = protocol_section(of_protocol, builtin_reference_numbers(), protocol).tables.at(0);
    out += (out.empty() ? "" : "\n") + table.title + "\n" + render_text_table(table);
  }
  const ReportTable survival = probe_survival_section(rows)->tables.at(0);
  return out + "\n" + survival.title + "\n" + render_text_table(survival);
}

std::vector<ReportSection> comparison_sections(Store& store, const std::vector<ReferenceNumber>& references,
                                               const std::string& grid) {
  const auto runs = store.runs(grid);
  std::set<std::string> run_ids;
  for (const auto& run : runs) run_ids.insert(run.run_id);
  const auto results = results_of_runs(store.results(), run_ids);
  std::vector<std::string> protocols = probe_protocols_present(results);
  if (protocols.empty()) protocols.push_back(linear_probe_protocols().front());
  std::vector<ReportSection> sections;
  std::vector<ComparisonRow> every_row;
  for (const auto& protocol : protocols) {
    const auto rows = comparison_table(runs, results, protocol);
    sections.push_back(protocol_section(rows, references, protocol));
    every_row.insert(every_row.end(), rows.begin(), rows.end());
  }
  if (auto survival = probe_survival_section(every_row)) sections.push_back(std::move(*survival));
  return sections;
}

}  // namespace semharness
