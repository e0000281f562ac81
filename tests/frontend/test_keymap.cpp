// SDL scancodes to PS/2 keys: every key of a 105-key keyboard is reachable,
// extended keys, Pause and PrintScreen carry their full sequences in both
// sets, and the 8042 delivers them in the guest's current set.
#include <gtest/gtest.h>

#include <set>
#include <vector>

#include "devices/i8042.h"
#include "frontend/sdl_keymap.h"

namespace popek {
namespace {

using Bytes = std::vector<uint8_t>;

Bytes seq(SDL_Scancode sc, bool pressed, int set) {
  const std::optional<KeyCode> k = keycode_from_sdl(sc);
  if (!k) return {0xDE, 0xAD};
  return Ps2Keyboard::sequence(*k, pressed, set);
}

TEST(SdlKeymap, EveryGuestKeyHasAHostKey) {
  std::set<KeyCode> reached;
  for (int sc = 0; sc < SDL_NUM_SCANCODES; ++sc) {
    if (auto k = keycode_from_sdl(static_cast<SDL_Scancode>(sc))) reached.insert(*k);
  }
  for (size_t i = 0; i < static_cast<size_t>(KeyCode::Count); ++i)
    EXPECT_TRUE(reached.count(static_cast<KeyCode>(i))) << "KeyCode " << i << " has no SDL scancode";
}

TEST(SdlKeymap, KeysWithoutAPcEquivalentAreDropped) {
  EXPECT_FALSE(keycode_from_sdl(SDL_SCANCODE_UNKNOWN));
  EXPECT_FALSE(keycode_from_sdl(SDL_SCANCODE_F13));
  EXPECT_FALSE(keycode_from_sdl(SDL_SCANCODE_KP_EQUALS));
  EXPECT_FALSE(keycode_from_sdl(SDL_SCANCODE_AUDIOPLAY));
  // Past the table: SDL_NUM_SCANCODES and the largest value the enum can
  // hold (0-1023; a negative one cannot be made without undefined behaviour,
  // which Clang's UBSan reports).
  EXPECT_FALSE(keycode_from_sdl(static_cast<SDL_Scancode>(SDL_NUM_SCANCODES)));
  EXPECT_FALSE(keycode_from_sdl(static_cast<SDL_Scancode>(1023)));
}

TEST(SdlKeymap, PlainKeysInBothSets) {
  EXPECT_EQ(seq(SDL_SCANCODE_A, true, 1), (Bytes{0x1E}));
  EXPECT_EQ(seq(SDL_SCANCODE_A, false, 1), (Bytes{0x9E}));
  EXPECT_EQ(seq(SDL_SCANCODE_A, true, 2), (Bytes{0x1C}));
  EXPECT_EQ(seq(SDL_SCANCODE_A, false, 2), (Bytes{0xF0, 0x1C}));
  EXPECT_EQ(seq(SDL_SCANCODE_RETURN, true, 2), (Bytes{0x5A}));
  EXPECT_EQ(seq(SDL_SCANCODE_LCTRL, true, 1), (Bytes{0x1D}));
  EXPECT_EQ(seq(SDL_SCANCODE_F7, true, 2), (Bytes{0x83}));
  EXPECT_EQ(seq(SDL_SCANCODE_KP_7, true, 1), (Bytes{0x47}));
  EXPECT_EQ(seq(SDL_SCANCODE_GRAVE, true, 2), (Bytes{0x0E}));
  // The ISO keys: left of Z, and left of Enter (sent as the US backslash).
  EXPECT_EQ(seq(SDL_SCANCODE_NONUSBACKSLASH, true, 2), (Bytes{0x61}));
  EXPECT_EQ(seq(SDL_SCANCODE_NONUSHASH, true, 2), (Bytes{0x5D}));
}

TEST(SdlKeymap, ExtendedKeysCarryE0) {
  EXPECT_EQ(seq(SDL_SCANCODE_RCTRL, true, 2), (Bytes{0xE0, 0x14}));
  EXPECT_EQ(seq(SDL_SCANCODE_RCTRL, false, 2), (Bytes{0xE0, 0xF0, 0x14}));
  EXPECT_EQ(seq(SDL_SCANCODE_RCTRL, false, 1), (Bytes{0xE0, 0x9D}));
  EXPECT_EQ(seq(SDL_SCANCODE_RALT, true, 1), (Bytes{0xE0, 0x38}));
  EXPECT_EQ(seq(SDL_SCANCODE_KP_ENTER, true, 2), (Bytes{0xE0, 0x5A}));
  EXPECT_EQ(seq(SDL_SCANCODE_KP_DIVIDE, false, 1), (Bytes{0xE0, 0xB5}));
  EXPECT_EQ(seq(SDL_SCANCODE_UP, true, 2), (Bytes{0xE0, 0x75}));
  EXPECT_EQ(seq(SDL_SCANCODE_UP, true, 1), (Bytes{0xE0, 0x48}));
  EXPECT_EQ(seq(SDL_SCANCODE_DELETE, false, 2), (Bytes{0xE0, 0xF0, 0x71}));
  EXPECT_EQ(seq(SDL_SCANCODE_LGUI, true, 1), (Bytes{0xE0, 0x5B}));
  EXPECT_EQ(seq(SDL_SCANCODE_APPLICATION, true, 2), (Bytes{0xE0, 0x2F}));
  // The keypad keys they share codes with are not extended.
  EXPECT_EQ(seq(SDL_SCANCODE_KP_8, true, 1), (Bytes{0x48}));
  EXPECT_EQ(seq(SDL_SCANCODE_KP_PERIOD, true, 2), (Bytes{0x71}));
}

TEST(SdlKeymap, PauseAndPrintScreen) {
  EXPECT_EQ(seq(SDL_SCANCODE_PAUSE, true, 1), (Bytes{0xE1, 0x1D, 0x45, 0xE1, 0x9D, 0xC5}));
  EXPECT_EQ(seq(SDL_SCANCODE_PAUSE, true, 2), (Bytes{0xE1, 0x14, 0x77, 0xE1, 0xF0, 0x14, 0xF0, 0x77}));
  EXPECT_EQ(seq(SDL_SCANCODE_PAUSE, false, 2), Bytes{});  // Pause has no break code
  EXPECT_EQ(seq(SDL_SCANCODE_PRINTSCREEN, true, 2), (Bytes{0xE0, 0x12, 0xE0, 0x7C}));
  EXPECT_EQ(seq(SDL_SCANCODE_PRINTSCREEN, false, 2), (Bytes{0xE0, 0xF0, 0x7C, 0xE0, 0xF0, 0x12}));
  EXPECT_EQ(seq(SDL_SCANCODE_PRINTSCREEN, true, 1), (Bytes{0xE0, 0x2A, 0xE0, 0x37}));
  EXPECT_EQ(seq(SDL_SCANCODE_SYSREQ, false, 1), (Bytes{0xE0, 0xB7, 0xE0, 0xAA}));
}

// Through the controller: what the guest reads at port 0x60.
class KeymapThrough8042 : public ::testing::Test {
 protected:
  KeymapThrough8042() { kbc.attach(bus); }
  void press(SDL_Scancode sc, bool down) { kbc.key_event(*keycode_from_sdl(sc), down); }
  Bytes drain() {
    Bytes out;
    while (bus.read(I8042::kCommandPort, 1) & I8042::kStatusObf) out.push_back(static_cast<uint8_t>(bus.read(I8042::kDataPort, 1)));
    return out;
  }
  void command_byte(uint8_t v) {
    bus.write(I8042::kCommandPort, 1, 0x60);
    bus.write(I8042::kDataPort, 1, v);
  }
  IoBus bus;
  I8042 kbc{[](bool) {}, [] {}};
};

TEST_F(KeymapThrough8042, Set2RawThenTranslatedThenSet1) {
  press(SDL_SCANCODE_RCTRL, true);
  press(SDL_SCANCODE_RCTRL, false);
  EXPECT_EQ(drain(), (Bytes{0xE0, 0x14, 0xE0, 0xF0, 0x14}));  // power-on: set 2, no translation
  command_byte(I8042::kCmdKbdInt | I8042::kCmdSys | I8042::kCmdXlate);
  press(SDL_SCANCODE_RCTRL, true);
  press(SDL_SCANCODE_RCTRL, false);
  press(SDL_SCANCODE_PAUSE, true);
  EXPECT_EQ(drain(), (Bytes{0xE0, 0x1D, 0xE0, 0x9D, 0xE1, 0x1D, 0x45, 0xE1, 0x9D, 0xC5}));
  // The guest selects set 1 on the keyboard itself, with translation off.
  command_byte(I8042::kCmdKbdInt | I8042::kCmdSys);
  bus.write(I8042::kDataPort, 1, 0xF0);
  bus.write(I8042::kDataPort, 1, 0x01);
  EXPECT_EQ(drain(), (Bytes{kPs2Ack, kPs2Ack}));
  press(SDL_SCANCODE_A, true);
  press(SDL_SCANCODE_A, false);
  EXPECT_EQ(drain(), (Bytes{0x1E, 0x9E}));
}

}  // namespace
}  // namespace popek
