"""The gradient-checkpointing explorer (chapter 12), built through its function and driven like a reader would."""

import re
import time

import numpy as np
import pytest

pytest.importorskip("ipywidgets")
pytest.importorskip("matplotlib")
torch = pytest.importorskip("torch")

from nblib.efficient import checkpoint_memory_model  # noqa: E402
from nblib.explorers.efficient import BOOK_DEPTHS, DEPTHS, SEGMENTS, checkpoint_explorer  # noqa: E402
from explorer_helpers import axes_titles  # noqa: E402

pytestmark = pytest.mark.usefixtures("torch_one_thread")


@pytest.fixture(scope="module")
def exp():
    return checkpoint_explorer(width=8, batch=4)


def _titles(exp, **setting):
    return tuple(axes_titles(exp, **setting)[:2])


def test_controls_and_book_frames_fit_the_budget(exp):
    assert [c.name for c in exp.controls] == ["depth", "segments"]
    assert int(np.prod([len(c.book_values) for c in exp.controls])) <= 64
    assert exp.controls[0].book_values == BOOK_DEPTHS and exp.controls[1].book_values == SEGMENTS
    assert exp.controls[0].values == DEPTHS


def test_every_control_changes_the_picture(exp):
    exp.set(depth=16, segments=1)
    seen = {exp.widget.image.value}
    for setting in ({"segments": 4}, {"depth": 64}, {"segments": 8}):
        frame = exp.set(**setting)
        assert frame.ok, frame.message
        assert exp.widget.image.value not in seen
        seen.add(exp.widget.image.value)


@pytest.mark.parametrize("depth", DEPTHS)
def test_measured_peaks_in_the_titles_equal_the_hand_count(exp, depth):
    for k in (k for k in SEGMENTS if k <= depth):
        left, right = _titles(exp, depth=depth, segments=k)
        peak, plain = map(int, re.search(r"peak (\d+) against (\d+)", left).groups())
        hand = checkpoint_memory_model(depth, k)
        assert (peak, plain) == (hand["peak"], depth + 1)
        work = int(re.search(r"([+-]\d+)% work", right).group(1))
        assert work == round(100 * hand["recomputed_blocks"] / (3 * depth))


def test_sqrt_segments_save_most_at_depth_64(exp):
    saved = {k: int(re.search(r"([+-]\d+)% memory", _titles(exp, depth=64, segments=k)[1]).group(1)) for k in SEGMENTS}
    assert saved[1] == 0 and min(saved, key=saved.get) == 8 and saved[8] == round(100 * 16 / 65) - 100


def test_extremes_give_messages(exp):
    frame = exp.set(depth=4, segments=16)
    assert not frame.ok and "cannot be cut into 16 segments" in frame.message
    assert not exp.set(depth=8, segments=16).ok
    assert exp.set(depth=16, segments=16).ok  # one block per segment is allowed, and shows its cost


def test_render_is_fast(exp):
    import matplotlib.pyplot as plt

    times = []
    for k in (1, 2, 4):
        t0 = time.perf_counter()
        plt.close(exp.render(depth=32, segments=k))
        times.append(time.perf_counter() - t0)
    assert np.median(times) < 1.0


def test_checks_its_arguments():
    with pytest.raises(ValueError, match="width"):
        checkpoint_explorer(width=0)
