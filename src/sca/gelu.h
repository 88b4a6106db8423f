// The float and double exp and GELU of the fused kernels (fused.cpp trains with them, forward.cpp
// evaluates with them), in plain arithmetic whose every operation rounds once (no fused multiply-add),
// branch-free so that loops over samples vectorise.

#pragma once

#include <cmath>
#include <cstdint>
#include <cstring>

namespace {

// exp for float: Cody-Waite reduction and Cephes' polynomial, branch-free so that loops vectorise.
inline float exp_f(float x) {
  x = x < -87.0f ? -87.0f : (x > 88.0f ? 88.0f : x);
  float k = x * 1.44269504088896341f + 12582912.0f;  // round to nearest integer
  k = k - 12582912.0f;
  float r = x - k * 0.693359375f;
  r = r - k * -2.12194440e-4f;
  float p = 1.9875691500e-4f;
  p = p * r + 1.3981999507e-3f;
  p = p * r + 8.3334519073e-3f;
  p = p * r + 4.1665795894e-2f;
  p = p * r + 1.6666665459e-1f;
  p = p * r + 5.0000001201e-1f;
  float y = p * (r * r) + r + 1.0f;
  int32_t bits = (static_cast<int32_t>(k) + 127) << 23;
  float scale;
  std::memcpy(&scale, &bits, sizeof scale);
  return y * scale;
}

// GELU, 0.5·x·(1 + erf(x/√2)), and its slope Φ(x) + x·φ(x), for float: erf by Abramowitz & Stegun
// 7.1.26 (|error| < 1.5e-7; the formula of PyTorch's vectorised float erf), whose exp(-x²/2) is also
// the Gaussian density's, so the slope costs no second exponential.
inline float gelu_f(float x, float& slope) {
  float a = (x < 0.0f ? -x : x) * 0.70710678118654752440f;
  float t = 1.0f / (1.0f + 0.3275911f * a);
  float p = 1.061405429f;
  p = p * t + -1.453152027f;
  p = p * t + 1.421413741f;
  p = p * t + -0.284496736f;
  p = p * t + 0.254829592f;
  float gauss = exp_f(-a * a);
  float erf = 1.0f - p * t * gauss;
  float cdf = 0.5f * (1.0f + (x < 0.0f ? -erf : erf));
  slope = cdf + x * gauss * 0.39894228040143267794f;
  return x * cdf;
}

inline double exp_f(double x) { return std::exp(x); }
inline double gelu_f(double x, double& slope) {
  double cdf = 0.5 * (1.0 + std::erf(x * 0.70710678118654752440));
  slope = cdf + x * std::exp(-0.5 * x * x) * 0.39894228040143267794;
  return x * cdf;
}

}  // namespace
