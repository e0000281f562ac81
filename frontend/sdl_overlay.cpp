#include "frontend/sdl_overlay.h"

#include <algorithm>
#include <cmath>

namespace popek {

double overlay_mips_scale(double peak) {
  if (!(peak > 0)) return 1;
  double decade = std::pow(10.0, std::floor(std::log10(peak)));
  for (double step : {1.0, 2.0, 5.0, 10.0}) {
    if (peak <= step * decade) return step * decade;
  }
  return 10 * decade;
}

void draw_stats_overlay(SDL_Renderer* renderer, int width, int height, const std::vector<StatsSample>& history) {
  const int box_w = std::max(80, width * 2 / 5), box_h = std::max(40, height / 3);
  const int margin = std::max(2, width / 80);
  const SDL_Rect box{width - box_w - margin, margin, box_w, box_h};
  SDL_SetRenderDrawBlendMode(renderer, SDL_BLENDMODE_BLEND);
  SDL_SetRenderDrawColor(renderer, 0, 0, 0, 176);
  SDL_RenderFillRect(renderer, &box);
  SDL_SetRenderDrawColor(renderer, 160, 160, 160, 255);
  SDL_RenderDrawRect(renderer, &box);
  SDL_SetRenderDrawColor(renderer, 70, 70, 70, 255);
  for (int i = 1; i < 10; ++i) {
    const int y = box.y + box.h - box.h * i / 10;
    SDL_RenderDrawLine(renderer, box.x + 1, y, box.x + box.w - 2, y);
  }
  if (history.empty()) return;
  double peak = 0;
  for (const StatsSample& s : history) peak = std::max(peak, s.mips);
  const double scale = overlay_mips_scale(peak);
  const double newest = history.back().seconds;
  auto x_of = [&](double t) {
    const double age = std::clamp(newest - t, 0.0, DisplaySession::kHistorySeconds);
    return static_cast<int>(box.x + box.w - 2 - age / DisplaySession::kHistorySeconds * (box.w - 3));
  };
  auto y_of = [&](double fraction) {
    return static_cast<int>(box.y + box.h - 2 - std::clamp(fraction, 0.0, 1.0) * (box.h - 3));
  };
  std::vector<SDL_Point> mips, hits;
  for (const StatsSample& s : history) {
    mips.push_back({x_of(s.seconds), y_of(s.mips / scale)});
    if (s.hit_rate >= 0) hits.push_back({x_of(s.seconds), y_of(s.hit_rate)});
  }
  SDL_SetRenderDrawColor(renderer, 255, 255, 0, 255);
  if (hits.size() > 1) SDL_RenderDrawLines(renderer, hits.data(), static_cast<int>(hits.size()));
  SDL_SetRenderDrawColor(renderer, 0, 255, 64, 255);
  if (mips.size() > 1) SDL_RenderDrawLines(renderer, mips.data(), static_cast<int>(mips.size()));
  else SDL_RenderDrawPoint(renderer, mips[0].x, mips[0].y);
}

}  // namespace popek
