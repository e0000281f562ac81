// The F11 overlay: guest MIPS (green) and translation-cache hit rate
// (yellow, 0-100 %) over the last 30 seconds, drawn with SDL primitives in
// the top-right corner of the picture. The MIPS scale is the next round
// value (1, 2 or 5 times a power of ten) above the highest sample, with a
// grey line at each tenth of it.
#pragma once
#include <SDL2/SDL.h>

#include <vector>

#include "frontend/display_session.h"

namespace popek {

// The top of the MIPS scale for a highest sample of `peak`.
double overlay_mips_scale(double peak);

// Draws on `renderer` in its logical coordinates, a picture `width` x `height`.
void draw_stats_overlay(SDL_Renderer* renderer, int width, int height, const std::vector<StatsSample>& history);

}  // namespace popek
