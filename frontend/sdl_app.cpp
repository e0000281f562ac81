#include "frontend/sdl_app.h"

#include <SDL2/SDL.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <ctime>
#include <functional>
#include <thread>
#include <unistd.h>

#include "devices/ps2_mouse.h"
#include "frontend/png_writer.h"
#include "frontend/sdl_keymap.h"
#include "frontend/sdl_overlay.h"

namespace popek {

namespace {

using Clock = std::chrono::steady_clock;
constexpr int kMinWindowWidth = 640;

class SdlApp {
 public:
  SdlApp(Machine& machine, DisplaySession& session, const SdlAppOptions& options)
      : machine_(machine), session_(session), options_(options) {}
  ~SdlApp();
  // Creates the window; false with `error` set if SDL cannot.
  bool open(std::string& error);
  // The event loop; returns when the run is over and the window is to close.
  // `stop_message` is asked once the run is over: empty closes the window,
  // anything else keeps it open with that text in the title.
  void loop(const std::atomic<bool>& run_done, Uint32 done_event, const std::function<std::string()>& stop_message);
  bool powered_off() const { return powered_off_; }

 private:
  void handle(const SDL_Event& e);
  void key(const SDL_KeyboardEvent& k, bool down);
  void send_key(KeyCode key, bool pressed);
  void release_guest_keys();
  void set_grab(bool grab);
  void update_frame();
  void present();
  void update_title();
  void screenshot();
  static uint8_t mouse_button_bit(uint8_t sdl_button);

  Machine& machine_;
  DisplaySession& session_;
  SdlAppOptions options_;
  SDL_Window* window_ = nullptr;
  SDL_Renderer* renderer_ = nullptr;
  SDL_Texture* texture_ = nullptr;
  int tex_w_ = 0, tex_h_ = 0;
  DisplayFrame frame_;
  bool dirty_ = true;
  bool overlay_ = false;
  bool grabbed_ = false;
  uint8_t buttons_ = 0;  // guest mouse buttons held (Ps2Mouse::kLeft | ...)
  bool powered_off_ = false;
  bool quit_ = false;
  std::string stopped_;  // set when the run stopped but the window stays
  std::array<bool, static_cast<size_t>(KeyCode::Count)> guest_down_{};
  std::array<bool, SDL_NUM_SCANCODES> swallowed_{};  // hotkeys: their release is not sent
  unsigned screenshots_ = 0;
  Clock::time_point last_title_{};
};

SdlApp::~SdlApp() {
  if (texture_) SDL_DestroyTexture(texture_);
  if (renderer_) SDL_DestroyRenderer(renderer_);
  if (window_) SDL_DestroyWindow(window_);
  SDL_Quit();
}

bool SdlApp::open(std::string& error) {
  // Only video and events: no audio, joystick or timer subsystems.
  if (SDL_Init(SDL_INIT_VIDEO | SDL_INIT_EVENTS) != 0) {
    error = SDL_GetError();
    return false;
  }
  SDL_SetHint(SDL_HINT_RENDER_SCALE_QUALITY, "nearest");
  // Keep the compositor on and the screen saver allowed, as any desktop app.
  SDL_SetHint(SDL_HINT_VIDEO_X11_NET_WM_BYPASS_COMPOSITOR, "0");
  SDL_EnableScreenSaver();
  window_ = SDL_CreateWindow("Popek", SDL_WINDOWPOS_UNDEFINED, SDL_WINDOWPOS_UNDEFINED, 720, 400,
                             SDL_WINDOW_RESIZABLE | SDL_WINDOW_ALLOW_HIGHDPI);
  if (!window_) {
    error = SDL_GetError();
    return false;
  }
  renderer_ = SDL_CreateRenderer(window_, -1, SDL_RENDERER_PRESENTVSYNC);
  if (!renderer_) renderer_ = SDL_CreateRenderer(window_, -1, 0);
  if (!renderer_) {
    error = SDL_GetError();
    return false;
  }
  update_title();
  return true;
}

uint8_t SdlApp::mouse_button_bit(uint8_t sdl_button) {
  switch (sdl_button) {
    case SDL_BUTTON_LEFT: return Ps2Mouse::kLeft;
    case SDL_BUTTON_RIGHT: return Ps2Mouse::kRight;
    case SDL_BUTTON_MIDDLE: return Ps2Mouse::kMiddle;
    case SDL_BUTTON_X1: return Ps2Mouse::kButton4;
    case SDL_BUTTON_X2: return Ps2Mouse::kButton5;
  }
  return 0;
}

void SdlApp::send_key(KeyCode key, bool pressed) {
  guest_down_[static_cast<size_t>(key)] = pressed;
  session_.input().push(InputEvent::key_event(key, pressed));
}

// Keys the guest saw go down are released when the window loses the
// keyboard, so none stays stuck in the guest.
void SdlApp::release_guest_keys() {
  for (size_t i = 0; i < guest_down_.size(); ++i) {
    if (guest_down_[i]) send_key(static_cast<KeyCode>(i), false);
  }
}

void SdlApp::set_grab(bool grab) {
  if (grab == grabbed_) return;
  grabbed_ = grab;
  if (!grab && buttons_) {  // buttons held when the pointer leaves are released
    buttons_ = 0;
    session_.input().push(InputEvent::mouse_buttons(0));
  }
  SDL_SetRelativeMouseMode(grab ? SDL_TRUE : SDL_FALSE);
  SDL_SetWindowGrab(window_, grab ? SDL_TRUE : SDL_FALSE);
  update_title();
}

void SdlApp::key(const SDL_KeyboardEvent& k, bool down) {
  if (k.repeat) return;  // the guest's typematic settings repeat keys
  const SDL_Scancode sc = k.keysym.scancode;
  if (!down && swallowed_[sc]) {
    swallowed_[sc] = false;
    return;
  }
  if (down) {
    // The modifiers as they were when this key went down (SDL_GetModState()
    // may already include later events still in the queue).
    const Uint16 mod = k.keysym.mod;
    bool hotkey = true;
    if (sc == SDL_SCANCODE_G && (mod & KMOD_CTRL) && (mod & KMOD_ALT)) set_grab(!grabbed_);
    else if (sc == SDL_SCANCODE_PAUSE) session_.set_paused(!session_.paused()), update_title();
    else if (sc == SDL_SCANCODE_F11) overlay_ = !overlay_, dirty_ = true, update_title();
    else if (sc == SDL_SCANCODE_F12) screenshot();
    else hotkey = false;
    if (hotkey) {
      swallowed_[sc] = true;
      return;
    }
  }
  const std::optional<KeyCode> key = keycode_from_sdl(sc);
  if (!key) return;
  if (!down && !guest_down_[static_cast<size_t>(*key)]) return;
  send_key(*key, down);
}

void SdlApp::handle(const SDL_Event& e) {
  switch (e.type) {
    case SDL_QUIT:
      powered_off_ = true;
      quit_ = true;
      break;
    case SDL_WINDOWEVENT:
      switch (e.window.event) {
        case SDL_WINDOWEVENT_CLOSE:
          powered_off_ = true;
          quit_ = true;
          break;
        case SDL_WINDOWEVENT_FOCUS_LOST:
          release_guest_keys();
          set_grab(false);
          break;
        case SDL_WINDOWEVENT_EXPOSED:
        case SDL_WINDOWEVENT_SIZE_CHANGED:
          dirty_ = true;
          break;
      }
      break;
    case SDL_KEYDOWN:
    case SDL_KEYUP:
      key(e.key, e.type == SDL_KEYDOWN);
      break;
    case SDL_MOUSEMOTION:
      if (grabbed_ && (e.motion.xrel || e.motion.yrel))
        session_.input().push(InputEvent::motion(e.motion.xrel, -e.motion.yrel, 0));
      break;
    case SDL_MOUSEBUTTONDOWN:
      if (!grabbed_) {
        if (e.button.button == SDL_BUTTON_LEFT) set_grab(true);  // the click only grabs
        break;
      }
      [[fallthrough]];
    case SDL_MOUSEBUTTONUP: {
      // From the event itself, not SDL_GetMouseState(): by the time a press
      // is handled, SDL's state may already include its release.
      const uint8_t bit = mouse_button_bit(e.button.button);
      const uint8_t mask = e.type == SDL_MOUSEBUTTONDOWN ? buttons_ | bit : buttons_ & ~bit;
      if (grabbed_ && mask != buttons_) {
        buttons_ = mask;
        session_.input().push(InputEvent::mouse_buttons(buttons_));
      }
      break;
    }
    case SDL_MOUSEWHEEL:
      if (grabbed_ && e.wheel.y) {
        const int y = e.wheel.direction == SDL_MOUSEWHEEL_FLIPPED ? -e.wheel.y : e.wheel.y;
        session_.input().push(InputEvent::motion(0, 0, -y));  // IntelliMouse: positive is towards the user
      }
      break;
  }
}

void SdlApp::update_frame() {
  if (!session_.take_frame(frame_)) return;
  dirty_ = true;
  if (frame_.width <= 0 || frame_.height <= 0) return;
  if (frame_.width != tex_w_ || frame_.height != tex_h_) {
    if (texture_) SDL_DestroyTexture(texture_);
    texture_ = SDL_CreateTexture(renderer_, SDL_PIXELFORMAT_RGB888, SDL_TEXTUREACCESS_STREAMING, frame_.width,
                                 frame_.height);
    tex_w_ = frame_.width;
    tex_h_ = frame_.height;
    SDL_RenderSetLogicalSize(renderer_, tex_w_, tex_h_);
    // Follow the mode change unless the user made the window maximised or full screen.
    if (!(SDL_GetWindowFlags(window_) & (SDL_WINDOW_MAXIMIZED | SDL_WINDOW_FULLSCREEN | SDL_WINDOW_FULLSCREEN_DESKTOP))) {
      const int scale = std::max(1, (kMinWindowWidth + tex_w_ - 1) / tex_w_);
      SDL_SetWindowSize(window_, tex_w_ * scale, tex_h_ * scale);
    }
  }
  if (texture_) SDL_UpdateTexture(texture_, nullptr, frame_.pixels.data(), frame_.width * 4);
}

void SdlApp::present() {
  SDL_SetRenderDrawColor(renderer_, 0, 0, 0, 255);
  SDL_RenderClear(renderer_);
  if (texture_) SDL_RenderCopy(renderer_, texture_, nullptr, nullptr);
  if (overlay_ && tex_w_ > 0) draw_stats_overlay(renderer_, tex_w_, tex_h_, session_.history());
  SDL_RenderPresent(renderer_);
  dirty_ = false;
}

void SdlApp::update_title() {
  last_title_ = Clock::now();
  std::string title = "Popek - ";
  title += session_.engine_name();
  const std::vector<StatsSample> h = session_.history();
  if (!h.empty()) {
    // The mean over the last second of samples.
    double mips = 0, hit = 0;
    int n = 0, hits = 0;
    for (auto it = h.rbegin(); it != h.rend() && h.back().seconds - it->seconds < 1.0; ++it, ++n) {
      mips += it->mips;
      if (it->hit_rate >= 0) hit += it->hit_rate, ++hits;
    }
    char buf[96];
    std::snprintf(buf, sizeof buf, " - %.0f MIPS", mips / n);
    title += buf;
    if (hits) {
      std::snprintf(buf, sizeof buf, " - hit %.0f%%", 100 * hit / hits);
      title += buf;
    }
    if (overlay_) {
      double peak = 0;
      for (const StatsSample& s : h) peak = std::max(peak, s.mips);
      std::snprintf(buf, sizeof buf, " - graph 0-%g MIPS", overlay_mips_scale(peak));
      title += buf;
    }
  }
  if (!stopped_.empty()) title += " - " + stopped_;
  else if (session_.paused()) title += " - paused (Pause resumes)";
  if (grabbed_) title += " - Ctrl+Alt+G releases the pointer";
  SDL_SetWindowTitle(window_, title.c_str());
}

void SdlApp::screenshot() {
  if (frame_.width <= 0 || frame_.height <= 0) {
    std::fprintf(stderr, "popek: no picture to save yet\n");
    return;
  }
  char stamp[32];
  const std::time_t t = std::time(nullptr);
  std::tm tm{};
  localtime_r(&t, &tm);
  std::strftime(stamp, sizeof stamp, "%Y%m%d-%H%M%S", &tm);
  std::string path;
  do {
    path = options_.screenshot_dir + "/popek-" + stamp + "-" + std::to_string(++screenshots_) + ".png";
  } while (::access(path.c_str(), F_OK) == 0);
  std::string error;
  if (write_png(path, frame_.width, frame_.height, frame_.pixels.data(), error))
    std::fprintf(stderr, "popek: screenshot saved to %s\n", path.c_str());
  else
    std::fprintf(stderr, "popek: screenshot: %s\n", error.c_str());
}

void SdlApp::loop(const std::atomic<bool>& run_done, Uint32 done_event,
                  const std::function<std::string()>& stop_message) {
  SDL_DisplayMode mode{};
  int hz = 60;
  if (SDL_GetCurrentDisplayMode(std::max(0, SDL_GetWindowDisplayIndex(window_)), &mode) == 0 && mode.refresh_rate >= 30)
    hz = std::min(mode.refresh_rate, 240);
  const auto period = std::chrono::nanoseconds(1'000'000'000 / hz);
  auto next_frame = Clock::now();
  bool stopped_shown = false;
  while (!quit_) {
    const auto now = Clock::now();
    if (now >= next_frame) {
      update_frame();
      session_.request_frame();
      if (dirty_ || overlay_) present();
      next_frame += period;
      if (next_frame <= now) next_frame = now + period;  // fell behind: skip, do not catch up
    }
    if (now - last_title_ >= std::chrono::seconds(1)) update_title();
    if (run_done.load() && !stopped_shown) {
      stopped_shown = true;
      update_frame();  // the last picture the guest made
      stopped_ = stop_message();
      if (stopped_.empty()) break;
      set_grab(false);
      present();
      update_title();
    }
    const auto wait = std::chrono::duration_cast<std::chrono::milliseconds>(next_frame - Clock::now()).count();
    SDL_Event e;
    if (SDL_WaitEventTimeout(&e, static_cast<int>(std::clamp<long long>(wait, 1, 1000)))) {
      do {
        if (e.type != done_event) handle(e);
      } while (!quit_ && SDL_PollEvent(&e));
    }
  }
}

}  // namespace

SdlAppResult run_sdl_app(Machine& machine, const RunLimits& limits, DisplaySession::RenderFunction render,
                         const SdlAppOptions& options) {
  SdlAppResult result;
  DisplaySession session(machine, std::move(render));
  SdlApp app(machine, session, options);
  if (!app.open(result.error)) return result;
  result.started = true;
  const Uint32 done_event = SDL_RegisterEvents(1);
  std::atomic<bool> run_done{false};
  RunLimits run_limits = limits;
  run_limits.slice_hook = [&session, outer = limits.slice_hook] {
    session.on_slice();
    if (outer) outer();
  };
  std::thread emulation([&] {
    result.outcome = machine.run(run_limits);
    // The last picture, for the window to keep showing and for screenshots.
    session.publish_final_frame();
    run_done.store(true);
    SDL_Event e{};
    e.type = done_event;
    SDL_PushEvent(&e);
  });
  app.loop(run_done, done_event, [&result]() -> std::string {
    // A guest that halted for good or an engine failure leaves its last
    // picture on screen until the window is closed; any other end closes it.
    if (result.outcome.reason == StopReason::HaltedForever) return "stopped: guest halted with interrupts disabled";
    if (result.outcome.reason == StopReason::EngineFailure) return "stopped: engine failure (see the terminal)";
    return {};
  });
  if (!run_done.load()) session.power_off();
  emulation.join();
  result.powered_off = app.powered_off() || session.powered_off();
  return result;
}

}  // namespace popek
