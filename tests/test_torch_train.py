"""The shared PyTorch loop: batching, history, evaluation, divergence and progress output."""

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from nblib.torch_train import ArrayLoader, accuracy, default_device, evaluate, fit  # noqa: E402
from nblib.train import TrainingDiverged  # noqa: E402


def _blobs(n=200, seed=0):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, n)
    X = rng.standard_normal((n, 2)) + 3.0 * y[:, None]
    return X, y


def test_loader_covers_every_row_once_per_epoch_and_reshuffles():
    loader = ArrayLoader(np.arange(10.0)[:, None], np.arange(10), batch_size=4, shuffle=True, seed=0)
    assert len(loader) == 3 and [len(b[1]) for b in loader] == [4, 4, 2]
    first = torch.cat([yb for _, yb in loader]).tolist()
    second = torch.cat([yb for _, yb in loader]).tolist()
    assert sorted(first) == sorted(second) == list(range(10)) and first != second


def test_loader_is_reproducible_and_typed():
    a = ArrayLoader(np.ones((6, 2)), np.arange(6), batch_size=6, shuffle=True, seed=3)
    b = ArrayLoader(np.ones((6, 2)), np.arange(6), batch_size=6, shuffle=True, seed=3)
    (xa, ya), (_, yb) = next(iter(a)), next(iter(b))
    assert torch.equal(ya, yb) and xa.dtype == torch.float32 and ya.dtype == torch.int64


@pytest.mark.parametrize("call, message", [
    (lambda: ArrayLoader(np.ones((3, 2)), np.ones(4), batch_size=2), "arrays\\[1\\] has 4 rows but arrays\\[0\\] has 3"),
    (lambda: ArrayLoader(np.ones(3), batch_size=0), "batch_size must be >= 1"),
    (lambda: ArrayLoader(batch_size=2), "at least one array"),
], ids=["lengths", "batch-size", "empty"])
def test_loader_bad_input(call, message):
    with pytest.raises(ValueError, match=message):
        call()


def test_fit_learns_records_history_and_prints_text(capsys):
    torch.manual_seed(0)
    X, y = _blobs()
    model = torch.nn.Sequential(torch.nn.Linear(2, 16), torch.nn.ReLU(), torch.nn.Linear(16, 2))
    train = ArrayLoader(X, y, batch_size=32, shuffle=True, seed=0)
    val = ArrayLoader(X, y, batch_size=100)
    history = fit(model, train, epochs=5, optimizer=torch.optim.SGD(model.parameters(), lr=0.1), val=val,
                  progress="text", device="cpu")
    assert set(history.keys()) == {"loss", "lr", "val_loss", "val_acc", "seconds"}
    assert len(history) == 5 and history["val_acc"][-1] > 0.95 and history["loss"][-1] < history["loss"][0]
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == 5 and lines[-1].startswith("epoch 5/5  loss ") and "val_acc" in lines[-1]


def test_fit_steps_the_scheduler_per_batch_and_can_stop_early():
    X, y = _blobs(64)
    model = torch.nn.Linear(2, 2)
    opt = torch.optim.SGD(model.parameters(), lr=1.0)
    sched = torch.optim.lr_scheduler.StepLR(opt, step_size=1, gamma=0.5)
    history = fit(model, ArrayLoader(X, y, batch_size=32), epochs=10, optimizer=opt, scheduler=sched,
                  progress="none", device="cpu", on_epoch=lambda epoch, h: epoch == 3)
    assert len(history) == 3
    assert history["lr"] == pytest.approx([0.25, 0.0625, 0.015625])  # two batches per epoch


def test_fit_names_divergence():
    X, y = _blobs(64)
    model = torch.nn.Linear(2, 2)
    with pytest.raises(TrainingDiverged, match="diverged in epoch 1"):
        fit(model, ArrayLoader(X * np.inf, y, batch_size=32), epochs=2,
            optimizer=torch.optim.SGD(model.parameters(), lr=0.1), progress="none", device="cpu")


def test_evaluate_weights_batches_by_size():
    model = torch.nn.Linear(1, 2, bias=False)
    with torch.no_grad():
        model.weight.copy_(torch.tensor([[1.0], [-1.0]]))
    X = np.array([[1.0], [1.0], [-1.0]])
    y = np.array([0, 0, 0])  # rows 1 and 2 right, row 3 wrong
    scores = evaluate(model, ArrayLoader(X, y, batch_size=2), torch.nn.functional.cross_entropy,
                      {"acc": accuracy}, device="cpu")
    assert scores["acc"] == pytest.approx(2 / 3)


def test_progress_mode_is_validated_and_device_resolves():
    X, y = _blobs(8)
    model = torch.nn.Linear(2, 2)
    with pytest.raises(ValueError, match="progress must be"):
        fit(model, ArrayLoader(X, y, batch_size=8), epochs=1, optimizer=torch.optim.SGD(model.parameters(), lr=0.1),
            progress="loud", device="cpu")
    assert default_device("cpu").type == "cpu"
    assert default_device().type in ("cpu", "cuda")
