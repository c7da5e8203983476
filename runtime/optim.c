// optim.c — SGD, Adam/AdamW (with AMSGrad) and RMSprop, one pass over the
// trainable block.
//
// The arithmetic follows torch 1.13's single-tensor code paths
// (torch/optim/sgd.py _single_tensor_sgd, adam.py _single_tensor_adam,
// adamw.py _single_tensor_adamw, rmsprop.py _single_tensor_rmsprop)
// operation by operation, in float, with the scalar factors (bias corrections, step size) computed in double as Python
// does, so the fixtures match to rounding.  ATen's vectorised add with
// alpha (add_(x, alpha=a)) is a fused multiply-add, fmadd(x, a, self);
// addcmul/addcdiv are plain multiplies and divides.  This file is built
// with -ffp-contract=off (runtime/CMakeLists.txt) and spells the fused
// operations out with fmaf, so the rounding is the same as torch's.
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "optim.h"

OptimConfig optim_config_default(OptimKind kind) {
  OptimConfig c = {0};
  c.kind = kind;
  c.lr = 1e-3;
  c.beta1 = 0.9;
  c.beta2 = 0.999;
  c.eps = 1e-8;
  c.alpha = 0.99;
  c.weight_decay = kind == OPTIM_ADAMW ? 1e-2 : 0.0;
  return c;
}

int optim_parse_kind(const char *s, OptimKind *kind) {
  if (strcmp(s, "sgd") == 0) *kind = OPTIM_SGD;
  else if (strcmp(s, "adam") == 0) *kind = OPTIM_ADAM;
  else if (strcmp(s, "adamw") == 0) *kind = OPTIM_ADAMW;
  else if (strcmp(s, "rmsprop") == 0) *kind = OPTIM_RMSPROP;
  else return -1;
  return 0;
}

const char *optim_kind_name(OptimKind kind) {
  switch (kind) {
  case OPTIM_SGD: return "sgd";
  case OPTIM_ADAM: return "adam";
  case OPTIM_ADAMW: return "adamw";
  case OPTIM_RMSPROP: return "rmsprop";
  }
  return "?";
}

int optim_state_arrays(const Optim *o, float *arrays[OPTIM_MAX_STATE]) {
  int k = 0;
  float *all[] = {o->m, o->v, o->vmax};
  for (int i = 0; i < 3; i++)
    if (all[i]) arrays[k++] = all[i];
  return k;
}

int optim_state_count(const Optim *o) {
  float *a[OPTIM_MAX_STATE];
  return optim_state_arrays(o, a);
}

static int config_check(const OptimConfig *c) {
  const char *bad = NULL;
  if (!(c->lr >= 0) || !isfinite(c->lr)) bad = "learning rate must be a finite number >= 0";
  else if (!(c->weight_decay >= 0) || !isfinite(c->weight_decay)) bad = "weight decay must be >= 0";
  else if (!(c->momentum >= 0) || !isfinite(c->momentum)) bad = "momentum must be >= 0";
  else if (c->kind == OPTIM_SGD && c->nesterov && (c->momentum <= 0 || c->dampening != 0))
    bad = "Nesterov momentum requires a momentum > 0 and zero dampening";
  else if (c->kind != OPTIM_SGD &&
           !(c->beta1 >= 0 && c->beta1 < 1 && c->beta2 >= 0 && c->beta2 < 1))
    bad = "Adam betas must be in [0, 1)";
  else if (c->kind != OPTIM_SGD && !(c->eps >= 0)) bad = "eps must be >= 0";
  else if ((c->kind == OPTIM_SGD || c->kind == OPTIM_RMSPROP) && c->amsgrad)
    bad = "amsgrad is an Adam option";
  else if (c->kind == OPTIM_RMSPROP && !(c->alpha >= 0 && c->alpha <= 1))
    bad = "RMSprop alpha must be in [0, 1]";
  if (bad) {
    fprintf(stderr, "error: optimizer %s: %s\n", optim_kind_name(c->kind), bad);
    return -1;
  }
  return 0;
}

int optim_init(Optim *o, const OptimConfig *cfg, size_t n) {
  memset(o, 0, sizeof *o);
  if (config_check(cfg))
    return -1;
  o->cfg = *cfg;
  o->n = n;
  const int rmsprop = cfg->kind == OPTIM_RMSPROP;
  int need_m = cfg->kind != OPTIM_SGD || cfg->momentum != 0;
  int need_v = cfg->kind != OPTIM_SGD;
  int need_vmax = cfg->amsgrad || rmsprop;
  size_t bytes = (n ? n : 1) * sizeof(float);
  if (need_m && !(o->m = calloc(1, bytes))) goto oom;
  if (need_v && !(o->v = calloc(1, bytes))) goto oom;
  if (need_vmax && !(o->vmax = calloc(1, bytes))) goto oom;
  return 0;
oom:
  fprintf(stderr, "error: out of memory for optimizer state (%zu floats)\n", n);
  optim_free(o);
  return -1;
}

void optim_free(Optim *o) {
  free(o->m);
  free(o->v);
  free(o->vmax);
  o->m = o->v = o->vmax = NULL;
}

static void sgd_step(Optim *o, float *p, const float *g) {
  const OptimConfig *c = &o->cfg;
  const float lr = (float)c->lr, wd = (float)c->weight_decay;
  const float mom = (float)c->momentum, keep = (float)(1.0 - c->dampening);
  const int first = o->step == 0, nesterov = c->nesterov;
  float *buf = o->m;
  const uint8_t *decay = o->decay;
  const long n = (long)o->n;
  #pragma omp parallel for schedule(static)
  for (long i = 0; i < n; i++) {
    float d = g[i];
    if (wd != 0 && (!decay || decay[i]))
      d = fmaf(p[i], wd, d);                           // d_p.add(param, alpha=wd)
    if (buf) {
      float b = first ? d : fmaf(d, keep, buf[i] * mom); // buf.mul_(m).add_(d_p, alpha=1-damp)
      buf[i] = b;
      d = nesterov ? fmaf(b, mom, d) : b;              // d_p.add(buf, alpha=m)
    }
    p[i] = fmaf(d, -lr, p[i]);                         // param.add_(d_p, alpha=-lr)
  }
}

static void adam_step(Optim *o, float *p, const float *g) {
  const OptimConfig *c = &o->cfg;
  const int decoupled = c->kind == OPTIM_ADAMW;
  double t = (double)(o->step + 1);
  double bc1 = 1.0 - pow(c->beta1, t);
  double bc2 = 1.0 - pow(c->beta2, t);
  const float step_size = (float)(c->lr / bc1);
  const float bc2_sqrt = (float)sqrt(bc2);
  const float b1 = (float)c->beta1, b2 = (float)c->beta2;
  const float a1 = (float)(1.0 - c->beta1), a2 = (float)(1.0 - c->beta2);
  const float eps = (float)c->eps, wd = (float)c->weight_decay;
  const float shrink = (float)(1.0 - c->lr * c->weight_decay);
  float *m = o->m, *v = o->v, *vmax = o->vmax;
  const uint8_t *decay = o->decay;
  const long n = (long)o->n;
  #pragma omp parallel for schedule(static)
  for (long i = 0; i < n; i++) {
    float gi = g[i], pi = p[i];
    if (!decay || decay[i]) {                          // (an exempt float: torch's wd 0)
      if (decoupled) pi = pi * shrink;                 // param.mul_(1 - lr*wd)
      else if (wd != 0) gi = fmaf(pi, wd, gi);         // grad.add(param, alpha=wd)
    }
    float mi = fmaf(gi, a1, m[i] * b1);                // exp_avg.mul_(b1).add_(g, alpha=1-b1)
    float vi = v[i] * b2 + a2 * gi * gi;               // exp_avg_sq.mul_(b2).addcmul_(g, g, value=1-b2)
    m[i] = mi;
    v[i] = vi;
    if (vmax) vi = vmax[i] = fmaxf(vmax[i], vi);      // torch.maximum(max_exp_avg_sq, v, out=...)
    float denom = sqrtf(vi) / bc2_sqrt + eps;          // (v.sqrt() / bc2_sqrt).add_(eps)
    p[i] = pi + (-step_size * mi) / denom;             // param.addcdiv_(m, denom, value=-step_size)
  }
}

// ATen's addcmul is fused too (fma(value*t1, t2, self)), as measured on
// torch 1.13's kernels; adam_step predates that finding and keeps its
// plain multiply (within 1e-7 of torch), so trained numbers stay as they were.
static void rmsprop_step(Optim *o, float *p, const float *g) {
  const OptimConfig *c = &o->cfg;
  const float lr = (float)c->lr, wd = (float)c->weight_decay, eps = (float)c->eps;
  const float alpha = (float)c->alpha, keep = (float)(1.0 - c->alpha), mom = (float)c->momentum;
  const int centered = c->centered;
  float *sq = o->v, *buf = o->m, *avg_g = o->vmax;
  const uint8_t *decay = o->decay;
  const long n = (long)o->n;
  #pragma omp parallel for schedule(static)
  for (long i = 0; i < n; i++) {
    float gi = g[i];
    if (wd != 0 && (!decay || decay[i]))
      gi = fmaf(p[i], wd, gi);                         // grad.add(param, alpha=wd)
    float s = fmaf(keep * gi, gi, sq[i] * alpha);      // square_avg.mul_(a).addcmul_(g, g, value=1-a)
    sq[i] = s;
    float avg;
    if (centered) {
      float a = fmaf(gi, keep, avg_g[i] * alpha);      // grad_avg.mul_(a).add_(g, alpha=1-a)
      avg_g[i] = a;
      avg = sqrtf(fmaf(-1.0f * a, a, s));              // square_avg.addcmul(ga, ga, value=-1).sqrt_()
    } else {
      avg = sqrtf(s);
    }
    avg = avg + eps;                                   // avg.add_(eps)
    if (mom > 0) {
      float b = buf[i] * mom + 1.0f * gi / avg;        // buf.mul_(m).addcdiv_(g, avg)
      buf[i] = b;
      p[i] = fmaf(b, -lr, p[i]);                       // param.add_(buf, alpha=-lr)
    } else {
      p[i] = p[i] + (-lr * gi) / avg;                  // param.addcdiv_(g, avg, value=-lr)
    }
  }
}

void optim_set_lr(Optim *o, double lr) { o->cfg.lr = lr; }

void optim_set_decay_mask(Optim *o, const uint8_t *decay) { o->decay = decay; }

void optim_set_momentum(Optim *o, double momentum) {
  if (o->cfg.kind == OPTIM_SGD || o->cfg.kind == OPTIM_RMSPROP) o->cfg.momentum = momentum;
  else o->cfg.beta1 = momentum;
}

void optim_step(Optim *o, float *params, const float *grads) {
  if (o->cfg.kind == OPTIM_SGD) sgd_step(o, params, grads);
  else if (o->cfg.kind == OPTIM_RMSPROP) rmsprop_step(o, params, grads);
  else adam_step(o, params, grads);
  o->step++;
}

double optim_clip_norm(float *g, size_t n, double max_norm) {
  // Serial, in double: the sum must not depend on the thread count.
  double sum = 0;
  for (size_t i = 0; i < n; i++)
    sum += (double)g[i] * g[i];
  // torch: total_norm and the coefficient are float32 tensors.
  const float norm = (float)sqrt(sum);
  float coef = (float)max_norm / (norm + 1e-6f);
  if (coef > 1.0f)
    coef = 1.0f;
  #pragma omp parallel for schedule(static)
  for (size_t i = 0; i < n; i++)
    g[i] *= coef;
  return norm;
}

void optim_clip_value(float *g, size_t n, double clip_value) {
  const float v = (float)clip_value;
  #pragma omp parallel for schedule(static)
  for (size_t i = 0; i < n; i++)
    g[i] = g[i] < -v ? -v : g[i] > v ? v : g[i];
}
