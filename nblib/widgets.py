"""Hyperparameter explorers that work live in Jupyter and without a kernel in the book.

A chapter writes one function, ``render(**setting) -> matplotlib Figure``, and
declares its controls::

    explorer(render, [Slider("lr", [0.01, 0.1, 1.0], label="learning rate")],
             title="Gradient descent on a bowl")

Displaying the explorer produces one output bundle with three views of it:

* ``application/vnd.jupyter.widget-view+json``: ipywidgets sliders that re-render
  live (Jupyter shows this view when a kernel is running);
* ``text/html``: a frame player. Every combination of the controls' ``book_values``
  is rendered once, when the notebook is executed, and embedded as a PNG; a few
  lines of JavaScript swap frames as the sliders move. It needs no kernel and no
  network, so the rendered book stays interactive offline, and it says plainly
  that its frames are precomputed;
* ``text/plain``: a stable summary, which is what nbval compares.

A setting that cannot work (a diverging learning rate, say) is reported as a
message inside the explorer, never as a traceback or a plot of NaNs: ``render``
raises :class:`SettingError` (or any ``ValueError`` or ``ArithmeticError``), and a
figure that contains NaN or inf is replaced by a message too.
"""

from __future__ import annotations

import base64
import html
import io
import itertools
import json
import re
import uuid
from dataclasses import dataclass, field
from typing import Any, Callable, Sequence

import numpy as np

from . import _checks


class SettingError(ValueError):
    """Raised by a render function for a setting it cannot show; the message is displayed."""


@dataclass(frozen=True)
class Slider:
    """A control that steps through fixed values.

    Args:
        name: the keyword argument ``render`` receives.
        values: the values the live slider offers (numbers or strings).
        label: the text beside the slider (``name`` by default).
        book_values: the subset precomputed for the rendered book (all values by default).
        value: the starting value; it must be one of ``book_values``.
        fmt: how a value is printed, e.g. ``"{:.0e}"``.
    """

    name: str
    values: Sequence[Any]
    label: str | None = None
    book_values: Sequence[Any] | None = None
    value: Any = None
    fmt: str = "{:g}"

    def __post_init__(self):
        if not isinstance(self.name, str):
            raise TypeError(f"Slider name must be a string, got {type(self.name).__name__}")
        if not self.name.isidentifier():
            raise ValueError(f"Slider name must be a Python identifier, got {self.name!r}")
        if isinstance(self.values, (str, bytes)) or not hasattr(self.values, "__iter__"):
            raise TypeError(f"Slider {self.name!r}: values must be a sequence, got {type(self.values).__name__}")
        values = tuple(self.values)
        if not values:
            raise ValueError(f"Slider {self.name!r}: values is empty")
        book = tuple(self.book_values) if self.book_values is not None else values
        missing = [v for v in book if v not in values]
        if missing:
            raise ValueError(f"Slider {self.name!r}: book_values {missing} are not among values {list(values)}")
        value = book[len(book) // 2] if self.value is None else self.value
        if value not in book:
            raise ValueError(f"Slider {self.name!r}: value {value!r} must be one of book_values {list(book)}")
        object.__setattr__(self, "values", values)
        object.__setattr__(self, "book_values", book)
        object.__setattr__(self, "value", value)
        if self.label is None:
            object.__setattr__(self, "label", self.name)

    def format(self, value) -> str:
        return self.fmt.format(value) if not isinstance(value, str) else value


@dataclass
class Frame:
    """What the explorer shows for one setting: a PNG, or a message explaining why not."""

    png: bytes | None = None
    message: str | None = None

    @property
    def ok(self) -> bool:
        return self.png is not None

    def html(self) -> str:
        if self.ok:
            data = base64.b64encode(self.png).decode("ascii")
            return f'<img alt="explorer frame" src="data:image/png;base64,{data}">'
        return f'<div class="nblib-message mathjax_process" role="alert">{_html_text(self.message or "")}</div>'


def _html_text(text: str) -> str:
    """Escape text for HTML, turning ``$x$`` into ``\\(x\\)``: the book's MathJax typesets only the latter."""
    return re.sub(r"\$([^$]+)\$", r"\\(\1\\)", html.escape(text))


def _figure_is_finite(fig) -> bool:
    """False if any line, scatter or image in the figure holds NaN or inf data."""
    for ax in fig.axes:
        for line in ax.lines:
            if not np.isfinite(np.asarray(line.get_xydata(), dtype=float)).all():
                return False
        for coll in ax.collections:
            offsets = np.asarray(coll.get_offsets(), dtype=float)
            if offsets.size and not np.isfinite(offsets).all():
                return False
        for image in ax.images:
            arr = np.ma.getdata(image.get_array())
            if arr is not None and np.asarray(arr).dtype.kind == "f" and not np.isfinite(arr).all():
                return False
    return True


def _png(fig, dpi: int) -> bytes:
    """The figure as a small PNG: plots use few colours, so a 64-colour palette looks the same at 1/4 the size.

    The figure is drawn once with Agg at ``dpi`` and its pixels are quantised and encoded directly
    (the same pixels ``savefig`` would give, without encoding and decoding a full-colour PNG first).
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from PIL import Image

    fig.set_dpi(dpi)
    canvas = FigureCanvasAgg(fig)
    canvas.draw()
    rgb = np.asarray(canvas.buffer_rgba())[..., :3]
    image = Image.fromarray(rgb).quantize(colors=64, method=Image.Quantize.FASTOCTREE)
    out = io.BytesIO()
    image.save(out, format="PNG", optimize=True)
    return out.getvalue()


@dataclass
class Explorer:
    """Live and precomputed views of ``render`` over a grid of settings (see module docs)."""

    render: Callable[..., Any]
    controls: Sequence[Slider]
    title: str = "Explorer"
    dpi: int = 80
    max_frames: int = 64
    _cache: dict = field(default_factory=dict, repr=False)
    _widget: Any = field(default=None, repr=False)

    def __post_init__(self):
        if not callable(self.render):
            raise TypeError(f"render must be callable, got {type(self.render).__name__}")
        if not hasattr(self.controls, "__iter__") or isinstance(self.controls, (str, bytes)):
            raise TypeError(f"controls must be a non-empty sequence of Slider, got {type(self.controls).__name__}")
        self.controls = tuple(self.controls)
        if not self.controls or not all(isinstance(c, Slider) for c in self.controls):
            raise TypeError("controls must be a non-empty sequence of Slider")
        names = [c.name for c in self.controls]
        if len(set(names)) != len(names):
            raise ValueError(f"control names must be unique, got {names} in controls")
        self.max_frames = _checks.integer(self.max_frames, "max_frames", minimum=1)
        self.dpi = _checks.integer(self.dpi, "dpi", minimum=1)
        n = int(np.prod([len(c.book_values) for c in self.controls]))
        if n > self.max_frames:
            raise ValueError(f"{n} book frames requested ({' x '.join(str(len(c.book_values)) for c in self.controls)}); "
                             f"max_frames is {self.max_frames}: use fewer book_values")
        self.setting = {c.name: c.value for c in self.controls}

    # ------------------------------------------------------------- rendering
    def frame(self, **setting) -> Frame:
        """Render (or fetch from the cache) the frame for a full or partial setting."""
        unknown = set(setting) - {c.name for c in self.controls}
        if unknown:
            raise TypeError(f"unknown control(s) {sorted(unknown)}; controls are {[c.name for c in self.controls]}")
        full = {**self.setting, **setting}
        key = tuple(full[c.name] for c in self.controls)
        if key not in self._cache:
            self._cache[key] = self._render(full)
        return self._cache[key]

    def _render(self, setting: dict) -> Frame:
        import matplotlib.pyplot as plt

        try:
            with np.errstate(all="ignore"):
                fig = self.render(**setting)
        except (ValueError, ArithmeticError) as err:
            plt.close("all")
            return Frame(message=f"{self._describe(setting)}: {err}")
        if fig is None or not hasattr(fig, "savefig"):
            raise TypeError(f"render must return a matplotlib Figure, got {type(fig).__name__}")
        try:
            if not _figure_is_finite(fig):
                return Frame(message=f"{self._describe(setting)}: the result contains NaN or inf values, "
                                     "so this setting diverged. Try a smaller step or another setting.")
            return Frame(png=_png(fig, self.dpi))
        finally:
            plt.close(fig)

    def _describe(self, setting: dict) -> str:
        return ", ".join(f"{c.label} = {c.format(setting[c.name])}" for c in self.controls)

    @property
    def current(self) -> Frame:
        """The frame for the current setting (what the live widget shows)."""
        return self.frame()

    def book_frames(self) -> dict[tuple, Frame]:
        """Every combination of the controls' ``book_values``, rendered."""
        grid = itertools.product(*(c.book_values for c in self.controls))
        return {combo: self.frame(**dict(zip((c.name for c in self.controls), combo))) for combo in grid}

    # ------------------------------------------------------------ live widget
    @property
    def widget(self):
        """The ipywidgets view: one selection slider per control, a message line, an image."""
        if self._widget is None:
            self._widget = self._build_widget()
        return self._widget

    def _build_widget(self):
        import ipywidgets as w

        sliders = {}
        for c in self.controls:
            options = [(c.format(v), v) for v in c.values]
            slider = w.SelectionSlider(options=options, value=self.setting[c.name], description=c.label,
                                       continuous_update=False, style={"description_width": "initial"},
                                       layout=w.Layout(width="420px"))
            slider.observe(lambda change, name=c.name: self.set(**{name: change["new"]}), names="value")
            sliders[c.name] = slider
        message = w.HTMLMath()  # typesets the \\( \\) in messages
        image = w.Image(format="png")
        box = w.VBox([w.HTML(f"<b>{html.escape(self.title)}</b>"), *sliders.values(), message, image])
        box.sliders, box.message, box.image = sliders, message, image
        self._widget = box
        self._show(self.current)
        return box

    def set(self, **setting) -> Frame:
        """Change controls (as a reader moving sliders would) and update the live view."""
        for name, value in setting.items():
            control = next((c for c in self.controls if c.name == name), None)
            if control is None:
                raise TypeError(f"unknown control {name!r}; controls are {[c.name for c in self.controls]}")
            if value not in control.values:
                raise ValueError(f"{name}={value!r} is not one of the slider's values {list(control.values)}")
        self.setting.update(setting)
        frame = self.current
        if self._widget is not None:
            for name, value in setting.items():
                if self._widget.sliders[name].value != value:
                    self._widget.sliders[name].value = value  # re-enters set() with nothing new
            self._show(frame)
        return frame

    def _show(self, frame: Frame) -> None:
        box = self._widget
        if frame.ok:
            box.message.value = ""
            box.image.value = frame.png
            box.image.layout.display = None
        else:
            box.message.value = frame.html()
            box.image.layout.display = "none"

    # -------------------------------------------------------- display bundle
    def summary(self) -> str:
        frames = self.book_frames()
        messages = sum(not f.ok for f in frames.values())
        controls = "; ".join(f"{c.label}: {', '.join(c.format(v) for v in c.book_values)}" for c in self.controls)
        return (f"{self.title} [explorer: {len(frames)} precomputed frames, {messages} with a message] "
                f"({controls})")

    def html(self) -> str:
        """The kernel-free frame player (see the module docstring)."""
        frames = self.book_frames()
        contents, index = [], {}
        frame_of = {}
        for combo, frame in frames.items():
            snippet = frame.html()
            if snippet not in index:
                index[snippet] = len(contents)
                contents.append(snippet)
            key = "-".join(str(c.book_values.index(v)) for c, v in zip(self.controls, combo))
            frame_of[key] = index[snippet]
        start = tuple(self.setting[c.name] for c in self.controls)
        controls = "".join(
            f'<label class="nblib-control"><span class="mathjax_process">{_html_text(c.label)}</span>'
            f'<input type="range" min="0" max="{len(c.book_values) - 1}" step="1" '
            f'value="{c.book_values.index(self.setting[c.name])}" data-name="{c.name}" '
            f'aria-label="{html.escape(c.label.replace("$", ""))}">'
            f'<output>{html.escape(c.format(self.setting[c.name]))}</output></label>'
            for c in self.controls)
        payload = json.dumps({
            "labels": [[c.format(v) for v in c.book_values] for c in self.controls],
            "frames": frame_of, "contents": contents}).replace("</", "<\\/")
        note = (f"Precomputed explorer: {len(frames)} frames were rendered when this page was built. "
                "Run the notebook in Jupyter for the live version with finer steps.")
        return (f'<div class="nblib-explorer" id="nblib-{uuid.uuid4().hex[:12]}">{_STYLE}'
                f'<div class="nblib-title mathjax_process">{_html_text(self.title)}</div>'
                f'<div class="nblib-note">{html.escape(note)}</div>'
                f'<div class="nblib-controls">{controls}</div>'
                f'<div class="nblib-frame">{frames[start].html()}</div>'
                f'<script type="application/json" class="nblib-data">{payload}</script>'
                f"<script>{_PLAYER_JS}</script></div>")

    def _repr_mimebundle_(self, include=None, exclude=None) -> dict:
        bundle = {"text/plain": self.summary(), "text/html": self.html()}
        try:
            view = self.widget._repr_mimebundle_()
        except ImportError:  # ipywidgets missing: the frame player still works
            view = {}
        if view and "application/vnd.jupyter.widget-view+json" in view:
            bundle["application/vnd.jupyter.widget-view+json"] = view["application/vnd.jupyter.widget-view+json"]
        return bundle

    def __repr__(self) -> str:
        return f"Explorer({self.title!r}, controls={[c.name for c in self.controls]})"


def explorer(render: Callable[..., Any], controls: Sequence[Slider], *, title: str = "Explorer",
             dpi: int = 80, max_frames: int = 64) -> Explorer:
    """Build an :class:`Explorer`; display it (last expression of a cell) to show it."""
    return Explorer(render, controls, title=title, dpi=dpi, max_frames=max_frames)


_STYLE = """<style>
.nblib-explorer{border:1px solid #c8c8c8;border-radius:6px;padding:.6em .8em;margin:.5em 0;max-width:100%}
.nblib-explorer .nblib-title{font-weight:600}
.nblib-explorer .nblib-note{font-size:.85em;opacity:.75;margin:.2em 0 .5em}
.nblib-explorer .nblib-control{display:flex;align-items:center;gap:.6em;margin:.15em 0}
.nblib-explorer .nblib-control span{min-width:11em}
.nblib-explorer .nblib-control input{flex:0 1 16em}
.nblib-explorer .nblib-frame img{max-width:100%;height:auto}
.nblib-explorer .nblib-message{border-left:4px solid #d62728;background:rgba(214,39,40,.08);padding:.6em .8em;margin:.4em 0}
</style>"""

_PLAYER_JS = """(function(){
var root=document.currentScript.parentElement;
var data=JSON.parse(root.querySelector('.nblib-data').textContent);
var inputs=root.querySelectorAll('input[type=range]');
function update(){
  var key=[];
  inputs.forEach(function(el,i){key.push(el.value);el.nextElementSibling.textContent=data.labels[i][+el.value];});
  var frame=root.querySelector('.nblib-frame');
  frame.innerHTML=data.contents[data.frames[key.join('-')]];
  if(window.MathJax&&MathJax.typesetPromise){MathJax.typesetPromise([frame]);}
}
inputs.forEach(function(el){el.addEventListener('input',update);});
})();"""
