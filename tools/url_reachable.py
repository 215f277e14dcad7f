"""Exit 0 if a URL answers within a time limit, 1 otherwise.

The Makefile uses this to decide whether to install torch from the PyTorch CPU
index. The whole probe, DNS lookup included, is bounded by a thread join, so an
unreachable host costs at most the limit instead of pip's long retry loop.

Usage: python tools/url_reachable.py URL [--timeout SECONDS]
"""

from __future__ import annotations

import argparse
import sys
import threading
import urllib.request


def reachable(url: str, timeout: float) -> bool:
    outcome: list[bool] = []

    def probe() -> None:
        try:
            # GET rather than HEAD: some package indexes do not answer HEAD.
            with urllib.request.urlopen(url, timeout=timeout) as response:
                response.read(1024)
                outcome.append(response.status < 400)
        except Exception:  # any failure means "do not use this index"
            outcome.append(False)

    worker = threading.Thread(target=probe, daemon=True)
    worker.start()
    worker.join(timeout)
    return bool(outcome) and outcome[0]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("url")
    parser.add_argument("--timeout", type=float, default=5.0)
    args = parser.parse_args(argv)
    return 0 if reachable(args.url, args.timeout) else 1


if __name__ == "__main__":
    sys.exit(main())
