// Sums over a batch in a fixed order, for the fused step (fused.cpp, regularizers.h): eight partial sums
// ("lanes") added together in one fixed order, so that a sum is the same bits whichever instructions the
// compiler picks and whatever the vector width.

#pragma once

namespace {

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

}  // namespace
