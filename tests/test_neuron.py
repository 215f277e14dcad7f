"""Single neurons against scikit-learn, and the perceptron's textbook behaviour."""

import numpy as np
import pytest
from numpy.testing import assert_allclose

from nblib.data import XOR_INPUTS, XOR_TARGETS, blobs
from nblib.neuron import LogisticNeuron, Perceptron, sigmoid

sklearn_linear = pytest.importorskip("sklearn.linear_model")


def test_perceptron_converges_on_separable_blobs():
    X, y = blobs(n=100, rng=0)
    model = Perceptron(max_epochs=50).fit(X, y)
    assert model.converged_
    assert model.mistakes_[-1] == 0
    assert model.score(X, y) == 1.0


def test_perceptron_never_converges_on_xor():
    model = Perceptron(max_epochs=200).fit(XOR_INPUTS, XOR_TARGETS)
    assert not model.converged_
    assert min(model.mistakes_) > 0
    assert model.score(XOR_INPUTS, XOR_TARGETS) <= 0.75


def test_perceptron_matches_sklearn_weights():
    X, y = blobs(n=80, std=0.9, rng=3)  # overlapping: many updates before the epoch limit
    ours = Perceptron(lr=1.0, max_epochs=7).fit(X, y)
    ref = sklearn_linear.Perceptron(eta0=1.0, shuffle=False, tol=None, max_iter=7, penalty=None, alpha=0.0).fit(X, y)
    assert_allclose(ours.coef_, ref.coef_, atol=1e-12)
    assert_allclose(ours.intercept_, ref.intercept_, atol=1e-12)


def test_learning_rate_only_rescales_a_perceptron_started_at_zero():
    X, y = blobs(n=60, std=0.9, rng=2)
    a, b = Perceptron(lr=1.0, max_epochs=5).fit(X, y), Perceptron(lr=0.01, max_epochs=5).fit(X, y)
    assert_allclose(a.coef_ * 0.01, b.coef_, rtol=1e-12)
    assert a.mistakes_ == b.mistakes_


def test_logistic_neuron_matches_sklearn_on_overlapping_data():
    X, y = blobs(n=200, std=1.2, rng=4)
    ours = LogisticNeuron(lr=1.0, epochs=5000).fit(X, y)
    ref = sklearn_linear.LogisticRegression(C=np.inf, tol=1e-12, max_iter=10_000).fit(X, y)
    assert_allclose(ours.coef_, ref.coef_, rtol=1e-4)
    assert_allclose(ours.intercept_, ref.intercept_, rtol=1e-3, atol=1e-5)
    assert_allclose(ours.predict_proba(X), ref.predict_proba(X), atol=1e-5)
    assert ours.loss_[-1] < ours.loss_[0]


def test_sigmoid_is_stable_and_symmetric():
    z = np.array([-800.0, -1.0, 0.0, 1.0, 800.0])
    with np.errstate(over="raise"):
        s = sigmoid(z)
    assert_allclose(s + sigmoid(-z), 1.0)
    assert s[2] == 0.5
