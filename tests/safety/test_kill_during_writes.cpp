// Data safety: popek is killed with SIGKILL while the guest (disk_writer.asm)
// rewrites a write-through disk image as fast as it can, several times, at
// different moments, alternating engines. After each kill the image must be
// intact: the same size, every sector either its old or one of its new
// contents (never a mix, never garbage), and the sectors the guest never
// writes untouched. docs/hardening.md gives the write ordering this relies on.
//
// Usage (ctest): test_safety POPEK DISK_WRITER_ROM
#include <gtest/gtest.h>

#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <set>
#include <string>
#include <thread>
#include <vector>

namespace {

std::string g_popek;
std::string g_rom;

constexpr uint32_t kWritten = 2048;  // sectors the guest rewrites (disk_writer.asm kSectors)
constexpr uint32_t kTail = 64;       // sectors after them it never touches
constexpr uint32_t kSectors = kWritten + kTail;
constexpr uint32_t kMagic = 0x5A000000;

uint32_t pattern(uint32_t round, uint32_t sector) { return kMagic | (round & 0xFF) << 16 | (sector & 0xFFFF); }

class TempDir {
 public:
  TempDir() {
    char name[] = "/tmp/popek_safety_XXXXXX";
    path_ = ::mkdtemp(name) ? name : "";
  }
  ~TempDir() {
    if (!path_.empty()) (void)!std::system(("rm -rf '" + path_ + "'").c_str());
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

void write_initial_image(const std::string& path) {
  std::vector<uint32_t> data(size_t{kSectors} * 128);
  for (uint32_t s = 0; s < kSectors; ++s)
    for (int i = 0; i < 128; ++i) data[size_t{s} * 128 + i] = pattern(0, s);
  std::ofstream f(path, std::ios::binary);
  f.write(reinterpret_cast<const char*>(data.data()), static_cast<std::streamsize>(data.size() * 4));
}

size_t count_lines(const std::string& path) {
  std::ifstream f(path);
  size_t n = 0;
  std::string line;
  while (std::getline(f, line)) ++n;
  return n;
}

struct ImageCheck {
  std::string problem;           // empty: intact
  std::set<uint32_t> rounds;     // rounds found among the written sectors
  uint32_t rewritten = 0;        // sectors holding a round other than 0
};

ImageCheck check_image(const std::string& path) {
  ImageCheck c;
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0 || st.st_size != off_t{kSectors} * 512) {
    c.problem = "image size changed to " + std::to_string(st.st_size);
    return c;
  }
  std::vector<uint32_t> data(size_t{kSectors} * 128);
  std::ifstream f(path, std::ios::binary);
  f.read(reinterpret_cast<char*>(data.data()), static_cast<std::streamsize>(data.size() * 4));
  for (uint32_t s = 0; s < kSectors; ++s) {
    const uint32_t* d = &data[size_t{s} * 128];
    const uint32_t round = d[0] >> 16 & 0xFF;
    for (int i = 0; i < 128; ++i) {
      if (d[i] != pattern(round, s)) {
        char b[128];
        std::snprintf(b, sizeof b, "sector %u dword %d is %08x, expected %08x (a torn or misplaced sector)", s, i, d[i],
                      pattern(round, s));
        c.problem = b;
        return c;
      }
    }
    if (s >= kWritten && round != 0) {
      c.problem = "sector " + std::to_string(s) + " past the written area changed";
      return c;
    }
    if (s < kWritten) {
      c.rounds.insert(round);
      if (round) ++c.rewritten;
    }
  }
  return c;
}

// Starts popek on the image; returns its pid.
pid_t start_popek(const std::string& image, const std::string& log, const char* engine) {
  pid_t pid = ::fork();
  if (pid == 0) {
    int null = ::open("/dev/null", O_WRONLY);
    if (null >= 0) {
      ::dup2(null, 1);
      ::dup2(null, 2);
    }
    const std::string debugcon = "file:" + log;
    ::execl(g_popek.c_str(), g_popek.c_str(), "--bios", g_rom.c_str(), "--hda", image.c_str(), "--headless",
            "--engine", engine, "--debugcon", debugcon.c_str(), static_cast<char*>(nullptr));
    ::_exit(127);
  }
  return pid;
}

TEST(DataSafety, SigkillDuringGuestDiskWritesLeavesEverySectorOldOrNew) {
  ASSERT_FALSE(g_popek.empty());
  TempDir dir;
  ASSERT_FALSE(dir.path().empty());
  const std::string image = dir.path() + "/disk.img";
  write_initial_image(image);
  ASSERT_EQ(check_image(image).problem, "");

  constexpr int kKills = 6;
  int interrupted_rounds = 0;
  for (int k = 0; k < kKills; ++k) {
    const std::string log = dir.path() + "/log" + std::to_string(k);
    const char* engine = k % 2 ? "interp" : "dbt";
    pid_t pid = start_popek(image, log, engine);
    ASSERT_GT(pid, 0);
    // Let it complete 1-3 rounds (lines in the log), then kill it a few
    // milliseconds later, somewhere inside the next round.
    const size_t want_rounds = 1 + k % 3;
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    while (count_lines(log) < want_rounds && std::chrono::steady_clock::now() < deadline) {
      int status = 0;
      ASSERT_EQ(::waitpid(pid, &status, WNOHANG), 0) << "popek (" << engine << ") exited early, status " << status;
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
    ASSERT_GE(count_lines(log), want_rounds) << "the guest made no progress under " << engine;
    std::this_thread::sleep_for(std::chrono::milliseconds(3 + 7 * k));
    ASSERT_EQ(::kill(pid, SIGKILL), 0);
    int status = 0;
    ASSERT_EQ(::waitpid(pid, &status, 0), pid);
    ASSERT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL) << "popek was not killed mid-run";

    ImageCheck c = check_image(image);
    ASSERT_EQ(c.problem, "") << "after kill " << k << " (" << engine << ")";
    EXPECT_GT(c.rewritten, 0u) << "the guest's writes did not reach the image";
    if (c.rounds.size() >= 2) ++interrupted_rounds;  // killed with a round half written
    std::printf("kill %d (%s): %zu rounds in the image, %u sectors rewritten\n", k, engine, c.rounds.size(),
                c.rewritten);
  }
  // The point of the test: at least some kills hit the middle of a round.
  EXPECT_GT(interrupted_rounds, 0);
}

}  // namespace

int main(int argc, char** argv) {
  ::testing::InitGoogleTest(&argc, argv);
  if (argc != 3) {
    std::fprintf(stderr, "usage: %s POPEK DISK_WRITER_ROM\n", argv[0]);
    return 2;
  }
  g_popek = argv[1];
  g_rom = argv[2];
  return RUN_ALL_TESTS();
}
