// The regularizers of the fused step (fused.cpp): each term's value for one seed's batch and its gradient
// with respect to the latent it reads. The formulas are regularizers.py's (tests/test_fused.py checks every
// gradient against autograd); sums over the batch run in a fixed order (lanes.h).

#pragma once

#include <cmath>
#include <cstring>
#include <vector>

#include "lanes.h"

namespace {

enum Kind { ANCHOR = 0, ANGULAR = 1, ANTI = 2, SEPARATE = 3, UNITARITY = 4, SUBSPACE = 5 };
enum Field { KIND, LAYER, UNIT, LABELS, POWER, SHIFT, HEMI, DIMS, N_FIELDS };  // regs_i row; LAYER: 0 pre, 1 post

// n[b] = ‖v[:, b]‖ for a [K][B] latent.
template <typename T>
void norms(const T* v, T* n, int K, int B) {
  for (int b = 0; b < B; ++b) n[b] = 0;
  for (int k = 0; k < K; ++k)
    for (int b = 0; b < B; ++b) n[b] += v[k * B + b] * v[k * B + b];
  for (int b = 0; b < B; ++b) n[b] = std::sqrt(n[b]);
}

// One seed's regularizers on batches of B samples with K latent dims and L label kinds; latents and their
// gradients are feature-major, [K][B], so the loops over samples vectorise.
template <typename T>
struct Regularizers {
  int B, K, L;
  static constexpr int BLOCK = 32;  // entries of a similarity row raised to the power together
  int BP;  // B rounded up to a multiple of BLOCK: the row stride of the separation's matrices
  int SP;  // the row stride of sim: BP and 8 columns that stay +0 (sum_padded reads up to 8 past a row's B)
  std::vector<T> e, en, ge, coef, loss, row;  // unit latents [K][B], their norms, gradient; per-sample values
  std::vector<T> sim, slope, ep, gep;  // [B][SP] similarities (then M), [B][BP] slopes; e and its gradient as [K][BP]

  Regularizers(int b, int k, int l) : B(b), K(k), L(l) {
    BP = (B + BLOCK - 1) & ~(BLOCK - 1);
    SP = BP + 8;
    for (auto* v : {&e, &ge}) v->assign(size_t(K) * B, 0);
    for (auto* v : {&en, &coef, &loss, &row}) v->assign(B, 0);
    sim.assign(size_t(B) * SP, 0);
    slope.assign(size_t(B) * BP, 0);
    ep.assign(size_t(K) * BP, 0);
    gep.assign(BP, 0);
  }

  // e = v / (‖v‖ + 1e-8), the regularizers' own normalisation (en holds ‖v‖).
  void unit_rows(const T* v) {
    norms(v, en.data(), K, B);
    for (int k = 0; k < K; ++k)
      for (int b = 0; b < B; ++b) e[k * B + b] = v[k * B + b] / (en[b] + T(1e-8));
  }

  // Gradient through e = v / (‖v‖ + ε): g_v = g_e/(n+ε) - v (v·g_e) / (n (n+ε)²), added to gv.
  void unit_rows_back(const T* v, T* gv) {
    for (int b = 0; b < B; ++b) row[b] = 0;
    for (int k = 0; k < K; ++k)
      for (int b = 0; b < B; ++b) row[b] += v[k * B + b] * ge[k * B + b];
    for (int k = 0; k < K; ++k)
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
    for (int j = 0; j < B; ++j) {
      T ekj = ep[k * BP + j];
      const T* m = sim.data() + size_t(j) * SP;
      for (int b = 0; b < N; ++b) acc[b] += m[b] * ekj;
    }
    for (int b = 0; b < B; ++b) ge[k * B + b] = acc[b];
  }

  // One regularizer's term (a batch mean, or a mean over labelled samples) and its gradient, scaled by
  // the schedule weight w, added to glat (the gradient of the latent v it reads).
  T regularizer(const int* r, const double* dir, const T* v, const T* labels, T w, T* glat) {
    int kind = r[KIND];
    // Per-sample weights: the sum of the selected labels clamped to [0, 1], or 1/B for a batch mean.
    T total;
    if (r[LABELS]) {
      for (int b = 0; b < B; ++b) coef[b] = 0;
      for (int l = 0; l < L; ++l)
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
    else if (kind == UNITARITY) norms(v, loss.data(), K, B), std::memcpy(row.data(), loss.data(), sizeof(T) * B);
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
};

}  // namespace
