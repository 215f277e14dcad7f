r"""Graphs as arrays: message passing from scratch, the GCN layer, and label propagation.

A graph with :math:`N` nodes is given either by its adjacency matrix ``A`` (N, N) or
by an edge list ``(src, dst)``: edge :math:`k` carries a message from node ``src[k]``
to node ``dst[k]``. An undirected edge is two directed ones.

One round of *message passing* (Gilmer et al., 2017) computes a message along every
edge, aggregates the messages arriving at each node, and updates the node:

.. math::
    m_i = \bigoplus_{j \to i} w_{ji}\, h_j, \qquad h_i' = \sigma\bigl(m_i W\bigr),

with :math:`\bigoplus` a sum or a mean. The graph convolutional network (GCN) of Kipf and
Welling (2017) is the case with self-loops, a sum, and edge weights
:math:`w_{ji} = 1/\sqrt{\tilde d_i \tilde d_j}` (:math:`\tilde d` the degrees counting the
self-loop), which is the dense product :math:`\hat A H W` with
:math:`\hat A = \tilde D^{-1/2}(A + I)\tilde D^{-1/2}`.
"""

from __future__ import annotations

import numpy as np

from . import _checks

__all__ = ["karate_club", "edges_from_adjacency", "add_self_loops", "gcn_edge_weights",
           "normalized_adjacency", "propagate", "gcn_layer", "label_propagation", "harmonic_solution", "train_gcn"]


def karate_club():
    """Zachary's karate club (34 members, 78 friendships) from networkx.

    Returns:
        ``(A, y)``: the symmetric 0/1 adjacency matrix (34, 34) as float64 (edge weights
        ignored), and the club each member joined after the split, (34,) int64:
        0 for Mr. Hi's club, 1 for the Officer's.
    """
    import networkx as nx

    g = nx.karate_club_graph()
    A = nx.to_numpy_array(g, nodelist=range(g.number_of_nodes()), weight=None)
    y = np.array([0 if g.nodes[i]["club"] == "Mr. Hi" else 1 for i in range(g.number_of_nodes())], dtype=np.int64)
    return A, y


def _square(A, name="A") -> np.ndarray:
    A = _checks.as_array(A, name, ndim=2).astype(float)
    if A.shape[0] != A.shape[1]:
        raise ValueError(f"{name} must be square, got shape {A.shape}")
    return A


def _adjacency_and_mask(A, labels, labelled):
    """Check a nonnegative square adjacency, one label per node and a boolean mask with a labelled node."""
    A = _square(A)
    if (A < 0).any():
        raise ValueError("A must be nonnegative (edge weights)")
    N = len(A)
    labels = _checks.as_labels(labels, "labels", n=N)
    labelled = _checks.as_array(labelled, "labelled").astype(bool)
    if labelled.shape != (N,):
        raise ValueError(f"labelled must be a boolean mask of shape ({N},), got {labelled.shape}")
    if not labelled.any():
        raise ValueError("labelled must mark at least one node")
    return A, labels, labelled


def edges_from_adjacency(A):
    """The directed edge list of an adjacency matrix: ``(src, dst, weight)`` for every nonzero ``A[dst, src]``.

    A symmetric ``A`` gives both directions of every undirected edge. Shapes: (E,) each.
    """
    A = _square(A)
    dst, src = np.nonzero(A)
    return src, dst, A[dst, src]


def add_self_loops(src, dst, n_nodes: int):
    """Append the edge ``i -> i`` for every node. Returns the new ``(src, dst)``."""
    n_nodes = _checks.integer(n_nodes, "n_nodes", minimum=1)
    src = _checks.as_labels(src, "src", n_classes=n_nodes)
    dst = _checks.as_labels(dst, "dst", n=len(src), n_classes=n_nodes)
    loops = np.arange(n_nodes)
    return np.concatenate([src, loops]), np.concatenate([dst, loops])


def gcn_edge_weights(src, dst, n_nodes: int) -> np.ndarray:
    r"""Kipf and Welling's edge weights :math:`1/\sqrt{d_i d_j}`, with :math:`d` the in-degrees of the edge list.

    Call it on an edge list that already has self-loops to get the GCN's normalisation.
    """
    n_nodes = _checks.integer(n_nodes, "n_nodes", minimum=1)
    src = _checks.as_labels(src, "src", n_classes=n_nodes)
    dst = _checks.as_labels(dst, "dst", n=len(src), n_classes=n_nodes)
    deg = np.bincount(dst, minlength=n_nodes).astype(float)
    if (deg[src] == 0).any():
        raise ValueError(f"src: nodes {np.unique(src[deg[src] == 0]).tolist()} send edges but receive none, "
                         "so their degree is 0; add self-loops first (add_self_loops)")
    return 1.0 / np.sqrt(deg[src] * deg[dst])


def normalized_adjacency(A, self_loops: bool = True) -> np.ndarray:
    r"""The dense GCN propagation matrix :math:`\hat A = \tilde D^{-1/2} \tilde A \tilde D^{-1/2}`, :math:`\tilde A = A + I`.

    Shape: (N, N) -> (N, N). A node with no edge (and ``self_loops=False``) keeps a zero row.

    Example:
        >>> normalized_adjacency(np.array([[0, 1], [1, 0]]))  # each node: itself and one neighbour
        array([[0.5, 0.5],
               [0.5, 0.5]])
    """
    A = _square(A)
    if self_loops:
        A = A + np.eye(len(A))
    d = A.sum(axis=1)
    inv = np.where(d > 0, 1.0 / np.sqrt(np.where(d > 0, d, 1.0)), 0.0)
    return inv[:, None] * A * inv[None, :]


def propagate(H, src, dst, edge_weight=None, reduce: str = "sum") -> np.ndarray:
    r"""Send ``edge_weight * H[src]`` along every edge and aggregate the messages at ``dst``.

    :math:`m_i = \sum_{k:\,\mathrm{dst}_k = i} w_k\, H_{\mathrm{src}_k}` (``reduce="sum"``), or the
    same divided by the number of incoming edges (``"mean"``; a node without one gets 0).
    The gather is ``H[src]``; the scatter is ``np.add.at``, which adds repeated indices correctly.

    Args:
        H: node features (N, F).
        src, dst: edge endpoints (E,), integers in [0, N).
        edge_weight: (E,) or ``None`` for ones.
        reduce: ``"sum"`` or ``"mean"``.

    Shape: (N, F) -> (N, F).
    """
    H = _checks.as_array(H, "H", ndim=2).astype(float)
    N = H.shape[0]
    src = _checks.as_labels(src, "src", n_classes=N)
    dst = _checks.as_labels(dst, "dst", n=len(src), n_classes=N)
    if reduce not in ("sum", "mean"):
        raise ValueError(f"reduce must be 'sum' or 'mean', got {reduce!r}")
    messages = H[src]  # (E, F): gather the sender's features
    if edge_weight is not None:
        w = _checks.as_array(edge_weight, "edge_weight", ndim=1).astype(float)
        if len(w) != len(src):
            raise ValueError(f"edge_weight has {len(w)} entries but there are {len(src)} edges")
        messages = messages * w[:, None]
    out = np.zeros_like(H)
    np.add.at(out, dst, messages)  # (N, F): scatter-add at the receivers
    if reduce == "mean":
        count = np.bincount(dst, minlength=N).astype(float)
        out /= np.maximum(count, 1.0)[:, None]
    return out


def gcn_layer(H, W, src, dst, n_nodes: int | None = None, activation=None) -> np.ndarray:
    r"""One GCN layer as message passing: self-loops, weights :math:`1/\sqrt{\tilde d_i \tilde d_j}`, sum, then :math:`W`.

    Equals ``normalized_adjacency(A) @ H @ W`` (then ``activation``) when ``(src, dst)`` are the
    edges of ``A`` without self-loops.

    Args:
        H: node features (N, F_in).
        W: weights (F_in, F_out).
        src, dst: directed edges without self-loops (E,).
        n_nodes: N (default ``len(H)``).
        activation: ``None`` or a function applied elementwise.

    Shape: (N, F_in) -> (N, F_out).
    """
    H = _checks.as_array(H, "H", ndim=2).astype(float)
    W = _checks.as_array(W, "W", ndim=2).astype(float)
    if W.shape[0] != H.shape[1]:
        raise ValueError(f"W must have {H.shape[1]} rows (the features of H), got shape {W.shape}")
    n = len(H) if n_nodes is None else _checks.integer(n_nodes, "n_nodes", minimum=1)
    s, d = add_self_loops(src, dst, n)
    out = propagate(H, s, d, gcn_edge_weights(s, d, n)) @ W  # (N, F_out)
    return out if activation is None else activation(out)


def label_propagation(A, labels, labelled, n_iter: int = 1000, tol: float = 1e-10) -> np.ndarray:
    r"""Spread known labels over a graph: repeat :math:`F \leftarrow D^{-1} A F`, resetting the labelled rows.

    This iteration converges to the harmonic solution of Zhu, Ghahramani and Lafferty (2003)
    (:func:`harmonic_solution`), in which every unlabelled node's class probabilities are the
    average of its neighbours'.

    Args:
        A: adjacency (N, N), nonnegative; every node needs an edge.
        labels: class of every node (N,); only the labelled ones are read.
        labelled: boolean mask (N,) of the nodes whose label is known.
        n_iter, tol: iteration limit, and the change below which it stops.

    Returns:
        Class probabilities (N, C), C = ``labels.max() + 1``.
    """
    A, labels, labelled = _adjacency_and_mask(A, labels, labelled)
    N = len(A)
    deg = A.sum(axis=1)
    if not (np.isfinite(deg) & (deg > 0)).all():
        raise ValueError("A: every node needs at least one edge (a row with a positive, finite sum) "
                         "for label propagation")
    n_iter = _checks.integer(n_iter, "n_iter", minimum=1)
    tol = _checks.positive(tol, "tol", allow_zero=True)
    C = int(labels.max()) + 1
    Y = np.eye(C)[labels[labelled]]
    F = np.full((N, C), 1.0 / C)
    F[labelled] = Y
    T = A / deg[:, None]  # (N, N) row-stochastic
    for _ in range(n_iter):
        new = T @ F
        new[labelled] = Y
        done = np.abs(new - F).max() < tol
        F = new
        if done:
            break
    return F


def harmonic_solution(A, labels, labelled) -> np.ndarray:
    r"""The fixed point of :func:`label_propagation` by one linear solve:
    :math:`F_u = (D_{uu} - A_{uu})^{-1} A_{ul} Y_l`. Returns (N, C)."""
    A, labels, labelled = _adjacency_and_mask(A, labels, labelled)
    if not np.isfinite(A.sum(axis=1)).all():
        raise ValueError("A has rows whose sums overflow")
    # The solve is well posed when every unlabelled node has a path to a labelled one.
    reached, edges = labelled.copy(), A > 0
    while True:
        grown = reached | (edges & reached[None, :]).any(axis=1)
        if (grown == reached).all():
            break
        reached = grown
    if not reached.all():
        raise ValueError(f"A: nodes {np.flatnonzero(~reached).tolist()} have no path to a labelled node, "
                         "so their labels are undetermined")
    C = int(labels.max()) + 1
    u = ~labelled
    L = np.diag(A.sum(axis=1)) - A
    F = np.zeros((len(A), C))
    F[labelled] = np.eye(C)[labels[labelled]]
    F[u] = np.linalg.solve(L[np.ix_(u, u)], A[np.ix_(u, labelled)] @ F[labelled])
    return F


def train_gcn(A_hat, X, y, labelled, hidden: int = 16, layers: int = 2, epochs: int = 100, lr: float = 0.01,
              weight_decay: float = 5e-4, dropout: float = 0.5, seed: int = 0) -> np.ndarray:
    r"""Semi-supervised node classification with a GCN in PyTorch; returns the predicted class of every node.

    The model is ``layers`` GCN layers :math:`H \leftarrow \hat A H W` with ReLU and dropout between
    them (Kipf and Welling's recipe: Adam, weight decay, dropout 0.5), trained with
    cross-entropy on the labelled nodes only; the unlabelled nodes still shape the
    predictions through :math:`\hat A`. With ``A_hat`` the identity the graph is ignored and the
    model is an MLP on the node features, the features-only baseline.

    Several independent models can be trained at once: give ``labelled`` of shape (B, N), one
    mask per model. Adam acts elementwise and the models' losses are summed, so each model
    trains exactly as it would alone, for the price of one.

    Args:
        A_hat: propagation matrix (N, N), e.g. :func:`normalized_adjacency`.
        X: node features (N, F).
        y: classes (N,); only the labelled entries are used for training.
        labelled: boolean mask (N,), or (B, N) for B models.
        hidden, layers: width and number of GCN layers (``layers >= 1``).
        epochs, lr, weight_decay, dropout: full-batch training settings.
        seed: seeds the weights and the dropout masks.

    Returns:
        Predicted classes, (N,) or (B, N), int64.
    """
    import torch

    A_hat = _square(A_hat, "A_hat")
    N = len(A_hat)
    X = _checks.as_array(X, "X", ndim=2)
    if len(X) != N:
        raise ValueError(f"X has {len(X)} rows but A_hat has {N} nodes")
    y = _checks.as_labels(y, "y", n=N)
    masks = np.asarray(labelled, dtype=bool)
    single = masks.ndim == 1
    masks = np.atleast_2d(masks)
    if masks.ndim != 2 or masks.shape[1] != N or not masks.any(axis=1).all():
        raise ValueError(f"labelled must be a boolean mask of shape ({N},) or (B, {N}), "
                         "with at least one labelled node per model")
    layers = _checks.integer(layers, "layers", minimum=1)
    hidden = _checks.integer(hidden, "hidden", minimum=1)
    epochs = _checks.integer(epochs, "epochs", minimum=1)
    dropout = _checks.in_range(dropout, "dropout", 0.0, 1.0, high_open=True)
    B, C = len(masks), int(y.max()) + 1
    gen = torch.Generator().manual_seed(_checks.integer(seed, "seed", minimum=0))
    sizes = [X.shape[1]] + [hidden] * (layers - 1) + [C]
    Ws = [torch.nn.Parameter(torch.empty(B, a, b)) for a, b in zip(sizes, sizes[1:])]
    for W in Ws:
        bound = (6.0 / (W.shape[1] + W.shape[2])) ** 0.5  # Glorot uniform, as in the GCN paper
        with torch.no_grad():
            W.uniform_(-bound, bound, generator=gen)
    At = torch.from_numpy(A_hat).float()
    Xt = torch.from_numpy(np.asarray(X, dtype=np.float32)).expand(B, N, X.shape[1])  # (B, N, F)
    yt = torch.from_numpy(y).expand(B, N)
    mask = torch.from_numpy(masks).float()  # (B, N)
    opt = torch.optim.Adam(Ws, lr=lr, weight_decay=weight_decay)

    def forward(train: bool):
        H = Xt
        for k, W in enumerate(Ws):
            if train and dropout > 0:
                keep = (torch.rand(H.shape, generator=gen) >= dropout).float()
                H = H * keep / (1 - dropout)
            H = At @ (H @ W)  # (B, N, F_k)
            if k < len(Ws) - 1:
                H = torch.relu(H)
        return H

    for _ in range(epochs):
        ce = torch.nn.functional.cross_entropy(forward(True).transpose(1, 2), yt, reduction="none")  # (B, N)
        loss = ((ce * mask).sum(1) / mask.sum(1)).sum()
        opt.zero_grad()
        loss.backward()
        opt.step()
    with torch.no_grad():
        pred = forward(False).argmax(-1).numpy()  # (B, N)
    return pred[0] if single else pred
