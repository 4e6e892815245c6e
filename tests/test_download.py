"""Downloads against a real HTTP server on 127.0.0.1 started by the test."""

import threading
import time

import pytest
from conftest import jpeg_bytes, png_bytes

from classify_tui.core.download import DownloadOptions, download_all
from classify_tui.core.errors import Cancelled
from classify_tui.core.netguard import url_problem
from classify_tui.core.sources import Candidate

FAST = DownloadOptions(workers=8, connect_timeout=3.0, read_timeout=1.0, total_timeout=5.0, max_bytes=200_000)


def run(jobs, tmp_path, opts=FAST):
    results = {}
    download_all(jobs, tmp_path / "incoming", opts, lambda rid, r: results.__setitem__(rid, r), lambda e: None)
    return results


def test_mixed_urls(http_server, tmp_path):
    base, routes = http_server
    routes.update({
        "/good.png": ("image/png", png_bytes()),
        "/lying.txt": ("text/plain", jpeg_bytes()),  # bytes decide, not headers/extension
        "/page.jpg": ("image/jpeg", b"<!DOCTYPE html><html><body>not an image</body></html>"),
        "/hop1": ("redirect", "/hop2"),
        "/hop2": ("redirect", "/good.png"),
        "/loop": ("redirect", "/loop"),
        "/hang.jpg": ("hang", 3.0),
        "/big.png": ("big", 50),
        "/svg": ("image/svg+xml", b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg"></svg>'),
    })
    names = ["good.png", "lying.txt", "page.jpg", "hop1", "loop", "hang.jpg", "big.png", "svg", "missing"]
    jobs = [(n.replace(".", "_"), Candidate("x", f"{base}/{n}", guard=False)) for n in names]
    t0 = time.monotonic()
    res = run(jobs, tmp_path)
    assert time.monotonic() - t0 < 10  # the hang is cut by the read timeout, concurrently
    ok = {k for k, r in res.items() if r.ok}
    assert ok == {"good_png", "lying_txt", "hop1"}
    assert "html" in res["page_jpg"].reason
    assert "redirect" in res["loop"].reason
    assert res["hang_jpg"].reason == "read timeout"
    assert "too large" in res["big_png"].reason
    assert "svg" in res["svg"].reason
    assert res["missing"].reason == "http 404"
    incoming = tmp_path / "incoming"
    assert sorted(p.name for p in incoming.iterdir()) == ["good_png", "hop1", "lying_txt"]  # no .part left


def test_guard_refuses_private_hosts_and_redirects_into_them(http_server, tmp_path):
    base, routes = http_server
    routes["/good.png"] = ("image/png", png_bytes())
    res = run([("a", Candidate("x", f"{base}/good.png", guard=True)),
               ("b", Candidate("x", "file:///etc/passwd", guard=True)),
               ("c", Candidate("x", "http://169.254.169.254/latest/meta-data", guard=True))], tmp_path)
    assert not res["a"].ok and res["a"].refused and "non-public" in res["a"].reason
    assert "not http" in res["b"].reason
    assert "169.254.169.254" in res["c"].reason


def test_url_problem_checks_every_resolved_address():
    def fake_resolve(host, port, proto=0):
        return [(2, 1, 6, "", ("93.184.216.34", port)), (2, 1, 6, "", ("10.0.0.5", port))]

    assert "10.0.0.5" in url_problem("https://example.com/a.jpg", True, fake_resolve)
    assert url_problem("https://example.com/a.jpg", False, fake_resolve) is None


def test_cancel_leaves_no_partial_files(http_server, tmp_path):
    base, routes = http_server
    routes["/slow"] = ("hang", 2.0)
    cancel = threading.Event()
    jobs = [(f"j{i}", Candidate("x", f"{base}/slow", guard=False)) for i in range(4)]
    threading.Timer(0.3, cancel.set).start()
    with pytest.raises(Cancelled):  # the hanging downloads are abandoned, not waited for
        download_all(jobs, tmp_path / "incoming", FAST, lambda *_: None, lambda e: None, cancel)
    assert not list((tmp_path / "incoming").glob("*.part"))


def test_dns_rebinding_is_refused_at_connect(http_server, tmp_path, monkeypatch):
    """A search result whose host looked public when checked but resolves to loopback when the
    client connects (DNS rebinding) is refused: the client connects only to what it checked."""
    import classify_tui.core.download as download

    base, routes = http_server
    routes["/secret.png"] = ("image/png", png_bytes())
    monkeypatch.setattr(download, "url_problem", lambda url, guard: None)  # the first lookup said "public"
    res = run([("guarded", Candidate("x", f"{base}/secret.png", guard=True)),
               ("own", Candidate("x", f"{base}/secret.png", guard=False))], tmp_path)
    assert not res["guarded"].ok and res["guarded"].refused
    assert "non-public address 127.0.0.1" in res["guarded"].reason
    assert res["own"].ok  # the user's own URLs (urls: source) may be on the LAN


def test_reason_names_a_non_image_that_arrives_in_pieces(http_server, tmp_path):
    base, routes = http_server
    routes["/split.svg"] = ("split", b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg"></svg>')
    res = run([("s", Candidate("x", f"{base}/split.svg", guard=False))], tmp_path)
    assert not res["s"].ok and res["s"].refused
    assert "svg" in res["s"].reason, res["s"].reason


def test_private_reaches_are_still_where_we_reach():
    """Two libraries expose no public hook for what we need; fail here, loudly, if they move."""
    import httpx

    from classify_tui.core.download import guard_transport
    from classify_tui.core.netguard import public_only_backend

    transport = httpx.HTTPTransport()
    guard_transport(transport)
    assert type(transport._pool._network_backend).__name__ == type(public_only_backend()).__name__ == "PublicOnlyBackend"
    from textual_image._terminal import get_cell_size  # tui/widgets/fitimage.py's cell aspect

    assert callable(get_cell_size)
