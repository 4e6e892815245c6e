"""Shared fixtures: generated images and a real, bounded HTTP server on 127.0.0.1."""

from __future__ import annotations

import io
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from PIL import Image


def png_bytes(color=(200, 30, 30), size=(64, 48), mode="RGB") -> bytes:
    buf = io.BytesIO()
    Image.new(mode, size, color).save(buf, "PNG")
    return buf.getvalue()


def jpeg_bytes(color=(30, 200, 30), size=(64, 64)) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", size, color).save(buf, "JPEG")
    return buf.getvalue()


class _Handler(BaseHTTPRequestHandler):
    routes: dict = {}

    def log_message(self, *args):  # keep test output clean
        pass

    def do_GET(self):  # noqa: N802
        route = self.routes.get(self.path.split("?")[0])
        if route is None:
            self.send_error(404)
            return
        kind, payload = route
        if kind == "redirect":
            self.send_response(302)
            self.send_header("Location", payload)
            self.end_headers()
        elif kind == "hang":
            # Send headers, then stall longer than the client's read timeout (bounded).
            self.send_response(200)
            self.send_header("Content-Type", "image/jpeg")
            self.end_headers()
            time.sleep(payload)
        elif kind == "split":  # the body in two TCP writes, as a loaded server or network delivers it
            self.send_response(200)
            self.send_header("Content-Type", "image/svg+xml")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload[:16])
            self.wfile.flush()
            time.sleep(0.1)
            self.wfile.write(payload[16:])
        elif kind == "big":
            self.send_response(200)
            self.send_header("Content-Type", "image/png")
            self.end_headers()
            chunk = png_bytes() + b"\0" * 65536
            try:
                for _ in range(payload):
                    self.wfile.write(chunk)
            except (BrokenPipeError, ConnectionResetError):
                pass
        else:
            self.send_response(200)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)


@pytest.fixture
def http_server():
    """Yields (base_url, routes). The server thread is a daemon and is shut down after the test."""
    routes: dict = {}
    handler = type("H", (_Handler,), {"routes": routes})
    # The default listen backlog (5) overflows when many downloads connect at once on a busy
    # machine; a dropped SYN is retried after 1 s and read as a connect timeout (a flaky test).
    server_cls = type("Server", (ThreadingHTTPServer,), {"request_queue_size": 128})
    server = server_cls(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}", routes
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
