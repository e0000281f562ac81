#include "frontend/text_table.h"

#include <algorithm>

namespace popek {
namespace {

size_t display_chars(const std::string& s) {
  size_t n = 0;
  for (unsigned char c : s) n += (c & 0xC0) != 0x80;  // not a UTF-8 continuation byte
  return n;
}

}  // namespace

std::string format_text_table(const TextRow& head, const std::vector<TextRow>& rows,
                              const std::vector<size_t>& left_aligned) {
  std::vector<size_t> width(head.size());
  for (size_t i = 0; i < head.size(); ++i) {
    width[i] = display_chars(head[i]);
    for (const TextRow& r : rows) width[i] = std::max(width[i], display_chars(r[i]));
  }
  std::string out;
  auto line = [&](const TextRow& r) {
    std::string l;
    for (size_t i = 0; i < r.size(); ++i) {
      const std::string padding(width[i] - std::min(width[i], display_chars(r[i])), ' ');
      const bool left = std::find(left_aligned.begin(), left_aligned.end(), i) != left_aligned.end();
      l += (i ? "  " : "") + (left ? r[i] + padding : padding + r[i]);
    }
    while (!l.empty() && l.back() == ' ') l.pop_back();
    out += l + "\n";
  };
  line(head);
  for (const TextRow& r : rows) line(r);
  return out;
}

}  // namespace popek
