// One training step of the colour autoencoder, fused: forward, loss, backward and Adam for one seed
// at a time, in plain loops whose arithmetic runs in a fixed order. A seed's result therefore cannot
// depend on the other seeds of the call, and the loops keep that seed's weights, activations and
// [B, B] similarity matrix in the L1 cache for a whole segment of steps.
//
// The formulas are those of model.py, regularizers.py and optim.py (the eager path); the Python side
// (fused.py) documents the memory layout and tests every gradient against autograd. The headers hold the
// layer table (layers.h), the fixed-order sums (lanes.h), the regularizers (regularizers.h) and the exp and
// GELU (gelu.h).
//
// Built with -ffp-contract=off and without -ffast-math: every operation is a single IEEE-rounded
// one, so the vectorised and scalar code paths give the same bits, and so do builds for any vector
// width (fused.py builds for the widest this processor has; tests/test_fused.py compares). Sums over the
// batch use eight explicit partial sums (lanes.h), so their order is fixed whatever the compiler vectorises.

#include <cmath>
#include <cstdint>
#include <cstring>
#include <vector>

#include "gelu.h"
#include "lanes.h"
#include "layers.h"
#include "regularizers.h"

namespace {

struct Config {
  int S, B, K, H, depth, normalize, sigmoid, L, R;
  const int* regs;     // [R, N_FIELDS]
  const double* dirs;  // [R, K]: the anchor direction (anchor) or its unit vector (angular kinds)
};

template <typename T>
struct Net : Layers {
  const Config& c;
  Regularizers<T> terms;
  // Activations are feature-major, [width][B], so the loops over samples vectorise.
  std::vector<std::vector<T>> h;  // h[l]: input of layer l; h[n_layers]: the output
  std::vector<std::vector<T>> u;  // u[l]: pre-activation of layer l
  std::vector<std::vector<T>> slope_gelu;  // the GELU's slope at u[l], for the backward pass
  std::vector<T> zpre, z, norm, gz, gzpre, gh, gu, zg;

  explicit Net(const Config& cfg) : Layers(cfg.K, cfg.H, cfg.depth), c(cfg), terms(cfg.B, cfg.K, cfg.L) {
    size_t n = size_t(widest()) * c.B;
    for (int l = 0; l <= n_layers(); ++l) h.emplace_back(n);
    for (int l = 0; l < n_layers(); ++l) u.emplace_back(n), slope_gelu.emplace_back(n);
    for (auto* v : {&zpre, &z, &gz, &gzpre, &gh, &gu}) v->assign(n, 0);
    for (auto* v : {&norm, &zg}) v->assign(c.B, 0);
  }

  // u = W h + b for every sample.
  void linear(const T* p, int l, const T* x, T* y) {
    int B = c.B;
    const T* W = p + w_off[l];
    const T* bias = p + b_off[l];
    if (B == 64) return rows<64>(W, bias, x, y, out[l], in[l], 1, in[l]);
    for (int o = 0; o < out[l]; ++o) {
      T* yo = y + size_t(o) * B;
      for (int b = 0; b < B; ++b) yo[b] = bias[o];
      for (int i = 0; i < in[l]; ++i) {
        T w = W[o * in[l] + i];
        const T* xi = x + size_t(i) * B;
        for (int b = 0; b < B; ++b) yo[b] += w * xi[b];
      }
    }
  }

  // y[r][b] = (start[r] or 0) + Σ_q A[r·rs + q·qs]·x[q][b], q in order, for N = B samples held in registers:
  // the loops of `linear` (A = W, start = bias) and of the input gradient in `linear_back` (A = Wᵀ, no start).
  template <int N>
  void rows(const T* A, const T* start, const T* x, T* y, int n_rows, int n_terms, int qs, int rs) {
    for (int r = 0; r < n_rows; ++r) {
      T acc[N];
      for (int b = 0; b < N; ++b) acc[b] = start ? start[r] : T(0);
      for (int q = 0; q < n_terms; ++q) {
        T a = A[r * rs + q * qs];
        const T* xq = x + size_t(q) * N;
        for (int b = 0; b < N; ++b) acc[b] += a * xq[b];
      }
      for (int b = 0; b < N; ++b) y[size_t(r) * N + b] = acc[b];
    }
  }

  // Backward of `linear`: accumulates dW, db into g and writes the input's gradient to gx (if given).
  void linear_back(const T* p, int l, const T* x, const T* gy, T* g, T* gx) {
    int B = c.B, ni = in[l];
    const T* W = p + w_off[l];
    for (int o = 0; o < out[l]; ++o) {
      const T* go = gy + size_t(o) * B;
      for (int i = 0; i < ni; ++i) g[w_off[l] + o * ni + i] += dot_lanes(go, x + size_t(i) * B, B);
      g[b_off[l] + o] += sum_lanes(go, B);
    }
    if (!gx) return;
    if (B == 64) return rows<64>(W, nullptr, gy, gx, ni, out[l], ni, 1);
    for (int i = 0; i < ni; ++i) {
      T* gi = gx + size_t(i) * B;
      for (int b = 0; b < B; ++b) gi[b] = 0;
      for (int o = 0; o < out[l]; ++o) {
        T w = W[o * ni + i];
        const T* go = gy + size_t(o) * B;
        for (int b = 0; b < B; ++b) gi[b] += w * go[b];
      }
    }
  }


  // Runs layers [first, last) from h[first]; GELU after every layer but the last of the range.
  void run(const T* p, int first, int last) {
    int B = c.B;
    for (int l = first; l < last; ++l) {
      linear(p, l, h[l].data(), u[l].data());
      int n = out[l] * B;
      T* next = h[l + 1].data();
      const T* ul = u[l].data();
      T* sl = slope_gelu[l].data();
      if (l < last - 1)
        for (int i = 0; i < n; ++i) next[i] = gelu_f(ul[i], sl[i]);
      else
        for (int i = 0; i < n; ++i) next[i] = ul[i];
    }
  }

  // Backward through layers [first, last) given the gradient of h[last] in gu; leaves the gradient
  // of h[first] in gh (when want_input).
  void run_back(const T* p, int first, int last, T* g, bool want_input) {
    int B = c.B;
    std::vector<T>* cur = &gu;
    std::vector<T>* nxt = &gh;
    for (int l = last - 1; l >= first; --l) {
      if (l < last - 1) {  // through the GELU after layer l
        T* gc = cur->data();
        const T* sl = slope_gelu[l].data();
        for (int i = 0; i < out[l] * B; ++i) gc[i] *= sl[i];
      }
      bool need = l > first || want_input;
      linear_back(p, l, h[l].data(), cur->data(), g, need ? nxt->data() : nullptr);
      std::swap(cur, nxt);
    }
    if (cur != &gh) gh.swap(gu);
  }

  // Loss and gradient of one seed for one batch: x [B, 3] sample-major, labels [L][B], w [R]
  // (float32 schedule weights). Writes g [P] and rec [2 + R]: loss, recon, each term (0 if w = 0).
  void loss_grad(const T* p, const T* x, const T* labels, const float* w, T* g, T* rec) {
    int B = c.B, nl = n_layers(), ne = n_enc();
    for (int i = 0; i < P; ++i) g[i] = 0;
    for (int b = 0; b < B; ++b)
      for (int ch = 0; ch < 3; ++ch) h[0][ch * B + b] = x[b * 3 + ch];
    run(p, 0, ne);
    std::memcpy(zpre.data(), h[ne].data(), sizeof(T) * K * B);
    if (c.normalize) {
      norms(zpre.data(), norm.data(), K, B);
      for (int k = 0; k < K; ++k)
        for (int b = 0; b < B; ++b) {
          T n = norm[b] > T(1e-12) ? norm[b] : T(1e-12);
          z[k * B + b] = zpre[k * B + b] / n;
        }
    } else {
      std::memcpy(z.data(), zpre.data(), sizeof(T) * K * B);
    }
    std::memcpy(h[ne].data(), z.data(), sizeof(T) * K * B);
    run(p, ne, nl);
    T* y = h[nl].data();
    if (c.sigmoid)
      for (int i = 0; i < 3 * B; ++i) y[i] = T(1) / (T(1) + exp_f(-y[i]));
    // recon = mean squared error over samples and channels; its gradient starts the backward pass.
    T* gy = gu.data();
    for (int ch = 0; ch < 3; ++ch)
      for (int b = 0; b < B; ++b) gy[ch * B + b] = y[ch * B + b] - x[b * 3 + ch];
    T recon = dot_lanes(gy, gy, 3 * B) / T(3 * B);
    for (int i = 0; i < 3 * B; ++i) {
      gy[i] = T(2) * gy[i] / T(3 * B);
      if (c.sigmoid) gy[i] *= y[i] * (T(1) - y[i]);
    }
    run_back(p, ne, nl, g, true);  // gh: gradient of the decoder's input z
    for (int i = 0; i < K * B; ++i) gz[i] = gh[i], gzpre[i] = 0;
    T total = recon;
    for (int r = 0; r < c.R; ++r) {
      const int* reg = c.regs + r * N_FIELDS;
      T term = 0;
      if (w[r] != 0.0f) {
        bool pre = reg[LAYER] == 0 || !c.normalize;
        T* glat = pre && c.normalize ? gzpre.data() : gz.data();
        term = terms.regularizer(reg, c.dirs + r * K, pre ? zpre.data() : z.data(), labels, T(w[r]), glat);
        total = total + T(w[r]) * term;
      }
      rec[2 + r] = term;
    }
    rec[0] = total;
    rec[1] = recon;
    // Through the normalisation z = z_pre / max(‖z_pre‖, 1e-12): g_pre = (g - z (z·g)) / ‖z_pre‖.
    T* gtop = gu.data();
    if (c.normalize) {
      for (int b = 0; b < B; ++b) zg[b] = 0;
      for (int k = 0; k < K; ++k)
        for (int b = 0; b < B; ++b) zg[b] += z[k * B + b] * gz[k * B + b];
      for (int k = 0; k < K; ++k)
        for (int b = 0; b < B; ++b) {
          T n = norm[b] > T(1e-12) ? norm[b] : T(1e-12);
          T radial = norm[b] > T(1e-12) ? z[k * B + b] * zg[b] : T(0);
          gtop[k * B + b] = (gz[k * B + b] - radial) / n + gzpre[k * B + b];
        }
    } else {
      for (int i = 0; i < K * B; ++i) gtop[i] = gz[i];
    }
    run_back(p, 0, ne, g, false);
  }
};

}  // namespace

extern "C" {

// Loss and gradient for S seeds, no update (for tests): params [S, P], x [S, B, 3], labels [S, L, B],
// w [R], grads [S, P], records [S, 2 + R].
#define LOSS_GRAD(NAME, T)                                                                              \
  int NAME(int S, int B, int K, int H, int depth, int normalize, int sigmoid, int L, int R,             \
           const int* regs, const double* dirs, const T* params, const T* x, const T* labels,           \
           const float* w, T* grads, T* records) {                                                      \
    Config c{S, B, K, H, depth, normalize, sigmoid, L, R, regs, dirs};                                  \
    Net<T> net(c);                                                                                      \
    for (int s = 0; s < S; ++s)                                                                         \
      net.loss_grad(params + size_t(s) * net.P, x + size_t(s) * B * 3, labels + size_t(s) * L * B, w,   \
                    grads + size_t(s) * net.P, records + size_t(s) * (2 + R));                          \
    return net.P;                                                                                       \
  }
LOSS_GRAD(sca_loss_grad_f32, float)
LOSS_GRAD(sca_loss_grad_f64, double)

// n_steps training steps of S seeds, each seed on its own for the whole segment. params, m, v:
// [S, P]; w [n, R]; lr [n]; records [n, S, 2 + R]. t0: Adam steps taken before. Adam is
// torch.optim.Adam's formula as optim.SeedAdam writes it.
// The batches are gathered here from the pre-drawn draws, as train.py describes them: seed s's sample
// indices idx[s] [n, B] into the colours rgb [N, 3], and its uniforms unif[s] [n, L, B]; sample b carries
// label l where its uniform is below the colour's probability probs [L, N]. counts [n, S, L]: labels per step.
int sca_train(int S, int B, int K, int H, int depth, int normalize, int sigmoid, int L, int R,
              const int* regs, const double* dirs, int n_steps, int t0, float* params, float* m, float* v,
              const float* rgb, const float* probs, int N, const int64_t* const* idx, const float* const* unif,
              const float* w, const double* lr, float* records, float* counts) {
  Config c{S, B, K, H, depth, normalize, sigmoid, L, R, regs, dirs};
  Net<float> net(c);
  int P = net.P;
  std::vector<float> g(P), x(size_t(B) * 3), labels(size_t(L) * B);
  for (int s = 0; s < S; ++s) {
    float* p = params + size_t(s) * P;
    float* ms = m + size_t(s) * P;
    float* vs = v + size_t(s) * P;
    for (int t = 0; t < n_steps; ++t) {
      size_t at = size_t(t) * S + s;
      const int64_t* it = idx[s] + size_t(t) * B;
      const float* ut = unif[s] + size_t(t) * L * B;
      for (int b = 0; b < B; ++b)
        for (int ch = 0; ch < 3; ++ch) x[b * 3 + ch] = rgb[it[b] * 3 + ch];
      for (int l = 0; l < L; ++l) {
        float n = 0;
        for (int b = 0; b < B; ++b) n += labels[l * B + b] = ut[l * B + b] < probs[size_t(l) * N + it[b]] ? 1.0f : 0.0f;
        counts[at * L + l] = n;
      }
      net.loss_grad(p, x.data(), labels.data(), w + size_t(t) * R, g.data(), records + at * (2 + R));
      int step = t0 + t + 1;
      float step_size = float(lr[t] / (1.0 - std::pow(0.9, step)));
      float root2 = float(std::sqrt(1.0 - std::pow(0.999, step)));
      const float b1 = float(1.0 - 0.9), b2 = 0.999f, rb2 = float(1.0 - 0.999), eps = 1e-8f;
      for (int i = 0; i < P; ++i) {
        float gi = g[i];
        ms[i] += (gi - ms[i]) * b1;
        vs[i] = vs[i] * b2 + gi * gi * rb2;
        float denom = std::sqrt(vs[i]) / root2 + eps;
        p[i] -= ms[i] / denom * step_size;
      }
    }
  }
  return P;
}

}  // extern "C"
