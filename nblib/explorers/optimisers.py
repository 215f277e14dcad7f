"""Explorers for optimisers: a race of five optimisers on two-dimensional loss surfaces."""

from __future__ import annotations


from ..widgets import Explorer, SettingError, Slider, explorer

#: One colour per optimiser, shared by the chapter's figures and the explorer.
RACE_COLOURS = {"SGD": "#1f77b4", "momentum": "#ff7f0e", "Nesterov": "#2ca02c", "RMSprop": "#9467bd",
                "Adam": "#d62728", "AdamW": "#8c564b"}

#: How many steps each surface's race runs: Rosenbrock's curved valley needs the most.
RACE_STEPS = {"rosenbrock": 800, "saddle": 150, "ravine": 150}


def racers(lr: float, beta: float) -> dict:
    """The five racers with one learning rate; ``beta`` is the momentum of SGD's variants and Adam's beta1.

    Returns ``{name: make_optimizer}``, each ``make_optimizer(params)`` building a fresh
    optimiser. With ``beta = 0`` momentum and Nesterov reduce to plain SGD (and are built as such,
    since Nesterov needs a positive momentum).
    """
    from ..optim import SGD, Adam, RMSprop

    def heavy_ball(params, nesterov=False):
        if beta == 0:
            return SGD(params, lr=lr)
        return SGD(params, lr=lr, momentum=beta, nesterov=nesterov)

    return {
        "SGD": lambda ps: SGD(ps, lr=lr),
        "momentum": heavy_ball,
        "Nesterov": lambda ps: heavy_ball(ps, nesterov=True),
        "RMSprop": lambda ps: RMSprop(ps, lr=lr),
        "Adam": lambda ps: Adam(ps, lr=lr, betas=(beta, 0.999)),
    }


def _left_region(path, surface) -> bool:
    """True if the run blew up, or ended outside the plotted region (so its end cannot be shown)."""
    if path.diverged:
        return True
    x0, x1, y0, y1 = surface.bounds
    x, y = path.final
    return not (x0 <= x <= x1 and y0 <= y <= y1)


def race(surface_name: str, lr: float, beta: float, steps: int | None = None) -> tuple:
    """Run the five racers on a named surface; returns ``(surface, finished, diverged)``.

    ``finished`` maps names to the trajectories that stayed in the plotted region;
    ``diverged`` lists the names of those that blew up or left it.
    """
    from ..surfaces import descend, get_surface

    surface = get_surface(surface_name)
    steps = RACE_STEPS[surface_name] if steps is None else steps
    finished, diverged = {}, []
    for name, make in racers(lr, beta).items():
        path = descend(surface, make, steps)
        if _left_region(path, surface):
            diverged.append(name)
        else:
            finished[name] = path
    return surface, finished, diverged


def optimiser_race_explorer(steps: dict[str, int] | None = None) -> Explorer:
    """SGD, momentum, Nesterov, RMSprop and Adam racing on a surface, with a shared learning rate and beta.

    Every optimiser gets the same learning rate, which is the point: the same number means a
    tiny step on one surface and an explosive one on another, and adaptive methods (RMSprop,
    Adam) measure their steps in parameter units, while SGD's scale with the gradient.
    Optimisers that diverge or leave the plotted region are named in the title; if all of
    them do, the explorer shows a message instead of a plot.

    Args:
        steps: steps per surface, e.g. ``{"rosenbrock": 800}``; defaults to ``RACE_STEPS``.
    """
    import matplotlib.pyplot as plt

    from ..surfaces import plot_gaps, plot_paths

    budget = {**RACE_STEPS, **(steps or {})}

    def render(surface, lr, beta):
        surf, finished, diverged = race(surface, lr, beta, steps=budget[surface])
        if not finished:
            raise SettingError(
                f"all five optimisers ({', '.join(diverged)}) diverged or left the plotted region of the "
                f"{surf.name} surface. A learning rate of {lr:g} is too large here; try a smaller one.")
        fig, (left, right) = plt.subplots(1, 2, figsize=(9.2, 3.7))
        fig.subplots_adjust(left=0.07, right=0.98, bottom=0.14, top=0.84, wspace=0.28)  # fixed: fast
        plot_paths(surf, finished, ax=left, colours=RACE_COLOURS, resolution=120, title=f"Paths on the {surf.name} surface")
        plot_gaps(surf, finished, ax=right, colours=RACE_COLOURS, title=f"Loss above the minimum, {budget[surface]} steps")
        headline = f"{surf.name}: learning rate {lr:g}, beta {beta:g}"
        if diverged:
            headline += f"; diverged or left the plot: {', '.join(diverged)}"
        fig.suptitle(headline, fontsize=10, color="#b00000" if diverged else "black")
        return fig

    return explorer(render, [
        Slider("surface", ["rosenbrock", "saddle", "ravine"], label="surface", value="rosenbrock"),
        Slider("lr", [1e-4, 3e-4, 1e-3, 3e-3, 0.01, 0.03, 0.1, 0.3, 1.0, 3.0], label="learning rate",
               book_values=[1e-3, 0.01, 0.1, 1.0], value=0.01),
        Slider("beta", [0.0, 0.5, 0.8, 0.9, 0.95, 0.99], label="momentum / Adam's $\\beta_1$",
               book_values=[0.0, 0.9, 0.99], value=0.9),
    ], title="An optimiser race on a 2-D loss surface", dpi=64)
