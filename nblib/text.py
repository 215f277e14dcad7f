"""An offline character-level corpus: Python's own standard library, read from the reader's machine.

Every Python installation ships the source of its standard library, so a corpus of
real, idiomatic code is available without a download. :func:`python_source` reads a
fixed, sorted list of modules (:data:`STDLIB_MODULES`) from
``sysconfig.get_paths()["stdlib"]``, so for a given Python version the text is the
same on every machine. The rest is what a character-level language model needs:

* :class:`CharVocab`: the characters of a text, and ``encode``/``decode`` between
  strings and integer ids;
* :func:`train_val_split`: a validation set of interleaved blocks, so that both sets
  sample every module;
* :func:`random_windows`: random windows of ``context`` characters and their
  next-character targets (the input shifted by one);
* :func:`unigram_cross_entropy`: the loss of the best model that ignores context, the
  baseline any language model must beat.
"""

from __future__ import annotations

import ast
import io
import sysconfig
import tokenize
from pathlib import Path

import numpy as np

from . import _checks
from . import rng as _rng

# Pure-Python modules present from Python 3.9 to 3.13, in sorted order. Plain code of
# many styles: parsers, data structures, numerics, text, files.
STDLIB_MODULES = (
    "abc.py", "argparse.py", "ast.py", "base64.py", "bisect.py", "calendar.py", "cmd.py", "colorsys.py",
    "contextlib.py", "copy.py", "csv.py", "dataclasses.py", "difflib.py", "enum.py", "fnmatch.py",
    "fractions.py", "functools.py", "glob.py", "graphlib.py", "gzip.py", "heapq.py", "json/decoder.py",
    "json/encoder.py", "numbers.py", "operator.py", "pprint.py", "queue.py", "random.py", "sched.py",
    "shlex.py", "shutil.py", "statistics.py", "string.py", "textwrap.py", "tokenize.py", "traceback.py",
    "uuid.py", "weakref.py",
)


def _ids(x, name: str) -> np.ndarray:
    """``np.asarray(x)``, with a ragged or otherwise unconvertible ``x`` reported under its name."""
    try:
        return np.asarray(x)
    except (TypeError, ValueError) as err:
        raise ValueError(f"{name} must be a 1-D array of integer ids: {err}") from None


def stdlib_dir() -> Path:
    """The directory holding this interpreter's standard-library sources."""
    return Path(sysconfig.get_paths()["stdlib"])


def strip_comments_and_docstrings(source: str) -> str:
    """Python source without its comments and docstrings: the code alone.

    Comments are found with :mod:`tokenize`, docstrings (a string literal that opens a
    module, class or function body) with :mod:`ast`. A docstring that is the whole body
    of a class or function becomes ``pass``, so the result is still valid Python, with
    the same syntax tree as the original minus its docstrings. Lines that held nothing
    else are dropped, trailing spaces removed, and runs of blank lines shortened to one.

    Raises:
        SyntaxError: if ``source`` is not valid Python.
    """
    if not isinstance(source, str):
        raise TypeError(f"source must be a str, got {type(source).__name__}")
    lines = io.StringIO(source).readlines()  # split at "\n" only, as tokenize and ast do
    edits = []  # (start (line, col), end (line, col), replacement); 1-based lines, character columns

    def char_col(line_no: int, byte_col: int) -> int:  # ast counts UTF-8 bytes, tokenize characters
        return len(lines[line_no - 1].encode("utf-8")[:byte_col].decode("utf-8", errors="ignore"))

    for node in ast.walk(ast.parse(source)):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)) and node.body:
            first = node.body[0]
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant) and isinstance(first.value.value, str):
                sole = len(node.body) == 1 and not isinstance(node, ast.Module)
                edits.append(((first.lineno, char_col(first.lineno, first.col_offset)),
                              (first.end_lineno, char_col(first.end_lineno, first.end_col_offset)),
                              "pass" if sole else ""))
    in_string = set()  # lines that a multi-line string literal touches: their spaces are content
    fstring_start = getattr(tokenize, "FSTRING_START", None)  # Python 3.12+ tokenizes f-strings in parts
    opened = []
    for token in tokenize.generate_tokens(io.StringIO(source).readline):
        if token.type == tokenize.COMMENT:
            edits.append((token.start, token.end, ""))
        elif token.type == tokenize.STRING and token.start[0] != token.end[0]:
            in_string.update(range(token.start[0], token.end[0] + 1))
        elif fstring_start is not None and token.type == fstring_start:
            opened.append(token.start[0])
        elif fstring_start is not None and token.type == tokenize.FSTRING_END and opened:
            in_string.update(range(opened.pop(), token.end[0] + 1))
    rows = [list(line.rstrip("\r\n")) for line in lines]
    emptied = [False] * len(rows)
    for (l0, c0), (l1, c1), replacement in edits:
        in_string.difference_update(range(l0, l1 + 1))  # a docstring's lines are removed, not protected
        for n in range(l0, l1 + 1):
            row = rows[n - 1]
            start, stop = (c0 if n == l0 else 0), (c1 if n == l1 else len(row))
            row[start:stop] = list(replacement.ljust(stop - start)) if n == l0 else [" "] * (stop - start)
            emptied[n - 1] = True
    kept, blank = [], True
    for n, (row, gone) in enumerate(zip(rows, emptied), start=1):
        line = "".join(row)
        if n in in_string:
            kept.append(line)
            blank = False
            continue
        line = line.rstrip()
        if not line and (gone or blank):  # drop emptied lines and all but the first of a run of blanks
            continue
        kept.append(line)
        blank = not line
    while kept and not kept[-1]:
        kept.pop()
    return "\n".join(kept) + "\n"


def python_source(max_chars: int = 400_000, per_file: int = 16_000, modules=STDLIB_MODULES,
                  code_only: bool = True, ascii_only: bool = True) -> str:
    """Source code of standard-library modules, concatenated, as one string.

    Each module contributes its first ``per_file`` characters (cut at a line end), so
    that no single module dominates, preceded by a comment line naming it; modules are
    taken in the given order until ``max_chars`` is reached. Modules missing from this
    installation are skipped.

    Args:
        max_chars: the length of the result, at most.
        per_file: the most characters taken from one module.
        modules: paths relative to the standard-library directory.
        code_only: remove comments and docstrings (:func:`strip_comments_and_docstrings`),
            so that the text is code rather than a mixture of code and English prose.
        ascii_only: replace every non-ASCII character by ``?`` (a few docstrings hold
            accented letters or symbols), which keeps the vocabulary small.

    Returns:
        The corpus text. Deterministic for a given Python version.

    Raises:
        FileNotFoundError: if none of the modules exists.
    """
    max_chars = _checks.integer(max_chars, "max_chars", minimum=1)
    per_file = _checks.integer(per_file, "per_file", minimum=1)
    if isinstance(modules, str):
        raise TypeError("modules must be a sequence of paths, not a single string")
    root = stdlib_dir()
    parts, total = [], 0
    for name in modules:
        path = root / name
        if not path.is_file():
            continue
        text = path.read_text(encoding="utf-8")
        if code_only:
            text = strip_comments_and_docstrings(text)
        if len(text) > per_file:
            cut = text.rfind("\n", 0, per_file)
            text = text[: cut + 1 if cut > 0 else per_file]
        part = f"# ===== {name} =====\n{text}\n"
        parts.append(part)
        total += len(part)
        if total >= max_chars:
            break
    if not parts:
        raise FileNotFoundError(f"none of the {len(modules)} modules was found under {root}")
    corpus = "".join(parts)[:max_chars]
    if ascii_only:
        corpus = "".join(c if ord(c) < 128 else "?" for c in corpus)
    return corpus


class CharVocab:
    """The sorted set of characters of a text, with ``encode`` and ``decode``.

    Example:
        >>> vocab = CharVocab("hello")
        >>> vocab.chars
        'ehlo'
        >>> vocab.decode(vocab.encode("hole"))
        'hole'
    """

    def __init__(self, text: str):
        if not isinstance(text, str):
            raise TypeError(f"text must be a str, got {type(text).__name__}")
        if not text:
            raise ValueError("text is empty: a vocabulary needs at least one character")
        self.chars = "".join(sorted(set(text)))
        self._index = {c: i for i, c in enumerate(self.chars)}

    def __len__(self) -> int:
        return len(self.chars)

    def encode(self, text: str) -> np.ndarray:
        """Character ids of ``text``, shape ``(len(text),)`` int64."""
        if not isinstance(text, str):
            raise TypeError(f"text must be a str, got {type(text).__name__}")
        try:
            return np.fromiter((self._index[c] for c in text), dtype=np.int64, count=len(text))
        except KeyError as err:
            raise ValueError(f"text holds the character {err.args[0]!r}, which is not in the vocabulary") from None

    def decode(self, ids) -> str:
        """The string of a sequence of ids (any integer array-like, or a 1-D torch tensor)."""
        arr = _ids(ids.tolist() if hasattr(ids, "tolist") and not isinstance(ids, np.ndarray) else ids, "ids")
        if arr.ndim != 1 or (arr.size and arr.dtype.kind not in "iu"):
            raise ValueError(f"ids must be a 1-D sequence of integers, got shape {arr.shape} and dtype {arr.dtype}")
        if arr.size and (arr.min() < 0 or arr.max() >= len(self)):
            raise ValueError(f"ids must lie in [0, {len(self)}), got values in [{arr.min()}, {arr.max()}]")
        return "".join(self.chars[i] for i in arr)

    def __repr__(self) -> str:
        return f"CharVocab({len(self)} characters)"


def train_val_split(data, val_fraction: float = 0.1, block: int = 4096) -> tuple[np.ndarray, np.ndarray]:
    """Split a 1-D sequence into training and validation parts by interleaved blocks.

    The sequence is cut into blocks of ``block`` items and a spread-out ``val_fraction``
    of them (block ``i`` when ``floor((i + 1) f) > floor(i f)``) forms the validation
    set. A single tail block would hold only the last modules of the corpus; interleaved
    blocks sample all of them, while each block stays long enough that windows of a
    few hundred characters rarely straddle a cut.

    Returns:
        ``(train, val)``, each the concatenation of its blocks, in order.
    """
    data = _ids(data, "data")
    if data.ndim != 1:
        raise ValueError(f"data must be 1-D, got shape {data.shape}")
    f = _checks.in_range(val_fraction, "val_fraction", 0.0, 1.0, high_open=True)
    if f == 0:
        raise ValueError("val_fraction must be > 0")
    block = _checks.integer(block, "block", minimum=1)
    n_blocks = -(-len(data) // block)
    i = np.arange(n_blocks)
    is_val = np.floor((i + 1) * f) > np.floor(i * f)
    if not is_val.any() or is_val.all():
        raise ValueError(f"{len(data)} items in blocks of {block} are too few to split with val_fraction={f}")
    starts = i * block
    pick = lambda mask: np.concatenate([data[s:s + block] for s in starts[mask]])  # noqa: E731
    return pick(~is_val), pick(is_val)


def random_windows(data, n: int, context: int, rng=None) -> tuple[np.ndarray, np.ndarray]:
    """``n`` random windows of ``context`` ids and their next-id targets.

    Window ``k`` starts at a random offset ``s``: the input is ``data[s : s+context]`` and
    the target ``data[s+1 : s+context+1]``, so position ``t`` of the target is the
    character that follows the first ``t + 1`` characters of the input.

    Returns:
        ``(X, Y)``, both ``(n, context)`` int64.
    """
    data = _ids(data, "data")
    if data.ndim != 1 or data.dtype.kind not in "iu":
        raise ValueError(f"data must be a 1-D integer array, got shape {data.shape} and dtype {data.dtype}")
    n = _checks.integer(n, "n", minimum=1)
    context = _checks.integer(context, "context", minimum=1)
    if len(data) < context + 1:
        raise ValueError(f"data of length {len(data)} is too short for windows of context {context}")
    starts = _rng.resolve(rng).integers(0, len(data) - context, n)
    idx = starts[:, None] + np.arange(context)[None, :]  # (n, context)
    return data[idx].astype(np.int64), data[idx + 1].astype(np.int64)


def unigram_cross_entropy(train, val, vocab_size: int, smoothing: float = 1.0) -> float:
    r"""Cross-entropy, in nats per character, of ``val`` under ``train``'s character frequencies.

    The unigram model predicts every character with the same distribution,
    :math:`p(c) = (n_c + \alpha) / (n + \alpha V)` (counts from ``train``, add-``alpha``
    smoothing so that no character has probability zero); its loss on ``val`` is
    :math:`-\frac{1}{|val|}\sum_t \ln p(c_t)`. A model that uses context must do better.
    """
    train = _ids(train, "train")
    val = _ids(val, "val")
    vocab_size = _checks.integer(vocab_size, "vocab_size", minimum=1)
    alpha = _checks.positive(smoothing, "smoothing")
    for name, arr in (("train", train), ("val", val)):
        if arr.ndim != 1 or not arr.size or arr.dtype.kind not in "iu":
            raise ValueError(f"{name} must be a non-empty 1-D integer array")
        if arr.min() < 0 or arr.max() >= vocab_size:
            raise ValueError(f"{name} holds ids outside [0, {vocab_size})")
    counts = np.bincount(train, minlength=vocab_size) + alpha
    log_p = np.log(counts / counts.sum())
    return float(-log_p[val].mean())


class WindowBatches:
    """Batches of fresh random windows for :func:`nblib.torch_train.fit`: a new draw every epoch.

    Each pass yields ``batches`` batches of ``(X, Y)`` int64 tensors of shape
    ``(batch_size, context)`` from :func:`random_windows`. The generator is seeded once,
    so a run is reproducible, and every epoch sees new windows: over a corpus of a few
    hundred thousand characters this avoids memorising a fixed set of windows.

    Example:
        >>> train = WindowBatches(train_ids, context=32, batch_size=32, batches=300, seed=0)
        >>> history = fit(model, train, epochs=4, ...)   # 1200 steps, 1200 different batches
    """

    def __init__(self, data, context: int, batch_size: int, batches: int, seed: int = 0):
        data = _ids(data, "data")
        if data.ndim != 1 or data.dtype.kind not in "iu":
            raise ValueError(f"data must be a 1-D integer array, got shape {data.shape} and dtype {data.dtype}")
        self.data = data
        self.context = _checks.integer(context, "context", minimum=1)
        if len(data) < self.context + 1:
            raise ValueError(f"data of length {len(data)} is too short for windows of context {self.context}")
        self.batch_size = _checks.integer(batch_size, "batch_size", minimum=1)
        self.batches = _checks.integer(batches, "batches", minimum=1)
        self._rng = np.random.default_rng(_checks.integer(seed, "seed", minimum=0))

    def __len__(self) -> int:
        return self.batches

    def __iter__(self):
        import torch

        for _ in range(self.batches):
            X, Y = random_windows(self.data, self.batch_size, self.context, rng=self._rng)
            yield torch.from_numpy(X), torch.from_numpy(Y)

    def __repr__(self) -> str:
        return (f"WindowBatches({len(self.data):,} ids, context={self.context}, batch_size={self.batch_size}, "
                f"batches={self.batches})")
