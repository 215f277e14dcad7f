"""Bad input raises ValueError or TypeError with a message that names the problem."""

import numpy as np
import pytest

from nblib import data, nn, optim
from nblib.autograd import Tensor, cross_entropy
from nblib.neuron import LogisticNeuron, Perceptron
from nblib.rng import resolve, seed_everything
from nblib.train import fit

BAD_INPUTS = [
    ("add-shapes", lambda: Tensor(np.ones(3)) + Tensor(np.ones(4)), ValueError, r"add: .*\(3,\) and \(4,\)"),
    ("matmul-inner", lambda: Tensor(np.ones((3, 4))) @ Tensor(np.ones((5, 2))), ValueError,
     r"matmul: shapes \(3, 4\) and \(5, 2\) are not aligned \(4 != 5\)"),
    ("matmul-scalar", lambda: Tensor(2.0) @ Tensor(np.ones(2)), ValueError, "at least 1 dimension"),
    ("reshape", lambda: Tensor(np.ones(6)).reshape(4, 2), ValueError, r"shape \(6,\).*into \(4, 2\)"),
    ("transpose-axes", lambda: Tensor(np.ones((2, 3))).transpose(0, 0), ValueError, "not a permutation"),
    ("sum-axis", lambda: Tensor(np.ones((2, 3))).sum(axis=2), ValueError, r"axis 2 .*shape \(2, 3\)"),
    ("tensor-string", lambda: Tensor("abc"), TypeError, "numeric"),
    ("tensor-complex", lambda: Tensor(np.ones(2, dtype=complex)), TypeError, "real numbers"),
    ("backward-nonscalar", lambda: (Tensor(np.ones(3), requires_grad=True) * 2).backward(), ValueError,
     r"one-element tensor, got shape \(3,\)"),
    ("backward-no-grad", lambda: Tensor(1.0).backward(), RuntimeError, "does not require grad"),
    ("item-many", lambda: Tensor(np.ones(2)).item(), ValueError, r"one element, got shape \(2,\)"),
    ("ce-logits-1d", lambda: cross_entropy(Tensor(np.ones(3)), [0]), ValueError, r"\(N, C\), got \(3,\)"),
    ("ce-target-range", lambda: cross_entropy(Tensor(np.ones((2, 3))), [0, 3]), ValueError,
     r"target must lie in \[0, 3\)"),
    ("ce-target-count", lambda: cross_entropy(Tensor(np.ones((2, 3))), [0]), ValueError, "1 labels but the inputs have 2"),
    ("ce-target-float", lambda: cross_entropy(Tensor(np.ones((2, 3))), [0.5, 1.0]), TypeError, "integer class labels"),
    ("ce-reduction", lambda: cross_entropy(Tensor(np.ones((2, 3))), [0, 1], reduction="avg"), ValueError, "reduction"),
    ("linear-features", lambda: nn.Linear(3, 2)(np.ones((4, 5))), ValueError,
     r"in_features=3, got shape \(4, 5\)"),
    ("linear-width", lambda: nn.Linear(0, 2), ValueError, "in_features must be >= 1"),
    ("linear-dtype", lambda: nn.Linear(2, 2, dtype=np.int32), TypeError, "floating"),
    ("sequential-item", lambda: nn.Sequential(nn.ReLU(), "relu"), TypeError, "layer 1 must be a Module"),
    ("mlp-sizes", lambda: nn.mlp([3]), ValueError, "at least an input and an output"),
    ("sgd-lr-negative", lambda: optim.SGD([Tensor(1.0, requires_grad=True)], lr=-0.1), ValueError, "lr must be > 0"),
    ("sgd-lr-nan", lambda: optim.SGD([Tensor(1.0, requires_grad=True)], lr=float("nan")), ValueError,
     "lr must be finite"),
    ("sgd-momentum", lambda: optim.SGD([Tensor(1.0, requires_grad=True)], lr=0.1, momentum=1.0), ValueError,
     r"momentum must lie in \[0.0, 1.0\)"),
    ("sgd-empty", lambda: optim.SGD([], lr=0.1), ValueError, "empty parameter list"),
    ("sgd-frozen", lambda: optim.SGD([Tensor(1.0)], lr=0.1), TypeError, r"params\[0\]"),
    ("sgd-nesterov", lambda: optim.SGD([Tensor(1.0, requires_grad=True)], lr=0.1, nesterov=True), ValueError,
     "momentum > 0"),
    ("perceptron-3-classes", lambda: Perceptron().fit(np.ones((3, 2)), [0, 1, 2]), ValueError, r"y must lie in \[0, 2\)"),
    ("perceptron-X-1d", lambda: Perceptron().fit(np.ones(3), [0, 1, 0]), ValueError, r"X must be 2-D, got shape \(3,\)"),
    ("perceptron-nan", lambda: Perceptron().fit([[np.nan, 1.0]], [0]), ValueError, "X contains NaN or inf"),
    ("perceptron-epochs", lambda: Perceptron(max_epochs=0), ValueError, "max_epochs must be >= 1"),
    ("logistic-lr-type", lambda: LogisticNeuron(lr="fast"), TypeError, "lr must be a real number"),
    ("digits-fractions", lambda: data.load_digits(val_size=0.6, test_size=0.5), ValueError, "val_size \\+ test_size"),
    ("spirals-classes", lambda: data.spirals(n_classes=1), ValueError, "n_classes must be >= 2"),
    ("blobs-std", lambda: data.blobs(std=-1.0), ValueError, "std must be >= 0"),
    ("minibatch-size", lambda: list(data.minibatches(10, 0)), ValueError, "batch_size must be >= 1"),
    ("one-hot-range", lambda: data.one_hot([3], 3), ValueError, r"y must lie in \[0, 3\)"),
    ("rng-type", lambda: resolve("seed"), TypeError, "rng must be"),
    ("seed-negative", lambda: seed_everything(-1), ValueError, "seed must be >= 0"),
    ("fit-val-pair", lambda: fit(nn.mlp([2, 2]), optim.SGD(nn.mlp([2, 2]).parameters(), lr=0.1), np.ones((2, 2)),
                                 [0, 1], epochs=1, X_val=np.ones((2, 2))), ValueError, "both X_val and y_val"),
]


@pytest.mark.parametrize("call, error, message", [c[1:] for c in BAD_INPUTS], ids=[c[0] for c in BAD_INPUTS])
def test_bad_input_gets_a_clear_error(call, error, message):
    with pytest.raises(error, match=message):
        call()


def test_training_divergence_is_a_named_error():
    from nblib.train import TrainingDiverged

    X, y = data.spirals(n_per_class=20, rng=0)
    model = nn.Linear(2, 3, rng=0)  # float32 weights overflow to inf after a few absurd steps
    with pytest.raises(TrainingDiverged, match="diverged at epoch .* smaller learning rate"):
        with np.errstate(all="ignore"):
            fit(model, optim.SGD(model.parameters(), lr=1e38), X.astype(np.float32), y, epochs=5)


def test_unfitted_and_mismatched_neurons_say_so():
    with pytest.raises(RuntimeError, match="not fitted yet"):
        Perceptron().predict(np.ones((2, 2)))
    model = LogisticNeuron(epochs=5).fit(np.ones((2, 2)), [0, 1])
    with pytest.raises(ValueError, match="X has 3 features but LogisticNeuron was fitted on 2"):
        model.predict(np.ones((2, 3)))
