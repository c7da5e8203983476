#!/usr/bin/env python3
"""The oracle of image_resize (runtime/data/image_resize.c): torch's
antialiased bilinear interpolation on images of bytes / 255, written to
tests/data/fixtures/resize.bin for test_resize.c, which needs no torch.

usage: /usr/bin/python3 tests/data/make_resize_fixture.py [OUT]

Each case is an image of random bytes [h, w, c] (as a decoder gives it)
and torch's
    F.interpolate(x[None], size=(oh, ow), mode="bilinear",
                  align_corners=False, antialias=True)[0]
of x = its float [c, h, w] / 255 (torchvision's Resize default on a float
tensor).  Format, little-endian: "NRSZ", u32 version 1, u32 cases; per
case i32 c, h, w, oh, ow, u8 [h, w, c], f32 [c, oh, ow].
"""
import os
import struct
import sys

import numpy as np
import torch
import torch.nn.functional as F

# (c, h, w, oh, ow): identity, shrinking by integer and fractional
# factors, growing, one side each way, one side only, degenerate sides.
CASES = [
    (1, 28, 28, 28, 28),
    (1, 64, 48, 28, 28),
    (3, 17, 23, 32, 32),
    (3, 50, 10, 20, 30),
    (1, 7, 300, 7, 16),
    (1, 90, 6, 13, 6),
    (3, 128, 128, 16, 16),
    (3, 33, 31, 32, 32),
    (1, 5, 5, 64, 64),
    (1, 1, 5, 3, 1),
    (3, 40, 30, 64, 64),
    (3, 101, 203, 7, 9),
]


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "fixtures", "resize.bin")
    rng = np.random.default_rng(20261129)
    blob = [b"NRSZ", struct.pack("<II", 1, len(CASES))]
    for c, h, w, oh, ow in CASES:
        # Random bytes are the hardest case for rounding (no smooth areas);
        # every other case gets a smooth ramp added so interpolation shows.
        pix = rng.integers(0, 256, size=(h, w, c), dtype=np.uint8)
        if len(blob) % 2:
            ramp = (np.arange(h)[:, None, None] * 7 + np.arange(w)[None, :, None] * 3) % 256
            pix = ((pix.astype(np.int64) // 4 + ramp) % 256).astype(np.uint8)
        x = torch.from_numpy(pix).permute(2, 0, 1).float() / 255
        y = F.interpolate(x[None], size=(oh, ow), mode="bilinear", align_corners=False, antialias=True)[0]
        blob += [struct.pack("<5i", c, h, w, oh, ow), pix.tobytes(), y.contiguous().numpy().astype("<f4").tobytes()]
    with open(out, "wb") as f:
        f.write(b"".join(blob))
    print(f"{out}: {len(CASES)} cases (torch {torch.__version__})")


if __name__ == "__main__":
    main()
