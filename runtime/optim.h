// optim.h — SGD and Adam/AdamW with torch.optim's semantics (PyTorch 1.13),
// and gradient clipping as torch.nn.utils does it, over the trainable block
// [0, n) of a model's parameters.  Frozen tensors
// sit after n_trainable, so they get no state and no updates by layout.
//
// SGD (torch.optim.SGD):  d = g + wd*p;  b = d on the first step, else
//   b = momentum*b + (1 - dampening)*d;  d = nesterov ? d + momentum*b : b;
//   p -= lr*d.  (With momentum 0 there is no buffer: p -= lr*d.)
// Adam (Kingma & Ba 2015; torch.optim.Adam):  g += wd*p (coupled L2);
//   m = b1*m + (1-b1)*g;  v = b2*v + (1-b2)*g^2;
//   p -= lr/(1-b1^t) * m / (sqrt(v)/sqrt(1-b2^t) + eps).
//   With amsgrad (Reddi et al. 2018): vmax = max(vmax, v) replaces v in the
//   denominator.
// AdamW (Loshchilov & Hutter 2019; torch.optim.AdamW): p *= 1 - lr*wd first,
//   then Adam without the L2 term.
// RMSprop (Hinton's lecture 6e; torch.optim.RMSprop):  g += wd*p;
//   s = alpha*s + (1-alpha)*g^2;  centered: a = alpha*a + (1-alpha)*g,
//   d = sqrt(s - a^2) + eps, else d = sqrt(s) + eps;  with momentum
//   b = momentum*b + g/d, p -= lr*b, else p -= lr*g/d.
#ifndef NETRT_OPTIM_H
#define NETRT_OPTIM_H

#include <stddef.h>
#include <stdint.h>

typedef enum { OPTIM_SGD, OPTIM_ADAM, OPTIM_ADAMW, OPTIM_RMSPROP } OptimKind;

typedef struct {
  OptimKind kind;
  double lr;
  double momentum, dampening;   // momentum: SGD, RMSprop; dampening: SGD
  int nesterov;                 // SGD: needs momentum > 0 and dampening 0
  double weight_decay;
  double beta1, beta2;          // Adam, AdamW
  double eps;                   // Adam, AdamW, RMSprop
  int amsgrad;                  // Adam, AdamW
  double alpha;                 // RMSprop: decay of the squared-gradient average
  int centered;                 // RMSprop: divide by the gradient's estimated variance
} OptimConfig;

#define OPTIM_MAX_STATE 3

typedef struct {
  OptimConfig cfg;
  size_t n;                     // floats updated: the trainable block
  int64_t step;                 // steps taken (checkpointed)
  float *m;                     // SGD, RMSprop momentum buffer / Adam first moment; NULL if unused
  float *v;                     // Adam second moment / RMSprop squared average; NULL for SGD
  float *vmax;                  // AMSGrad's running maximum of v / RMSprop's gradient average
  const uint8_t *decay;         // [n]: 0 exempts a float from weight decay; NULL: none exempt
} Optim;

// torch's defaults for kind: lr 1e-3 (torch's for Adam; SGD has none,
// RMSprop's 1e-2 is not used, so one --lr default serves all), momentum
// 0, betas (0.9, 0.999), eps 1e-8, alpha 0.99, weight decay 0 (AdamW: 1e-2
// as in torch).
OptimConfig optim_config_default(OptimKind kind);

// "sgd" / "adam" / "adamw" / "rmsprop" -> kind; returns 0 on success, -1 if unknown.
int optim_parse_kind(const char *s, OptimKind *kind);
const char *optim_kind_name(OptimKind kind);

// Allocates the state for n floats (zeroed).  Returns 0, or -1 (message
// on stderr) if the configuration is invalid or memory runs out.
int optim_init(Optim *o, const OptimConfig *cfg, size_t n);
void optim_free(Optim *o);

// Number of state floats per parameter (0 to OPTIM_MAX_STATE): what a
// checkpoint saves.
int optim_state_count(const Optim *o);

// The state arrays (n floats each) in the order a checkpoint stores them:
// m, v, vmax, the unused ones skipped (RMSprop keeps all three, so its
// checkpoints have one layout whatever its momentum and centering).
// Returns their count.
int optim_state_arrays(const Optim *o, float *arrays[OPTIM_MAX_STATE]);

// What a schedule changes between steps: the learning rate, and the
// momentum OneCycle cycles (SGD's momentum, Adam's beta1, as torch does).
void optim_set_lr(Optim *o, double lr);
void optim_set_momentum(Optim *o, double momentum);

// Exempts from weight decay the floats i with decay[i] == 0 (the caller
// keeps decay, n bytes, alive): what torch does for a parameter group with
// weight_decay 0, as for biases and normalisation parameters.
void optim_set_decay_mask(Optim *o, const uint8_t *decay);

// One update of params[0, n) from grads[0, n).  OpenMP-parallel.
void optim_step(Optim *o, float *params, const float *grads);

// torch.nn.utils.clip_grad_norm_(max_norm, norm_type 2) over g[0, n): the
// global 2-norm, then g *= min(max_norm / (norm + 1e-6), 1) (in float, as
// torch multiplies even by 1).  Returns the norm before clipping.
double optim_clip_norm(float *g, size_t n, double max_norm);

// torch.nn.utils.clip_grad_value_(clip_value): g = clamp(g, -v, v).
void optim_clip_value(float *g, size_t n, double clip_value);

#endif
