// The hot-block profile (--profile) as JSON (schema popek-profile/1, inside
// --stats FILE.json and popek bench's report.json), as text (the terminal
// and --profile-file) and as a section of report.html. The text and the
// HTML are made from the JSON, so popek bench renders a child run's
// profile exactly as the child would.
#pragma once
#include <nlohmann/json.hpp>
#include <string>

#include "translator/block_profiler.h"

namespace popek::profile {

using json = nlohmann::ordered_json;

json to_json(const dbt::ProfileReport& report);

// The whole profile: a summary, a table of the top blocks, then each block
// with its guest disassembly beside its host disassembly. With
// `disassembly` false, only the summary and the table.
std::string to_text(const json& profile, bool disassembly = true);

// The report.html section for one profile: `pointer` is the JSON pointer of
// `profile` in the report (for the data-json cells), `id` a prefix for the
// element ids.
std::string to_html(const json& profile, const std::string& pointer, const std::string& id);

}  // namespace popek::profile
