#include "translator/block_profiler.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <mutex>

#include <signal.h>
#include <sys/syscall.h>
#include <ucontext.h>
#include <unistd.h>

#include "decoder/decoder.h"

namespace popek::dbt {

const char* to_string(ExitKind k) {
  switch (k) {
    case ExitKind::DirectUnchained: return "direct_unchained";
    case ExitKind::IndirectMiss: return "indirect_miss";
    case ExitKind::Unchained: return "unchained";
    case ExitKind::Helper: return "helper";
    case ExitKind::Fault: return "fault";
    case ExitKind::Budget: return "budget";
    case ExitKind::Count: break;
  }
  return "?";
}

uint64_t BlockProfile::indirect_hits() const {
  const uint64_t misses = exits[size_t(ExitKind::IndirectMiss)];
  return counters.indirect_lookups > misses ? counters.indirect_lookups - misses : 0;
}

uint64_t BlockProfile::chained() const {
  const uint64_t hits = indirect_hits();
  return counters.transfers_out > hits ? counters.transfers_out - hits : 0;
}

namespace {

// The SIGPROF disposition is process-wide: installed by the first sampler,
// restored when the last one stops.
std::mutex g_handler_mutex;
int g_handler_users = 0;
struct sigaction g_previous_action;

void on_sigprof(int, siginfo_t* info, void* context) {
  if (info->si_code != SI_TIMER) return;  // not our timer (kill -PROF, setitimer)
  auto* ring = static_cast<SampleRing*>(info->si_value.sival_ptr);
  if (!ring || !ring->slots) return;
  const uint64_t head = ring->head.load(std::memory_order_relaxed);
  if (head - ring->tail.load(std::memory_order_acquire) >= SampleRing::kCapacity) {
    ring->dropped.fetch_add(1, std::memory_order_relaxed);
    return;
  }
  ProfileSample& s = ring->slots[head & (SampleRing::kCapacity - 1)];
  s.rip = static_cast<uint64_t>(static_cast<ucontext_t*>(context)->uc_mcontext.gregs[REG_RIP]);
  s.block = ring->current ? *ring->current : nullptr;
  s.phase = static_cast<uint32_t>(ring->phase);
  ring->head.store(head + 1, std::memory_order_release);
}

}  // namespace

size_t BlockProfiler::KeyHash::operator()(const std::tuple<uint32_t, uint32_t, uint32_t, uint16_t>& k) const {
  uint64_t h = std::get<0>(k) * 0x9e3779b97f4a7c15ull;
  h ^= (uint64_t(std::get<1>(k)) << 1) + 0x632be59bd9b4e019ull + (h << 6) + (h >> 2);
  h ^= (uint64_t(std::get<2>(k)) << 3) + (h << 6) + (h >> 2);
  h ^= uint64_t(std::get<3>(k)) + (h << 6) + (h >> 2);
  return static_cast<size_t>(h);
}

BlockProfiler::BlockProfiler(const ProfileOptions& options) : options_(options) {
  ring_.slots = std::make_unique<ProfileSample[]>(SampleRing::kCapacity);
}

BlockProfiler::~BlockProfiler() { stop_sampling(); }

BlockProfile& BlockProfiler::record_for(const BlockKey& key, uint32_t eip) {
  auto k = std::make_tuple(eip, key.cs_base, key.phys, key.mode);
  auto it = index_.find(k);
  if (it != index_.end()) return *it->second;
  auto p = std::make_unique<BlockProfile>();
  p->eip = eip;
  p->cs_base = key.cs_base;
  p->phys = key.phys;
  p->mode = key.mode;
  BlockProfile* raw = p.get();
  raw->counters.owner = raw;
  records_.push_back(std::move(p));
  index_.emplace(k, raw);
  return *raw;
}

void BlockProfiler::on_translated(BlockProfile& p, const Block& b) {
  ++p.translations;
  if (p.versions == 0 || p.guest_code != b.guest_code) ++p.versions;
  p.host_bytes_total += b.code_size - b.profile_bytes;
  p.profile_bytes = b.profile_bytes;
  p.insn_count = b.insn_count;
  p.guest_code = b.guest_code;
  p.host_code.assign(b.code, b.code + b.code_size);
  p.insn_host_offset = b.insn_host_offset;
  p.host_address = reinterpret_cast<uint64_t>(b.code);
  const uint64_t begin = p.host_address;
  if (!ranges_.empty() && begin < ranges_.back().begin) ranges_sorted_ = false;
  ranges_.push_back({begin, begin + b.code_size, &p});
}

void BlockProfiler::before_flush() {
  drain();
  ranges_.clear();
  ranges_sorted_ = true;
}

void BlockProfiler::resolve(const ProfileSample& s) {
  ++samples_total_;
  if (!ranges_sorted_) {
    std::sort(ranges_.begin(), ranges_.end(), [](const CodeRange& a, const CodeRange& b) { return a.begin < b.begin; });
    ranges_sorted_ = true;
  }
  auto it = std::upper_bound(ranges_.begin(), ranges_.end(), s.rip,
                             [](uint64_t rip, const CodeRange& r) { return rip < r.begin; });
  if (it != ranges_.begin()) {
    const CodeRange& r = *std::prev(it);
    if (s.rip < r.end) {
      ++r.profile->samples_code;
      ++samples_code_;
      return;
    }
  }
  if (s.block) {
    // The block's code was running and called out: a fallback, a TLB fill,
    // the exit routine on its way back to the dispatcher.
    ++static_cast<const BlockCounters*>(s.block)->owner->samples_helpers;
    ++samples_block_helpers_;
  } else if (s.rip >= runtime_begin_ && s.rip < runtime_end_) {
    ++samples_runtime_;
  } else if (s.phase == SampleRing::kPhaseTranslating) {
    ++samples_translator_;
  } else {
    ++samples_other_;
  }
}

void BlockProfiler::drain() {
  const uint64_t head = ring_.head.load(std::memory_order_acquire);
  uint64_t tail = ring_.tail.load(std::memory_order_relaxed);
  for (; tail != head; ++tail) resolve(ring_.slots[tail & (SampleRing::kCapacity - 1)]);
  ring_.tail.store(tail, std::memory_order_release);
}

void BlockProfiler::add_sample_for_test(uint64_t rip, const BlockCounters* running, uint32_t phase) {
  resolve(ProfileSample{rip, running, phase, 0});
}

bool BlockProfiler::start_sampling(void* const volatile* current, std::string& error) {
  if (timer_armed_) return true;
  ring_.current = current;
  {
    std::lock_guard lock(g_handler_mutex);
    if (g_handler_users == 0) {
      struct sigaction sa{};
      sa.sa_sigaction = on_sigprof;
      sa.sa_flags = SA_SIGINFO | SA_RESTART;
      sigemptyset(&sa.sa_mask);
      if (sigaction(SIGPROF, &sa, &g_previous_action) != 0) {
        error = std::string("SIGPROF handler: ") + std::strerror(errno);
        return false;
      }
    }
    ++g_handler_users;
  }
  struct sigevent sev{};
  sev.sigev_notify = SIGEV_THREAD_ID;
  sev.sigev_signo = SIGPROF;
  sev.sigev_value.sival_ptr = &ring_;
  sev._sigev_un._tid = static_cast<pid_t>(::syscall(SYS_gettid));
  auto undo_handler = [] {
    std::lock_guard lock(g_handler_mutex);
    if (--g_handler_users == 0) sigaction(SIGPROF, &g_previous_action, nullptr);
  };
  if (timer_create(CLOCK_THREAD_CPUTIME_ID, &sev, &timer_) != 0) {
    error = std::string("timer_create: ") + std::strerror(errno);
    undo_handler();
    return false;
  }
  const long ns = long(options_.sample_period_us) * 1000;
  struct itimerspec its{};
  its.it_interval.tv_sec = its.it_value.tv_sec = ns / 1'000'000'000;
  its.it_interval.tv_nsec = its.it_value.tv_nsec = ns % 1'000'000'000;
  if (timer_settime(timer_, 0, &its, nullptr) != 0) {
    error = std::string("timer_settime: ") + std::strerror(errno);
    timer_delete(timer_);
    undo_handler();
    return false;
  }
  timer_armed_ = true;
  return true;
}

void BlockProfiler::stop_sampling() {
  if (!timer_armed_) return;
  // Deleting the timer also drops a signal of it that is still pending.
  timer_delete(timer_);
  timer_armed_ = false;
  std::lock_guard lock(g_handler_mutex);
  if (--g_handler_users == 0) sigaction(SIGPROF, &g_previous_action, nullptr);
}

namespace {

void disassemble(const BlockProfile& p, const std::vector<HostSymbol>& names, ProfiledBlock& out) {
  const uint8_t* code = p.host_code.data();
  const uint64_t base = p.host_address, size = p.host_code.size();
  auto host = [&](uint32_t from, uint32_t to) {
    if (to <= from || to > size) return std::vector<std::string>{};
    return disassemble_host(code + from, to - from, base + from, names, base, size);
  };
  if (p.insn_host_offset.empty()) return;
  out.entry = host(0, p.insn_host_offset[0]);
  Decoder decoder;
  const bool code32 = p.mode & mode_bit::kCode32, stack32 = p.mode & mode_bit::kStack32;
  uint32_t off = 0;
  for (uint32_t k = 0; k < p.insn_count && off < p.guest_code.size(); ++k) {
    DecodedInsn d;
    if (decoder.decode(p.guest_code.data() + off, p.guest_code.size() - off, code32, stack32, d) != DecodeStatus::Ok)
      break;
    DisassemblyRow row;
    row.eip = p.eip + off;
    row.guest = Decoder::format(d, p.eip + off);
    if (k + 1 < p.insn_host_offset.size()) row.host = host(p.insn_host_offset[k], p.insn_host_offset[k + 1]);
    out.rows.push_back(std::move(row));
    off += d.insn.length;
  }
  out.cold = host(p.insn_host_offset.back(), uint32_t(size));
}

}  // namespace

ProfileReport BlockProfiler::report(size_t top, ProfileSort sort, const std::vector<HostSymbol>& names) {
  stop_sampling();
  drain();
  ProfileReport r;
  r.sort = sort;
  r.sampling = options_.sample && sampling_error_.empty();
  r.sampling_error = sampling_error_;
  r.sample_period_us = options_.sample ? options_.sample_period_us : 0;
  r.samples_total = samples_total_;
  r.samples_code = samples_code_;
  r.samples_block_helpers = samples_block_helpers_;
  r.samples_runtime = samples_runtime_;
  r.samples_translator = samples_translator_;
  r.samples_other = samples_other_;
  r.samples_dropped = ring_.dropped.load();
  r.blocks = records_.size();
  std::vector<const BlockProfile*> order;
  for (const auto& p : records_) {
    r.translations += p->translations;
    r.executions += p->counters.executions;
    order.push_back(p.get());
  }
  // Most time first (ties, and runs without samples: most executions), or
  // most executions first; then by address, so the order is reproducible.
  auto key = [&](const BlockProfile* p) {
    return sort == ProfileSort::Time ? std::make_tuple(p->samples(), p->counters.executions)
                                     : std::make_tuple(p->counters.executions, p->samples());
  };
  std::sort(order.begin(), order.end(), [&](const BlockProfile* a, const BlockProfile* b) {
    if (key(a) != key(b)) return key(a) > key(b);
    return std::make_tuple(a->cs_base + a->eip, a->phys, a->mode) < std::make_tuple(b->cs_base + b->eip, b->phys, b->mode);
  });
  if (order.size() > top) order.resize(top);
  for (const BlockProfile* p : order) {
    ProfiledBlock b;
    b.profile = p;
    b.time_share = r.samples_total ? double(p->samples()) / double(r.samples_total) : 0;
    b.execution_share = r.executions ? double(p->counters.executions) / double(r.executions) : 0;
    disassemble(*p, names, b);
    r.top.push_back(std::move(b));
  }
  return r;
}

}  // namespace popek::dbt
