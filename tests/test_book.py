"""The rendered book: it builds strictly, and every page works offline in a browser.

The module builds the book once (a module-scoped fixture) into a fresh temporary
folder, with warnings as errors and nitpicky references. Then it serves the HTML
on 127.0.0.1 and opens every page of the table of contents in Debian's Chromium,
driven by Playwright:

* every request must go to the local server; any other is aborted and fails the page;
* no request may fail or return an error status (a 404 for a missing script, say);
* MathJax must have rendered every formula, and no raw TeX delimiters may remain;
* every image must have loaded;
* in every nblib explorer (a kernel-free frame player), moving a slider must change
  the frame, and moving it back must restore it: a control that silently does
  nothing fails.

It also checks what a reader relies on beyond single pages: the .ipynb download and
the Colab and Binder buttons on every chapter, the glossary and its links, dark mode
and the search page, all offline.

Full-page screenshots go to ``.artifacts/screenshots/`` for a person to look at.
The browser test is skipped, with the reason, when Chromium or Playwright is missing;
it never downloads a browser.
"""

from __future__ import annotations

import functools
import http.server
import re
import shutil
import subprocess
import sys
import threading
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import yaml

pytestmark = [pytest.mark.book, pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[1]
ARTIFACTS = ROOT / ".artifacts"
SCREENSHOTS = ARTIFACTS / "screenshots"

BUILD_FLAGS = ["-W", "-n", "--keep-going"]
ANSI_ESCAPE = re.compile(r"\x1b\[[0-9;]*m")  # Sphinx colours its log even when piped
BUILD_TIMEOUT_S = 900

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
PAGE_TIMEOUT_MS = 60_000
SLIDER_TIMEOUT_MS = 5_000


# ------------------------------------------------------------------ the toc
def toc_pages(toc_file: Path = ROOT / "_toc.yml") -> list[str]:
    """Every document named in the table of contents, in reading order, without suffix."""
    toc = yaml.safe_load(toc_file.read_text())
    pages = [toc["root"]]

    def walk(entries):
        for entry in entries or []:
            if "file" in entry:
                pages.append(entry["file"])
            walk(entry.get("sections"))
            walk(entry.get("chapters"))

    for part in toc.get("parts", []):
        walk(part.get("chapters"))
    walk(toc.get("chapters"))
    walk(toc.get("sections"))
    return [str(Path(page).with_suffix("")) if Path(page).suffix in (".md", ".ipynb") else page for page in pages]


PAGES = toc_pages()


# ---------------------------------------------------------------- the build
@dataclass
class Build:
    returncode: int
    log: str
    html_dir: Path


def _jupyter_book() -> str:
    beside = Path(sys.executable).with_name("jupyter-book")
    found = str(beside) if beside.exists() else shutil.which("jupyter-book")
    if found is None:
        pytest.fail("jupyter-book is not installed in this environment (run `make venv`)")
    return found


@pytest.fixture(scope="module")
def book(tmp_path_factory) -> Build:
    """Build the book once per session, strictly, from a clean temporary folder."""
    assets = subprocess.run(
        [sys.executable, str(ROOT / "book" / "vendor_assets.py")],
        cwd=ROOT, capture_output=True, text=True, timeout=300,
    )
    if assets.returncode != 0:
        pytest.fail(f"fetching the vendored assets failed:\n{assets.stdout}{assets.stderr}")

    out = tmp_path_factory.mktemp("book-build")
    proc = subprocess.run(
        [_jupyter_book(), "build", str(ROOT), "--path-output", str(out), *BUILD_FLAGS],
        cwd=ROOT, capture_output=True, text=True, timeout=BUILD_TIMEOUT_S,
    )
    log = ANSI_ESCAPE.sub("", proc.stdout + proc.stderr)
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / "book_build.log").write_text(log)
    return Build(proc.returncode, log, out / "_build" / "html")


def test_book_builds_strictly(book):
    tail = "\n".join(book.log.splitlines()[-60:])
    assert book.returncode == 0, f"jupyter-book build {' '.join(BUILD_FLAGS)} failed:\n{tail}"
    assert "build succeeded" in book.log, tail
    assert (book.html_dir / "index.html").is_file()
    missing = [page for page in PAGES if not (book.html_dir / f"{page}.html").is_file()]
    assert not missing, f"pages in _toc.yml without HTML: {missing}"


# ------------------------------------------------------------ a local server
@dataclass
class Site:
    base_url: str
    errors: list[str] = field(default_factory=list)  # "404 /path" for every error status served


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    site: Site

    def log_message(self, format, *args):  # keep the test output clean
        pass

    def log_request(self, code="-", size="-"):
        try:
            status = int(code)
        except (TypeError, ValueError):
            return
        if status >= 400:
            self.site.errors.append(f"{status} {self.path}")


@pytest.fixture(scope="module")
def site(book):
    if book.returncode != 0 or not book.html_dir.is_dir():
        pytest.fail("the book did not build; see test_book_builds_strictly")
    handler = type("Handler", (_QuietHandler,), {})
    server = http.server.ThreadingHTTPServer(
        ("127.0.0.1", 0), functools.partial(handler, directory=str(book.html_dir))
    )
    server.daemon_threads = True
    handler.site = Site(base_url=f"http://127.0.0.1:{server.server_address[1]}")
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield handler.site
    finally:
        server.shutdown()
        server.server_close()


# ------------------------------------------------------------------ browser
@dataclass
class Problems:
    """What went wrong while one page was open."""

    offsite: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    statuses: list[str] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)
    console_errors: list[str] = field(default_factory=list)


@dataclass
class Browser:
    context: object
    problems: Problems = field(default_factory=Problems)


@pytest.fixture(scope="module")
def browser(site, tmp_path_factory):
    if not CHROMIUM.exists():
        pytest.skip(f"Debian's Chromium is not installed ({CHROMIUM} is missing; `apt-get install chromium`)")
    sync_api = pytest.importorskip(
        "playwright.sync_api", reason="Python Playwright is not installed (pip install playwright)"
    )
    user_data_dir = tmp_path_factory.mktemp("chromium-profile")
    with sync_api.sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            str(user_data_dir),
            executable_path=str(CHROMIUM),
            headless=True,
            args=CHROMIUM_FLAGS,
            viewport={"width": 1280, "height": 900},
            service_workers="block",
        )
        state = Browser(context)

        def guard(route):
            url = route.request.url
            if url == site.base_url or url.startswith(site.base_url + "/"):
                route.continue_()
            else:
                state.problems.offsite.append(url)
                route.abort("blockedbyclient")

        context.route("**/*", guard)
        try:
            yield state
        finally:
            context.close()


_MATH_REPORT_JS = r"""
() => {
  const math = Array.from(document.querySelectorAll('.math'));
  const unrendered = math.filter(el => !el.querySelector('mjx-container'))
                         .map(el => el.textContent.trim().slice(0, 80));
  const skip = 'pre, code, script, style, textarea, mjx-container, .highlight, .nblib-data';
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT, {
    acceptNode(node) {
      const parent = node.parentElement;
      return parent && !parent.closest(skip) ? NodeFilter.FILTER_ACCEPT : NodeFilter.FILTER_REJECT;
    }
  });
  const raw = [];
  while (walker.nextNode()) {
    const text = walker.currentNode.nodeValue;
    // $$, \( \) \[ \] and \begin{...} never belong in rendered text; a single-dollar
    // pair counts only when TeX-like ($w_1$, $\eta$, $x^2$, or one letter as in $b$),
    // so that prices such as "$5 and $10" stay allowed.
    if (/\$\$|\\\(|\\\)|\\\[|\\\]|\\begin\{|\$[^$\n]*[\\^_{][^$\n]*\$|\$[A-Za-z]\$/.test(text)) {
      raw.push(text.trim().slice(0, 80));
    }
  }
  // A "$$...$$" inside a paragraph is parsed as inline math between stray dollar
  // signs: the formula renders, and a "$" is left beside it.
  document.querySelectorAll('mjx-container').forEach(el => {
    const host = el.closest('.math') || el;
    const before = host.previousSibling, after = host.nextSibling;
    const b = before && before.nodeType === Node.TEXT_NODE ? before.nodeValue : '';
    const a = after && after.nodeType === Node.TEXT_NODE ? after.nodeValue : '';
    if (/\$\s*$/.test(b) || /^[.,;:]?\$/.test(a)) {
      raw.push(`stray $ beside a formula: ...${b.slice(-30)}[formula]${a.slice(0, 30)}...`);
    }
  });
  return {formulas: math.length,
          rendered: document.querySelectorAll('mjx-container').length,
          unrendered, raw};
}
"""

_IMAGES_JS = r"""
async () => {
  const images = Array.from(document.images);
  images.forEach(img => { if (img.loading === 'lazy') img.loading = 'eager'; });
  const settle = img => img.complete ? Promise.resolve() : new Promise(done => {
    img.addEventListener('load', done, {once: true});
    img.addEventListener('error', done, {once: true});
  });
  await Promise.race([Promise.all(images.map(settle)), new Promise(done => setTimeout(done, 20000))]);
  return {count: images.length,
          broken: images.filter(img => !(img.complete && img.naturalWidth > 0))
                        .map(img => (img.currentSrc || img.src || '(no src)').slice(0, 120))};
}
"""

_WAIT_MATHJAX_JS = """
async () => {
  if (window.MathJax && MathJax.startup && MathJax.startup.promise) await MathJax.startup.promise;
}
"""

_SET_RANGE_JS = """
(el, value) => {
  el.value = String(value);
  el.dispatchEvent(new Event('input', {bubbles: true}));
}
"""


def _exercise_explorers(page) -> list[str]:
    """Move every range input of every explorer there and back; return what failed."""
    failures: list[str] = []
    explorers = page.locator(".nblib-explorer")
    for i in range(explorers.count()):
        explorer = explorers.nth(i)
        label = f"explorer #{i + 1}"
        frames = explorer.locator(".nblib-frame")
        inputs = explorer.locator('input[type="range"]')
        if frames.count() != 1:
            failures.append(f"{label}: expected one .nblib-frame, found {frames.count()}")
            continue
        if inputs.count() == 0:
            failures.append(f"{label}: has no range inputs")
            continue
        frame = frames.first.element_handle()
        for j in range(inputs.count()):
            slider = inputs.nth(j)
            name = slider.get_attribute("data-name") or f"input #{j + 1}"
            low, high = float(slider.get_attribute("min") or 0), float(slider.get_attribute("max") or 100)
            start = float(slider.input_value())
            target = high if high - start >= start - low else low
            if target == start:
                failures.append(f"{label}, slider {name!r}: offers a single value, so it cannot change anything")
                continue
            target_text = f"{target:g}"
            before = frame.inner_html()
            slider.evaluate(_SET_RANGE_JS, target_text)
            try:
                page.wait_for_function(
                    "([el, before]) => el.innerHTML !== before", arg=[frame, before], timeout=SLIDER_TIMEOUT_MS
                )
            except Exception:
                failures.append(f"{label}, slider {name!r}: moving it from {start:g} to {target_text} "
                                "left the frame unchanged")
                continue
            broken = frame.evaluate(
                "el => Array.from(el.querySelectorAll('img'))"
                ".filter(img => !(img.complete && img.naturalWidth > 0)).length"
            )
            if broken:
                failures.append(f"{label}, slider {name!r}: the new frame has {broken} image(s) that did not load")
            slider.evaluate(_SET_RANGE_JS, f"{start:g}")
            try:
                page.wait_for_function(
                    "([el, before]) => el.innerHTML === before", arg=[frame, before], timeout=SLIDER_TIMEOUT_MS
                )
            except Exception:
                failures.append(f"{label}, slider {name!r}: moving it back to {start:g} did not restore the frame")
    return failures


@pytest.mark.parametrize("page_name", PAGES)
def test_page_works_offline(page_name, site, browser, book):
    html_file = book.html_dir / f"{page_name}.html"
    assert html_file.is_file(), f"{page_name} is in _toc.yml but was not built"

    problems = browser.problems = Problems()
    served_errors_before = len(site.errors)
    page = browser.context.new_page()
    page.on("requestfailed", lambda r: problems.failed.append(f"{r.url} ({r.failure})"))
    page.on("response", lambda r: r.status >= 400 and problems.statuses.append(f"{r.status} {r.url}"))
    page.on("pageerror", lambda e: problems.page_errors.append(str(e)))
    page.on("console", lambda m: m.type == "error" and problems.console_errors.append(m.text))
    try:
        page.goto(f"{site.base_url}/{page_name}.html", wait_until="load", timeout=PAGE_TIMEOUT_MS)
        page.evaluate(_WAIT_MATHJAX_JS)
        page.wait_for_load_state("networkidle", timeout=PAGE_TIMEOUT_MS)
        math = page.evaluate(_MATH_REPORT_JS)
        images = page.evaluate(_IMAGES_JS)
        explorer_failures = _exercise_explorers(page)
        page.wait_for_load_state("networkidle", timeout=PAGE_TIMEOUT_MS)
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOTS / f"{page_name.replace('/', '-')}.png"), full_page=True)
    finally:
        page.close()

    offsite = sorted(set(problems.offsite))
    assert not offsite, f"requests left 127.0.0.1 (aborted): {offsite}"
    served_errors = site.errors[served_errors_before:]
    assert not (problems.statuses or served_errors), f"error responses: {problems.statuses + served_errors}"
    assert not problems.failed, f"failed requests: {problems.failed}"
    assert not problems.page_errors, (
        f"uncaught JavaScript errors: {problems.page_errors}; console errors: {problems.console_errors}"
    )
    if math["formulas"]:
        assert math["rendered"] > 0 and not math["unrendered"], (
            f"MathJax did not render {len(math['unrendered'])} of {math['formulas']} formulas: "
            f"{math['unrendered'][:5]}"
        )
    assert not math["raw"], f"raw TeX delimiters left in the page text: {math['raw'][:5]}"
    assert not images["broken"], f"images that did not load: {images['broken']}"
    assert not explorer_failures, "explorer controls that do not work:\n" + "\n".join(explorer_failures)


# ------------------------------------------- what a reader finds on the pages
CHAPTER_PAGES = [p for p in PAGES if p.startswith("chapters/")]


def _config() -> dict:
    return yaml.safe_load((ROOT / "_config.yml").read_text())


@pytest.mark.parametrize("page_name", CHAPTER_PAGES)
def test_chapter_offers_download_and_launch_buttons(page_name, book):
    """Every chapter can be downloaded as .ipynb and opened in Colab and Binder from the configured repository."""
    html = (book.html_dir / f"{page_name}.html").read_text(encoding="utf-8")
    stem = Path(page_name).name
    assert f"_sources/chapters/{stem}.ipynb" in html, "no .ipynb download link"
    assert (book.html_dir / "_sources" / "chapters" / f"{stem}.ipynb").is_file(), "the .ipynb download is missing"
    repo = _config()["repository"]["url"].removeprefix("https://github.com/")
    branch = _config()["repository"]["branch"]
    assert f"https://colab.research.google.com/github/{repo}/blob/{branch}/chapters/{stem}.ipynb" in html
    assert f"https://mybinder.org/v2/gh/{repo}/{branch}?urlpath=" in html


def test_glossary_terms_are_defined_and_linked_from_chapters(book):
    glossary = (book.html_dir / "book" / "glossary.html").read_text(encoding="utf-8")
    terms = set(re.findall(r'id="(term-[^"]+)"', glossary))
    assert len(terms) >= 40
    linked = set()
    for page in CHAPTER_PAGES:
        linked |= set(re.findall(r'glossary\.html#(term-[^"]+)"', (book.html_dir / f"{page}.html").read_text()))
    assert linked <= terms, f"links to undefined terms: {sorted(linked - terms)}"
    assert len(linked) >= 0.8 * len(terms), f"only {len(linked)} of {len(terms)} terms are linked from a chapter"
    index = (book.html_dir / "genindex.html").read_text(encoding="utf-8")
    assert "Backpropagation" in index and "Perceptron" in index, "the index of key terms lacks glossary terms"


def _open(browser, site, path: str):
    page = browser.context.new_page()
    browser.problems = Problems()
    page.on("pageerror", lambda e: browser.problems.page_errors.append(str(e)))
    page.goto(f"{site.base_url}/{path}", wait_until="load", timeout=PAGE_TIMEOUT_MS)
    page.wait_for_load_state("networkidle", timeout=PAGE_TIMEOUT_MS)
    return page


_BACKGROUND_LUMINANCE_JS = """() => {
  const rgb = getComputedStyle(document.body).backgroundColor.match(/[\\d.]+/g).map(Number);
  return (0.2126 * rgb[0] + 0.7152 * rgb[1] + 0.0722 * rgb[2]) / 255;
}"""


def test_dark_mode_works_offline(site, browser):
    page = _open(browser, site, "chapters/01_perceptron.html")
    try:
        light = page.evaluate(_BACKGROUND_LUMINANCE_JS)
        for _ in range(3):  # the switch cycles light -> dark -> auto
            if page.evaluate("document.documentElement.dataset.theme") == "dark":
                break
            page.locator(".theme-switch-button").first.click()
        assert page.evaluate("document.documentElement.dataset.theme") == "dark", "the theme switch never reached dark"
        page.wait_for_timeout(300)
        dark = page.evaluate(_BACKGROUND_LUMINANCE_JS)
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOTS / "dark-mode-01_perceptron.png"))
    finally:
        page.close()
    assert light > 0.8 and dark < 0.25, f"background luminance light {light:.2f}, dark {dark:.2f}"
    assert not browser.problems.offsite and not browser.problems.page_errors, browser.problems


@pytest.mark.parametrize("query, expected", [("perceptron", "chapters/01_perceptron"),
                                             ("checkpointing", "chapters/12_efficient")])
def test_search_works_offline(query, expected, site, browser):
    page = _open(browser, site, f"search.html?q={query}")
    try:
        page.wait_for_selector("#search-results ul li", timeout=PAGE_TIMEOUT_MS)
        hrefs = page.eval_on_selector_all("#search-results ul li a", "as => as.map(a => a.getAttribute('href'))")
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOTS / f"search-{query}.png"))
    finally:
        page.close()
    assert any(expected in h for h in hrefs), f"searching {query!r} did not find {expected}: {hrefs[:10]}"
    assert not browser.problems.offsite and not browser.problems.page_errors, browser.problems
