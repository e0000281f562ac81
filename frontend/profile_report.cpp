#include "frontend/profile_report.h"

#include <algorithm>
#include <cstdio>
#include <sstream>

#include "frontend/svg.h"
#include "frontend/text_table.h"

namespace popek::profile {

namespace {

// Exit kinds in the order the text, the table and the JSON list them.
struct ExitColumn {
  const char* key;
  const char* title;
};
const ExitColumn kExits[] = {
    {"chained", "chained"},       {"indirect_hit", "ib hit"}, {"indirect_miss", "ib miss"},
    {"direct_unchained", "direct unch."}, {"unchained", "unchained"}, {"helper", "helper"},
    {"fault", "fault"},           {"budget", "budget"},
};

double ratio(double a, double b) { return b > 0 ? a / b : 0; }

std::string hex8(uint64_t v) {
  char b[24];
  std::snprintf(b, sizeof b, "%08llx", static_cast<unsigned long long>(v));
  return b;
}

std::string fixed(double v, int decimals) {
  char b[48];
  std::snprintf(b, sizeof b, "%.*f", decimals, v);
  return b;
}

std::string percent(double share) { return fixed(share * 100, 1) + "%"; }

uint64_t u64(const json& j, const char* key) {
  return j.contains(key) && j[key].is_number() ? j[key].get<uint64_t>() : 0;
}
double num(const json& j, const char* key) { return j.contains(key) && j[key].is_number() ? j[key].get<double>() : 0; }

std::string block_name(const json& b) {
  std::string s = hex8(u64(b, "eip"));
  if (u64(b, "cs_base")) s = hex8(u64(b, "cs_base")) + "+" + s;
  return s;
}

// "retranslated x3", "code rewritten x2" when they apply.
std::string history(const json& b) {
  std::string s;
  if (uint64_t r = u64(b, "retranslations")) s += "retranslated x" + std::to_string(r);
  if (uint64_t v = u64(b, "versions"); v > 1) s += std::string(s.empty() ? "" : ", ") + "code rewritten x" + std::to_string(v - 1);
  return s;
}

}  // namespace

json to_json(const dbt::ProfileReport& r) {
  json j;
  j["schema"] = "popek-profile/1";
  j["sort"] = r.sort == dbt::ProfileSort::Time ? "time" : "count";
  json s;
  s["enabled"] = r.sampling;
  s["period_us"] = r.sample_period_us;
  s["error"] = r.sampling_error.empty() ? json(nullptr) : json(r.sampling_error);
  s["total"] = r.samples_total;
  s["translated_code"] = r.samples_code;
  s["block_helpers"] = r.samples_block_helpers;
  s["runtime_routines"] = r.samples_runtime;
  s["translator"] = r.samples_translator;
  s["other"] = r.samples_other;
  s["dropped"] = r.samples_dropped;
  j["samples"] = s;
  j["blocks"] = r.blocks;
  j["translations"] = r.translations;
  j["executions"] = r.executions;
  j["top"] = json::array();
  size_t rank = 0;
  for (const dbt::ProfiledBlock& pb : r.top) {
    const dbt::BlockProfile& p = *pb.profile;
    json b;
    b["rank"] = ++rank;
    b["eip"] = p.eip;
    b["cs_base"] = p.cs_base;
    b["linear"] = uint32_t(p.cs_base + p.eip);
    b["phys"] = p.phys;
    b["mode"] = p.mode;
    b["guest_insns"] = p.insn_count;
    b["guest_bytes"] = p.guest_code.size();
    // As a run without --profile emits it: without the counting code.
    const double host = double(p.host_code.size() - p.profile_bytes);
    b["host_bytes"] = p.host_code.size() - p.profile_bytes;
    b["profile_bytes"] = p.profile_bytes;
    b["host_bytes_per_guest_byte"] = ratio(host, double(p.guest_code.size()));
    b["host_bytes_per_guest_insn"] = ratio(host, double(p.insn_count));
    b["executions"] = p.counters.executions;
    b["execution_share"] = pb.execution_share;
    b["samples"] = p.samples();
    b["samples_code"] = p.samples_code;
    b["samples_helpers"] = p.samples_helpers;
    b["time_share"] = pb.time_share;
    b["translations"] = p.translations;
    b["retranslations"] = p.translations ? p.translations - 1 : 0;
    b["versions"] = p.versions;
    b["fallbacks"] = p.fallbacks;
    b["helper_calls"] = p.helper_calls;
    json e;
    e["chained"] = p.chained();
    e["indirect_hit"] = p.indirect_hits();
    e["indirect_miss"] = p.exits[size_t(dbt::ExitKind::IndirectMiss)];
    e["direct_unchained"] = p.exits[size_t(dbt::ExitKind::DirectUnchained)];
    e["unchained"] = p.exits[size_t(dbt::ExitKind::Unchained)];
    e["helper"] = p.exits[size_t(dbt::ExitKind::Helper)];
    e["fault"] = p.exits[size_t(dbt::ExitKind::Fault)];
    e["budget"] = p.exits[size_t(dbt::ExitKind::Budget)];
    b["exits"] = e;
    json d;
    d["entry"] = pb.entry;
    d["rows"] = json::array();
    for (const dbt::DisassemblyRow& row : pb.rows) d["rows"].push_back({{"eip", row.eip}, {"guest", row.guest}, {"host", row.host}});
    d["cold"] = pb.cold;
    b["disassembly"] = d;
    j["top"].push_back(b);
  }
  return j;
}

std::string to_text(const json& p, bool disassembly) {
  std::ostringstream o;
  const json& s = p["samples"];
  const uint64_t total = u64(s, "total");
  o << "Hot blocks: top " << p["top"].size() << " of " << u64(p, "blocks") << " blocks (" << u64(p, "translations")
    << " translations, " << u64(p, "executions") << " block executions), sorted by "
    << (p.value("sort", std::string("time")) == "time" ? "sampled time" : "execution count") << "\n";
  if (s.value("enabled", false)) {
    o << "Time: " << total << " samples, one per " << u64(s, "period_us") << " us of CPU time";
    if (total) {
      o << ": " << percent(ratio(num(s, "translated_code"), double(total))) << " in translated code, "
        << percent(ratio(num(s, "block_helpers"), double(total))) << " in helpers called from blocks, "
        << percent(ratio(num(s, "runtime_routines"), double(total))) << " in run-time routines, "
        << percent(ratio(num(s, "translator"), double(total))) << " translating, "
        << percent(ratio(num(s, "other"), double(total))) << " elsewhere (dispatcher, interpreter, devices)";
    }
    if (u64(s, "dropped")) o << "; " << u64(s, "dropped") << " dropped";
    o << "\n";
  } else {
    o << "Time: not sampled" << (s["error"].is_string() ? " (" + s["error"].get<std::string>() + ")" : std::string()) << "\n";
  }
  // The table.
  std::vector<std::string> head = {"#", "block", "insns", "executions", "exec%", "time%", "B/gbyte", "B/insn"};
  for (const ExitColumn& c : kExits) head.push_back(c.title);
  head.push_back("fallbacks");
  head.push_back("history");
  std::vector<std::vector<std::string>> rows;
  for (const json& b : p["top"]) {
    std::vector<std::string> r = {std::to_string(u64(b, "rank")), block_name(b), std::to_string(u64(b, "guest_insns")),
                                  std::to_string(u64(b, "executions")), percent(num(b, "execution_share")),
                                  total ? percent(num(b, "time_share")) : "-",
                                  fixed(num(b, "host_bytes_per_guest_byte"), 1),
                                  fixed(num(b, "host_bytes_per_guest_insn"), 1)};
    for (const ExitColumn& c : kExits) r.push_back(std::to_string(u64(b["exits"], c.key)));
    r.push_back(std::to_string(u64(b, "fallbacks")));
    r.push_back(history(b));
    rows.push_back(r);
  }
  o << format_text_table(head, rows, {1, head.size() - 1});
  o << "(exec%: of all block executions; time%: of all samples, in the block's code and in helpers it called; "
       "B/gbyte, B/insn: host bytes per guest byte and per guest instruction, without the profile counters; exits: how the block was left)\n";
  if (!disassembly) return o.str();

  for (const json& b : p["top"]) {
    o << "\n#" << u64(b, "rank") << " block " << block_name(b) << " (phys " << hex8(u64(b, "phys")) << ", mode "
      << hex8(u64(b, "mode")).substr(5) << "): " << u64(b, "guest_insns") << " guest insns, " << u64(b, "guest_bytes")
      << " guest bytes -> " << u64(b, "host_bytes") << " host bytes (" << fixed(num(b, "host_bytes_per_guest_byte"), 1)
      << " per guest byte, " << fixed(num(b, "host_bytes_per_guest_insn"), 1) << " per guest insn; "
      << u64(b, "profile_bytes") << " more of profile counters)\n";
    o << "  executions " << u64(b, "executions") << " (" << percent(num(b, "execution_share")) << ")";
    if (total)
      o << ", time " << percent(num(b, "time_share")) << " (" << u64(b, "samples_code") << " samples in its code, "
        << u64(b, "samples_helpers") << " in helpers)";
    o << "\n  exits:";
    for (const ExitColumn& c : kExits) o << " " << c.key << " " << u64(b["exits"], c.key);
    o << "\n  fallbacks " << u64(b, "fallbacks") << ", targeted helpers " << u64(b, "helper_calls");
    if (std::string h = history(b); !h.empty()) o << ", " << h;
    o << "\n";
    // Guest beside host: the guest instruction on the first line of its host code.
    const json& d = b["disassembly"];
    const size_t gw = 44;
    auto side = [&](const std::string& left, const json& host) {
      if (host.empty()) {
        o << "  " << left << "\n";
        return;
      }
      for (size_t i = 0; i < host.size(); ++i) {
        std::string l = i == 0 ? left : "";
        if (l.size() < gw) l += std::string(gw - l.size(), ' ');
        o << "  " << l << " | " << host[i].get<std::string>() << "\n";
      }
    };
    o << "  " << std::string(gw, '-') << "-+-" << std::string(30, '-') << "\n";
    side("(entry)", d["entry"]);
    for (const json& row : d["rows"]) side(hex8(u64(row, "eip")) + "  " + row["guest"].get<std::string>(), row["host"]);
    side("(cold: slow paths, exits)", d["cold"]);
  }
  return o.str();
}

namespace {

std::string cell(const json& v, const std::string& pointer, int decimals, bool pct = false) {
  if (!v.is_number()) return "<td class=\"na\">-</td>";
  double x = v.get<double>();
  std::string text = pct ? fixed(x * 100, decimals) + "%" : fixed(x, decimals);
  return "<td data-json=\"" + svg::escape(pointer) + "\"" + (pct ? " data-percent=\"1\"" : "") + ">" + text + "</td>";
}

}  // namespace

std::string to_html(const json& p, const std::string& ptr, const std::string& id) {
  std::ostringstream o;
  using svg::escape;
  const json& s = p["samples"];
  const uint64_t total = u64(s, "total");
  o << "<p class=\"note\">" << escape(std::to_string(u64(p, "blocks"))) << " blocks, " << u64(p, "translations")
    << " translations, " << u64(p, "executions") << " block executions; ";
  if (s.value("enabled", false) && total) {
    o << total << " samples (one per " << u64(s, "period_us") << " &#181;s of CPU time): "
      << percent(ratio(num(s, "translated_code"), double(total))) << " in translated code, "
      << percent(ratio(num(s, "block_helpers"), double(total))) << " in helpers called from blocks, "
      << percent(ratio(num(s, "translator"), double(total))) << " translating, "
      << percent(ratio(num(s, "other") + num(s, "runtime_routines"), double(total)))
      << " elsewhere (dispatcher, interpreter, devices). ";
  } else {
    o << "time not sampled. ";
  }
  o << "Sorted by " << (p.value("sort", std::string("time")) == "time" ? "sampled time" : "execution count")
    << ". Exits: how each block was left.</p>\n";
  o << "<table id=\"" << escape(id) << "-table\" class=\"profile\"><tr><th>#</th><th class=\"name\">block</th>"
    << "<th>guest insns</th><th>executions</th><th>exec share</th><th>time share</th><th>host B/guest byte</th>"
    << "<th>host B/guest insn</th>";
  for (const ExitColumn& c : kExits) o << "<th>" << escape(c.title) << "</th>";
  o << "<th>fallbacks</th><th class=\"name\">history</th></tr>\n";
  for (size_t i = 0; i < p["top"].size(); ++i) {
    const json& b = p["top"][i];
    const std::string bp = ptr + "/top/" + std::to_string(i);
    o << "<tr><td>" << u64(b, "rank") << "</td><td class=\"name\"><a href=\"#" << escape(id) << "-" << i << "\">"
      << escape(block_name(b)) << "</a></td>" << cell(b["guest_insns"], bp + "/guest_insns", 0)
      << cell(b["executions"], bp + "/executions", 0) << cell(b["execution_share"], bp + "/execution_share", 1, true)
      << (total ? cell(b["time_share"], bp + "/time_share", 1, true) : "<td class=\"na\">-</td>")
      << cell(b["host_bytes_per_guest_byte"], bp + "/host_bytes_per_guest_byte", 1)
      << cell(b["host_bytes_per_guest_insn"], bp + "/host_bytes_per_guest_insn", 1);
    for (const ExitColumn& c : kExits) o << cell(b["exits"][c.key], bp + "/exits/" + c.key, 0);
    o << cell(b["fallbacks"], bp + "/fallbacks", 0) << "<td class=\"name\">" << escape(history(b)) << "</td></tr>\n";
  }
  o << "</table>\n";
  // Each block: guest instructions beside their host code.
  for (size_t i = 0; i < p["top"].size(); ++i) {
    const json& b = p["top"][i];
    o << "<h4 id=\"" << escape(id) << "-" << i << "\">#" << u64(b, "rank") << " block " << escape(block_name(b))
      << " (phys " << hex8(u64(b, "phys")) << "): " << u64(b, "guest_insns") << " guest insns, " << u64(b, "guest_bytes")
      << " guest bytes &#8594; " << u64(b, "host_bytes") << " host bytes</h4>\n";
    o << "<table class=\"disasm\" id=\"" << escape(id) << "-disasm-" << i
      << "\"><tr><th class=\"name\">guest</th><th class=\"name\">host</th></tr>\n";
    auto row = [&](const std::string& guest, const json& host) {
      std::string h;
      for (const json& l : host) {
        if (!h.empty()) h += '\n';
        h += l.get<std::string>();
      }
      o << "<tr><td class=\"name\"><pre>" << escape(guest) << "</pre></td><td class=\"name\"><pre>" << escape(h)
        << "</pre></td></tr>\n";
    };
    const json& d = b["disassembly"];
    row("(entry)", d["entry"]);
    for (const json& r : d["rows"]) row(hex8(u64(r, "eip")) + "  " + r["guest"].get<std::string>(), r["host"]);
    row("(cold: slow paths, exits)", d["cold"]);
    o << "</table>\n";
  }
  return o.str();
}

}  // namespace popek::profile
