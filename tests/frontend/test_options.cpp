// Option parsing and firmware validation: every bad input is a one-line
// message and a non-zero status, never an exception or a crash.
#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>
#include <vector>

#include "frontend/options.h"
#include "tests/test_temp_dir.h"

namespace popek {
namespace {

ParseResult parse(std::vector<const char*> args) {
  args.insert(args.begin(), "popek");
  return parse_options(static_cast<int>(args.size()), args.data());
}

void expect_error(const ParseResult& r, const std::string& fragment) {
  EXPECT_FALSE(r.options.has_value());
  EXPECT_NE(r.exit_status, 0);
  EXPECT_NE(r.message.find(fragment), std::string::npos) << r.message;
  EXPECT_EQ(r.message.find('\n'), std::string::npos) << "message must be one line: " << r.message;
  EXPECT_EQ(r.message.rfind("popek: ", 0), 0u) << r.message;
}

TEST(Options, Defaults) {
  ParseResult r = parse({"--bios", "x.bin"});
  ASSERT_TRUE(r.options);
  EXPECT_EQ(r.options->bios_path, "x.bin");
  EXPECT_EQ(r.options->ram_mb, 32u);
  EXPECT_EQ(r.options->engine, EngineKind::Dbt);
  EXPECT_EQ(r.options->debugcon, "none");
}

TEST(Options, AllOptions) {
  ParseResult r = parse({"--bios", "r.bin", "-m", "64", "--headless", "--debugcon", "file:/tmp/x",
                         "--engine", "interp", "--max-instructions", "1000", "--timeout", "2.5",
                         "--deterministic", "--no-reboot", "--stats", "s.json"});
  ASSERT_TRUE(r.options) << r.message;
  const Options& o = *r.options;
  EXPECT_EQ(o.ram_mb, 64u);
  EXPECT_TRUE(o.headless);
  EXPECT_EQ(o.debugcon, "file:/tmp/x");
  EXPECT_EQ(o.max_instructions, 1000u);
  EXPECT_DOUBLE_EQ(o.timeout_seconds, 2.5);
  EXPECT_TRUE(o.deterministic);
  EXPECT_TRUE(o.no_reboot);
  EXPECT_EQ(o.stats_path, "s.json");
}

TEST(Options, BadInputsAreOneLineErrors) {
  expect_error(parse({"--hda", "d.img", "--hdb", "d.img"}), "same file");
  expect_error(parse({"--bios", "x", "-m", "0"}), "memory size");
  expect_error(parse({"--bios", "x", "-m", "5000"}), "memory size");
  expect_error(parse({"--bios", "x", "-m", "lots"}), "lots");
  expect_error(parse({"--bios", "x", "--engine", "turbo"}), "unknown engine");
  expect_error(parse({"--bios", "x", "--debugcon", "tty"}), "--debugcon");
  expect_error(parse({"--bios", "x", "--debugcon", "file:"}), "needs a path");
  expect_error(parse({"--bios", "x", "--frobnicate"}), "frobnicate");
  expect_error(parse({"--bios", "x", "--timeout", "-1"}), "--timeout");
  expect_error(parse({"--bios", "x", "--max-instructions", "many"}), "many");
}

// Found by fuzz_options: an argument holding a newline made a two-line error,
// and "--timeout nan" was accepted (and meant no timeout).
TEST(Options, ControlCharactersAndNanStayOneLineErrors) {
  expect_error(parse({"--bios", "x", "stray\narg"}), "stray\\x0aarg");
  expect_error(parse({"--bios", "x", "--engine", "a\x1b[2Jb"}), "a\\x1b[2Jb");
  expect_error(parse({"--bios", "x", "--timeout", "nan"}), "--timeout");
}

TEST(Options, SeabiosIsTheDefaultFirmware) {
  ParseResult r = parse({});
  ASSERT_TRUE(r.options) << r.message;
  EXPECT_EQ(r.options->bios_path, kDefaultBiosPath);
  EXPECT_TRUE(r.options->bios_is_default);
  r = parse({"--bios", "x.bin"});
  ASSERT_TRUE(r.options);
  EXPECT_FALSE(r.options->bios_is_default);
}

TEST(Options, Disks) {
  ParseResult r = parse({"--hda", "a.img", "--hdb", "b.img", "--snapshot"});
  ASSERT_TRUE(r.options) << r.message;
  EXPECT_EQ(r.options->hda_path, "a.img");
  EXPECT_EQ(r.options->hdb_path, "b.img");
  EXPECT_TRUE(r.options->snapshot);
  r = parse({"--hda", "a.img"});
  ASSERT_TRUE(r.options);
  EXPECT_FALSE(r.options->snapshot);
}

TEST(Options, Engines) {
  EXPECT_EQ(parse({"--bios", "x", "--engine", "dbt"}).options->engine, EngineKind::Dbt);
  EXPECT_EQ(parse({"--bios", "x", "--engine", "verify"}).options->engine, EngineKind::Verify);
  ParseResult traced = parse({"--bios", "x", "--engine", "dbt", "--trace", "blocks"});
  ASSERT_TRUE(traced.options) << traced.message;
  EXPECT_TRUE(traced.options->trace_blocks);
  ParseResult default_traced = parse({"--bios", "x", "--trace", "blocks"});  // dbt is the default
  ASSERT_TRUE(default_traced.options) << default_traced.message;
  EXPECT_TRUE(default_traced.options->trace_blocks);
  EXPECT_EQ(parse({"--bios", "x", "--engine", "interp"}).options->engine, EngineKind::Interp);
  expect_error(parse({"--bios", "x", "--engine", "interp", "--trace", "blocks"}), "needs --engine dbt");
  expect_error(parse({"--bios", "x", "--engine", "dbt", "--trace", "flags"}), "unknown trace");
}

TEST(Options, HelpIsNotAnError) {
  ParseResult r = parse({"--help"});
  EXPECT_FALSE(r.options);
  EXPECT_EQ(r.exit_status, 0);
  EXPECT_NE(r.message.find("--bios"), std::string::npos);
}

TEST(Firmware, SizeRules) {
  EXPECT_NE(validate_bios({}), "");
  EXPECT_NE(validate_bios(std::vector<uint8_t>(1000)), "");
  EXPECT_NE(validate_bios(std::vector<uint8_t>(64 * 1024 - 4096)), "");
  EXPECT_NE(validate_bios(std::vector<uint8_t>(512 * 1024)), "");
  EXPECT_NE(validate_bios(std::vector<uint8_t>(64 * 1024 + 100)), "");
  EXPECT_EQ(validate_bios(std::vector<uint8_t>(64 * 1024)), "");
  EXPECT_EQ(validate_bios(std::vector<uint8_t>(128 * 1024)), "");
  EXPECT_EQ(validate_bios(std::vector<uint8_t>(256 * 1024)), "");
}

TEST(Firmware, ReadFileErrorsNameTheFile) {
  std::vector<uint8_t> data;
  std::string err;
  EXPECT_FALSE(read_file("/nonexistent/rom.bin", data, err));
  EXPECT_NE(err.find("/nonexistent/rom.bin"), std::string::npos);
  EXPECT_FALSE(read_file("/tmp", data, err));
  EXPECT_NE(err.find("directory"), std::string::npos);
  std::string path = popek::test::process_temp_dir() + "popek_rom_test.bin";
  { std::ofstream(path, std::ios::binary) << std::string(4096, 'x'); }
  EXPECT_TRUE(read_file(path, data, err)) << err;
  EXPECT_EQ(data.size(), 4096u);
  // Over the limit: refused with the sizes, whether the size is known
  // (a regular file) or not (a device without an end).
  EXPECT_FALSE(read_file(path, data, err, 4095, "with -m 1"));
  EXPECT_EQ(err, path + ": too large (4096 bytes; at most 4095 bytes with -m 1)");
  EXPECT_TRUE(data.empty());
  EXPECT_TRUE(read_file(path, data, err, 4096)) << err;
  EXPECT_EQ(data.size(), 4096u);
  std::remove(path.c_str());
  EXPECT_FALSE(read_file("/dev/zero", data, err, 1 << 20));
  EXPECT_EQ(err, "/dev/zero: too large (more than 1 MiB; at most 1 MiB)");
}

}  // namespace
}  // namespace popek

namespace popek {
namespace {

TEST(Options, CdromAndBootOrder) {
  // A lone CD boots from the CD; with a disk, the disk comes first.
  ParseResult r = parse({"--bios", "x.bin", "--cdrom", "a.iso"});
  ASSERT_TRUE(r.options);
  EXPECT_EQ(r.options->cdrom_path, "a.iso");
  EXPECT_EQ(r.options->boot_order, "d");
  r = parse({"--bios", "x.bin", "--cdrom", "a.iso", "--hda", "d.img"});
  ASSERT_TRUE(r.options);
  EXPECT_EQ(r.options->boot_order, "cd");
  r = parse({"--bios", "x.bin"});
  ASSERT_TRUE(r.options);
  EXPECT_EQ(r.options->boot_order, "");  // the machine's default
  // --boot, with or without QEMU's order= prefix.
  r = parse({"--bios", "x.bin", "--boot", "order=dc", "--hda", "d.img"});
  ASSERT_TRUE(r.options);
  EXPECT_EQ(r.options->boot_order, "dc");
  r = parse({"--bios", "x.bin", "--boot", "nac"});
  ASSERT_TRUE(r.options);
  EXPECT_EQ(r.options->boot_order, "nac");
  expect_error(parse({"--bios", "x.bin", "--boot", "z"}), "unknown boot device 'z'");
  expect_error(parse({"--bios", "x.bin", "--boot", "cc"}), "given twice");
  expect_error(parse({"--bios", "x.bin", "--boot", "acdn"}), "one to three");
  expect_error(parse({"--bios", "x.bin", "--boot", "order="}), "one to three");
  expect_error(parse({"--bios", "x.bin", "--boot", "d\n"}), "\\x0a");
}

TEST(Options, Icount) {
  ParseResult r = parse({"--bios", "x.bin", "--icount", "10"});
  ASSERT_TRUE(r.options);
  EXPECT_EQ(r.options->icount_shift, 10);
  r = parse({"--bios", "x.bin"});
  ASSERT_TRUE(r.options);
  EXPECT_EQ(r.options->icount_shift, -1);
  expect_error(parse({"--bios", "x.bin", "--icount", "11"}), "0 to 10");
  expect_error(parse({"--bios", "x.bin", "--icount", "-2"}), "0 to 10");
}

}  // namespace
}  // namespace popek

namespace popek {
namespace {

TEST(Options, TranslationCacheWxAndCheck) {
  ParseResult d = parse({"--bios", "x"});
  ASSERT_TRUE(d.options);
  EXPECT_EQ(d.options->tc_wx, "dual");
  EXPECT_FALSE(d.options->tc_check);
  for (const char* mode : {"dual", "mprotect", "off"}) {
    ParseResult r = parse({"--bios", "x", "--tc-wx", mode, "--tc-check"});
    ASSERT_TRUE(r.options) << r.message;
    EXPECT_EQ(r.options->tc_wx, mode);
    EXPECT_TRUE(r.options->tc_check);
  }
  expect_error(parse({"--bios", "x", "--tc-wx", "rwx"}), "--tc-wx rwx: expected dual, mprotect or off");
  expect_error(parse({"--bios", "x", "--tc-wx", "off", "--engine", "interp"}), "--tc-wx needs --engine dbt");
  expect_error(parse({"--bios", "x", "--tc-check", "--engine", "interp"}), "--tc-check needs --engine dbt");
  ASSERT_TRUE(parse({"--bios", "x", "--tc-wx", "mprotect", "--engine", "verify"}).options);
}

}  // namespace
}  // namespace popek
