// The Linux soak (label soak; registered with -DPOPEK_SOAK=ON): one machine,
// one process, boots the Linux guest (guest/vmlinuz + initramfs) BOOTS times
// in a row. The kernel command line carries popek.soak=1, so the guest's
// /init prints "POPEK-MARK soak-boot" and runs `reboot -f`; the kernel resets
// the machine through the 8042, and the machine's reset hook (the same one
// `popek --kernel` installs) loads the kernel and initrd again. At each reset
// the test samples RSS (/proc/self/status), the open descriptors
// (/proc/self/fd), the instructions retired in that boot and the
// translator's counters, and checks:
//  - every boot reached /init exactly once, and the kernel never panicked;
//  - the descriptor count never changes;
//  - RSS does not grow. RSS holds the guest RAM the guest has touched (a
//    reset does not clear RAM, and each boot's page allocations differ a
//    little, so that part creeps up towards the guest's 128 MiB), so the
//    test also counts the resident pages of the guest RAM mapping
//    (mincore) and checks the rest, Popek's own memory: after the first
//    10 boots it stays within kRssSlackKb of its value after boot 10. The
//    peak RSS stays under guest RAM + kRssAllowanceKb (the constant
//    docs/hardening.md documents for resource.storm_rss);
//  - the statistics stay sane: the instructions of each boot are within 10%
//    of the median boot (time is deterministic, so boots are near-identical),
//    each boot's translation-cache hit rate is at least 90%, and the
//    machine's reset count and the engine's retired count agree with the
//    per-boot series.
//
// Usage: test_linux_soak KERNEL INITRD [BOOTS]   (exits 77 when KERNEL is missing)
#include <gtest/gtest.h>

#include <dirent.h>
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "core/linux_boot.h"
#include "core/machine.h"
#include "frontend/engines.h"
#include "tests/soak/process_stats.h"

namespace popek {
namespace {

std::string g_kernel, g_initrd;
int g_boots = 50;

constexpr uint64_t kRssSlackKb = 8 * 1024;
constexpr uint64_t kRssAllowanceKb = 160 * 1024;

using test::open_fds;
using test::status_kb;

// KiB of the guest RAM mapping that are resident (mincore).
uint64_t resident_kb(const uint8_t* base, size_t size) {
  const size_t page = size_t(::sysconf(_SC_PAGESIZE));
  const uintptr_t start = reinterpret_cast<uintptr_t>(base) & ~(page - 1);
  const size_t len = reinterpret_cast<uintptr_t>(base) + size - start;
  std::vector<unsigned char> vec((len + page - 1) / page);
  if (::mincore(reinterpret_cast<void*>(start), len, vec.data()) != 0) return 0;
  uint64_t n = 0;
  for (unsigned char v : vec) n += v & 1;
  return n * page / 1024;
}

std::vector<uint8_t> read_all(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  return std::vector<uint8_t>(std::istreambuf_iterator<char>(f), {});
}

struct BootSample {
  uint64_t retired = 0;  // instructions retired in this boot
  uint64_t rss_kb = 0, hwm_kb = 0;
  uint64_t guest_kb = 0;  // resident guest RAM
  uint64_t host_kb() const { return rss_kb > guest_kb ? rss_kb - guest_kb : 0; }
  int fds = 0;
  double hit_rate = 0;   // translation-cache hits / lookups in this boot
  uint64_t blocks = 0;   // blocks translated in this boot
  int markers = 0;       // "POPEK-MARK soak-boot" lines seen in this boot
};

TEST(LinuxSoak, RebootsDoNotLeak) {
  const int fds_before = open_fds();
  const uint64_t rss_before = status_kb("VmRSS");
  KernelBootFiles files;
  files.kernel_path = g_kernel;
  files.kernel = read_all(g_kernel);
  files.initrd_path = g_initrd;
  files.initrd = read_all(g_initrd);
  files.cmdline = "console=ttyS0 quiet cryptomgr.notests popek.soak=1";
  ASSERT_FALSE(files.kernel.empty()) << g_kernel;
  ASSERT_FALSE(files.initrd.empty()) << g_initrd;

  MachineConfig cfg;
  cfg.ram_mb = 128;
  cfg.deterministic = true;
  std::string line, last_lines;
  int markers = 0;
  bool panicked = false;
  cfg.serial[0] = [&](uint8_t c) {
    if (c == '\r') return;
    if (c != '\n') {
      line += char(c);
      return;
    }
    if (line == "POPEK-MARK soak-boot") ++markers;
    if (line.find("Kernel panic") != std::string::npos || line.find("BUG:") != std::string::npos ||
        line.find("Oops") != std::string::npos || line == "POPEK-REBOOT-FAILED")
      panicked = true;
    last_lines += line + "\n";
    if (last_lines.size() > 4000) last_lines.erase(0, last_lines.size() - 4000);
    line.clear();
  };
  {
    Machine m(cfg);
    install_engine(m, EngineKind::Dbt);
    ASSERT_EQ(load_kernel(m, files), "");
    std::vector<BootSample> boots;
    uint64_t boot_start = 0, hits_before = 0, lookups_before = 0, blocks_before = 0;
    std::string reload_error;
    auto counters = [&m](uint64_t& hits, uint64_t& lookups, uint64_t& blocks) {
      nlohmann::json j = nlohmann::json::parse(m.engine()->stats_json());
      hits = j.value("hits", uint64_t{0});
      lookups = j.value("lookups", uint64_t{0});
      blocks = j.value("blocks_translated", uint64_t{0});
    };
    m.set_reset_hook([&] {
      BootSample s;
      s.retired = m.retired() - boot_start;
      boot_start = m.retired();
      uint64_t hits, lookups, blocks;
      counters(hits, lookups, blocks);
      s.hit_rate = lookups > lookups_before ? double(hits - hits_before) / double(lookups - lookups_before) : 0;
      s.blocks = blocks - blocks_before;
      hits_before = hits, lookups_before = lookups, blocks_before = blocks;
      s.rss_kb = status_kb("VmRSS");
      s.hwm_kb = status_kb("VmHWM");
      s.guest_kb = resident_kb(m.memory().ram(), m.memory().ram_size());
      s.fds = open_fds();
      s.markers = markers;
      markers = 0;
      boots.push_back(s);
      std::printf("boot %2zu: %llu instructions, hit rate %.4f, %llu blocks, RSS %llu KiB (peak %llu; guest RAM %llu, "
                  "the rest %llu), fds %d\n",
                  boots.size(), (unsigned long long)s.retired, s.hit_rate, (unsigned long long)s.blocks,
                  (unsigned long long)s.rss_kb, (unsigned long long)s.hwm_kb, (unsigned long long)s.guest_kb,
                  (unsigned long long)s.host_kb(), s.fds);
      std::fflush(stdout);
      if (int(boots.size()) >= g_boots || panicked) {
        m.request_exit(0);
        return;
      }
      reload_error = load_kernel(m, files);
      if (!reload_error.empty()) m.request_exit(2);
    });
    RunLimits limits;
    limits.timeout_seconds = 3 * 3600;
    RunOutcome out = m.run(limits);
    ASSERT_EQ(reload_error, "");
    ASSERT_EQ(out.reason, StopReason::Exit) << out.message << "\n" << last_lines;
    ASSERT_FALSE(panicked) << last_lines;
    ASSERT_EQ(int(boots.size()), g_boots) << last_lines;
    EXPECT_EQ(m.resets(), uint64_t(g_boots));

    uint64_t total = 0;
    std::vector<uint64_t> counts;
    for (size_t i = 0; i < boots.size(); ++i) {
      const BootSample& s = boots[i];
      EXPECT_EQ(s.markers, 1) << "boot " << i + 1 << " reached /init " << s.markers << " times";
      EXPECT_EQ(s.fds, boots[0].fds) << "descriptors changed at boot " << i + 1;
      EXPECT_GE(s.hit_rate, 0.90) << "boot " << i + 1;
      total += s.retired;
      counts.push_back(s.retired);
    }
    EXPECT_EQ(total, m.retired());
    std::sort(counts.begin(), counts.end());
    const uint64_t median = counts[counts.size() / 2];
    EXPECT_GT(median, 100'000'000u) << "a Linux boot retires billions of instructions";
    for (size_t i = 0; i < boots.size(); ++i) {
      EXPECT_GE(boots[i].retired, median - median / 10) << "boot " << i + 1;
      EXPECT_LE(boots[i].retired, median + median / 10) << "boot " << i + 1;
    }
    const size_t settle = std::min<size_t>(10, boots.size()) - 1;
    const uint64_t settled = boots[settle].host_kb();
    uint64_t max_after = 0;
    for (size_t i = settle; i < boots.size(); ++i) max_after = std::max(max_after, boots[i].host_kb());
    std::printf("soak: %d boots; RSS before %llu KiB, after boot 1 %llu, after boot %d %llu (guest RAM %llu); "
                "RSS less guest RAM: boot 1 %llu, boot %zu %llu, boot %d %llu, max from boot %zu on %llu; "
                "fds %d before, %d during; median boot %llu instructions (min %llu, max %llu)\n",
                g_boots, (unsigned long long)rss_before, (unsigned long long)boots[0].rss_kb, g_boots,
                (unsigned long long)boots.back().rss_kb, (unsigned long long)boots.back().guest_kb,
                (unsigned long long)boots[0].host_kb(), settle + 1, (unsigned long long)settled, g_boots,
                (unsigned long long)boots.back().host_kb(), settle + 1, (unsigned long long)max_after, fds_before,
                boots[0].fds, (unsigned long long)median, (unsigned long long)counts.front(),
                (unsigned long long)counts.back());
#if !defined(POPEK_TEST_ASAN)  // ASan's quarantine and shadow make RSS meaningless
    EXPECT_LE(max_after, settled + kRssSlackKb) << "Popek's memory (RSS less guest RAM) grew across reboots";
    EXPECT_LE(boots.back().hwm_kb, rss_before + uint64_t{cfg.ram_mb} * 1024 + kRssAllowanceKb);
#endif
  }
  EXPECT_EQ(open_fds(), fds_before) << "descriptors leaked by the machine";
}

}  // namespace
}  // namespace popek

int main(int argc, char** argv) {
  ::testing::InitGoogleTest(&argc, argv);
  if (argc < 3) {
    std::fprintf(stderr, "usage: %s KERNEL INITRD [BOOTS]\n", argv[0]);
    return 2;
  }
  popek::g_kernel = argv[1];
  popek::g_initrd = argv[2];
  if (argc > 3) popek::g_boots = std::max(1, std::atoi(argv[3]));
  if (::access(argv[1], R_OK) != 0 || ::access(argv[2], R_OK) != 0) {
    std::printf("SKIP: %s or %s missing; run scripts/fetch_guest.sh\n", argv[1], argv[2]);
    return 77;
  }
  return RUN_ALL_TESTS();
}
