// Random guest instruction streams for the translator's differential test:
// integer ALU, MOV/LEA, shifts, CMOVcc/SETcc, bit ops, exchanges, flag
// instructions and forward Jcc, with register and memory operands, encoded
// with the Zydis encoder for 16- or 32-bit code.
//
// Register discipline, so that every memory operand stays inside the data
// buffer: (E)BX holds the buffer's offset and (E)SI a small index; neither
// is ever written. Every other GPR is a destination, ESP included unless
// `with_stack`: then ESP points into the middle of the buffer and PUSH/POP
// of registers and immediates are generated too.
#pragma once
#include <cstdint>
#include <random>
#include <vector>

namespace popek::test {

struct RandomProgram {
  std::vector<uint8_t> code;  // ends with HLT
  unsigned instructions = 0;
};

// `buffer_bytes`: size of the data buffer at (E)BX; displacements stay below
// buffer_bytes - 64 (the index register adds at most 15 * 8).
RandomProgram generate_program(std::mt19937& rng, bool code32, unsigned instructions,
                               uint32_t buffer_bytes = 4096, bool with_stack = false);

}  // namespace popek::test
