"""The explorer helper: live widget, frame player, and clear messages for bad settings."""

import json
import re

import numpy as np
import pytest

pytest.importorskip("ipywidgets")
plt = pytest.importorskip("matplotlib.pyplot")

from nblib.widgets import Explorer, SettingError, Slider, explorer  # noqa: E402


def _render(scale, kind="line"):
    if scale < 0:
        raise SettingError("scale must be non-negative")
    x = np.linspace(0, 1, 20)
    y = np.exp(x * scale) if kind == "line" else np.full_like(x, np.nan)
    fig, ax = plt.subplots(figsize=(3, 2))
    ax.plot(x, y)
    ax.set(title=f"scale {scale}", xlabel="x", ylabel="y")
    return fig


@pytest.fixture
def demo() -> Explorer:
    return explorer(_render, [Slider("scale", [-1.0, 0.0, 1.0, 2.0, 3.0], book_values=[-1.0, 1.0, 3.0], value=1.0),
                              Slider("kind", ["line", "nan"], fmt="{}", value="line")], title="Demo")


def test_slider_validation():
    with pytest.raises(ValueError, match="book_values"):
        Slider("a", [1, 2], book_values=[3])
    with pytest.raises(ValueError, match="identifier"):
        Slider("not a name", [1])
    with pytest.raises(ValueError, match="must be one of book_values"):
        Slider("a", [1, 2, 3], book_values=[1, 2], value=3)
    with pytest.raises(ValueError, match="empty"):
        Slider("a", [])


def test_too_many_frames_is_refused_with_the_count():
    with pytest.raises(ValueError, match="100 book frames"):
        explorer(_render, [Slider("scale", list(range(10))), Slider("kind", list(range(10)))], max_frames=64)


def test_frames_render_and_messages_replace_errors_and_nans(demo):
    assert demo.frame(scale=1.0).ok
    bad = demo.frame(scale=-1.0)
    assert not bad.ok and "scale must be non-negative" in bad.message and "scale = -1" in bad.message
    nan = demo.frame(scale=1.0, kind="nan")
    assert not nan.ok and "NaN or inf" in nan.message
    assert plt.get_fignums() == []  # every figure was closed


def test_live_widget_follows_set_and_shows_messages(demo):
    box = demo.widget
    first = box.image.value
    demo.set(scale=3.0)
    assert box.sliders["scale"].value == 3.0
    assert box.image.value != first and box.message.value == ""
    demo.set(scale=-1.0)
    assert box.image.layout.display == "none" and "non-negative" in box.message.value
    box.sliders["scale"].value = 2.0  # a reader moving the slider
    assert demo.setting["scale"] == 2.0 and box.image.layout.display is None


def test_set_rejects_values_the_slider_does_not_have(demo):
    with pytest.raises(ValueError, match="not one of the slider's values"):
        demo.set(scale=7.0)
    with pytest.raises(TypeError, match="unknown control"):
        demo.set(speed=1.0)


def test_frame_player_html_contract(demo):
    page = demo.html()
    assert page.startswith('<div class="nblib-explorer"')
    assert len(re.findall(r'<input type="range"', page)) == 2
    assert 'class="nblib-frame"' in page and "Precomputed explorer" in page
    payload = json.loads(re.search(r'<script type="application/json" class="nblib-data">(.*?)</script>', page,
                                   re.S).group(1).replace("<\\/", "</"))
    assert len(payload["frames"]) == 3 * 2
    assert max(payload["frames"].values()) < len(payload["contents"]) <= 6
    assert any("nblib-message" in c for c in payload["contents"])


def test_mimebundle_has_live_view_player_and_stable_summary(demo):
    bundle = demo._repr_mimebundle_()
    assert {"text/plain", "text/html", "application/vnd.jupyter.widget-view+json"} <= set(bundle)
    assert bundle["text/plain"] == demo._repr_mimebundle_()["text/plain"]
    assert "6 precomputed frames, 4 with a message" in bundle["text/plain"]


def test_render_must_return_a_figure():
    with pytest.raises(TypeError, match="matplotlib Figure"):
        explorer(lambda a: None, [Slider("a", [1])]).frame()


def test_tex_in_labels_becomes_mathjax_inline_delimiters():
    exp = explorer(_render, [Slider("scale", [1.0, 2.0], label="scale $s_1$")], title="Growth of $e^{sx}$")
    page = exp.html()
    assert r"\(s_1\)" in page and r"\(e^{sx}\)" in page
    assert "$s_1$" not in page


def test_messages_carry_tex_as_mathjax_delimiters():
    exp = explorer(_render, [Slider("scale", [-1.0, 1.0], label="scale $s$", value=1.0)])
    assert r"scale \(s\) = -1" in exp.frame(scale=-1.0).html()
