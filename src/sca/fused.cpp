// One training step of the colour autoencoder, fused: forward, loss, backward and Adam for one seed
// at a time, in plain loops whose arithmetic runs in a fixed order. A seed's result therefore cannot
// depend on the other seeds of the call, and the loops keep that seed's weights, activations and
// [B, B] similarity matrix in the L1 cache for a whole segment of steps.
//
// The formulas are those of model.py, regularizers.py and optim.py (the eager path); the Python side
// (fused.py) documents the memory layout and tests every gradient against autograd.
//
// Built with -ffp-contract=off and without -ffast-math: every operation is a single IEEE-rounded
// one, so the vectorised and scalar code paths give the same bits, and so do builds for any vector
// width (fused.py builds with -mavx2 where the processor has it; tests/test_fused.py compares). Sums over the batch use eight
// explicit partial sums, so their order is fixed whatever the compiler vectorises.

#include <cmath>
#include <cstdint>
#include <cstring>
#include <vector>

#include "gelu.h"

namespace {

enum Kind { ANCHOR = 0, ANGULAR = 1, ANTI = 2, SEPARATE = 3, UNITARITY = 4, SUBSPACE = 5 };
enum Field { KIND, LAYER, UNIT, LABELS, POWER, SHIFT, HEMI, DIMS, N_FIELDS };  // regs_i row; LAYER: 0 pre, 1 post

struct Config {
  int S, B, K, H, depth, normalize, sigmoid, L, R;
  const int* regs;     // [R, N_FIELDS]
  const double* dirs;  // [R, K]: the anchor direction (anchor) or its unit vector (angular kinds)
};

// Σ a[i] and Σ a[i]·b[i] with eight partial sums in a fixed order.
template <typename T>
T reduce_lanes(const T* acc) {
  return ((acc[0] + acc[4]) + (acc[2] + acc[6])) + ((acc[1] + acc[5]) + (acc[3] + acc[7]));
}

template <typename T>
T sum_lanes(const T* a, int n) {
  T acc[8] = {0, 0, 0, 0, 0, 0, 0, 0};
  int i = 0;
  for (; i + 8 <= n; i += 8)
    for (int l = 0; l < 8; ++l) acc[l] += a[i + l];
  for (int l = 0; i < n; ++i, ++l) acc[l] += a[i];
  return reduce_lanes(acc);
}

// sum_lanes of a[0..n) where a[n..n+8) may be read and every a[j] there is +0 (the sum is the same bits: adding
// +0 to a lane changes nothing, and no lane is -0, as no sum of +0 and other numbers is): no scalar tail.
template <typename T>
T sum_padded(const T* a, int n) {
  T acc[8] = {0, 0, 0, 0, 0, 0, 0, 0};
  for (int i = 0; i < n; i += 8)
    for (int l = 0; l < 8; ++l) acc[l] += a[i + l];
  return reduce_lanes(acc);
}

template <typename T>
T dot_lanes(const T* a, const T* b, int n) {
  T acc[8] = {0, 0, 0, 0, 0, 0, 0, 0};
  int i = 0;
  for (; i + 8 <= n; i += 8)
    for (int l = 0; l < 8; ++l) acc[l] += a[i + l] * b[i + l];
  for (int l = 0; i < n; ++i, ++l) acc[l] += a[i] * b[i];
  return reduce_lanes(acc);
}

template <typename T>
struct Net {
  const Config& c;
  std::vector<int> in, out, w_off, b_off;  // per layer: widths and offsets into one seed's parameters
  int P = 0;
  // Activations are feature-major, [width][B], so the loops over samples vectorise.
  std::vector<std::vector<T>> h;  // h[l]: input of layer l; h[n_layers]: the output
  std::vector<std::vector<T>> u;  // u[l]: pre-activation of layer l
  std::vector<std::vector<T>> slope_gelu;  // the GELU's slope at u[l], for the backward pass
  std::vector<T> zpre, z, norm, gz, gzpre, gh, gu, e, en, ge, coef, loss, row;
  static constexpr int BLOCK = 32;  // entries of a similarity row raised to the power together
  int BP;  // B rounded up to a multiple of BLOCK: the row stride of the separation's matrices
  int SP;  // the row stride of sim: BP and 8 columns that stay +0 (sum_padded reads up to 8 past a row's B)
  std::vector<T> sim, slope, ep, gep;  // [B][BP] similarities (then M), slopes; e and its gradient as [K][BP]

  explicit Net(const Config& cfg) : c(cfg) {
    int d = c.depth;
    in.push_back(3);
    for (int i = 0; i < d; ++i) out.push_back(c.H), in.push_back(c.H);
    out.push_back(c.K), in.push_back(c.K);
    for (int i = 0; i < d; ++i) out.push_back(c.H), in.push_back(c.H);
    out.push_back(3);
    for (size_t l = 0; l < out.size(); ++l) {
      w_off.push_back(P), P += out[l] * in[l];
      b_off.push_back(P), P += out[l];
    }
    int B = c.B, wide = c.H > c.K ? c.H : c.K;
    wide = wide > 3 ? wide : 3;
    for (size_t l = 0; l <= out.size(); ++l) h.emplace_back(size_t(wide) * B);
    for (size_t l = 0; l < out.size(); ++l) u.emplace_back(size_t(wide) * B), slope_gelu.emplace_back(size_t(wide) * B);
    for (auto* v : {&zpre, &z, &gz, &gzpre, &gh, &gu, &e, &ge}) v->assign(size_t(wide) * B, 0);
    for (auto* v : {&norm, &en, &coef, &loss, &row}) v->assign(B, 0);
    BP = (B + BLOCK - 1) & ~(BLOCK - 1);
    SP = BP + 8;  // 8 columns of zeros after each row of sim, for sum_padded
    sim.assign(size_t(B) * SP, 0);
    slope.assign(size_t(B) * BP, 0);
    ep.assign(size_t(c.K) * BP, 0);
    gep.assign(BP, 0);
  }

  int n_layers() const { return int(out.size()); }
  int n_enc() const { return c.depth + 1; }

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

  // Per-sample norms of a [K][B] latent.
  void norms(const T* v, T* n) {
    int B = c.B;
    for (int b = 0; b < B; ++b) n[b] = 0;
    for (int k = 0; k < c.K; ++k)
      for (int b = 0; b < B; ++b) n[b] += v[k * B + b] * v[k * B + b];
    for (int b = 0; b < B; ++b) n[b] = std::sqrt(n[b]);
  }

  // e = v / (‖v‖ + 1e-8), the regularizers' own normalisation (en holds ‖v‖).
  void unit_rows(const T* v) {
    int B = c.B;
    norms(v, en.data());
    for (int k = 0; k < c.K; ++k)
      for (int b = 0; b < B; ++b) e[k * B + b] = v[k * B + b] / (en[b] + T(1e-8));
  }

  // Gradient through e = v / (‖v‖ + ε): g_v = g_e/(n+ε) - v (v·g_e) / (n (n+ε)²), added to gv.
  void unit_rows_back(const T* v, T* gv) {
    int B = c.B;
    for (int b = 0; b < B; ++b) row[b] = 0;
    for (int k = 0; k < c.K; ++k)
      for (int b = 0; b < B; ++b) row[b] += v[k * B + b] * ge[k * B + b];
    for (int k = 0; k < c.K; ++k)
      for (int b = 0; b < B; ++b) {
        T d = en[b] + T(1e-8);
        T radial = en[b] > 0 ? v[k * B + b] * row[b] / (en[b] * d * d) : T(0);
        gv[k * B + b] += ge[k * B + b] / d - radial;
      }
  }

  // Σ_j f(e_i·e_j) per sample, f(c) = ((c + 1)/2)^power (shift) or c^power, with f = const where c is
  // within isclose's tolerance of 1 (the sample itself, duplicates). The similarity is symmetric, so
  // row i needs only j >= i (its values count for both samples); rows start at the block holding i and
  // run to BP, so every loop works on whole blocks (the extra entries are not used).
  void separation(int power, bool shift) {
    int B = c.B, K = c.K;
    const T same = T(1.0 - (1e-8 + 1e-5));
    const T half = shift ? T(0.5) : T(1);
    for (int k = 0; k < K; ++k)
      for (int b = 0; b < BP; ++b) ep[k * BP + b] = b < B ? e[k * B + b] : T(0);
    for (int i = 0; i < B; ++i) loss[i] = 0;
    for (int i = 0; i < B; ++i) {
      int j0 = i & ~(BLOCK - 1);
      T* s = sim.data() + size_t(i) * SP;
      T* d = slope.data() + size_t(i) * BP;
      for (int j = j0; j < BP; ++j) s[j] = 0;
      for (int k = 0; k < K; ++k) {
        T ei = ep[k * BP + i];
        const T* ek = ep.data() + size_t(k) * BP;
        for (int j = j0; j < BP; ++j) s[j] += ei * ek[j];
      }
      // keep = 0 for the sample itself and duplicates; f = c^power, slope = f' = power·c^(power-1)·½ (shift);
      // c^(power-1) by repeated squaring, a block at a time: 32 entries are four independent chains of
      // AVX multiplies, which keeps the multiplier busy (one chain waits on each result; 1.3x faster).
      for (int jb = j0; jb < BP; jb += BLOCK) {
        T kp[BLOCK], cc[BLOCK], r[BLOCK], sq[BLOCK];
        for (int l = 0; l < BLOCK; ++l) {
          kp[l] = s[jb + l] < same ? T(1) : T(0);
          cc[l] = s[jb + l] * kp[l];
          cc[l] = shift ? (cc[l] + T(1)) * T(0.5) : cc[l];
          r[l] = 1;
          sq[l] = cc[l];
        }
        for (int n = power - 1; n; n >>= 1) {
          if (n & 1)
            for (int l = 0; l < BLOCK; ++l) r[l] *= sq[l];
          if (n > 1)
            for (int l = 0; l < BLOCK; ++l) sq[l] *= sq[l];
        }
        for (int l = 0; l < BLOCK; ++l) {
          s[jb + l] = r[l] * cc[l];
          d[jb + l] = r[l] * kp[l] * T(power) * half;
        }
      }
      for (int j = B; j < BP; ++j) s[j] = 0;  // the padding's powers (1/2^power with the shift) stay out of the sum
      loss[i] += sum_padded(s + i, B - i);
      for (int j = i + 1; j < B; ++j) loss[j] += s[j];
    }
  }

  // ge[k][i] = Σ_j (coef_i + coef_j) slope_ij e[k][j]: (G + Gᵀ) e with G_ij = coef_i slope_ij. The
  // matrix M_ij = (coef_i + coef_j) slope_ij is symmetric: its upper triangle is computed from the
  // rows `separation` stored and mirrored, so that the product runs over whole rows.
  void separation_back() {
    int B = c.B, K = c.K;
    for (int i = 0; i < B; ++i) {
      const T* d = slope.data() + size_t(i) * BP;
      T* m = sim.data() + size_t(i) * SP;
      T ci = coef[i];
      for (int j = i; j < B; ++j) m[j] = (ci + coef[j]) * d[j];
      for (int j = i + 1; j < B; ++j) sim[size_t(j) * SP + i] = m[j];
    }
    for (int k = 0; k < K; ++k) {
      if (BP == 64) {  // every experiment's batch: the sums stay in registers
        latent_grad<64>(k);
        continue;
      }
      T* gk = gep.data();
      for (int b = 0; b < BP; ++b) gk[b] = 0;
      for (int j = 0; j < B; ++j) {
        T ekj = ep[k * BP + j];
        const T* m = sim.data() + size_t(j) * SP;
        for (int b = 0; b < BP; ++b) gk[b] += m[b] * ekj;
      }
      for (int b = 0; b < B; ++b) ge[k * B + b] = gk[b];
    }
  }

  // ge[k][b] = Σ_j M[j][b]·e[k][j], j in order, for N = BP columns: the loop above with its sums in registers.
  template <int N>
  void latent_grad(int k) {
    T acc[N] = {};
    for (int j = 0; j < c.B; ++j) {
      T ekj = ep[k * BP + j];
      const T* m = sim.data() + size_t(j) * SP;
      for (int b = 0; b < N; ++b) acc[b] += m[b] * ekj;
    }
    for (int b = 0; b < c.B; ++b) ge[k * c.B + b] = acc[b];
  }

  // One regularizer's term (a batch mean, or a mean over labelled samples) and its gradient, scaled by
  // the schedule weight w, added to glat (the gradient of the latent v it reads).
  T regularizer(const int* r, const double* dir, const T* v, const T* labels, T w, T* glat) {
    int B = c.B, K = c.K;
    int kind = r[KIND];
    // Per-sample weights: the sum of the selected labels clamped to [0, 1], or 1/B for a batch mean.
    T total;
    if (r[LABELS]) {
      for (int b = 0; b < B; ++b) coef[b] = 0;
      for (int l = 0; l < c.L; ++l)
        if (r[LABELS] >> l & 1)
          for (int b = 0; b < B; ++b) coef[b] += labels[l * B + b];
      for (int b = 0; b < B; ++b) coef[b] = coef[b] < 0 ? T(0) : (coef[b] > 1 ? T(1) : coef[b]);
      total = sum_lanes(coef.data(), B) + T(1e-8);
    } else {
      for (int b = 0; b < B; ++b) coef[b] = 1;
      total = T(B);
    }
    bool unit = r[UNIT];
    if (kind == ANGULAR || kind == ANTI || kind == SEPARATE) {
      if (unit) std::memcpy(e.data(), v, sizeof(T) * K * B);
      else unit_rows(v);
    }
    for (int k = 0; k < K; ++k)
      for (int b = 0; b < B; ++b) ge[k * B + b] = 0;
    if (kind == SEPARATE) separation(r[POWER], r[SHIFT]);
    else if (kind == UNITARITY) norms(v, loss.data()), std::memcpy(row.data(), loss.data(), sizeof(T) * B);
    // Each sample's loss (SEPARATE: already in loss), a latent dim at a time so that the loops over samples
    // vectorise; every sample's sum over dims runs in dim order.
    if (kind == ANCHOR || kind == SUBSPACE) {
      for (int b = 0; b < B; ++b) loss[b] = 0;
      for (int k = 0; k < K; ++k) {
        const T* vk = v + k * B;
        if (kind == ANCHOR) {
          T d = T(dir[k]);
          for (int b = 0; b < B; ++b) loss[b] += (vk[b] - d) * (vk[b] - d);
        } else if (r[DIMS] >> k & 1) {  // SUBSPACE: squares of the penalised dims
          for (int b = 0; b < B; ++b) loss[b] += vk[b] * vk[b];
        }
      }
    } else if (kind == ANGULAR || kind == ANTI) {
      for (int b = 0; b < B; ++b) row[b] = 0;  // the cosine
      for (int k = 0; k < K; ++k) {
        T d = T(dir[k]);
        for (int b = 0; b < B; ++b) row[b] += e[k * B + b] * d;
      }
      for (int b = 0; b < B; ++b) {
        T cos = row[b];
        loss[b] = kind == ANGULAR ? T(1) - cos : (r[HEMI] ? (cos < 0 ? T(0) : cos) : (cos + T(1)) / T(2));
      }
    } else if (kind == UNITARITY) {
      for (int b = 0; b < B; ++b) loss[b] = (row[b] - T(1)) * (row[b] - T(1));
    }
    T term = dot_lanes(loss.data(), coef.data(), B) / total;
    // d(w·term)/d(sample b's loss) = w·coef_b/total
    for (int b = 0; b < B; ++b) coef[b] = w * coef[b] / total;
    if (kind == SEPARATE) {
      separation_back();
    } else {
      for (int k = 0; k < K; ++k) {
        const T* vk = v + k * B;
        const T d = T(dir[k]);
        T* gl = glat + k * B;
        T* gek = ge.data() + k * B;
        if (kind == ANCHOR)
          for (int b = 0; b < B; ++b) gl[b] += coef[b] * (T(2) * (vk[b] - d));
        else if (kind == ANGULAR)
          for (int b = 0; b < B; ++b) gek[b] = -coef[b] * d;
        else if (kind == ANTI)
          for (int b = 0; b < B; ++b) gek[b] = (r[HEMI] ? (row[b] >= 0 ? coef[b] : T(0)) : coef[b] / T(2)) * d;
        else if (kind == UNITARITY)
          for (int b = 0; b < B; ++b) gl[b] += row[b] > 0 ? coef[b] * (T(2) * (row[b] - T(1))) * (vk[b] / row[b]) : T(0);
        else if (kind == SUBSPACE && (r[DIMS] >> k & 1))
          for (int b = 0; b < B; ++b) gl[b] += coef[b] * (T(2) * vk[b]);
      }
    }
    if (kind == ANGULAR || kind == ANTI || kind == SEPARATE) {
      if (unit) {
        for (int i = 0; i < K * B; ++i) glat[i] += ge[i];
      } else {
        unit_rows_back(v, glat);
      }
    }
    return term;
  }

  // Loss and gradient of one seed for one batch: x [B, 3] sample-major, labels [L][B], w [R]
  // (float32 schedule weights). Writes g [P] and rec [2 + R]: loss, recon, each term (0 if w = 0).
  void loss_grad(const T* p, const T* x, const T* labels, const float* w, T* g, T* rec) {
    int B = c.B, K = c.K, nl = n_layers(), ne = n_enc();
    for (int i = 0; i < P; ++i) g[i] = 0;
    for (int b = 0; b < B; ++b)
      for (int ch = 0; ch < 3; ++ch) h[0][ch * B + b] = x[b * 3 + ch];
    run(p, 0, ne);
    std::memcpy(zpre.data(), h[ne].data(), sizeof(T) * K * B);
    if (c.normalize) {
      norms(zpre.data(), norm.data());
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
        term = regularizer(reg, c.dirs + r * K, pre ? zpre.data() : z.data(), labels, T(w[r]), glat);
        total = total + T(w[r]) * term;
      }
      rec[2 + r] = term;
    }
    rec[0] = total;
    rec[1] = recon;
    // Through the normalisation z = z_pre / max(‖z_pre‖, 1e-12): g_pre = (g - z (z·g)) / ‖z_pre‖.
    T* gtop = gu.data();
    if (c.normalize) {
      for (int b = 0; b < B; ++b) row[b] = 0;
      for (int k = 0; k < K; ++k)
        for (int b = 0; b < B; ++b) row[b] += z[k * B + b] * gz[k * B + b];
      for (int k = 0; k < K; ++k)
        for (int b = 0; b < B; ++b) {
          T n = norm[b] > T(1e-12) ? norm[b] : T(1e-12);
          T radial = norm[b] > T(1e-12) ? z[k * B + b] * row[b] : T(0);
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
