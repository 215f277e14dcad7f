"""The whole test run, chapters included, happens without a network.

``make test`` starts pytest through ``tools/offline``, which puts it in a network
namespace whose only interface is loopback. Every nbval kernel and the browser test
inherit that namespace, so when these tests pass, every chapter has just executed
(and matched its stored outputs) with no way to download anything. Where the
namespace cannot be made, ``tools/offline`` says why and these tests are skipped
with that reason.
"""

import os
import socket

import pytest

OFFLINE = os.environ.get("NBLIB_OFFLINE") == "1"
REASON = os.environ.get("NBLIB_OFFLINE_UNAVAILABLE",
                        "pytest was not started through tools/offline (make test does that)")
pytestmark = pytest.mark.skipif(not OFFLINE, reason=f"not running offline: {REASON}")


def test_only_loopback_exists():
    assert [name for _, name in socket.if_nameindex()] == ["lo"]


@pytest.mark.parametrize("address", [("1.1.1.1", 53), ("8.8.8.8", 443), ("pypi.org", 443)],
                         ids=["cloudflare-dns", "google-https", "pypi-by-name"])
def test_outside_hosts_are_unreachable(address):
    with pytest.raises(OSError):
        socket.create_connection(address, timeout=2).close()


def test_loopback_still_works():
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        with socket.create_connection(server.getsockname(), timeout=2):
            conn, _ = server.accept()
            conn.close()
