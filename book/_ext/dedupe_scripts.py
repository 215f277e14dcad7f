"""Sphinx extension: drop repeated inline <script> blocks from each page.

With Sphinx 7.4, an inline script that an extension registers after the builder
starts (``app.add_js_file(None, body=...)``) is added twice: once as given and once
when the builder re-reads its registry before writing. sphinx-thebe registers
``const THEBE_JS_URL = ...`` that way, and declaring a ``const`` twice is a
SyntaxError in the browser on every page. This extension keeps the first of any
scripts that are identical in source, attributes and body.
"""

from __future__ import annotations

import os


def _key(script) -> tuple:
    filename = os.fspath(getattr(script, "filename", None) or "")
    attributes = getattr(script, "attributes", {}) or {}
    return filename, tuple(sorted((k, str(v)) for k, v in attributes.items()))


def dedupe_scripts(app, pagename, templatename, context, doctree):
    scripts = context.get("script_files")
    if not scripts:
        return
    seen: set[tuple] = set()
    unique = []
    for script in scripts:
        key = _key(script)
        if key in seen:
            continue
        seen.add(key)
        unique.append(script)
    context["script_files"] = unique


def setup(app):
    # Run after other extensions have added their page scripts.
    app.connect("html-page-context", dedupe_scripts, priority=900)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
