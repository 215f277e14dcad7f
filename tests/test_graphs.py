"""Message passing, the GCN layer and label propagation (nblib.graphs) against dense and exact references."""

import numpy as np
import pytest

from nblib.graphs import (add_self_loops, edges_from_adjacency, gcn_edge_weights, gcn_layer, harmonic_solution,
                          karate_club, label_propagation, normalized_adjacency, propagate, train_gcn)


def random_graph(n, p, seed):
    rng = np.random.default_rng(seed)
    upper = np.triu(rng.random((n, n)) < p, 1)
    return (upper | upper.T).astype(float)


GRAPHS = {
    "karate": karate_club()[0],
    "path": np.diag(np.ones(4), 1) + np.diag(np.ones(4), -1),
    "random_sparse": random_graph(30, 0.1, 0),
    "random_dense": random_graph(12, 0.7, 1),
}


def test_karate_club_is_zacharys_graph():
    A, y = karate_club()
    assert A.shape == (34, 34) and np.array_equal(A, A.T) and set(np.unique(A)) == {0.0, 1.0}
    assert A.sum() / 2 == 78 and np.trace(A) == 0
    assert np.bincount(y).tolist() == [17, 17] and y[0] == 0 and y[33] == 1  # Mr. Hi is node 0, the officer 33


@pytest.mark.parametrize("name", GRAPHS)
def test_gcn_layer_by_message_passing_equals_the_dense_product(name):
    A = GRAPHS[name]
    rng = np.random.default_rng(2)
    H, W = rng.normal(size=(len(A), 5)), rng.normal(size=(5, 3))
    src, dst, _ = edges_from_adjacency(A)
    np.testing.assert_allclose(gcn_layer(H, W, src, dst), normalized_adjacency(A) @ H @ W, rtol=0, atol=1e-12)
    np.testing.assert_allclose(gcn_layer(H, W, src, dst, activation=np.tanh),
                               np.tanh(normalized_adjacency(A) @ H @ W), atol=1e-12)


@pytest.mark.parametrize("name", GRAPHS)
def test_sum_and_mean_aggregation_match_matrix_products(name):
    A = GRAPHS[name]
    H = np.random.default_rng(3).normal(size=(len(A), 4))
    src, dst, w = edges_from_adjacency(A)
    np.testing.assert_allclose(propagate(H, src, dst), A @ H, atol=1e-12)
    deg = A.sum(1, keepdims=True)
    np.testing.assert_allclose(propagate(H, src, dst, reduce="mean"), np.where(deg > 0, A @ H / np.maximum(deg, 1), 0),
                               atol=1e-12)
    np.testing.assert_allclose(propagate(H, src, dst, edge_weight=w), A @ H, atol=1e-12)


def test_repeated_edges_are_all_added():
    # a plain H[dst] += ... would keep one of the two messages into node 0
    H = np.array([[1.0], [2.0], [3.0]])
    out = propagate(H, src=[1, 2, 1], dst=[0, 0, 0])
    assert out[0, 0] == 2.0 + 3.0 + 2.0 and out[1, 0] == 0 and out[2, 0] == 0


def test_weighted_adjacency_and_hand_worked_normalisation():
    A = np.array([[0.0, 2.0], [2.0, 0.0]])
    src, dst, w = edges_from_adjacency(A)
    assert sorted(w.tolist()) == [2.0, 2.0]
    # a two-node graph with self-loops: every degree is 2, every weight 1/2
    np.testing.assert_allclose(normalized_adjacency([[0, 1], [1, 0]]), np.full((2, 2), 0.5))
    s, d = add_self_loops([0, 1], [1, 0], 2)
    np.testing.assert_allclose(gcn_edge_weights(s, d, 2), [0.5] * 4)


def test_normalized_adjacency_is_symmetric_with_eigenvalues_at_most_one():
    A_hat = normalized_adjacency(GRAPHS["random_sparse"])
    np.testing.assert_allclose(A_hat, A_hat.T)
    eig = np.linalg.eigvalsh(A_hat)
    assert eig.max() <= 1 + 1e-12 and eig.min() > -1


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_label_propagation_converges_to_the_harmonic_solution(seed):
    A, y = karate_club()
    labelled = np.zeros(34, bool)
    labelled[np.random.default_rng(seed).choice(34, 4, replace=False)] = True
    labelled[[0, 33]] = True
    F = label_propagation(A, y, labelled, n_iter=5000, tol=1e-13)
    np.testing.assert_allclose(F, harmonic_solution(A, y, labelled), atol=1e-9)
    np.testing.assert_allclose(F.sum(1), 1.0, atol=1e-9)  # probabilities
    assert (F[labelled].argmax(1) == y[labelled]).all()


def test_train_gcn_learns_the_clubs_and_batches_exactly():
    A, y = karate_club()
    masks = np.zeros((2, 34), bool)
    masks[0, [0, 33]] = True
    masks[1, [1, 32]] = True
    batched = train_gcn(normalized_adjacency(A), np.eye(34), y, masks, seed=0)
    assert batched.shape == (2, 34)
    assert (batched[0] == y).mean() > 0.8  # the two leaders labelled: the classic result is above 80%
    alone = train_gcn(normalized_adjacency(A), np.eye(34), y, masks[0], seed=0)
    assert alone.shape == (34,)


@pytest.mark.parametrize("call, match", [
    (lambda: propagate(np.ones((3, 2)), [0, 5], [1, 2]), "src"),
    (lambda: propagate(np.ones((3, 2)), [0, 1], [1, 2], reduce="max"), "reduce"),
    (lambda: propagate(np.ones((3, 2)), [0, 1], [1, 2], edge_weight=[1.0]), "edge_weight"),
    (lambda: normalized_adjacency(np.ones((2, 3))), "square"),
    (lambda: gcn_layer(np.ones((3, 2)), np.ones((3, 2)), [0], [1]), "W"),
    (lambda: label_propagation(np.zeros((3, 3)), [0, 1, 0], [True, True, False]), "edge"),
    (lambda: label_propagation(np.ones((3, 3)), [0, 1, 0], [False] * 3), "labelled"),
    (lambda: train_gcn(np.eye(3), np.eye(3), [0, 1, 0], [False] * 3), "labelled"),
])
def test_bad_inputs_name_the_argument(call, match):
    with pytest.raises((ValueError, TypeError), match=match):
        call()
