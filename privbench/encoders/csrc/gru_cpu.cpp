// privbench's GRU on the CPU: the time loop in C++ with a hand-written backward
// through time. Loaded by privbench/gru.py with torch.utils.cpp_extension.load
// (compiled at first use, -O3 -march=native); registers the ops
// torch.ops.privbench_gru.{forward, backward, math}.
//
// Equations (torch.nn.GRU's, gate order r, z, n in the weight rows):
//   r = sigmoid(W_ir x + b_ir + W_hr h + b_hr)
//   z = sigmoid(W_iz x + b_iz + W_hz h + b_hz)
//   n = tanh(W_in x + b_in + r * (W_hn h + b_hn))
//   h' = n + z * (h - n)
//
// Per layer: the input projections of all time steps are one matrix product
// (ATen/MKL) before the loop; each step then runs one small fused product
// h[rows, H] @ W_hh^T[H, 3H] (own register-blocked kernel, the weights stay in L1)
// and the gate arithmetic, vectorised (GCC vector extensions: 16 floats on
// AVX-512, 8 on AVX2) with own exp/sigmoid/tanh (Cephes polynomials, about 1e-7
// relative). Batch rows are independent for the whole sequence, so threads
// (at::parallel_for) split the batch once per layer and never synchronise per step.
// Backward: per step the elementwise gate gradients and one small product
// dgates[rows, 3H] @ W_hh[3H, H]; the weight gradients and the gradient of the
// layer's input are three large products after the loop, the bias gradients
// running sums per batch row kept inside it.
//
// Layout: a layer's hidden states live in hall [T+1, B, H] (time-major, hall[0] = h0),
// so h_{t-1} of all steps is one contiguous [T*B, H] matrix for dW_hh. The saved
// gate values are gates [T, B, 4H] = (r, z, n, W_hn h + b_hn) per row. The input
// projections and their gradients keep the layout of the layer's input
// (batch-first or time-major rows), so no transposes are needed.
// Training forward saves hall and gates per layer; the forward without gradient
// saves nothing (one [T*B, 3H] projection buffer and the layer's outputs).
//
// Measured on the acoustic GRU (2 layers of 32, batch 32 x 300, one thread, 2-core
// Xeon with AVX-512), one training step: 13.2 ms with the loop as described;
// bias sums inside the loop instead of two column sums per layer -0.6 ms; the
// buffer pool below (no page faults) about -1 ms. Tried and dropped: software
// prefetch of the next step's rows (+0.3 to +0.7 ms) and the 14-bit reciprocal
// estimate with a Newton step instead of the divisions (no measurable change).

#define TORCH_ASSERT_ONLY_METHOD_OPERATORS
#include <ATen/core/Tensor.h>
#include <ATen/Parallel.h>
#include <ATen/ops/addmm.h>
#include <ATen/ops/cat.h>
#include <ATen/ops/empty.h>
#include <ATen/ops/from_blob.h>
#include <ATen/ops/zeros.h>
#include <torch/library.h>

#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <tuple>
#include <type_traits>
#include <vector>

namespace {

#if defined(__AVX512F__)
constexpr int kVecBytes = 64;
constexpr bool kManyRegisters = true;  // 32 vector registers
#elif defined(__AVX__)
constexpr int kVecBytes = 32;
constexpr bool kManyRegisters = false;  // 16
#else
constexpr int kVecBytes = 16;
constexpr bool kManyRegisters = false;
#endif

typedef float vfloat __attribute__((vector_size(kVecBytes)));
typedef double vdouble __attribute__((vector_size(kVecBytes)));
typedef int32_t vint __attribute__((vector_size(kVecBytes)));

template <typename T> struct VecOf;
template <> struct VecOf<float> { using type = vfloat; };
template <> struct VecOf<double> { using type = vdouble; };
template <typename T> using Vec = typename VecOf<T>::type;
template <typename T> constexpr int64_t kLanes = kVecBytes / sizeof(T);

template <typename V, typename T> inline V load(const T* p) {
  V v;
  std::memcpy(&v, p, sizeof(V));
  return v;
}
template <typename V, typename T> inline void store(T* p, V v) { std::memcpy(p, &v, sizeof(V)); }

template <typename V, typename S> inline V splat(S c) {
  if constexpr (std::is_arithmetic_v<V>) {
    return static_cast<V>(c);
  } else {
    return V{} + c;
  }
}

// ---------------------------------------------------------------- float math
// The same code runs on a scalar float (tails) and on a vector of floats.

inline float pow2i(float n) {  // 2^n for integral n in [-126, 127]
  int32_t bits = (static_cast<int32_t>(n) + 127) << 23;
  float out;
  std::memcpy(&out, &bits, sizeof(out));
  return out;
}
inline vfloat pow2i(vfloat n) {
  vint bits = (__builtin_convertvector(n, vint) + 127) << 23;
  return (vfloat)bits;  // GCC: a cast between vector types of one size reinterprets the bits
}

// exp, Cephes expf: Cody-Waite reduction x = n ln2 + r, |r| <= ln2/2, degree-7
// polynomial. Arguments are clamped to [-87, 88] (exp(-87) = 1.6e-38 stands in
// for smaller values: what sigmoid and tanh need); NaN propagates.
template <typename V> inline V exp_approx(V x) {
  const V hi = splat<V>(88.0f), lo = splat<V>(-87.0f), magic = splat<V>(12582912.0f);  // 1.5 * 2^23
  x = x > hi ? hi : x;
  x = x < lo ? lo : x;
  const V n = (x * 1.44269504088896341f + magic) - magic;  // round to nearest
  V r = x - n * 0.693359375f;
  r = r - n * -2.12194440e-4f;
  V p = splat<V>(1.9875691500e-4f);
  p = p * r + 1.3981999507e-3f;
  p = p * r + 8.3334519073e-3f;
  p = p * r + 4.1665795894e-2f;
  p = p * r + 1.6666665459e-1f;
  p = p * r + 5.0000001201e-1f;
  const V y = p * (r * r) + r + 1.0f;
  return y * pow2i(n);
}

template <typename V> inline V sigmoid_approx(V x) { return 1.0f / (1.0f + exp_approx(-x)); }

// tanh, Cephes tanhf: an odd polynomial below |x| = 0.625, 1 - 2 / (exp(2|x|) + 1) above.
template <typename V> inline V tanh_approx(V x) {
  const V zero = splat<V>(0.0f);
  const V ax = x < zero ? -x : x;
  const V z = x * x;
  V p = splat<V>(-5.70498872745e-3f);
  p = p * z + 2.06390887954e-2f;
  p = p * z - 5.37397155531e-2f;
  p = p * z + 1.33314422036e-1f;
  p = p * z - 3.33332819422e-1f;
  const V small = p * z * x + x;
  V large = 1.0f - 2.0f / (exp_approx(ax + ax) + 1.0f);
  large = x < zero ? -large : large;
  return ax < splat<V>(0.625f) ? small : large;
}

// double (gradcheck and tests only): the C library, one element at a time.
inline double sigmoid_approx(double x) { return 1.0 / (1.0 + std::exp(-x)); }
inline double tanh_approx(double x) { return std::tanh(x); }

// ------------------------------------------------------------ small products
// C[M, N] += A[M, K] @ B[K, N], row-major with leading dimensions. Tiles of RB
// rows by CT vectors of columns are held in registers; every element is summed
// in the same order (k = 0, 1, ...) whatever the tile, so a row's result does
// not depend on the batch size or the thread split.

template <typename T, int RB, int CT>
inline void mm_tile(const T* A, int64_t lda, int64_t K, const T* B, int64_t ldb, T* C, int64_t ldc) {
  using V = Vec<T>;
  constexpr int64_t L = kLanes<T>;
  V acc[RB][CT];
  for (int r = 0; r < RB; ++r)
    for (int c = 0; c < CT; ++c) acc[r][c] = load<V>(C + r * ldc + c * L);
  for (int64_t k = 0; k < K; ++k) {
    V b[CT];
    for (int c = 0; c < CT; ++c) b[c] = load<V>(B + k * ldb + c * L);
    for (int r = 0; r < RB; ++r) {
      const V a = splat<V>(A[r * lda + k]);
      for (int c = 0; c < CT; ++c) acc[r][c] += a * b[c];
    }
  }
  for (int r = 0; r < RB; ++r)
    for (int c = 0; c < CT; ++c) store(C + r * ldc + c * L, acc[r][c]);
}

template <typename T, int RB, int CT>
inline void mm_columns(int64_t M, const T* A, int64_t lda, int64_t K, const T* B, int64_t ldb, T* C, int64_t ldc) {
  int64_t r = 0;
  for (; r + RB <= M; r += RB) mm_tile<T, RB, CT>(A + r * lda, lda, K, B, ldb, C + r * ldc, ldc);
  for (; r < M; ++r) mm_tile<T, 1, CT>(A + r * lda, lda, K, B, ldb, C + r * ldc, ldc);
}

template <typename T>
void mm_acc(int64_t M, int64_t N, int64_t K, const T* A, int64_t lda, const T* B, int64_t ldb, T* C, int64_t ldc) {
  constexpr int64_t L = kLanes<T>;
  int64_t col = 0;
  if constexpr (kManyRegisters) {
    for (; col + 6 * L <= N; col += 6 * L) mm_columns<T, 4, 6>(M, A, lda, K, B + col, ldb, C + col, ldc);
    for (; col + 4 * L <= N; col += 4 * L) mm_columns<T, 5, 4>(M, A, lda, K, B + col, ldb, C + col, ldc);
    for (; col + 2 * L <= N; col += 2 * L) mm_columns<T, 8, 2>(M, A, lda, K, B + col, ldb, C + col, ldc);
    for (; col + L <= N; col += L) mm_columns<T, 8, 1>(M, A, lda, K, B + col, ldb, C + col, ldc);
  } else {
    for (; col + 4 * L <= N; col += 4 * L) mm_columns<T, 2, 4>(M, A, lda, K, B + col, ldb, C + col, ldc);
    for (; col + 2 * L <= N; col += 2 * L) mm_columns<T, 4, 2>(M, A, lda, K, B + col, ldb, C + col, ldc);
    for (; col + L <= N; col += L) mm_columns<T, 4, 1>(M, A, lda, K, B + col, ldb, C + col, ldc);
  }
  for (; col < N; ++col)  // scalar tail columns
    for (int64_t r = 0; r < M; ++r) {
      T acc = C[r * ldc + col];
      for (int64_t k = 0; k < K; ++k) acc = std::fma(A[r * lda + k], B[k * ldb + col], acc);
      C[r * ldc + col] = acc;
    }
}

// ------------------------------------------------------------ gate arithmetic

// One row, columns [j, j + lanes of V): gi = input projections (r, z, n; with b_ih),
// gh = W_hh h + b_hh (r, z, n), hp = h_{t-1}; writes h_t and, when training, the gates.
template <typename V, typename T>
inline void gates_forward(int64_t H, int64_t j, const T* gi, const T* gh, const T* hp, T* h, T* gates) {
  const V r = sigmoid_approx(load<V>(gi + j) + load<V>(gh + j));
  const V z = sigmoid_approx(load<V>(gi + H + j) + load<V>(gh + H + j));
  const V ghn = load<V>(gh + 2 * H + j);
  const V n = tanh_approx(load<V>(gi + 2 * H + j) + r * ghn);
  store(h + j, n + z * (load<V>(hp + j) - n));
  if (gates != nullptr) {
    store(gates + j, r);
    store(gates + H + j, z);
    store(gates + 2 * H + j, n);
    store(gates + 3 * H + j, ghn);
  }
}

template <typename T>
inline void gates_forward_row(int64_t H, const T* gi, const T* gh, const T* hp, T* h, T* gates) {
  int64_t j = 0;
  if constexpr (std::is_same_v<T, float>) {
    for (; j + kLanes<T> <= H; j += kLanes<T>) gates_forward<Vec<T>>(H, j, gi, gh, hp, h, gates);
  }
  for (; j < H; ++j) gates_forward<T>(H, j, gi, gh, hp, h, gates);
}

// Backward of one row, columns [j, j + lanes): dy = gradient from the output,
// dh = gradient carried from step t+1 (in) and dh * z (out, before the product
// with W_hh is added); writes the gradients of the input-side pre-activations
// (dgi) and of the hidden-side ones (dgh: n's is scaled by r), and adds them to
// the row's running sums for the bias gradients (dbias: r, z, n input side, n hidden side).
template <typename V, typename T>
inline void gates_backward(int64_t H, int64_t j, const T* dy, T* dh, const T* gates, const T* hp, T* dgi, T* dgh,
                           T* dbias) {
  const V one = splat<V>(1.0f);
  const V g = load<V>(dy + j) + load<V>(dh + j);
  const V r = load<V>(gates + j), z = load<V>(gates + H + j), n = load<V>(gates + 2 * H + j);
  const V ghn = load<V>(gates + 3 * H + j);
  const V dn = g * (one - z) * (one - n * n);
  const V dz = g * (load<V>(hp + j) - n) * z * (one - z);
  const V dr = dn * ghn * r * (one - r);
  const V dnr = dn * r;
  store(dgi + j, dr);
  store(dgi + H + j, dz);
  store(dgi + 2 * H + j, dn);
  store(dgh + j, dr);
  store(dgh + H + j, dz);
  store(dgh + 2 * H + j, dnr);
  store(dh + j, g * z);
  store(dbias + j, load<V>(dbias + j) + dr);
  store(dbias + H + j, load<V>(dbias + H + j) + dz);
  store(dbias + 2 * H + j, load<V>(dbias + 2 * H + j) + dn);
  store(dbias + 3 * H + j, load<V>(dbias + 3 * H + j) + dnr);
}

template <typename T>
inline void gates_backward_row(int64_t H, const T* dy, T* dh, const T* gates, const T* hp, T* dgi, T* dgh,
                               T* dbias) {
  int64_t j = 0;
  for (; j + kLanes<T> <= H; j += kLanes<T>) gates_backward<Vec<T>>(H, j, dy, dh, gates, hp, dgi, dgh, dbias);
  for (; j < H; ++j) gates_backward<T>(H, j, dy, dh, gates, hp, dgi, dgh, dbias);
}

// ------------------------------------------------------------------ layers

// Rows per thread at least: smaller splits cost more than they gain.
constexpr int64_t kGrain = 8;

struct RowLayout {  // where row (b, t) of a [*, width] matrix starts, in elements
  int64_t batch, time;
};

inline RowLayout layout(bool batch_first, int64_t T, int64_t B, int64_t width) {
  return batch_first ? RowLayout{T * width, width} : RowLayout{width, B * width};
}

template <typename T>
void layer_forward(int64_t steps, int64_t B, int64_t H, const T* gi, RowLayout gi_at, const T* w_hh_t,
                   const T* b_hh, T* hall, T* gates) {
  const int64_t G = 3 * H;
  at::parallel_for(0, B, kGrain, [&](int64_t b0, int64_t b1) {
    const int64_t rows = b1 - b0;
    std::vector<T> gh(rows * G);
    for (int64_t t = 0; t < steps; ++t) {
      const T* hp = hall + (t * B + b0) * H;
      T* h = hall + ((t + 1) * B + b0) * H;
      for (int64_t r = 0; r < rows; ++r) std::memcpy(gh.data() + r * G, b_hh, G * sizeof(T));
      mm_acc<T>(rows, G, H, hp, H, w_hh_t, G, gh.data(), G);
      for (int64_t r = 0; r < rows; ++r) {
        const int64_t b = b0 + r;
        gates_forward_row<T>(H, gi + b * gi_at.batch + t * gi_at.time, gh.data() + r * G, hp + r * H, h + r * H,
                             gates == nullptr ? nullptr : gates + (t * B + b) * 4 * H);
      }
    }
  });
}

template <typename T>
void layer_backward(int64_t steps, int64_t B, int64_t H, const T* dy, RowLayout dy_at, const T* hall,
                    const T* gates, const T* w_hh, T* dgi, RowLayout dgi_at, T* dgh, T* dh, T* dbias) {
  const int64_t G = 3 * H;
  at::parallel_for(0, B, kGrain, [&](int64_t b0, int64_t b1) {
    const int64_t rows = b1 - b0;
    for (int64_t t = steps - 1; t >= 0; --t) {
      for (int64_t b = b0; b < b1; ++b) {
        gates_backward_row<T>(H, dy + b * dy_at.batch + t * dy_at.time, dh + b * H, gates + (t * B + b) * 4 * H,
                              hall + (t * B + b) * H, dgi + b * dgi_at.batch + t * dgi_at.time,
                              dgh + (t * B + b) * G, dbias + b * 4 * H);
      }
      mm_acc<T>(rows, H, G, dgh + (t * B + b0) * G, G, w_hh, H, dh + b0 * H, H);
    }
  });
}

// ------------------------------------------------------------ work buffers

// The large per-call buffers (projections, saved states and gates, gate
// gradients: megabytes each) come from a small per-process pool instead of
// malloc: freshly mapped memory costs a page fault per 4 KiB page on first
// touch (about a thousand per training step of the acoustic GRU), and glibc
// hands large blocks back to the kernel when they are freed. The pool keeps at
// most kPoolBytes of free blocks, dropping the least recently returned ones.
class BufferPool {
 public:
  static BufferPool& instance() {
    static BufferPool* pool = new BufferPool();  // never destroyed: tensors may outlive static destructors
    return *pool;
  }

  // A block of at least `bytes` (at most 25% more); its size goes to *size.
  void* take(size_t bytes, size_t* size) {
    {
      std::lock_guard<std::mutex> guard(mutex_);
      size_t best = free_.size();
      for (size_t i = 0; i < free_.size(); ++i) {
        if (free_[i].size >= bytes && free_[i].size <= bytes + bytes / 4 &&
            (best == free_.size() || free_[i].size < free_[best].size)) {
          best = i;
        }
      }
      if (best < free_.size()) {
        void* data = free_[best].data;
        *size = free_[best].size;
        held_ -= *size;
        free_.erase(free_.begin() + best);
        return data;
      }
    }
    void* data = nullptr;
    TORCH_CHECK(posix_memalign(&data, 64, bytes) == 0, "privbench_gru: out of memory (", bytes, " bytes)");
    *size = bytes;
    return data;
  }

  void give(void* data, size_t size) {
    std::vector<void*> dropped;
    {
      std::lock_guard<std::mutex> guard(mutex_);
      free_.push_back({data, size, ++clock_});
      held_ += size;
      while (held_ > kPoolBytes) {
        size_t oldest = 0;
        for (size_t i = 1; i < free_.size(); ++i) {
          if (free_[i].stamp < free_[oldest].stamp) oldest = i;
        }
        held_ -= free_[oldest].size;
        dropped.push_back(free_[oldest].data);
        free_.erase(free_.begin() + oldest);
      }
    }
    for (void* block : dropped) std::free(block);
  }

 private:
  struct Block {
    void* data;
    size_t size;
    uint64_t stamp;
  };
  static constexpr size_t kPoolBytes = size_t(64) << 20;
  std::mutex mutex_;
  std::vector<Block> free_;
  size_t held_ = 0;
  uint64_t clock_ = 0;
};

at::Tensor work_buffer(at::IntArrayRef sizes, const at::TensorOptions& options) {
  int64_t count = 1;
  for (int64_t extent : sizes) count *= extent;
  const size_t bytes = (static_cast<size_t>(count) * options.dtype().itemsize() + 4095) / 4096 * 4096;
  if (bytes < (size_t(256) << 10)) return at::empty(sizes, options);
  size_t size = 0;
  void* data = BufferPool::instance().take(bytes, &size);
  return at::from_blob(data, sizes, [size](void* block) { BufferPool::instance().give(block, size); }, options);
}

// ------------------------------------------------------------------- ops

void check_args(const at::Tensor& input, const at::Tensor& h0, const std::vector<at::Tensor>& weights) {
  TORCH_CHECK(input.device().is_cpu(), "privbench_gru: CPU tensors only");
  TORCH_CHECK(input.dim() == 3, "privbench_gru: input must be 3-D");
  TORCH_CHECK(input.scalar_type() == at::kFloat || input.scalar_type() == at::kDouble,
              "privbench_gru: float32 or float64 only");
  TORCH_CHECK(!weights.empty() && weights.size() % 4 == 0,
              "privbench_gru: weights must be (w_ih, w_hh, b_ih, b_hh) per layer");
  for (const auto& w : weights) {
    TORCH_CHECK(w.device().is_cpu() && w.scalar_type() == input.scalar_type(),
                "privbench_gru: weights must be CPU tensors of the input's dtype");
  }
  TORCH_CHECK(h0.dim() == 3 && h0.size(0) == static_cast<int64_t>(weights.size() / 4),
              "privbench_gru: h0 must be [layers, batch, hidden]");
}

template <typename T>
void forward_layer_typed(const at::Tensor& gi, bool in_batch_first, int64_t steps, int64_t B, int64_t H,
                         const at::Tensor& w_hh_t, const at::Tensor& b_hh, at::Tensor& hall, at::Tensor* gates) {
  layer_forward<T>(steps, B, H, gi.data_ptr<T>(), layout(in_batch_first, steps, B, 3 * H), w_hh_t.data_ptr<T>(),
                   b_hh.data_ptr<T>(), hall.data_ptr<T>(), gates == nullptr ? nullptr : gates->data_ptr<T>());
}

// Returns (output, h_n, saved). saved = (hall, gates) per layer when train, else empty.
std::tuple<at::Tensor, at::Tensor, std::vector<at::Tensor>> gru_forward(const at::Tensor& input, const at::Tensor& h0,
                                                                       std::vector<at::Tensor> weights,
                                                                       bool batch_first, bool train) {
  check_args(input, h0, weights);
  const at::Tensor x = input.contiguous();
  const int64_t layers = weights.size() / 4;
  const int64_t B = x.size(batch_first ? 0 : 1), steps = x.size(batch_first ? 1 : 0);
  const int64_t H = weights[1].size(1);
  TORCH_CHECK(h0.size(1) == B && h0.size(2) == H, "privbench_gru: h0 must be [layers, batch, hidden]");
  const auto options = x.options();
  at::Tensor h_n = at::empty({layers, B, H}, options);
  std::vector<at::Tensor> saved;
  at::Tensor layer_in = x;
  bool in_batch_first = batch_first;
  for (int64_t l = 0; l < layers; ++l) {
    const at::Tensor w_ih = weights[4 * l].contiguous(), w_hh = weights[4 * l + 1];
    const at::Tensor b_ih = weights[4 * l + 2].contiguous(), b_hh = weights[4 * l + 3].contiguous();
    TORCH_CHECK(w_ih.size(0) == 3 * H && w_ih.size(1) == layer_in.size(2) && w_hh.size(0) == 3 * H &&
                    w_hh.size(1) == H && b_ih.numel() == 3 * H && b_hh.numel() == 3 * H,
                "privbench_gru: weight shapes do not match");
    // Input projections of all steps at once, in the input's row order: [rows, 3H].
    at::Tensor gi = work_buffer({steps * B, 3 * H}, options);
    at::addmm_out(gi, b_ih, layer_in.reshape({-1, layer_in.size(2)}), w_ih.t());
    const at::Tensor w_hh_t = w_hh.t().contiguous();
    at::Tensor hall = work_buffer({steps + 1, B, H}, options);
    hall.select(0, 0).copy_(h0.select(0, l));
    at::Tensor gates;
    if (train) gates = work_buffer({steps, B, 4 * H}, options);
    if (x.scalar_type() == at::kFloat) {
      forward_layer_typed<float>(gi, in_batch_first, steps, B, H, w_hh_t, b_hh, hall, train ? &gates : nullptr);
    } else {
      forward_layer_typed<double>(gi, in_batch_first, steps, B, H, w_hh_t, b_hh, hall, train ? &gates : nullptr);
    }
    h_n.select(0, l).copy_(hall.select(0, steps));
    if (train) {
      saved.push_back(hall);
      saved.push_back(gates);
    }
    layer_in = hall.narrow(0, 1, steps);  // [T, B, H], contiguous
    in_batch_first = false;
  }
  at::Tensor output;
  if (batch_first) {
    output = layer_in.transpose(0, 1).contiguous();
  } else {
    output = train ? layer_in.clone() : layer_in;  // a saved hall is never handed out
  }
  return {output, h_n, saved};
}

template <typename T>
void backward_layer_typed(const at::Tensor& dy, bool dy_batch_first, const at::Tensor& hall, const at::Tensor& gates,
                          const at::Tensor& w_hh, at::Tensor& dgi, bool in_batch_first, at::Tensor& dgh, T* dh,
                          at::Tensor& dbias, int64_t steps, int64_t B, int64_t H) {
  layer_backward<T>(steps, B, H, dy.data_ptr<T>(), layout(dy_batch_first, steps, B, H), hall.data_ptr<T>(),
                    gates.data_ptr<T>(), w_hh.data_ptr<T>(), dgi.data_ptr<T>(),
                    layout(in_batch_first, steps, B, 3 * H), dgh.data_ptr<T>(), dh, dbias.data_ptr<T>());
}

// Returns (grad_input (empty when not asked for), grad_h0, grads of weights in their order).
std::tuple<at::Tensor, at::Tensor, std::vector<at::Tensor>> gru_backward(
    const at::Tensor& grad_output, const at::Tensor& grad_h_n, const at::Tensor& input,
    std::vector<at::Tensor> weights, std::vector<at::Tensor> saved, bool batch_first, bool input_grad) {
  const at::Tensor x = input.contiguous();
  const int64_t layers = weights.size() / 4;
  TORCH_CHECK(saved.size() == static_cast<size_t>(2 * layers), "privbench_gru: saved tensors do not match");
  const int64_t B = x.size(batch_first ? 0 : 1), steps = x.size(batch_first ? 1 : 0);
  const int64_t H = weights[1].size(1), G = 3 * H, rows = steps * B;
  const auto options = x.options();
  at::Tensor dh = grad_h_n.contiguous().clone();  // carried gradient per layer; ends as grad_h0
  std::vector<at::Tensor> grads(weights.size());
  at::Tensor dy = grad_output.contiguous();
  bool dy_batch_first = batch_first;
  at::Tensor grad_input = at::empty({0}, options);
  for (int64_t l = layers - 1; l >= 0; --l) {
    const at::Tensor& hall = saved[2 * l];
    const at::Tensor& gates = saved[2 * l + 1];
    const at::Tensor layer_in = l == 0 ? x : saved[2 * (l - 1)].narrow(0, 1, steps);
    const bool in_batch_first = l == 0 ? batch_first : false;
    const at::Tensor w_ih = weights[4 * l].contiguous(), w_hh = weights[4 * l + 1].contiguous();
    at::Tensor dgi = work_buffer({rows, G}, options);  // in the layer input's row order
    at::Tensor dgh = work_buffer({rows, G}, options);  // time-major, like hall
    at::Tensor dbias = at::zeros({B, 4 * H}, options);  // per row, summed over steps
    if (x.scalar_type() == at::kFloat) {
      backward_layer_typed<float>(dy, dy_batch_first, hall, gates, w_hh, dgi, in_batch_first, dgh,
                                  dh.select(0, l).data_ptr<float>(), dbias, steps, B, H);
    } else {
      backward_layer_typed<double>(dy, dy_batch_first, hall, gates, w_hh, dgi, in_batch_first, dgh,
                                   dh.select(0, l).data_ptr<double>(), dbias, steps, B, H);
    }
    const at::Tensor bias_sums = dbias.sum(0);  // rows in a fixed order: the same whatever the threads
    const at::Tensor x2d = layer_in.reshape({rows, layer_in.size(2)});
    grads[4 * l] = dgi.t().mm(x2d);
    grads[4 * l + 1] = dgh.t().mm(hall.narrow(0, 0, steps).reshape({rows, H}));
    grads[4 * l + 2] = bias_sums.narrow(0, 0, G).clone();
    grads[4 * l + 3] = at::cat({bias_sums.narrow(0, 0, 2 * H), bias_sums.narrow(0, G, H)});
    if (l > 0) {
      dy = dgi.mm(w_ih).view({steps, B, H});
      dy_batch_first = false;
    } else if (input_grad) {
      grad_input = dgi.mm(w_ih).view(x.sizes());
    }
  }
  return {grad_input, dh, grads};
}

// Applies the kernels' own exp (0), sigmoid (1) or tanh (2) to a float32 tensor:
// for tests of their accuracy against a float64 reference.
at::Tensor gru_math(const at::Tensor& input, int64_t which) {
  TORCH_CHECK(input.scalar_type() == at::kFloat && input.device().is_cpu(), "privbench_gru.math: float32 CPU only");
  TORCH_CHECK(which >= 0 && which <= 2, "privbench_gru.math: which is 0 (exp), 1 (sigmoid) or 2 (tanh)");
  const at::Tensor x = input.contiguous();
  at::Tensor out = at::empty(x.sizes(), x.options());
  const float* src = x.data_ptr<float>();
  float* dst = out.data_ptr<float>();
  const int64_t count = x.numel(), L = kLanes<float>;
  auto apply = [which](auto v) {
    return which == 0 ? exp_approx(v) : which == 1 ? sigmoid_approx(v) : tanh_approx(v);
  };
  int64_t i = 0;
  for (; i + L <= count; i += L) store(dst + i, apply(load<vfloat>(src + i)));
  for (; i < count; ++i) dst[i] = apply(src[i]);
  return out;
}

int64_t vector_bytes() { return kVecBytes; }

}  // namespace

TORCH_LIBRARY(privbench_gru, m) {
  m.def("forward", &gru_forward);
  m.def("backward", &gru_backward);
  m.def("math", &gru_math);
  m.def("vector_bytes", &vector_bytes);
}
