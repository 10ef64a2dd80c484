#pragma once
// Aligned plain-text tables for the terminal: the first column left-aligned, the others right-aligned,
// widths counted in characters (UTF-8 aware, so "±" counts as one).
#include <string>
#include <vector>

namespace semharness {

std::string format_aligned(const std::vector<std::vector<std::string>>& rows);

}  // namespace semharness
