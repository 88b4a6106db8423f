// The colour autoencoder's layer table, for the fused step (fused.cpp) and the evaluation forward
// (forward.cpp): each linear layer's widths, and where its weight and bias sit in one seed's parameters.
// The order is model.py's: 3 → H (× depth) → K, then K → H (× depth) → 3, each layer's weight [out, in]
// then its bias [out] (fused.model_params flattens a model's parameters in that order).

#pragma once

#include <vector>

namespace {

struct Layers {
  int K, H, depth;
  std::vector<int> in, out, w_off, b_off;  // per layer: widths and offsets into one seed's parameters
  int P = 0;                               // parameters per seed

  Layers(int k, int h, int d) : K(k), H(h), depth(d) {
    in.push_back(3);
    for (int i = 0; i < d; ++i) out.push_back(H), in.push_back(H);
    out.push_back(K), in.push_back(K);
    for (int i = 0; i < d; ++i) out.push_back(H), in.push_back(H);
    out.push_back(3);
    for (size_t l = 0; l < out.size(); ++l) {
      w_off.push_back(P), P += out[l] * in[l];
      b_off.push_back(P), P += out[l];
    }
  }

  int n_layers() const { return int(out.size()); }
  int n_enc() const { return depth + 1; }  // the encoder's layers; the decoder's follow
  int widest() const { return H > K ? (H > 3 ? H : 3) : (K > 3 ? K : 3); }
};

}  // namespace
