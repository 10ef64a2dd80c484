// Fused softmax over simplices (see the header). The tensor is [outer, V, inner]: VertexMajor is
// [B, V, L] (outer B, inner L), BlockMajor is [B*L, V] (inner 1). All loops run over tiles of kW simplices
// with a fixed-width inner loop, which GCC vectorizes even at -O2. Three ways through a tensor:
//   direct  VertexMajor with L >= kW: chunks of whole tiles of one row b, read in place, each vertex row of a
//           chunk a contiguous run of memory (the DRAM sees a few long streams, not V short ones per tile);
//   packed  the rest with small V (BlockMajor, L < kW, the last L % kW columns of a row): kW simplices are
//           gathered into a [V][kW] buffer, computed there, and scattered back;
//   rows    inner 1 with V >= kW: one contiguous simplex at a time.
// Measured on the 2-vCPU AVX-512 machine at [256, 5000 x 13] (2 threads): the forward is close to bound by
// the exp (~1 cycle per element), the backward by reading y and dy. Against one tile of V short rows at a
// time, reading whole vertex rows of a chunk (the DRAM streams) was ~20% faster, prefetching the next chunk
// into L2 during the compute pass ~15%, writing outputs larger than the caches with non-temporal stores
// (no read-for-ownership, no eviction of the inputs) ~15%.
// Every simplex is computed by the same arithmetic whichever way and thread reaches it, so results do not
// depend on the number of threads.
#include "sem/kernels/simplex_softmax_kernel.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <memory>
#include <vector>

#include <ATen/ATen.h>
#include <ATen/record_function.h>
#include <torch/csrc/autograd/custom_function.h>

#include "sem/kernels/parallel_for.h"

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#define SEMK_STREAMING 1
#else
#define SEMK_STREAMING 0
#endif

// The float32 hot loops are compiled three times (AVX-512, x86-64-v3 = AVX2 + FMA, baseline x86-64) and
// picked at load time by the CPU (GCC function multiversioning, an ifunc; a "avx2,fma" string would make
// two clones, one without FMA). no-trapping-math lets GCC if-convert the clamp of the exp into a vector
// max/select (it changes no value, only FP-exception flags).
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__) && defined(__has_attribute)
#if __has_attribute(target_clones)
#define SEMK_CLONES __attribute__((target_clones("avx512f", "arch=x86-64-v3", "default"), optimize("no-trapping-math")))
#endif
#endif
#ifndef SEMK_CLONES
#define SEMK_CLONES
#endif
#define SEMK_INLINE inline __attribute__((always_inline))

namespace semharness {
namespace {

// Simplices per tile: 64 floats are four AVX-512 or eight AVX2 vectors per vertex row.
constexpr int64_t kW = 64;
// Elements per parallel task at least, so that small inputs stay on one thread.
constexpr int64_t kGrainElements = 1 << 15;
// L2 bytes that the chunks of the direct path may fill: the chunk of each input, its scratch and the next
// chunk being prefetched stay well inside a 1 MB L2 (Op::kChunkArrays of them).
constexpr int64_t kChunkBudgetBytes = 768 << 10;
// Outputs at least this large are written with non-temporal stores: they would not stay in the caches
// anyway (half of a 32 MB L3), and skipping the read-for-ownership saves a third of the write traffic.
constexpr int64_t kStreamBytes = 16 << 20;

// exp(z) in float32 for z <= 0 (or NaN), branch-free so that loops over it vectorize: z = n ln2 + r with
// |r| <= ln2 / 2 (Cody-Waite, ln2 split in two), exp(r) = 1 + r + r^2 P(r) with the degree-5 P of Cephes'
// expf, 2^n written into the exponent bits. Within 1.01 ulp of the double exp on 4M points of [-87.3, 0]
// (checked offline for each of the three ISA clones). z is clamped at -88, where n = -127 makes the exponent field 0:
// exp of anything below about -87.7 is exactly 0 (no subnormals, no compare). NaN stays NaN (the clamp is a max that
// keeps NaN).
struct ExpF32 {
  SEMK_INLINE float operator()(float z) const {
    constexpr float kLo = -88.0f;
    constexpr float kLog2e = 1.44269504088896341f;
    constexpr float kRound = 12582912.0f;   // 1.5 * 2^23: adding it rounds to an integer in the low bits
    constexpr float kLn2Hi = 0.693359375f;  // exact in 9 bits, so n * kLn2Hi is exact
    constexpr float kLn2Lo = -2.12194440e-4f;
    const float zc = z < kLo ? kLo : z;  // a value select, not std::max's reference: one vector max
    const float t = zc * kLog2e + kRound;
    const float n = t - kRound;
    float r = zc - n * kLn2Hi;
    r = r - n * kLn2Lo;
    float p = 1.9875691500e-4f;
    p = p * r + 1.3981999507e-3f;
    p = p * r + 8.3334519073e-3f;
    p = p * r + 4.1665795894e-2f;
    p = p * r + 1.6666665459e-1f;
    p = p * r + 5.0000001201e-1f;
    p = p * (r * r) + r;  // exp(r) - 1
    uint32_t bits;
    std::memcpy(&bits, &t, sizeof bits);
    const uint32_t scale_bits = (bits - 0x4B400000u + 127u) << 23;  // (n + 127) << 23; kRound's bits: 0x4B400000
    float scale;
    std::memcpy(&scale, &scale_bits, sizeof scale);
    return p * scale + scale;
  }
};

struct ExpStd {
  SEMK_INLINE double operator()(double z) const { return std::exp(z); }
};

template <typename T>
SEMK_INLINE T max_of(T a, T b) {
  return a > b ? a : b;
}

#if SEMK_STREAMING
// Copies `bytes` (a multiple of 4) with non-temporal stores, which skip the read-for-ownership of dst's
// lines and bypass the caches, in the widest vectors the CPU has; memcpy up to the first aligned address
// and after the last whole vector.
template <int64_t kVector>
SEMK_INLINE int64_t stream_head(char* dst, const char* src, int64_t bytes) {
  const int64_t head = std::min(bytes, static_cast<int64_t>(-reinterpret_cast<uintptr_t>(dst) & (kVector - 1)));
  std::memcpy(dst, src, head);
  return head;
}
__attribute__((target("avx512f"))) void stream_copy_avx512(char* dst, const char* src, int64_t bytes) {
  int64_t i = stream_head<64>(dst, src, bytes);
  for (; i + 64 <= bytes; i += 64)
    _mm512_stream_ps(reinterpret_cast<float*>(dst + i), _mm512_loadu_ps(reinterpret_cast<const float*>(src + i)));
  std::memcpy(dst + i, src + i, bytes - i);
}
__attribute__((target("avx"))) void stream_copy_avx(char* dst, const char* src, int64_t bytes) {
  int64_t i = stream_head<32>(dst, src, bytes);
  for (; i + 32 <= bytes; i += 32)
    _mm256_stream_ps(reinterpret_cast<float*>(dst + i), _mm256_loadu_ps(reinterpret_cast<const float*>(src + i)));
  std::memcpy(dst + i, src + i, bytes - i);
}
void stream_copy_sse(char* dst, const char* src, int64_t bytes) {
  int64_t i = stream_head<16>(dst, src, bytes);
  for (; i + 16 <= bytes; i += 16)
    _mm_stream_ps(reinterpret_cast<float*>(dst + i), _mm_loadu_ps(reinterpret_cast<const float*>(src + i)));
  std::memcpy(dst + i, src + i, bytes - i);
}
using StreamCopy = void (*)(char*, const char*, int64_t);
StreamCopy pick_stream_copy() {
  __builtin_cpu_init();
  if (__builtin_cpu_supports("avx512f")) return stream_copy_avx512;
  if (__builtin_cpu_supports("avx")) return stream_copy_avx;
  return stream_copy_sse;
}
#endif

// dst[0, n) = src[0, n) without reading dst's lines first (non-temporal stores where the CPU has them).
template <typename T>
void stream_store(T* dst, const T* src, int64_t n) {
#if SEMK_STREAMING
  static const StreamCopy copy = pick_stream_copy();
  copy(reinterpret_cast<char*>(dst), reinterpret_cast<const char*>(src), n * static_cast<int64_t>(sizeof(T)));
#else
  std::memcpy(dst, src, n * sizeof(T));
#endif
}

SEMK_INLINE void stream_fence() {
#if SEMK_STREAMING
  _mm_sfence();
#endif
}

// Prefetches (into L2) the part of the next chunk at the same place as tile t of vertex row v.
template <typename T>
SEMK_INLINE void prefetch_tile(const T* next, int64_t offset) {
  if (next == nullptr) return;
  for (int64_t c = 0; c < kW; c += 64 / static_cast<int64_t>(sizeof(T))) __builtin_prefetch(next + offset + c, 0, 2);
}

// ---- Chunk bodies: nt tiles of kW columns side by side, vertex rows `stride` apart. ----
// scratch holds Op::scratch_size(V, nt) values. next / next_nt: the chunk to prefetch (nullptr: none).

// The scratch arrays are separate __restrict parameters: GCC's -O2 vectorizer may not add run-time alias
// checks, and it does not trust __restrict pointers that are derived locally from one another.
template <typename T, typename Exp>
SEMK_INLINE void forward_chunk_body(const T* __restrict x, T* __restrict y, int64_t V, int64_t stride, int64_t nt,
                                    T invtau, Exp exp_fn, const T* next, int64_t next_nt, T* __restrict m,
                                    T* __restrict s, T* __restrict e, bool stream) {
  const int64_t w = nt * kW;  // m: max of each column; s: sum of its exps, then the inverse; e: [V][w] exps
  for (int64_t t = 0; t < nt; ++t)
    for (int64_t j = 0; j < kW; ++j) m[t * kW + j] = x[t * kW + j];
  for (int64_t v = 1; v < V; ++v) {
    const T* xr = x + v * stride;
    for (int64_t t = 0; t < nt; ++t)
      for (int64_t j = 0; j < kW; ++j) m[t * kW + j] = max_of(xr[t * kW + j], m[t * kW + j]);
  }
  for (int64_t i = 0; i < w; i += kW)
    for (int64_t j = 0; j < kW; ++j) s[i + j] = 0;
  const int64_t pf_tiles = std::min(nt, next_nt);
  for (int64_t v = 0; v < V; ++v) {
    const T* xr = x + v * stride;
    T* er = e + v * w;
    for (int64_t t = 0; t < nt; ++t) {
      if (t < pf_tiles) prefetch_tile(next, v * stride + t * kW);
      for (int64_t j = 0; j < kW; ++j) {
        const T p = exp_fn((xr[t * kW + j] - m[t * kW + j]) * invtau);
        er[t * kW + j] = p;
        s[t * kW + j] += p;
      }
    }
  }
  for (int64_t i = 0; i < w; i += kW)
    for (int64_t j = 0; j < kW; ++j) s[i + j] = T(1) / s[i + j];
  for (int64_t v = 0; v < V; ++v) {
    T* er = e + v * w;
    T* yr = y + v * stride;
    if (stream) {
      for (int64_t i = 0; i < w; i += kW)
        for (int64_t j = 0; j < kW; ++j) er[i + j] *= s[i + j];
      stream_store(yr, er, w);
    } else {
      for (int64_t i = 0; i < w; i += kW)
        for (int64_t j = 0; j < kW; ++j) yr[i + j] = er[i + j] * s[i + j];
    }
  }
}

template <typename T>
SEMK_INLINE void backward_chunk_body(const T* __restrict y, const T* __restrict dy, T* __restrict dx, int64_t V,
                                     int64_t stride, int64_t nt, T invtau, const T* next_y, const T* next_dy,
                                     int64_t next_nt, T* __restrict dot, T* __restrict out, bool stream) {
  const int64_t w = nt * kW;  // dot: sum_v y dy of each column; out: a vertex row of dx for streaming stores
  for (int64_t i = 0; i < w; i += kW)
    for (int64_t j = 0; j < kW; ++j) dot[i + j] = 0;
  for (int64_t v = 0; v < V; ++v) {
    const T* yr = y + v * stride;
    const T* gr = dy + v * stride;
    for (int64_t i = 0; i < w; i += kW)
      for (int64_t j = 0; j < kW; ++j) dot[i + j] += yr[i + j] * gr[i + j];
  }
  const int64_t pf_tiles = std::min(nt, next_nt);
  for (int64_t v = 0; v < V; ++v) {
    const T* yr = y + v * stride;
    const T* gr = dy + v * stride;
    T* dr = dx + v * stride;
    for (int64_t t = 0; t < nt; ++t) {
      if (t < pf_tiles) {
        prefetch_tile(next_y, v * stride + t * kW);
        prefetch_tile(next_dy, v * stride + t * kW);
      }
      // Two copies of the loop: a pointer chosen at run time between out and dr would lose __restrict.
      if (stream) {
        for (int64_t j = 0; j < kW; ++j)
          out[t * kW + j] = (yr[t * kW + j] * invtau) * (gr[t * kW + j] - dot[t * kW + j]);
      } else {
        for (int64_t j = 0; j < kW; ++j)
          dr[t * kW + j] = (yr[t * kW + j] * invtau) * (gr[t * kW + j] - dot[t * kW + j]);
      }
    }
    if (stream) stream_store(dr, out, w);
  }
}

template <typename T, typename Exp>
SEMK_INLINE void forward_chunk(const T* x, T* y, int64_t V, int64_t stride, int64_t nt, T invtau, Exp exp_fn,
                               const T* next, int64_t next_nt, T* scratch, bool stream) {
  const int64_t w = nt * kW;
  forward_chunk_body<T>(x, y, V, stride, nt, invtau, exp_fn, next, next_nt, scratch, scratch + w, scratch + 2 * w,
                        stream);
}

template <typename T>
SEMK_INLINE void backward_chunk(const T* y, const T* dy, T* dx, int64_t V, int64_t stride, int64_t nt, T invtau,
                                const T* next_y, const T* next_dy, int64_t next_nt, T* scratch, bool stream) {
  backward_chunk_body<T>(y, dy, dx, V, stride, nt, invtau, next_y, next_dy, next_nt, scratch, scratch + nt * kW,
                         stream);
}

// ---- Row bodies: nrows contiguous simplices of V >= kW entries each. ----

template <typename T>
SEMK_INLINE T reduce_max(T* a) {  // destroys a
  for (int64_t w = kW / 2; w >= 1; w /= 2)
    for (int64_t j = 0; j < w; ++j) a[j] = max_of(a[j + w], a[j]);
  return a[0];
}

template <typename T>
SEMK_INLINE T reduce_sum(T* a) {  // destroys a
  for (int64_t w = kW / 2; w >= 1; w /= 2)
    for (int64_t j = 0; j < w; ++j) a[j] += a[j + w];
  return a[0];
}

template <typename T, typename Exp>
SEMK_INLINE void forward_rows(const T* __restrict x, T* __restrict y, int64_t V, int64_t nrows, T invtau, Exp exp_fn) {
  const int64_t full = V / kW * kW;
  for (int64_t r = 0; r < nrows; ++r, x += V, y += V) {
    T acc[kW];
    for (int64_t j = 0; j < kW; ++j) acc[j] = x[j];
    for (int64_t c = kW; c < full; c += kW)
      for (int64_t j = 0; j < kW; ++j) acc[j] = max_of(x[c + j], acc[j]);
    T mx = reduce_max(acc);
    for (int64_t i = full; i < V; ++i) mx = max_of(x[i], mx);
    for (int64_t j = 0; j < kW; ++j) acc[j] = 0;
    for (int64_t c = 0; c < full; c += kW)
      for (int64_t j = 0; j < kW; ++j) {
        const T p = exp_fn((x[c + j] - mx) * invtau);
        y[c + j] = p;
        acc[j] += p;
      }
    T sum = reduce_sum(acc);
    for (int64_t i = full; i < V; ++i) {
      const T p = exp_fn((x[i] - mx) * invtau);
      y[i] = p;
      sum += p;
    }
    const T inv = T(1) / sum;
    for (int64_t c = 0; c < full; c += kW)
      for (int64_t j = 0; j < kW; ++j) y[c + j] *= inv;
    for (int64_t i = full; i < V; ++i) y[i] *= inv;
  }
}

template <typename T>
SEMK_INLINE void backward_rows(const T* __restrict y, const T* __restrict dy, T* __restrict dx, int64_t V,
                               int64_t nrows, T invtau) {
  const int64_t full = V / kW * kW;
  for (int64_t r = 0; r < nrows; ++r, y += V, dy += V, dx += V) {
    T acc[kW];
    for (int64_t j = 0; j < kW; ++j) acc[j] = 0;
    for (int64_t c = 0; c < full; c += kW)
      for (int64_t j = 0; j < kW; ++j) acc[j] += y[c + j] * dy[c + j];
    T dot = reduce_sum(acc);
    for (int64_t i = full; i < V; ++i) dot += y[i] * dy[i];
    for (int64_t c = 0; c < full; c += kW)
      for (int64_t j = 0; j < kW; ++j) dx[c + j] = (y[c + j] * invtau) * (dy[c + j] - dot);
    for (int64_t i = full; i < V; ++i) dx[i] = (y[i] * invtau) * (dy[i] - dot);
  }
}

// ---- Instances: float32 multiversioned with the polynomial exp, float64 with std::exp. ----

SEMK_CLONES void forward_chunk_f32(const float* __restrict x, float* __restrict y, int64_t V, int64_t stride,
                                   int64_t nt, float invtau, const float* next, int64_t next_nt,
                                   float* __restrict scratch, bool stream) {
  forward_chunk<float>(x, y, V, stride, nt, invtau, ExpF32{}, next, next_nt, scratch, stream);
}
SEMK_CLONES void backward_chunk_f32(const float* __restrict y, const float* __restrict dy, float* __restrict dx,
                                    int64_t V, int64_t stride, int64_t nt, float invtau, const float* next_y,
                                    const float* next_dy, int64_t next_nt, float* __restrict scratch, bool stream) {
  backward_chunk<float>(y, dy, dx, V, stride, nt, invtau, next_y, next_dy, next_nt, scratch, stream);
}
SEMK_CLONES void forward_rows_f32(const float* __restrict x, float* __restrict y, int64_t V, int64_t nrows,
                                  float invtau) {
  forward_rows<float>(x, y, V, nrows, invtau, ExpF32{});
}
SEMK_CLONES void backward_rows_f32(const float* __restrict y, const float* __restrict dy, float* __restrict dx,
                                   int64_t V, int64_t nrows, float invtau) {
  backward_rows<float>(y, dy, dx, V, nrows, invtau);
}

// Both directions through one interface: K inputs (x; or y and dy), one output. `next` is the chunk to
// prefetch, as K pointers (nullptr: none).
template <typename T>
struct ForwardOp {
  static constexpr size_t K = 1;
  static constexpr int64_t kChunkArrays = 3;  // chunk-sized arrays in L2: x, the exps, the next x
  T invtau;
  void chunk(const std::array<const T*, 1>& in, T* out, int64_t V, int64_t stride, int64_t nt,
             const std::array<const T*, 1>& next, int64_t next_nt, T* scratch, bool stream) const {
    if constexpr (std::is_same_v<T, float>)
      forward_chunk_f32(in[0], out, V, stride, nt, invtau, next[0], next_nt, scratch, stream);
    else
      forward_chunk<T>(in[0], out, V, stride, nt, invtau, ExpStd{}, next[0], next_nt, scratch, stream);
  }
  void rows(const std::array<const T*, 1>& in, T* out, int64_t V, int64_t nrows) const {
    if constexpr (std::is_same_v<T, float>)
      forward_rows_f32(in[0], out, V, nrows, invtau);
    else
      forward_rows<T>(in[0], out, V, nrows, invtau, ExpStd{});
  }
  static int64_t scratch_size(int64_t V, int64_t nt) { return (V + 2) * nt * kW; }
};

template <typename T>
struct BackwardOp {
  static constexpr size_t K = 2;
  static constexpr int64_t kChunkArrays = 4;  // y, dy and the next y, dy
  T invtau;
  void chunk(const std::array<const T*, 2>& in, T* out, int64_t V, int64_t stride, int64_t nt,
             const std::array<const T*, 2>& next, int64_t next_nt, T* scratch, bool stream) const {
    if constexpr (std::is_same_v<T, float>)
      backward_chunk_f32(in[0], in[1], out, V, stride, nt, invtau, next[0], next[1], next_nt, scratch, stream);
    else
      backward_chunk<T>(in[0], in[1], out, V, stride, nt, invtau, next[0], next[1], next_nt, scratch, stream);
  }
  void rows(const std::array<const T*, 2>& in, T* out, int64_t V, int64_t nrows) const {
    if constexpr (std::is_same_v<T, float>)
      backward_rows_f32(in[0], in[1], out, V, nrows, invtau);
    else
      backward_rows<T>(in[0], in[1], out, V, nrows, invtau);
  }
  static int64_t scratch_size(int64_t, int64_t nt) { return 2 * nt * kW; }
};

// Runs op over every simplex of contiguous [B, L*V] tensors, in parallel over chunks, tiles or rows.
template <typename T, typename Op>
void run_simplices(const Op& op, std::array<const T*, Op::K> in, T* out, int64_t B, int64_t L, int64_t V,
                   bool vertex_major) {
  constexpr size_t K = Op::K;
  const int64_t S = B * L;  // simplices
  if (S == 0) return;
  const bool inner_one = !vertex_major || L == 1;  // [B, V, 1] is the same memory as [B, 1, V]
  const int64_t row = L * V;
  const bool stream = S * V * static_cast<int64_t>(sizeof(T)) >= kStreamBytes;
  const std::array<const T*, K> none{};

  if (inner_one && V >= kW) {  // rows
    const int64_t grain = std::max<int64_t>(1, kGrainElements / V);
    kernel_parallel_for(0, S, grain, [&](int64_t r0, int64_t r1) {
      std::array<const T*, K> p;
      for (size_t k = 0; k < K; ++k) p[k] = in[k] + r0 * V;
      op.rows(p, out + r0 * V, V, r1 - r0);
    });
    return;
  }

  // Packed tiles: `count` <= kW simplices from flat index s0 (s = b * L + l), through [V][kW] buffers:
  // K inputs, the output, then the op's scratch.
  const int64_t vstride = vertex_major ? L : 1;
  auto offset = [&](int64_t s) { return vertex_major ? (s / L) * row + s % L : s * V; };
  const int64_t packed_size = (K + 1) * V * kW + Op::scratch_size(V, 1);
  auto packed = [&](T* buf, int64_t s0, int64_t count) {
    std::array<const T*, K> bufs;
    for (size_t k = 0; k < K; ++k) {
      T* dst = buf + k * V * kW;
      bufs[k] = dst;
      for (int64_t j = 0; j < count; ++j) {
        const T* src = in[k] + offset(s0 + j);
        for (int64_t v = 0; v < V; ++v) dst[v * kW + j] = src[v * vstride];
      }
    }
    T* obuf = buf + K * V * kW;
    op.chunk(bufs, obuf, V, kW, 1, none, 0, obuf + V * kW, /*stream=*/false);
    for (int64_t j = 0; j < count; ++j) {
      T* dst = out + offset(s0 + j);
      for (int64_t v = 0; v < V; ++v) dst[v * vstride] = obuf[v * kW + j];
    }
  };
  // Zeroed once: columns past `count` then hold finite values whatever the previous tile left.
  auto packed_buffer = [&] { return std::vector<T>(packed_size, T(0)); };

  if (vertex_major && L >= kW) {  // direct chunks along l; the last L % kW columns of each row packed
    const int64_t full = L / kW;
    const int64_t budget_tiles =
        std::max<int64_t>(1, kChunkBudgetBytes / (Op::kChunkArrays * V * kW * static_cast<int64_t>(sizeof(T))));
    const int64_t chunks_per_row = (full + budget_tiles - 1) / budget_tiles;
    const int64_t tiles_per_chunk = (full + chunks_per_row - 1) / chunks_per_row;  // balanced
    const bool tail = L % kW != 0;
    auto chunk_tiles = [&](int64_t c) { return std::min(tiles_per_chunk, full - c * tiles_per_chunk); };
    const int64_t grain = std::max<int64_t>(1, kGrainElements / (tiles_per_chunk * kW * V));
    kernel_parallel_for(0, B * chunks_per_row, grain, [&](int64_t u0, int64_t u1) {
      const std::unique_ptr<T[]> scratch(new T[Op::scratch_size(V, tiles_per_chunk)]);
      std::vector<T> buf;
      for (int64_t u = u0; u < u1; ++u) {
        const int64_t b = u / chunks_per_row, c = u % chunks_per_row;
        const int64_t base = b * row + c * tiles_per_chunk * kW;
        std::array<const T*, K> p, next = none;
        for (size_t k = 0; k < K; ++k) p[k] = in[k] + base;
        int64_t next_nt = 0;
        if (u + 1 < u1) {
          const int64_t nb = (u + 1) / chunks_per_row, nc = (u + 1) % chunks_per_row;
          for (size_t k = 0; k < K; ++k) next[k] = in[k] + nb * row + nc * tiles_per_chunk * kW;
          next_nt = chunk_tiles(nc);
        }
        op.chunk(p, out + base, V, L, chunk_tiles(c), next, next_nt, scratch.get(), stream);
        if (tail && c == chunks_per_row - 1) {
          if (buf.empty()) buf = packed_buffer();
          packed(buf.data(), b * L + full * kW, L - full * kW);
        }
      }
      if (stream) stream_fence();
    });
    return;
  }

  const int64_t grain = std::max<int64_t>(1, kGrainElements / (kW * V));
  kernel_parallel_for(0, (S + kW - 1) / kW, grain, [&](int64_t u0, int64_t u1) {
    auto buf = packed_buffer();
    for (int64_t u = u0; u < u1; ++u) packed(buf.data(), u * kW, std::min(kW, S - u * kW));
  });
}

void check_args(const at::Tensor& e, int64_t L, int64_t V, double tau, const char* name) {
  TORCH_CHECK(L >= 1 && V >= 1, name, ": needs L >= 1 and V >= 1, got L=", L, " V=", V);
  TORCH_CHECK(tau > 0, name, ": tau must be > 0, got ", tau);
  TORCH_CHECK(e.dim() == 2 && e.size(1) == L * V, name, ": expected [B, ", L * V, "], got ", e.sizes());
}

// Forward on a contiguous CPU float32/float64 tensor, outside autograd.
at::Tensor forward_kernel(const at::Tensor& x, int64_t L, int64_t V, double tau, bool vertex_major) {
  auto y = at::empty(x.sizes(), x.options());
  if (x.scalar_type() == at::kFloat) {
    run_simplices<float>(ForwardOp<float>{static_cast<float>(1.0 / tau)}, {x.data_ptr<float>()}, y.data_ptr<float>(),
                         x.size(0), L, V, vertex_major);
  } else {
    run_simplices<double>(ForwardOp<double>{1.0 / tau}, {x.data_ptr<double>()}, y.data_ptr<double>(), x.size(0), L, V,
                          vertex_major);
  }
  return y;
}

at::Tensor backward_kernel(const at::Tensor& y, const at::Tensor& dy, int64_t L, int64_t V, double tau,
                           bool vertex_major) {
  auto dx = at::empty(y.sizes(), y.options());
  if (y.scalar_type() == at::kFloat) {
    run_simplices<float>(BackwardOp<float>{static_cast<float>(1.0 / tau)}, {y.data_ptr<float>(), dy.data_ptr<float>()},
                         dx.data_ptr<float>(), y.size(0), L, V, vertex_major);
  } else {
    run_simplices<double>(BackwardOp<double>{1.0 / tau}, {y.data_ptr<double>(), dy.data_ptr<double>()},
                          dx.data_ptr<double>(), y.size(0), L, V, vertex_major);
  }
  return dx;
}

// [B, L*V] -> [B, V, L] or [B, L, V]: dimension vertex_dim(vertex_major) holds the V vertices of a simplex.
at::Tensor simplex_view(const at::Tensor& flat, int64_t L, int64_t V, bool vertex_major) {
  return vertex_major ? flat.view({flat.size(0), V, L}) : flat.view({flat.size(0), L, V});
}
int64_t vertex_dim(bool vertex_major) { return vertex_major ? 1 : 2; }

struct FusedSimplexSoftmax : public torch::autograd::Function<FusedSimplexSoftmax> {
  static at::Tensor forward(torch::autograd::AutogradContext* ctx, const at::Tensor& e, int64_t L, int64_t V,
                            double tau, bool vertex_major) {
    // Named for the profiler (harness/train/op_profile.h): a custom Function's forward is not an operator.
    RECORD_FUNCTION("sem::simplex_softmax", std::vector<c10::IValue>({e}));
    auto y = forward_kernel(e, L, V, tau, vertex_major);
    ctx->save_for_backward({y});
    ctx->saved_data["L"] = L;
    ctx->saved_data["V"] = V;
    ctx->saved_data["tau"] = tau;
    ctx->saved_data["vertex_major"] = vertex_major;
    return y;
  }

  static torch::autograd::variable_list backward(torch::autograd::AutogradContext* ctx,
                                                 torch::autograd::variable_list grads) {
    const auto y = ctx->get_saved_variables()[0];
    const int64_t L = ctx->saved_data["L"].toInt(), V = ctx->saved_data["V"].toInt();
    const double tau = ctx->saved_data["tau"].toDouble();
    const bool vertex_major = ctx->saved_data["vertex_major"].toBool();
    const auto& dy = grads[0];
    at::Tensor dx;
    if (at::GradMode::is_enabled()) {
      // create_graph (double backward): the same formula in differentiable ops.
      const auto yv = simplex_view(y, L, V, vertex_major), gv = simplex_view(dy.contiguous(), L, V, vertex_major);
      const auto dot = (yv * gv).sum(vertex_dim(vertex_major), /*keepdim=*/true);
      dx = (yv * (gv - dot) / tau).view(y.sizes());
    } else {
      RECORD_FUNCTION("sem::simplex_softmax_backward", std::vector<c10::IValue>({dy}));
      dx = backward_kernel(y, dy.contiguous(), L, V, tau, vertex_major);
    }
    return {dx, at::Tensor(), at::Tensor(), at::Tensor(), at::Tensor()};
  }
};

}  // namespace

bool simplex_softmax_has_kernel(const at::Tensor& e) {
  return e.device().is_cpu() && e.layout() == at::kStrided &&
         (e.scalar_type() == at::kFloat || e.scalar_type() == at::kDouble);
}

at::Tensor unfused_simplex_softmax(const at::Tensor& e, int64_t L, int64_t V, double tau, SimplexLayout layout) {
  check_args(e, L, V, tau, "unfused_simplex_softmax");
  const bool vertex_major = layout == SimplexLayout::VertexMajor;
  const auto x = simplex_view(e.contiguous(), L, V, vertex_major);
  return at::softmax(x / tau, vertex_dim(vertex_major)).view({e.size(0), L * V});
}

at::Tensor fused_simplex_softmax(const at::Tensor& e, int64_t L, int64_t V, double tau, SimplexLayout layout) {
  check_args(e, L, V, tau, "fused_simplex_softmax");
  if (!simplex_softmax_has_kernel(e)) return unfused_simplex_softmax(e, L, V, tau, layout);
  return FusedSimplexSoftmax::apply(e.contiguous(), L, V, tau, layout == SimplexLayout::VertexMajor);
}

}  // namespace semharness
