"""Explorers for convolution: a 3x3 kernel applied to a photograph."""

from __future__ import annotations

import numpy as np

from ..widgets import Explorer, SettingError, Slider, explorer

#: Classic hand-made 3x3 kernels, applied as cross-correlations (the deep-learning convention).
KERNELS = {
    "identity": np.array([[0, 0, 0], [0, 1, 0], [0, 0, 0]], dtype=float),
    "box blur": np.full((3, 3), 1 / 9),
    "Gaussian blur": np.array([[1, 2, 1], [2, 4, 2], [1, 2, 1]], dtype=float) / 16,
    "sharpen": np.array([[0, -1, 0], [-1, 5, -1], [0, -1, 0]], dtype=float),
    "Sobel x": np.array([[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]], dtype=float),  # brightness rising to the right
    "Sobel y": np.array([[-1, -2, -1], [0, 0, 0], [1, 2, 1]], dtype=float),  # brightness rising downwards
    "Laplacian": np.array([[0, 1, 0], [1, -4, 1], [0, 1, 0]], dtype=float),
    "emboss": np.array([[-2, -1, 0], [-1, 1, 1], [0, 1, 2]], dtype=float),
}


def photo_crop() -> np.ndarray:
    """The Grace Hopper photograph at half resolution, cropped to the flag's stars and her face: 160 x 180 pixels."""
    from ..images import load_photo

    photo = load_photo()  # (600, 512)
    half = photo[:, :].reshape(300, 2, 256, 2).mean(axis=(1, 3))  # 2x2 block means
    return half[20:180, 20:200]


def filter_image(image: np.ndarray, kernel: np.ndarray) -> np.ndarray:
    """``image`` (H, W) cross-correlated with ``kernel`` (kH, kW), without padding ('valid')."""
    from ..conv import conv2d_forward

    return conv2d_forward(image[None, None], kernel[None, None])[0, 0]


def kernel_explorer(kernels: dict[str, np.ndarray] | None = None,
                    crops: dict[str, np.ndarray] | None = None) -> Explorer:
    """A preset 3x3 kernel, a change to its centre weight, and the image it filters.

    Adding ``offset`` to the centre weight adds ``offset`` times the image to the output
    (convolution is linear), which turns edge detectors into edge enhancers and blurs into
    high-pass filters. The output is drawn on a fixed grey scale from 0 to 1 when the
    kernel's weights sum to a clearly positive number (it keeps the mean brightness
    scaled by that sum), and on a signed red-blue scale otherwise (edge detectors sum to 0,
    so their output is centred on 0).

    Args:
        kernels: name -> 3x3 array (default :data:`KERNELS`).
        crops: name -> 2-D grayscale image in [0, 1] (default: ``{"portrait": photo_crop()}``).
            With several, an image control appears (the book precomputes the first two).
    """
    import matplotlib.pyplot as plt

    kernels = {name: np.asarray(k, dtype=float) for name, k in (kernels or KERNELS).items()}
    for name, k in kernels.items():
        if k.shape != (3, 3):
            raise ValueError(f"kernel {name!r} must be 3x3, got shape {k.shape}")
    crops = dict(crops) if crops is not None else {"portrait": photo_crop()}
    if not crops:
        raise ValueError("crops is empty")
    offsets = [-4.0, -2.0, -1.0, -0.5, -0.25, 0.0, 0.25, 0.5, 1.0, 2.0, 4.0]

    def render(kernel, offset, image=next(iter(crops))):
        base = kernels[kernel]
        k = base.copy()
        k[1, 1] += offset
        if not np.isfinite(k).all():
            raise SettingError(f"the {kernel} kernel has weights that are not finite numbers, so every output "
                               "pixel would be NaN or inf. Choose another kernel.")
        if not np.any(k):
            raise SettingError(f"every weight of the kernel is 0 (the {kernel} kernel's centre weight "
                               f"{base[1, 1]:g} plus the offset {offset:g}), so every output pixel is 0: there is "
                               "no picture to show. Move the centre offset.")
        picture = crops[image]
        out = filter_image(picture, k)
        if not np.isfinite(out).all():
            raise SettingError(f"the output of the {kernel} kernel on the {image} image is not finite.")
        total = float(k.sum())
        fig, axes = plt.subplots(1, 3, figsize=(8.0, 3.2), gridspec_kw=dict(width_ratios=[1, 0.8, 1]))
        fig.subplots_adjust(left=0.02, right=0.93, bottom=0.04, top=0.78, wspace=0.12)  # fixed: no layout engine
        axes[0].imshow(picture, cmap="gray", vmin=0, vmax=1)
        axes[0].set_title(f"input: {image}\n{picture.shape[0]} x {picture.shape[1]} pixels", fontsize=9)
        limit = float(np.abs(k).max())
        axes[1].imshow(k, cmap="RdBu_r", vmin=-limit, vmax=limit)
        for (i, j), w in np.ndenumerate(k):
            axes[1].text(j, i, f"{w:.3g}", ha="center", va="center", fontsize=10,
                         color="white" if abs(w) > 0.6 * limit else "black")
        axes[1].set_title(f"kernel (weights sum to {total:.3g})", fontsize=9)
        if total > 0.05:  # keeps (a fraction of) the brightness: a fixed grey scale shows it honestly
            shown = axes[2].imshow(out, cmap="gray", vmin=0, vmax=1)
            clipped = float(np.mean((out < 0) | (out > 1)))
            axes[2].set_title(f"output, grey scale 0 to 1\n{clipped:.0%} of pixels outside it (clipped)", fontsize=9)
        else:  # sums to about 0 (or less): signed values around 0
            scale = float(np.percentile(np.abs(out), 99)) or float(np.abs(out).max())
            shown = axes[2].imshow(out, cmap="RdBu_r", vmin=-(scale or 1.0), vmax=scale or 1.0)
            axes[2].set_title("output, signed: red > 0, blue < 0\n" + ("(scale: 99th percentile of |output|)"
                              if scale else "0 everywhere: the image has no such feature"), fontsize=9)
        cax = fig.add_axes([0.94, 0.08, 0.012, 0.66])
        fig.colorbar(shown, cax=cax)
        cax.tick_params(labelsize=7)
        for ax in axes:
            ax.set_xticks([])
            ax.set_yticks([])
        offset_text = f", centre weight {offset:+g}" if offset else ""
        fig.suptitle(f"{kernel}{offset_text}: output pixel = sum of kernel x 3x3 window of the input",
                     fontsize=10)
        return fig

    names = list(kernels)
    controls = [
        Slider("kernel", names, label="kernel", value=names[0]),
        Slider("offset", offsets, label="added to the centre weight", book_values=[-1.0, 0.0, 1.0], value=0.0),
    ]
    if len(crops) > 1:
        controls.append(Slider("image", list(crops), label="image", book_values=list(crops)[:2], value=list(crops)[0]))
    return explorer(render, controls, title="A 3x3 kernel on a photograph", dpi=64)
