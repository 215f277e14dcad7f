"""The offline character corpus: Python's standard library, its vocabulary, splits, windows and baseline."""

import ast
import math
import subprocess
import sys

import numpy as np
import pytest
from numpy.testing import assert_array_equal

from nblib import text
from nblib.text import (STDLIB_MODULES, CharVocab, WindowBatches, python_source, random_windows,
                        strip_comments_and_docstrings, train_val_split, unigram_cross_entropy)


# ---------------------------------------------------------------------------- stripping
def _without_docstrings(tree: ast.AST) -> str:
    """The AST dump the stripped code must have: docstrings gone, a sole docstring body replaced by pass."""
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)) and node.body:
            first = node.body[0]
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant) and isinstance(first.value.value, str):
                node.body = node.body[1:] or ([] if isinstance(node, ast.Module) else [ast.Pass()])
    return ast.dump(tree)


def test_stripping_a_hand_written_module():
    source = ('"""Module docstring."""\n\n\n# a comment line\nimport os  # a trailing comment\n\n\n\n'
              'def f(x):\n    """Function docstring,\n    on two lines."""\n    s = """kept:\n\n\n  not a docstring  """\n'
              '    return s + "# not a comment"  # but this is\n\nclass C:\n    """Only a docstring."""\n')
    expected = ('import os\n\ndef f(x):\n    s = """kept:\n\n\n  not a docstring  """\n'
                '    return s + "# not a comment"\n\nclass C:\n    pass\n')
    assert strip_comments_and_docstrings(source) == expected


@pytest.mark.parametrize("module", STDLIB_MODULES)
def test_stripping_keeps_the_code_of_every_corpus_module(module):
    # The stripped module parses to the same syntax tree as the original minus its docstrings:
    # nothing but comments, docstrings and blank lines was removed, and strings kept their spaces.
    path = text.stdlib_dir() / module
    if not path.is_file():
        pytest.skip(f"{module} is not in this Python installation")
    source = path.read_text(encoding="utf-8")
    stripped = strip_comments_and_docstrings(source)
    assert _without_docstrings(ast.parse(source)) == ast.dump(ast.parse(stripped))
    assert len(stripped) < len(source)


def test_stripping_rejects_bad_input():
    with pytest.raises(TypeError, match="source must be a str"):
        strip_comments_and_docstrings(b"x = 1")
    with pytest.raises(SyntaxError):
        strip_comments_and_docstrings("def broken(:\n")


# ---------------------------------------------------------------------------- the corpus
def test_python_source_is_deterministic_bounded_and_ascii():
    corpus = python_source(max_chars=50_000)
    assert corpus == python_source(max_chars=50_000)
    assert len(corpus) == 50_000 and corpus.isascii()
    assert corpus.startswith("# ===== abc.py =====\n")
    assert "def " in corpus and '"""' not in corpus[:2000]  # abc.py's docstrings are gone


def test_python_source_caps_each_module_and_keeps_the_sorted_order():
    corpus = python_source(max_chars=400_000, per_file=2_000)
    names = [line.split()[2] for line in corpus.splitlines() if line.startswith("# ===== ")]
    assert names == sorted(names) and len(names) == len(set(names)) >= 20
    assert all(len(part) <= 2_000 + 40 for part in corpus.split("# ===== ")[1:])


def test_python_source_without_stripping_keeps_comments():
    raw = python_source(max_chars=20_000, code_only=False, ascii_only=False)
    assert raw.count("#") > python_source(max_chars=20_000).count("#")


def test_python_source_skips_missing_modules_and_complains_when_none_exist():
    assert python_source(max_chars=5_000, modules=("no_such_module.py", "abc.py")).startswith("# ===== abc.py")
    with pytest.raises(FileNotFoundError, match="none of the 1 modules"):
        python_source(modules=("no_such_module.py",))
    with pytest.raises(TypeError, match="sequence of paths"):
        python_source(modules="abc.py")
    with pytest.raises(ValueError, match="max_chars must be >= 1"):
        python_source(max_chars=0)


def test_the_corpus_is_read_from_the_interpreters_own_stdlib():
    code = "import sysconfig; print(sysconfig.get_paths()['stdlib'])"
    stdlib = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()
    assert str(text.stdlib_dir()) == stdlib


# ---------------------------------------------------------------------------- vocabulary
def test_vocab_round_trip_and_sorted_characters():
    vocab = CharVocab("hello world")
    assert vocab.chars == " dehlorw" and len(vocab) == 8
    ids = vocab.encode("low")
    assert ids.dtype == np.int64 and ids.tolist() == [4, 5, 7]
    assert vocab.decode(ids) == "low" and vocab.decode([]) == ""


def test_vocab_decodes_torch_tensors():
    torch = pytest.importorskip("torch")
    vocab = CharVocab("abc")
    assert vocab.decode(torch.tensor([2, 0, 1])) == "cab"


@pytest.mark.parametrize("call, error, message", [
    (lambda v: v.encode("abz"), ValueError, "'z', which is not in the vocabulary"),
    (lambda v: v.decode([0, 3]), ValueError, r"must lie in \[0, 3\)"),
    (lambda v: v.decode([[0, 1]]), ValueError, "1-D sequence of integers"),
    (lambda v: v.decode([0.5]), ValueError, "1-D sequence of integers"),
    (lambda v: v.encode(3), TypeError, "text must be a str"),
], ids=["unknown-char", "id-out-of-range", "2-D-ids", "float-ids", "encode-non-str"])
def test_vocab_bad_input(call, error, message):
    with pytest.raises(error, match=message):
        call(CharVocab("abc"))


def test_vocab_needs_text():
    with pytest.raises(ValueError, match="empty"):
        CharVocab("")


# ---------------------------------------------------------------------------- split and windows
def test_split_takes_spread_out_blocks_and_loses_nothing():
    data = np.arange(100_000)
    train, val = train_val_split(data, val_fraction=0.1, block=1000)
    assert len(val) == 10_000 and len(train) == 90_000
    assert_array_equal(np.sort(np.concatenate([train, val])), data)
    starts = val[::1000]
    assert_array_equal(starts, np.arange(9_000, 100_000, 10_000))  # every tenth block, spread over the data


@pytest.mark.parametrize("fraction", [0.05, 0.2, 0.5])
def test_split_fraction(fraction):
    train, val = train_val_split(np.arange(200_000), val_fraction=fraction, block=100)
    assert len(val) / 200_000 == pytest.approx(fraction, abs=1e-3)


@pytest.mark.parametrize("kwargs, message", [
    ({"val_fraction": 0.0}, "val_fraction must be > 0"),
    ({"val_fraction": 1.0}, r"val_fraction must lie in \[0.0, 1.0\)"),
    ({"block": 5_000}, "too few to split"),
], ids=["zero", "one", "one-block"])
def test_split_bad_input(kwargs, message):
    with pytest.raises(ValueError, match=message):
        train_val_split(np.arange(1_000), **kwargs)


def test_windows_are_stretches_of_the_data_with_targets_shifted_by_one():
    data = np.arange(1_000) * 3
    X, Y = random_windows(data, 50, context=16, rng=0)
    assert X.shape == Y.shape == (50, 16) and X.dtype == Y.dtype == np.int64
    assert_array_equal(X[:, 1:], Y[:, :-1])  # the target at t is the input at t + 1
    assert_array_equal(np.diff(X, axis=1), 3)  # contiguous stretches
    assert Y.max() <= data[-1]
    assert_array_equal(random_windows(data, 50, 16, rng=0)[0], X)


def test_windows_bad_input():
    with pytest.raises(ValueError, match="too short"):
        random_windows(np.arange(10), 4, context=10)
    with pytest.raises(ValueError, match="1-D integer array"):
        random_windows(np.ones(100), 4, context=10)


def test_window_batches_draw_fresh_windows_every_epoch_reproducibly():
    torch = pytest.importorskip("torch")
    data = np.arange(10_000)
    loader = WindowBatches(data, context=8, batch_size=4, batches=3, seed=1)
    first, second = list(loader), list(loader)
    assert len(loader) == 3 and len(first) == 3
    xb, yb = first[0]
    assert xb.shape == yb.shape == (4, 8) and xb.dtype == torch.int64
    assert torch.equal(xb[:, 1:], yb[:, :-1])
    assert not torch.equal(first[0][0], second[0][0])  # a new draw each epoch
    again = list(WindowBatches(data, context=8, batch_size=4, batches=3, seed=1))
    assert all(torch.equal(a[0], b[0]) for a, b in zip(first, again))


# ---------------------------------------------------------------------------- baseline
def test_unigram_cross_entropy_hand_worked():
    # train counts: 0 -> 3, 1 -> 1; with add-one smoothing over 2 symbols p = (4/6, 2/6)
    train = np.array([0, 0, 0, 1])
    val = np.array([0, 1])
    expected = -(math.log(4 / 6) + math.log(2 / 6)) / 2
    assert unigram_cross_entropy(train, val, vocab_size=2) == pytest.approx(expected, rel=1e-12)


def test_unigram_cross_entropy_is_the_entropy_on_its_own_data():
    rng = np.random.default_rng(0)
    p = np.array([0.5, 0.25, 0.125, 0.125])
    data = rng.choice(4, size=200_000, p=p)
    entropy = -(p * np.log(p)).sum()
    assert unigram_cross_entropy(data, data, 4, smoothing=1e-9) == pytest.approx(entropy, abs=5e-3)


def test_unigram_cross_entropy_bad_input():
    with pytest.raises(ValueError, match=r"val holds ids outside \[0, 2\)"):
        unigram_cross_entropy(np.array([0, 1]), np.array([2]), vocab_size=2)
    with pytest.raises(ValueError, match="smoothing must be > 0"):
        unigram_cross_entropy(np.array([0, 1]), np.array([1]), vocab_size=2, smoothing=0.0)
