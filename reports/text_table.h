#pragma once
// Aligned plain-text tables for the terminal: the first column (or the first `left_columns`) left-aligned, the
// others right-aligned, widths counted in characters (UTF-8 aware, so "±" counts as one).
#include <string>
#include <vector>

namespace semharness {

// Characters of UTF-8 text (every byte that is not a continuation byte starts one).
size_t display_width(const std::string& text);

// Plain text wrapped at spaces into lines of at most `width` characters, each ending in '\n': the first line
// starts with `first_indent`, the others with `indent` (counted in the width); a longer word stands alone.
std::string wrap_text(const std::string& text, size_t width, const std::string& first_indent = "",
                      const std::string& indent = "");

std::string format_aligned(const std::vector<std::vector<std::string>>& rows, size_t left_columns = 1);

}  // namespace semharness
