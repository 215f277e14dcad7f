"""Explorer for adversarial examples: an FGSM budget against a handful of digits, with the network's answer."""

from __future__ import annotations

import numpy as np

from ..widgets import Explorer, SettingError, Slider, explorer

EPSILONS = (0.0, 0.02, 0.05, 0.1, 0.15, 0.2, 0.3, 0.5)
BOOK_EPSILONS = (0.0, 0.05, 0.1, 0.2, 0.3, 0.5)  # precomputed for the book: 6 x images frames
MAX_EPSILON = 0.3  # beyond this the "small" perturbation can rewrite half the intensity range


def fgsm_explorer(model, images, labels, epsilons=EPSILONS) -> Explorer:
    r"""The fast gradient sign attack on a few digits, for a range of budgets :math:`\epsilon`.

    Every frame is precomputed when the explorer is built (one FGSM step per image and
    budget, :func:`nblib.adversarial.fgsm`), so moving a slider only draws. Each frame
    shows the clean image with the network's answer, the perturbation
    :math:`x_{\mathrm{adv}} - x` (at most :math:`\epsilon` per pixel, after clipping to
    :math:`[0, 1]`), the attacked image with the new answer, and the class probabilities
    before and after.

    A budget above ``MAX_EPSILON`` gives a message instead: with :math:`\epsilon \ge 0.5`
    the attack may move every pixel across half the intensity range, so the result is no
    longer a small change of the same image, and "the network was fooled" stops being
    a meaningful statement.

    Args:
        model: a trained classifier of ``(N, 1, 8, 8)`` images in ``[0, 1]``, in ``eval()`` mode.
        images: ``(N, 1, 8, 8)`` or ``(N, 64)`` tensor or array, ``1 <= N <= 8``.
        labels: ``(N,)`` true labels.
        epsilons: the budgets on the slider (all of them precomputed).
    """
    import torch

    from .. import _checks
    from ..adversarial import fgsm

    if not isinstance(model, torch.nn.Module):
        raise TypeError(f"model must be a torch.nn.Module, got {type(model).__name__}")
    X = images.detach().cpu().numpy() if isinstance(images, torch.Tensor) else images
    X = _checks.as_array(X, "images").astype(np.float32).reshape(-1, 1, 8, 8)
    y = labels.detach().cpu().numpy() if isinstance(labels, torch.Tensor) else labels
    y = _checks.as_labels(y, "labels", n=len(X))
    if not 1 <= len(X) <= 8:
        raise ValueError(f"images must hold between 1 and 8 images, got {len(X)}")
    eps_values = tuple(float(e) for e in _checks.as_array(list(epsilons), "epsilons", ndim=1))
    if any(e < 0 for e in eps_values):
        raise ValueError("epsilons must be >= 0")
    xt, yt = torch.from_numpy(X), torch.from_numpy(y)
    with torch.no_grad():
        clean = torch.softmax(model(xt), dim=1).numpy()  # (N, C)
    adv, probs = {}, {}
    for e in eps_values:
        if e > MAX_EPSILON:
            continue
        x_adv = fgsm(model, xt, yt, e)
        with torch.no_grad():
            probs[e] = torch.softmax(model(x_adv), dim=1).numpy()
        adv[e] = x_adv.numpy()
    n_classes = clean.shape[1]

    def render(image, epsilon):
        import matplotlib.pyplot as plt

        if epsilon > MAX_EPSILON:
            raise SettingError(f"With epsilon = {epsilon:g} every pixel may move by {epsilon:g} of the whole [0, 1] "
                               "range: the attack can paint a different digit, so the result is no longer a small "
                               f"change of the same image. Adversarial examples are about budgets up to about "
                               f"{MAX_EPSILON:g} here; pick a smaller epsilon.")
        x0, xa = X[image, 0], adv[epsilon][image, 0]
        p0, pa = clean[image], probs[epsilon][image]
        fig, axes = plt.subplots(1, 4, figsize=(10, 2.6), gridspec_kw={"width_ratios": [1, 1, 1, 1.6]})
        for ax, data, title, cmap, lim in (
                (axes[0], x0, f"clean: says {p0.argmax()} ({p0.max():.0%})", "gray_r", (0, 1)),
                (axes[1], xa - x0, f"perturbation (max {np.abs(xa - x0).max():.2f})", "RdBu_r", (-0.3, 0.3)),
                (axes[2], xa, f"attacked: says {pa.argmax()} ({pa.max():.0%})", "gray_r", (0, 1))):
            ax.imshow(data, cmap=cmap, vmin=lim[0], vmax=lim[1])
            ax.set_title(title, fontsize=9)
            ax.set_xticks([])
            ax.set_yticks([])
        ax = axes[3]
        k = np.arange(n_classes)
        ax.bar(k - 0.2, p0, width=0.4, color="grey", label="clean")
        ax.bar(k + 0.2, pa, width=0.4, color="C3", label="attacked")
        ax.set_xticks(k)
        ax.set_ylim(0, 1.05)
        ax.set_xlabel(f"class (true label {y[image]})")
        ax.set_ylabel("probability")
        ax.set_title(f"epsilon = {epsilon:g}", fontsize=9)
        ax.legend(fontsize=8, loc="upper right")
        fig.subplots_adjust(left=0.01, right=0.99, bottom=0.2, top=0.86, wspace=0.25)
        return fig

    controls = [
        Slider("image", tuple(range(len(X))), label="test image", value=0, fmt="{:d}"),
        Slider("epsilon", eps_values, label="FGSM budget epsilon (pixel units)",
               book_values=[e for e in eps_values if e in BOOK_EPSILONS] or None,
               value=0.1 if 0.1 in eps_values else None, fmt="{:g}"),
    ]
    return explorer(render, controls, title="FGSM: one signed gradient step against the digits CNN", dpi=64)
