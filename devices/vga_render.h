// Scan-out of the VGA and VBE into an XRGB8888 picture (Vga::render).
//
// The picture has the size the CRTC and sequencer program, not a size per
// mode number: width = (CRTC 0x01 + 1) character clocks of 8 dots (9 in
// 9-dot text modes), doubled when the sequencer halves the dot clock; height
// = vertical display end + 1 scan lines (CRTC 0x12 with overflow bits 8 and
// 9). Mode 13h is therefore 640x400 (each pixel two dots wide and two scan
// lines high), mode 12h 640x480 and mode 3 720x400. VBE modes are XRES x YRES.
//
// Colour path: 4-bit (or 2-bit) pixel values go through the colour plane
// enable, the attribute palette and the colour select register to an 8-bit
// DAC index; 256-colour pixels index the DAC directly. The DAC entry (6-bit
// components, or 8-bit with VBE's 8BIT_DAC) is ANDed with the pixel mask
// first and expanded to 8 bits per component.
//
// Line compare (split screen) restarts the address at 0 after the compare
// line; horizontal pixel panning applies to graphics modes. Not modelled:
// pixel panning in text modes, the panning-compatibility bit,
// preset row scan, the underline attribute, the overscan border, and the
// EGA-era 2-bit interleave of modes 4/5 beyond planes 0 and 1.
#pragma once
#include <cstdint>

#include "devices/vga.h"

namespace popek::vga_render {

// Virtual-time periods of the text cursor and the character blink
// (16 and 32 frames of 60 Hz, half on and half off).
constexpr uint64_t kCursorBlinkNs = 266'666'667;
constexpr uint64_t kCharBlinkNs = 533'333'333;

// The 24-bit colour of DAC entry `index` as the renderer shows it.
uint32_t dac_colour(const VgaRegisters& regs, uint8_t index);
// The DAC index of a 4-bit attribute colour (palette + colour select).
uint8_t attribute_colour(const VgaRegisters& regs, uint8_t colour);

}  // namespace popek::vga_render
