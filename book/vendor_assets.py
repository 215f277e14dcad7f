"""Fetch the pinned JavaScript the rendered book needs, so the book never calls a CDN.

The HTML book uses three third-party scripts:

* MathJax 3 renders the mathematics;
* RequireJS loads the Jupyter widget manager;
* @jupyter-widgets/html-manager renders stored widget state without a kernel.

This script downloads each one once, as an npm tarball from the npm registry,
checks the tarball against the sha512 integrity pinned below (the value npm
records in package-lock files), and unpacks only the files the book serves into
``book/_static/vendor/``. It is a set-up step, like ``pip install``: the built
book then loads everything from its own ``_static`` folder.

Run it again at any time; a package whose files are already in place is
skipped. Only the standard library is used, so it works before the virtual
environment exists.

Usage::

    python book/vendor_assets.py            # fetch what is missing
    python book/vendor_assets.py --force    # fetch everything again
    python book/vendor_assets.py --registry https://npm.example.org  # a mirror
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import io
import json
import os
import shutil
import sys
import tarfile
import tempfile
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

VENDOR_DIR = Path(__file__).resolve().parent / "_static" / "vendor"
DEFAULT_REGISTRY = "https://registry.npmjs.org"
STAMP_NAME = ".vendored.json"


@dataclass(frozen=True)
class Package:
    """One pinned npm tarball and the part of it the book serves."""

    name: str  # npm package name, possibly scoped
    version: str
    integrity: str  # "sha512-<base64>", as in the registry's dist.integrity
    dest: str  # folder under book/_static/vendor/
    # Map from a path prefix inside the tarball to a prefix under `dest`.
    # A member is kept when it starts with one of the keys.
    keep: tuple[tuple[str, str], ...]
    # Files that must exist under `dest` afterwards; used to detect a complete copy.
    required: tuple[str, ...]

    @property
    def tarball_name(self) -> str:
        return f"{self.name.rsplit('/', 1)[-1]}-{self.version}.tgz"

    def tarball_url(self, registry: str) -> str:
        return f"{registry.rstrip('/')}/{self.name}/-/{self.tarball_name}"


PACKAGES = (
    # MathJax 3: the combined TeX+MathML input / CommonHTML output component, plus
    # the folders it loads lazily (fonts, TeX extensions for autoload, the menu, its
    # accessibility helpers, and the SVG output the menu can switch to), all resolved relative to the script's own URL.
    Package(
        name="mathjax",
        version="3.2.2",
        integrity="sha512-Bt+SSVU8eBG27zChVewOicYs7Xsdt40qm4+UpHyX7k0/"
        "O9NliPc+x77k1/FEsPsjKPZGJvtRZM1vO+geW0OhGw==",
        dest="mathjax",
        keep=(
            ("package/LICENSE", "LICENSE"),
            ("package/es5/tex-mml-chtml.js", "tex-mml-chtml.js"),
            ("package/es5/a11y/", "a11y/"),
            ("package/es5/adaptors/", "adaptors/"),
            ("package/es5/input/", "input/"),
            ("package/es5/output/", "output/"),
            ("package/es5/sre/", "sre/"),
            ("package/es5/ui/", "ui/"),
        ),
        required=(
            "tex-mml-chtml.js",
            "output/chtml/fonts/woff-v2/MathJax_Main-Regular.woff",
            "input/tex/extensions/cancel.js",
        ),
    ),
    # RequireJS: the AMD loader that the widget embedder expects on the page.
    Package(
        name="requirejs",
        version="2.3.8",
        integrity="sha512-7/cTSLOdYkNBNJcDMWf+luFvMriVm7eYxp4BcFCsAX0wF421Vyce5SXP17c+"
        "Jd5otXKGNehIonFlyQXSowL6Mw==",
        dest="requirejs",
        keep=(("package/require.js", "require.js"),),
        required=("require.js",),
    ),
    # The ipywidgets 8 HTML manager (controls 5.x, base 6.x). Its AMD modules take
    # their public path from their RequireJS module URL, so the files keep the
    # package's layout: book/_static/widgets-setup.js maps "@jupyter-widgets" to
    # vendor/jupyter-widgets/, and the icon fonts sit beside embed-amd.js in dist/.
    Package(
        name="@jupyter-widgets/html-manager",
        version="1.0.15",
        integrity="sha512-5thBIV6ymNgmPVOHvzx+gGy8ZSKmSazhtGw4/c4xJDVzRhG9PTeQsRjF3FUTopvFi"
        "//SABeNz1yp47bCrJ3CQA==",
        dest="jupyter-widgets",
        keep=(
            ("package/dist/embed-amd.js", "html-manager/dist/embed-amd.js"),
            ("package/dist/embed.js.LICENSE.txt", "html-manager/LICENSE.txt"),
            *(
                (f"package/dist/{font}", f"html-manager/dist/{font}")
                for font in (
                    "1551f4f60c37af51121f.woff2",
                    "7a3337626410ca2f4071.woff2",
                    "d878b0a6a1144760244f.woff2",
                    "2285773e6b4b172f07d9.woff",
                    "bb58e57c48a3e911f15f.woff",
                    "eeccf4f66002c6f2ba24.woff",
                    "491974d108fe4002b2aa.ttf",
                    "527940b104eb2ea366c8.ttf",
                    "be9ee23c0c6390141475.ttf",
                    "23f19bb08961f37aaf69.eot",
                    "77206a6bb316fa0aded5.eot",
                    "9bbb245e67a133f6e486.eot",
                    "2f517e09eb2ca6650ff5.svg",
                    "4689f52cc96215721344.svg",
                    "7a8b4f130182d19a2d7c.svg",
                )
            ),
        ),
        required=("html-manager/dist/embed-amd.js", "html-manager/dist/1551f4f60c37af51121f.woff2"),
    ),
)


def log(message: str) -> None:
    print(f"[vendor] {message}", flush=True)


def is_complete(package: Package) -> bool:
    """True when `dest` holds this exact version with all required files."""
    dest = VENDOR_DIR / package.dest
    try:
        stamp = json.loads((dest / STAMP_NAME).read_text())
    except (OSError, ValueError):
        return False
    if stamp.get("version") != package.version or stamp.get("integrity") != package.integrity:
        return False
    return all((dest / path).is_file() for path in package.required)


def download(url: str, attempts: int = 3, timeout: float = 60.0) -> bytes:
    for attempt in range(1, attempts + 1):
        try:
            request = urllib.request.Request(url, headers={"User-Agent": "vendor_assets.py"})
            with urllib.request.urlopen(request, timeout=timeout) as response:
                return response.read()
        except (urllib.error.URLError, TimeoutError, ConnectionError) as error:
            if attempt == attempts:
                raise RuntimeError(f"could not download {url}: {error}") from error
            log(f"download failed ({error}); retrying in {2 * attempt} s")
            time.sleep(2 * attempt)
    raise AssertionError("unreachable")


def verify(data: bytes, integrity: str, what: str) -> None:
    algorithm, _, expected = integrity.partition("-")
    if algorithm != "sha512":
        raise ValueError(f"{what}: only sha512 integrity is supported, got {algorithm!r}")
    actual = base64.b64encode(hashlib.sha512(data).digest()).decode("ascii")
    if actual != expected:
        raise RuntimeError(
            f"{what}: integrity mismatch\n  expected sha512-{expected}\n  got      sha512-{actual}"
        )


def target_for(member: str, package: Package) -> str | None:
    """Path under `dest` for a tarball member, or None when the book does not need it."""
    for prefix, replacement in package.keep:
        if member == prefix or (prefix.endswith("/") and member.startswith(prefix)):
            relative = replacement + member[len(prefix) :]
            parts = PurePosixPath(relative).parts
            if not parts or any(part in ("", ".", "..") for part in parts) or relative.startswith("/"):
                raise RuntimeError(f"unsafe path in tarball: {member!r}")
            return relative
    return None


def extract(data: bytes, package: Package, into: Path) -> int:
    count = 0
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as archive:
        for member in archive.getmembers():
            if not member.isfile():
                continue  # folders are created as needed; links are never followed
            relative = target_for(member.name, package)
            if relative is None:
                continue
            target = into / relative
            target.parent.mkdir(parents=True, exist_ok=True)
            source = archive.extractfile(member)
            assert source is not None, member.name
            with source, open(target, "wb") as sink:
                shutil.copyfileobj(source, sink)
            count += 1
    missing = [path for path in package.required if not (into / path).is_file()]
    if missing:
        raise RuntimeError(f"{package.name}@{package.version}: tarball lacks {missing}")
    return count


def vendor(package: Package, registry: str) -> None:
    url = package.tarball_url(registry)
    log(f"{package.name}@{package.version}: downloading {url}")
    data = download(url)
    verify(data, package.integrity, f"{package.name}@{package.version}")

    VENDOR_DIR.mkdir(parents=True, exist_ok=True)
    # Unpack next to the destination and swap it in, so an interrupted run never
    # leaves a half-filled folder that looks complete.
    staging = Path(tempfile.mkdtemp(prefix=f".{package.dest}-", dir=VENDOR_DIR))
    try:
        count = extract(data, package, staging)
        stamp = {"name": package.name, "version": package.version, "integrity": package.integrity}
        (staging / STAMP_NAME).write_text(json.dumps(stamp, indent=2) + "\n")
        dest = VENDOR_DIR / package.dest
        if dest.exists():
            shutil.rmtree(dest)
        os.replace(staging, dest)
        # mkdtemp makes a private folder; the web server needs to read it.
        dest.chmod(0o755)
    finally:
        if staging.exists():
            shutil.rmtree(staging)
    log(f"{package.name}@{package.version}: {count} files in {dest.relative_to(VENDOR_DIR.parent.parent.parent)}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Fetch the book's pinned JavaScript assets.")
    parser.add_argument("--force", action="store_true", help="download even when present")
    parser.add_argument(
        "--registry",
        default=os.environ.get("NPM_REGISTRY", DEFAULT_REGISTRY),
        help="npm registry base URL (default: %(default)s)",
    )
    args = parser.parse_args(argv)

    for package in PACKAGES:
        if not args.force and is_complete(package):
            log(f"{package.name}@{package.version}: present, skipped")
            continue
        try:
            vendor(package, args.registry)
        except Exception as error:  # report one clear line, not a traceback
            print(f"[vendor] error: {error}", file=sys.stderr)
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
