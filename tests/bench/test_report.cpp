// popek bench --out: report.json and a self-contained report.html. The page
// must parse (as XML: it is written as well-formed XHTML), hold the plots,
// show numbers that match report.json, and render non-blank in headless
// Chromium. Also the --sweep tc-size report: a smaller translation cache
// gives a lower hit rate on a tiny workload.
#include <gtest/gtest.h>

#include <libxml/parser.h>
#include <libxml/tree.h>
#include <libxml/xpath.h>
#include <libxml/xpathInternals.h>
#include <png.h>

#include <cmath>
#include <cstdlib>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <sys/wait.h>

#include "tests/test_temp_dir.h"

namespace {

using json = nlohmann::json;

std::string slurp(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>());
}

int shell(const std::string& cmd) {
  int raw = std::system(cmd.c_str());
  return WIFEXITED(raw) ? WEXITSTATUS(raw) : -1;
}

struct Doc {
  xmlDocPtr doc = nullptr;
  ~Doc() {
    if (doc) xmlFreeDoc(doc);
  }
};

// All elements matching an XPath (namespaces: h = XHTML, s = SVG).
std::vector<xmlNodePtr> select(xmlDocPtr doc, const std::string& xpath) {
  std::vector<xmlNodePtr> out;
  xmlXPathContextPtr ctx = xmlXPathNewContext(doc);
  xmlXPathRegisterNs(ctx, BAD_CAST "h", BAD_CAST "http://www.w3.org/1999/xhtml");
  xmlXPathRegisterNs(ctx, BAD_CAST "s", BAD_CAST "http://www.w3.org/2000/svg");
  xmlXPathObjectPtr r = xmlXPathEvalExpression(BAD_CAST xpath.c_str(), ctx);
  if (r && r->nodesetval)
    for (int i = 0; i < r->nodesetval->nodeNr; ++i) out.push_back(r->nodesetval->nodeTab[i]);
  if (r) xmlXPathFreeObject(r);
  xmlXPathFreeContext(ctx);
  return out;
}

std::string attr(xmlNodePtr n, const char* name) {
  xmlChar* v = xmlGetProp(n, BAD_CAST name);
  std::string s = v ? reinterpret_cast<char*>(v) : "";
  if (v) xmlFree(v);
  return s;
}

std::string text(xmlNodePtr n) {
  xmlChar* v = xmlNodeGetContent(n);
  std::string s = v ? reinterpret_cast<char*>(v) : "";
  if (v) xmlFree(v);
  return s;
}

// Parses `path` strictly as XML; records parse errors.
void parse_report(const std::string& path, Doc& d) {
  std::string html = slurp(path);
  ASSERT_FALSE(html.empty()) << path;
  d.doc = xmlReadMemory(html.data(), int(html.size()), path.c_str(), "UTF-8", XML_PARSE_NONET | XML_PARSE_NOERROR);
  ASSERT_NE(d.doc, nullptr) << path << " is not well-formed: " << (xmlGetLastError() ? xmlGetLastError()->message : "");
  // Self-contained: no scripts and nothing loaded from elsewhere.
  EXPECT_EQ(html.find("<script"), std::string::npos);
  EXPECT_EQ(html.find("src="), std::string::npos);
  EXPECT_EQ(html.find("href=\"http"), std::string::npos);
}

// Every number that carries data-json must match the JSON value at that
// pointer to the precision it is printed with. Returns how many were checked.
size_t check_numbers(xmlDocPtr doc, const json& report) {
  size_t checked = 0;
  for (xmlNodePtr n : select(doc, "//*[@data-json]")) {
    std::string ptr = attr(n, "data-json"), shown = text(n);
    SCOPED_TRACE(ptr + " shown as '" + shown + "'");
    json::json_pointer p(ptr);
    EXPECT_TRUE(report.contains(p));
    if (!report.contains(p)) continue;
    double want = report[p].get<double>();
    char* end = nullptr;
    double got = std::strtod(shown.c_str(), &end);
    EXPECT_NE(end, shown.c_str());
    size_t dot = shown.find('.');
    int decimals = 0;
    if (dot != std::string::npos)
      while (dot + 1 + decimals < shown.size() && std::isdigit(static_cast<unsigned char>(shown[dot + 1 + decimals])))
        ++decimals;
    if (!attr(n, "data-percent").empty()) want *= 100;
    EXPECT_NEAR(got, want, 0.5 * std::pow(10.0, -decimals) + 1e-9);
    ++checked;
  }
  return checked;
}

// Reads a PNG; returns the share of pixels that differ from the most common
// one, and the number of distinct colours.
bool png_stats(const std::string& path, double& non_background, size_t& colours) {
  png_image img{};
  img.version = PNG_IMAGE_VERSION;
  if (!png_image_begin_read_from_file(&img, path.c_str())) return false;
  img.format = PNG_FORMAT_RGB;
  std::vector<uint8_t> px(PNG_IMAGE_SIZE(img));
  if (!png_image_finish_read(&img, nullptr, px.data(), 0, nullptr)) return false;
  std::map<uint32_t, size_t> count;
  for (size_t i = 0; i + 2 < px.size(); i += 3) ++count[uint32_t(px[i]) << 16 | uint32_t(px[i + 1]) << 8 | px[i + 2]];
  size_t top = 0;
  for (const auto& [c, k] : count) top = std::max(top, k);
  size_t total = px.size() / 3;
  non_background = total ? double(total - top) / double(total) : 0;
  colours = count.size();
  return true;
}

const std::string kPopek = POPEK_EXE;
const std::string kRoms = POPEK_TEST_BENCH_ROMS;

// `popek bench --quick --runs 1 ARGS --out DIR`, DIR a new directory of the
// test's own: its exit status, its stdout and stderr, and report.json.
struct BenchOut {
  std::string dir;
  int status = -1;
  std::string log;
  json report;
};
BenchOut bench(const std::string& name, const std::string& args) {
  BenchOut b;
  b.dir = popek::test::process_temp_dir() + name;
  b.status = shell("'" + kPopek + "' bench --quick --runs 1 " + args + " --out '" + b.dir + "' --rom-dir '" + kRoms +
                   "' >'" + b.dir + ".log' 2>&1");
  b.log = slurp(b.dir + ".log");
  if (b.status == 0) b.report = json::parse(slurp(b.dir + "/report.json"));
  return b;
}

TEST(BenchReport, HtmlHasPlotsAndTheJsonNumbers) {
  const BenchOut b = bench("bench_report",
                           "--workloads int_mix,smc --engines dbt,interp --stats-interval 200000 --profile --profile-top 3");
  ASSERT_EQ(b.status, 0) << b.log;
  const std::string& dir = b.dir;
  const json& report = b.report;
  Doc d;
  parse_report(dir + "/report.html", d);
  ASSERT_NE(d.doc, nullptr);

  // The plots: ratio and hit-rate bar charts, MIPS, and three time series
  // per workload.
  std::set<std::string> ids;
  for (xmlNodePtr n : select(d.doc, "//s:svg[@class='plot']")) ids.insert(attr(n, "id"));
  for (const char* id : {"ratios", "hit-rates", "mips", "ts-mips-0", "ts-hit-0", "ts-translations-0", "ts-mips-1",
                         "ts-hit-1", "ts-translations-1"})
    EXPECT_TRUE(ids.count(id)) << "no plot " << id;
  // Bars for the ratios that exist (interp/dbt, one per workload) and for the hit rates.
  EXPECT_GE(select(d.doc, "//s:svg[@id='ratios']//s:rect[@class='bar']").size(), 2u);
  EXPECT_GE(select(d.doc, "//s:svg[@id='hit-rates']//s:rect[@class='bar']").size(), 6u);
  // Time series lines with one vertex per interval.
  size_t points = report["workloads"][0]["engines"]["dbt"]["series"].size();
  EXPECT_GE(points, 10u);
  auto lines = select(d.doc, "//s:svg[@id='ts-mips-0']//s:polyline");
  ASSERT_EQ(lines.size(), 1u);
  std::string pts = attr(lines[0], "points");
  EXPECT_EQ(size_t(std::count(pts.begin(), pts.end(), ',')), points);
  // Warm-up is marked on every series plot; SMC invalidations are marked on
  // smc's (the workload rewrites code all along), not on int_mix's.
  EXPECT_FALSE(select(d.doc, "//s:svg[@id='ts-hit-0']//s:rect[@class='band' and @fill='#999999']").empty());
  EXPECT_TRUE(select(d.doc, "//s:svg[@id='ts-hit-0']//s:rect[@class='band' and @fill='#ee3333']").empty());
  EXPECT_FALSE(select(d.doc, "//s:svg[@id='ts-hit-1']//s:rect[@class='band' and @fill='#ee3333']").empty());

  // The hot-block profiles (--profile): the JSON of each workload's dbt
  // run, a table per workload whose numbers are checked with the others
  // below, each block's guest beside host code, and the text files.
  for (size_t wi = 0; wi < 2; ++wi) {
    SCOPED_TRACE(wi);
    const json& eng = report["workloads"][wi]["engines"];
    ASSERT_TRUE(eng["dbt"].contains("profile"));
    EXPECT_FALSE(eng["interp"].contains("profile"));
    const json& prof = eng["dbt"]["profile"];
    EXPECT_EQ(prof["schema"], "popek-profile/1");
    ASSERT_EQ(prof["top"].size(), 3u);
    EXPECT_GT(prof["top"][0]["executions"].get<uint64_t>(), 0u);
    const std::string id = "profile-" + std::to_string(wi);
    auto cells = select(d.doc, "//h:table[@id='" + id + "-table']//h:td[@data-json]");
    EXPECT_GE(cells.size(), 3u * 14u);
    for (size_t bi = 0; bi < 3; ++bi) {
      auto rows = select(d.doc, "//h:table[@id='" + id + "-disasm-" + std::to_string(bi) + "']//h:tr");
      // A header, the entry code, one row per guest instruction, the cold code.
      EXPECT_EQ(rows.size(), 3u + prof["top"][bi]["disassembly"]["rows"].size());
      const std::string first_guest = prof["top"][bi]["disassembly"]["rows"][0]["guest"].get<std::string>();
      EXPECT_NE(slurp(dir + "/report.html").find(first_guest), std::string::npos) << first_guest;
    }
  }
  for (const char* name : {"int_mix", "smc"}) {
    std::string text = slurp(dir + "/profile-" + std::string(name) + ".txt");
    EXPECT_NE(text.find("#1 block"), std::string::npos) << name;
    EXPECT_NE(text.find(" | "), std::string::npos) << name;  // guest | host
  }
  // smc rewrites its code: some of its top blocks were translated again.
  bool retranslated = false;
  for (const json& b : report["workloads"][1]["engines"]["dbt"]["profile"]["top"])
    retranslated |= b["retranslations"].get<uint64_t>() > 0;
  EXPECT_TRUE(retranslated);

  // Numbers: every data-json cell matches; the summary has them all.
  size_t checked = check_numbers(d.doc, report);
  EXPECT_GE(checked, 2u * 12u + 2u * 3u * 14u);
  EXPECT_EQ(select(d.doc, "//h:table[@id='summary-table']//h:td[@data-json]").size() >= 2u * 10u, true);
  // The metadata is on the page.
  std::string html = slurp(dir + "/report.html");
  EXPECT_NE(html.find(report["popek_commit"].get<std::string>()), std::string::npos);
  EXPECT_NE(html.find(report["host_cpu"].get<std::string>()), std::string::npos);

  // Headless Chromium opens it and draws something: a screenshot that is
  // not one flat colour and has the plots' colours.
  std::string png = dir + "/shot.png";
  std::string chrome = "chromium --headless --no-sandbox --disable-gpu --hide-scrollbars --no-first-run "
                       "--disable-dev-shm-usage --user-data-dir='" + dir + "/chrome-profile' --window-size=1200,1800 "
                       "--screenshot='" + png + "' 'file://" + dir + "/report.html' >'" + dir + "/chrome.log' 2>&1";
  int status = shell("timeout 90 " + chrome);
  ASSERT_EQ(status, 0) << "headless chromium failed (is Debian's chromium installed? scripts/setup.sh installs it):\n"
                       << slurp(dir + "/chrome.log");
  std::string log = slurp(dir + "/chrome.log");
  EXPECT_EQ(log.find("Uncaught"), std::string::npos) << log;
  double non_background = 0;
  size_t colours = 0;
  ASSERT_TRUE(png_stats(png, non_background, colours)) << png;
  EXPECT_GT(non_background, 0.02) << "screenshot is (nearly) blank";
  EXPECT_GT(colours, 16u) << "screenshot has almost no colours: no plots drawn?";
}

TEST(BenchReport, SweepSmallerCacheLowerHitRate) {
  // smc_quick translates about 330 KB of host code over its run (its code is
  // rewritten and retranslated all along), so a 64 KiB cache must flush and
  // miss, while 4 MiB holds everything.
  const BenchOut b = bench("bench_sweep", "--workloads smc --sweep tc-size=0.0625,4");
  ASSERT_EQ(b.status, 0) << b.log;
  const std::string& dir = b.dir;
  const json& report = b.report;
  const json& pts = report["sweep"]["workloads"][0]["points"];
  ASSERT_EQ(pts.size(), 2u);
  EXPECT_DOUBLE_EQ(pts[0]["tc_size_mib"].get<double>(), 0.0625);
  EXPECT_DOUBLE_EQ(pts[1]["tc_size_mib"].get<double>(), 4.0);
  for (const json& p : pts) {
    EXPECT_EQ(p["ok_runs"], 1);  // both sizes still pass the ROM's checksum
    ASSERT_TRUE(p.contains("tc_hit_rate"));
  }
  EXPECT_GT(pts[0]["flushes"].get<double>(), 0);
  EXPECT_EQ(pts[1]["flushes"].get<double>(), 0);
  EXPECT_LT(pts[0]["tc_hit_rate"].get<double>(), pts[1]["tc_hit_rate"].get<double>());
  EXPECT_GT(pts[0]["blocks_translated"].get<double>(), pts[1]["blocks_translated"].get<double>());
  // The sweep plots and their numbers.
  Doc d;
  parse_report(dir + "/report.html", d);
  ASSERT_NE(d.doc, nullptr);
  EXPECT_EQ(select(d.doc, "//s:svg[@id='sweep-hit-0']//s:circle").size(), 2u);
  EXPECT_EQ(select(d.doc, "//s:svg[@id='sweep-time-0']//s:circle").size(), 2u);
  EXPECT_GE(check_numbers(d.doc, report), 8u);
}

TEST(BenchReport, SweepWxModes) {
  // Each W^X mode runs the ROM to its checksum, and the run says which mode
  // it had (popek --stats: translator.tc_wx).
  const BenchOut b = bench("bench_sweep_wx", "--workloads smc --sweep tc-wx=off,dual,mprotect");
  ASSERT_EQ(b.status, 0) << b.log;
  const std::string& dir = b.dir;
  const json& report = b.report;
  EXPECT_EQ(report["sweep"]["parameter"], "tc_wx");
  const json& pts = report["sweep"]["workloads"][0]["points"];
  ASSERT_EQ(pts.size(), 3u);
  const char* modes[] = {"off", "dual", "mprotect"};
  for (size_t i = 0; i < 3; ++i) {
    EXPECT_EQ(pts[i]["tc_wx"], modes[i]);
    EXPECT_EQ(pts[i]["ok_runs"], 1);
    ASSERT_TRUE(pts[i].contains("wall_ratio"));
    EXPECT_EQ(pts[i]["runs"][0]["tc_wx"], modes[i]);
  }
  EXPECT_DOUBLE_EQ(pts[0]["wall_ratio"].get<double>(), 1.0);
  EXPECT_NE(b.log.find("smc dbt tc-wx mprotect run 1"), std::string::npos) << b.log;
  EXPECT_NE(b.log.find("ratio"), std::string::npos) << b.log;
  Doc d;
  parse_report(dir + "/report.html", d);
  ASSERT_NE(d.doc, nullptr);
  EXPECT_GE(check_numbers(d.doc, report), 6u);
}

TEST(BenchReport, SweepBigCodeFallsOffTheCliff) {
  // big_code_quick: two passes over ~190 KiB of guest code, several MiB of
  // host code. At 1 MiB the cache flushes in every pass and translates
  // everything again; at 16 MiB it translates once. (Times are not
  // asserted: the cliff in them is what the report marks, see the JSON.)
  const BenchOut b = bench("bench_sweep_big", "--workloads big_code --sweep tc-size=1,16");
  ASSERT_EQ(b.status, 0) << b.log;
  const std::string& dir = b.dir;
  const json& report = b.report;
  const json& w = report["sweep"]["workloads"][0];
  const json& pts = w["points"];
  ASSERT_EQ(pts.size(), 2u);
  for (const json& p : pts) EXPECT_EQ(p["ok_runs"], 1);
  EXPECT_GT(pts[0]["flushes"].get<double>(), 1);
  EXPECT_EQ(pts[1]["flushes"].get<double>(), 0);
  EXPECT_LT(pts[0]["tc_hit_rate"].get<double>(), pts[1]["tc_hit_rate"].get<double>());
  EXPECT_GT(pts[0]["blocks_translated"].get<double>(), 1.3 * pts[1]["blocks_translated"].get<double>());
  // The working set: the host code translated at 16 MiB, without a flush.
  ASSERT_TRUE(w["working_set_mib"].is_number());
  EXPECT_GT(w["working_set_mib"].get<double>(), 4.0);
  EXPECT_LT(w["working_set_mib"].get<double>(), 16.0);
  EXPECT_TRUE(w.contains("cliff"));
  Doc d;
  parse_report(dir + "/report.html", d);
  ASSERT_NE(d.doc, nullptr);
  // The working set is marked on both plots; the cliff, when the times show one, too.
  EXPECT_FALSE(select(d.doc, "//s:svg[@id='sweep-hit-0']//s:line[@class='marker']").empty());
  if (w["cliff"].is_object()) {
    EXPECT_FALSE(select(d.doc, "//s:svg[@id='sweep-time-0']//s:rect[@class='band']").empty());
    EXPECT_FALSE(select(d.doc, "//h:p[@id='sweep-cliff-0']").empty());
  }
  EXPECT_GE(check_numbers(d.doc, report), 8u);
}

TEST(BenchReport, BadSweepAndTcSize) {
  struct Case {
    std::string args, fragment;
  };
  for (const Case& c : std::vector<Case>{{"--sweep size=1,2", "tc-size="},
                                         {"--sweep tc-size=1,x", "'x'"},
                                         {"--sweep tc-size=0.001", "0.0625 to 1024"},
                                         {"--sweep tc-size=1 --engines interp", "dbt engine only"},
                                         {"--tc-size 5000", "--tc-size"},
                                         {"--sweep tc-wx=dual,rwx", "'rwx'"},
                                         {"--sweep tc-wx=dual,dual", "given twice"},
                                         {"--sweep tc-wx=dual --tc-wx off", "exclude each other"},
                                         {"--tc-wx never", "--tc-wx never"}}) {
    SCOPED_TRACE(c.args);
    std::string log = popek::test::process_temp_dir() + "bench_bad_sweep.log";
    EXPECT_EQ(shell("'" + kPopek + "' bench --quick " + c.args + " --rom-dir '" + kRoms + "' >" + log + " 2>&1"), 2);
    std::string out = slurp(log);
    EXPECT_NE(out.find(c.fragment), std::string::npos) << out;
    EXPECT_EQ(std::count(out.begin(), out.end(), '\n'), 1) << out;
  }
}

}  // namespace
