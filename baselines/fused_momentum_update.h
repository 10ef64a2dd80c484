#pragma once
// The momentum step of SGD and LARS as one pass over memory:
//   d = scale * (g + wd * p);  buf = first ? d : momentum * buf + d;  p -= lr * buf
// Written with LibTorch ops it is five passes and two temporaries per parameter (16 reads and writes of
// the parameter's size; this is 5), which on the SEM projector's 33M weights is most of the optimizer's time.
#include <ATen/core/Tensor.h>

namespace semharness {

struct MomentumUpdate {
  double scale = 1.0;  // LARS's trust factor; 1 for SGD
  double weight_decay = 0.0;
  double momentum = 0.9;
  double lr = 0.1;
};

// Whether the fused kernel takes p, g and buffer: CPU float32/float64 tensors of one shape, dtype and
// strides, dense in memory (contiguous or channels-last); an undefined buffer stands for the first step.
bool has_fused_momentum_update(const at::Tensor& p, const at::Tensor& g, const at::Tensor& buffer);

// Runs the step in place; on the first step (buffer undefined) allocates the buffer. Requires
// has_fused_momentum_update(p, g, buffer).
void fused_momentum_update(at::Tensor& p, const at::Tensor& g, at::Tensor& buffer, const MomentumUpdate& update);

}  // namespace semharness
