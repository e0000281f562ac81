// Firmware-image fuzzer: validate_bios on arbitrary images, and for every
// image it accepts, a machine built on it that runs a few thousand
// instructions under the interpreter (the image is guest code from the
// reset vector on).
//
// Input: byte 0 bit 7 set: the rest is the image as is (mostly too small:
// validation paths). Bit 7 clear: an image of ((byte0 & 0x3f) + 1) * 4 KiB
// (4 KiB..256 KiB, so both sides of the 64 KiB minimum) filled with 0xFF,
// with the rest of the input at its end, where the reset vector
// (F000:FFF0) and the code near it live.
#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "core/machine.h"
#include "tests/fuzz/fuzz_input.h"

using namespace popek;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  fuzz::FuzzInput in(data, size);
  uint8_t shape = in.u8();
  std::vector<uint8_t> image;
  if (shape & 0x80) {
    image = in.rest();
  } else {
    image.assign(((shape & 0x3F) + 1u) * 4096u, 0xFF);
    std::vector<uint8_t> tail = in.bytes(image.size());
    std::copy(tail.begin(), tail.end(), image.end() - static_cast<long>(tail.size()));
  }
  std::string problem = validate_bios(image);
  bool plausible = image.size() >= 64 * 1024 && image.size() <= 256 * 1024 && image.size() % 4096 == 0;
  if (problem.empty() != plausible) {
    std::fprintf(stderr, "validate_bios: %zu bytes: [%s]\n", image.size(), problem.c_str());
    std::abort();
  }
  if (!problem.empty()) {
    if (problem.find('\n') != std::string::npos) std::abort();
    return 0;
  }
  MachineConfig cfg;
  cfg.ram_mb = 2;
  cfg.deterministic = true;
  cfg.no_reboot = true;
  cfg.bios = std::move(image);
  Machine m(cfg);
  RunLimits limits;
  limits.max_instructions = 3000;
  (void)m.run(limits);
  return 0;
}
