// Plain-text tables for the terminal (popek bench's result tables, the
// hot-block profile): each column as wide as its widest cell, counted in
// characters (cells may hold UTF-8 such as "±"), columns two spaces apart.
#pragma once
#include <string>
#include <vector>

namespace popek {

using TextRow = std::vector<std::string>;

// `head` then `rows`, one line each (trailing blanks dropped). Columns whose
// index is in `left_aligned` are left-aligned, the others right-aligned.
std::string format_text_table(const TextRow& head, const std::vector<TextRow>& rows,
                              const std::vector<size_t>& left_aligned);

}  // namespace popek
