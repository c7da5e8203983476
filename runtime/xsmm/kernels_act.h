// kernels_act.h — the epilogue activations, shared by netc (which picks
// them) and kernels.h (which applies them).
#ifndef NETC_KERNELS_ACT_H
#define NETC_KERNELS_ACT_H

enum { KERN_ACT_NONE, KERN_ACT_RELU, KERN_ACT_SIGMOID, KERN_ACT_TANH };

#endif
