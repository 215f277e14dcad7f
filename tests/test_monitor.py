"""nblib.monitor: hooks record what a hand computation says, and come off cleanly."""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")
nn = torch.nn

from nblib.monitor import Monitor, default_layers  # noqa: E402


def _net(dead: list[int], hidden: int = 8):
    torch.manual_seed(0)
    net = nn.Sequential(nn.Linear(5, hidden), nn.ReLU(), nn.Linear(hidden, 3))
    with torch.no_grad():
        net[0].weight.mul_(0.1)              # inputs in [-1, 1]: |w . x| <= 5 * 0.1 * ... stays small
        net[0].bias.fill_(0.5)
        net[0].bias[dead] = -100.0           # these units never fire
    return net


@pytest.mark.parametrize("dead", [[], [3], [0, 2, 7]], ids=["none-dead", "one-dead", "three-dead"])
def test_reports_exactly_the_dead_units(dead):
    net = _net(dead)
    g = torch.Generator().manual_seed(1)
    with Monitor(net, window=5) as mon:
        for _ in range(6):
            X = torch.rand(16, 5, generator=g) * 2 - 1
            loss = net(X).pow(2).mean()
            net.zero_grad(); loss.backward(); mon.step(loss)
    assert mon.dead_units("1").tolist() == dead
    assert mon.dead_fraction()["1"] == pytest.approx(len(dead) / 8)
    assert mon.stats["1"]["zero_frac"][-1] == pytest.approx(len(dead) / 8)


def test_conv_units_are_channels():
    conv = nn.Sequential(nn.Conv2d(1, 4, 3), nn.ReLU())
    with torch.no_grad():
        conv[0].bias[:] = torch.tensor([0.0, -50.0, 0.0, -50.0])
    with Monitor(conv) as mon:
        out = conv(torch.rand(2, 1, 6, 6)).sum(); out.backward(); mon.step(out)
    assert mon.dead_units("1").tolist() == [1, 3]


def test_gradient_norms_match_a_hand_computation():
    net = _net([])
    X = torch.rand(10, 5) * 2 - 1
    y = torch.arange(10) % 3
    with Monitor(net) as mon:
        loss = nn.functional.cross_entropy(net(X), y)
        net.zero_grad(); loss.backward(); mon.step(loss)
    # by hand: softmax - one-hot, back through the last Linear and the ReLU
    h_pre = X @ net[0].weight.T + net[0].bias
    h = h_pre.clamp(min=0)
    logits = h @ net[2].weight.T + net[2].bias
    d_logits = (logits.softmax(1) - nn.functional.one_hot(y, 3)) / len(y)
    g2 = d_logits.T @ h
    g1 = ((d_logits @ net[2].weight) * (h_pre > 0)).T @ X
    assert mon.grad_norm["0"][0] == pytest.approx(g1.norm().item(), rel=1e-5)
    assert mon.grad_norm["2"][0] == pytest.approx(g2.norm().item(), rel=1e-5)
    assert mon.loss[0] == pytest.approx(loss.item())
    assert mon.stats["0"]["std"][0] == pytest.approx(h_pre.std().item(), rel=1e-5)
    assert mon.stats["1"]["mean"][0] == pytest.approx(h.mean().item(), rel=1e-5)


def test_hooks_are_removed_and_eval_passes_ignored():
    net = _net([])
    before = [len(m._forward_hooks) for m in net]
    mon = Monitor(net)
    assert [len(m._forward_hooks) for m in net] == [1, 1, 1]
    with torch.no_grad():
        net(torch.rand(4, 5))                # no gradients: not recorded
    mon.step(1.0)
    assert mon.stats["0"]["std"] == []
    mon.detach()
    assert [len(m._forward_hooks) for m in net] == before
    net(torch.rand(4, 5)).sum().backward()
    mon.step(2.0)
    assert mon.stats["0"]["std"] == [] and "detached" in repr(mon)


def test_default_layers_and_dashboard():
    net = _net([])
    assert list(default_layers(net)) == ["0", "1", "2"]
    with Monitor(net, layers=["0", "1"]) as mon:
        for _ in range(3):
            loss = net(torch.rand(4, 5)).pow(2).mean(); net.zero_grad(); loss.backward(); mon.step(loss)
    assert set(mon.grad_norm) == {"0"} and len(mon.grad_norm["0"]) == 3
    import matplotlib.pyplot as plt
    fig = mon.dashboard(smooth=2)
    assert len(fig.axes) == 4
    plt.close(fig)


@pytest.mark.parametrize("kwargs, error", [
    ({"layers": ["nope"]}, ValueError), ({"window": 0}, ValueError), ({"layers": "0"}, TypeError),
], ids=["unknown-layer", "zero-window", "string-layers"])
def test_bad_arguments_are_named(kwargs, error):
    with pytest.raises(error):
        Monitor(_net([]), **kwargs)
    with pytest.raises(TypeError, match="model"):
        Monitor(np.zeros(3))
