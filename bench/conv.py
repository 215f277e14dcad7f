"""nblib's im2col convolution against torch.nn.functional.conv2d on CPU; prints time ratios.

Two shapes: the digits CNN's first layer (8x8 images) and a larger 28x28 layer. For
each, the forward pass alone and forward plus backward (nblib's conv2d_backward
against torch's autograd), float32, the same threads for both, the median of several
repeats after a warm-up. The outputs are checked to agree before anything is timed.
No target is set: the ratio shows what a readable NumPy im2col costs against torch's
tuned kernels.

Usage: python bench/conv.py [--repeats 21] [--threads 1]
"""

from __future__ import annotations

import numpy as np
import torch

from epoch import median_seconds, run_from_command_line
from nblib.conv import conv2d_backward, conv2d_forward

# (name, batch, in channels, out channels, image side, kernel, padding)
SHAPES = [("digits layer 1", 64, 1, 16, 8, 3, 1), ("28x28 layer", 32, 16, 32, 28, 3, 1)]


def run(args) -> dict:
    rng = np.random.default_rng(0)
    results = {}
    for name, n, c_in, c_out, side, k, pad in SHAPES:
        x = rng.standard_normal((n, c_in, side, side)).astype(np.float32)
        w = (rng.standard_normal((c_out, c_in, k, k)) / np.sqrt(c_in * k * k)).astype(np.float32)
        b = np.zeros(c_out, np.float32)
        xt = torch.from_numpy(x).requires_grad_()
        wt, bt = torch.from_numpy(w).requires_grad_(), torch.from_numpy(b).requires_grad_()
        out = conv2d_forward(x, w, b, padding=pad)
        reference = torch.nn.functional.conv2d(xt, wt, bt, padding=pad)
        np.testing.assert_allclose(out, reference.detach().numpy(), rtol=1e-4, atol=1e-4)
        grad = np.ones_like(out)

        t_fwd = median_seconds(lambda: conv2d_forward(x, w, b, padding=pad), args.repeats)
        t_fwd_torch = median_seconds(lambda: torch.nn.functional.conv2d(xt.detach(), wt.detach(), bt.detach(),
                                                                        padding=pad), args.repeats)
        t_fb = median_seconds(lambda: (conv2d_forward(x, w, b, padding=pad),
                                       conv2d_backward(grad, x, w, padding=pad)), args.repeats)

        def torch_fb():
            xt.grad = wt.grad = bt.grad = None
            torch.nn.functional.conv2d(xt, wt, bt, padding=pad).sum().backward()
        t_fb_torch = median_seconds(torch_fb, args.repeats)
        results[name] = {"forward_ratio": t_fwd / t_fwd_torch, "forward_backward_ratio": t_fb / t_fb_torch,
                         "nblib_forward_ms": t_fwd * 1e3, "torch_forward_ms": t_fwd_torch * 1e3}
        print(f"{name:>15} ({n}x{c_in}x{side}x{side} -> {c_out} ch, {k}x{k}): forward {t_fwd * 1e3:7.2f} ms vs "
              f"{t_fwd_torch * 1e3:6.2f} ms (ratio {t_fwd / t_fwd_torch:5.1f}); forward+backward ratio "
              f"{t_fb / t_fb_torch:5.1f}")
    return results


def main() -> None:
    run_from_command_line(run, __doc__, repeats=21)


if __name__ == "__main__":
    main()
