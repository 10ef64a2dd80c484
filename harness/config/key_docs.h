#pragma once
// The documentation generated from the key table and the method list: the README's key and method tables
// (semharness keys --markdown, and --readme to rewrite them in place between their markers) and the rows of
// the table `semharness keys` prints. Torch-free.
#include <string>
#include <vector>

namespace semharness {

// | key | value | default | meaning | for every grid key, in the table's order.
std::string key_table_markdown();
// | `method` | heads and loss | SEM temperatures (SPEC §1) | for every method, in the list's order.
std::string method_table_markdown();
// A header row, then every key with its values, default and meaning (for a terminal table).
std::vector<std::vector<std::string>> key_table_rows();

// `text` with the lines between "<!-- generated: NAME -->" and "<!-- end generated: NAME -->" replaced by
// `body`; throws InputError naming `where` when the markers are missing or out of order.
std::string replace_generated_block(const std::string& text, const std::string& name, const std::string& body,
                                    const std::string& where);
// The lines between the markers of block NAME, or throws as replace_generated_block does.
std::string generated_block(const std::string& text, const std::string& name, const std::string& where);

}  // namespace semharness
