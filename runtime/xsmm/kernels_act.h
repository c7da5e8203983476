// kernels_act.h — the epilogue activations, shared by netc (which picks
// them) and kernels.h (which applies them).
#ifndef NETC_KERNELS_ACT_H
#define NETC_KERNELS_ACT_H

enum { KERN_ACT_NONE, KERN_ACT_RELU, KERN_ACT_SIGMOID, KERN_ACT_TANH };

// Activations with a parameter (leaky_relu's slope, elu's alpha): a layer
// kernel applies none of them; the emitted code calls kern_act_alpha on the
// layer's output right after it (kernels.h), so the kernels' signatures
// stay those of the parameterless epilogues.
enum { KERN_ACT_LEAKY_RELU = 16, KERN_ACT_ELU };
#define KERN_ACT_HAS_ALPHA(act) ((act) >= KERN_ACT_LEAKY_RELU)

#endif
