// The colour autoencoder's forward pass in eval mode, for evaluation: encode N colours to their latents,
// and decode latents to each colour's squared reconstruction error. An intervention acts on the latents
// between the two calls (in PyTorch, interventions.py), so each formula lives in one place.
//
// The formulas are those of model.py in eval mode (outputs clamped to [0, 1]); tests/test_forward.py
// compares them with the model's own forward. One seed at a time, BLOCK colours at a time, in
// feature-major blocks so that the loops over colours vectorise and a seed's weights and activations stay
// in the L1 cache: PyTorch's batched matrix products with 3 or 4 inputs spend most of their time
// passing [S, N, 16] tensors through memory. Built as fused.cpp is (fused.py), so every operation rounds once.

#include <cstddef>
#include <vector>

#include "gelu.h"
#include "layers.h"

namespace {

constexpr int BLOCK = 64;  // colours per block

struct Forward : Layers {
  std::vector<float> a, b;  // activations [width][BLOCK], ping-pong

  Forward(int k, int h, int d) : Layers(k, h, d), a(size_t(widest()) * BLOCK), b(a.size()) {}

  // Layers [first, last) from `a`, GELU after all but the last; the result is left in `a`.
  void run(const float* p, int first, int last) {
    for (int l = first; l < last; ++l) {
      const float* W = p + w_off[l];
      const float* bias = p + b_off[l];
      const int n_in = in[l];
      const float* x = a.data();
      for (int o = 0; o < out[l]; ++o) {
        float* y = b.data() + o * BLOCK;
        const float* w = W + o * n_in;
        for (int j = 0; j < BLOCK; ++j) y[j] = bias[o];
        for (int i = 0; i < n_in; ++i) {
          const float wi = w[i];
          const float* xi = x + i * BLOCK;
          for (int j = 0; j < BLOCK; ++j) y[j] += wi * xi[j];
        }
        if (l < last - 1) {
          float slope;
          for (int j = 0; j < BLOCK; ++j) y[j] = gelu_f(y[j], slope);
        }
      }
      a.swap(b);
    }
  }

  // Colours [n, 3] (n ≤ BLOCK) into a; the rest of the block is zero.
  void load(const float* v, int n, int width) {
    for (int c = 0; c < width; ++c)
      for (int j = 0; j < BLOCK; ++j) a[c * BLOCK + j] = j < n ? v[size_t(j) * width + c] : 0.0f;
  }

  void encode(const float* p, const float* x, int n, int normalize, float* z) {
    load(x, n, 3);
    run(p, 0, n_enc());
    float* norm = b.data();
    for (int j = 0; j < BLOCK; ++j) norm[j] = 0;
    for (int k = 0; k < K; ++k)
      for (int j = 0; j < BLOCK; ++j) norm[j] += a[k * BLOCK + j] * a[k * BLOCK + j];
    for (int j = 0; j < BLOCK; ++j) {
      float r = std::sqrt(norm[j]);
      norm[j] = normalize ? (r > 1e-12f ? r : 1e-12f) : 1.0f;
    }
    for (int k = 0; k < K; ++k)
      for (int j = 0; j < BLOCK; ++j) a[k * BLOCK + j] = normalize ? a[k * BLOCK + j] / norm[j] : a[k * BLOCK + j];
    for (int j = 0; j < n; ++j)
      for (int k = 0; k < K; ++k) z[size_t(j) * K + k] = a[k * BLOCK + j];
  }

  void decode_mse(const float* p, const float* z, const float* x, int n, int sigmoid, float* mse) {
    load(z, n, K);
    run(p, n_enc(), n_layers());
    float* target = b.data();
    for (int c = 0; c < 3; ++c)
      for (int j = 0; j < BLOCK; ++j) target[c * BLOCK + j] = j < n ? x[size_t(j) * 3 + c] : 0.0f;
    for (int i = 0; i < 3 * BLOCK; ++i) {
      float y = sigmoid ? 1.0f / (1.0f + exp_f(-a[i])) : a[i];
      y = y < 0.0f ? 0.0f : (y > 1.0f ? 1.0f : y);
      a[i] = (y - target[i]) * (y - target[i]);
    }
    for (int j = 0; j < n; ++j) mse[j] = (a[j] + a[BLOCK + j] + a[2 * BLOCK + j]) / 3.0f;
  }
};

}  // namespace

extern "C" {

// z [S, N, K]: the latents of colours x [N, 3] (the same for every seed) under params [S, P]; normalised
// onto the unit sphere unless `normalize` is 0. Returns P, the parameters per seed.
int sca_encode(int S, int N, int K, int H, int depth, int normalize, const float* params, const float* x, float* z) {
  Forward f(K, H, depth);
  for (int s = 0; s < S; ++s)
    for (int i = 0; i < N; i += BLOCK) {
      int n = N - i < BLOCK ? N - i : BLOCK;
      f.encode(params + size_t(s) * f.P, x + size_t(i) * 3, n, normalize, z + (size_t(s) * N + i) * K);
    }
  return f.P;
}

// mse [S, N]: the mean over RGB of (clamp(decode(z), 0, 1) - x)² for latents z [S, N, K] of colours x [N, 3].
int sca_decode_mse(int S, int N, int K, int H, int depth, int sigmoid, const float* params, const float* z,
                   const float* x, float* mse) {
  Forward f(K, H, depth);
  for (int s = 0; s < S; ++s)
    for (int i = 0; i < N; i += BLOCK) {
      int n = N - i < BLOCK ? N - i : BLOCK;
      f.decode_mse(params + size_t(s) * f.P, z + (size_t(s) * N + i) * K, x + size_t(i) * 3, n, sigmoid,
                   mse + size_t(s) * N + i);
    }
  return f.P;
}

}  // extern "C"
