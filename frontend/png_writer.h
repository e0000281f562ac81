// Writes an XRGB8888 framebuffer (one uint32_t per pixel, 0x00RRGGBB; the top
// byte is ignored) as an 8-bit RGB PNG with libpng. Used by --screenshot and
// by tests that check what the VGA renders.
#pragma once
#include <cstdint>
#include <string>

namespace popek {

// Returns false with a one-line reason in `error` when the dimensions are
// not positive, the file cannot be created, or libpng reports an error.
// `xrgb` holds width*height pixels, row by row, top row first.
bool write_png(const std::string& path, int width, int height, const uint32_t* xrgb,
               std::string& error);

}  // namespace popek
