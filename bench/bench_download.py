"""Search-to-verified wall time on a loopback server: classify-tui vs fastai, same URLs.

200 good images (each answered after 100 ms), 20 HTML pages, 20 404s, 10 hanging URLs (stall 8 s,
then close) and 10 slow-drip ones. fastai: download_images(n_workers=8) + verify_images.
"""

from __future__ import annotations

import io
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from PIL import Image


def image_bytes(i: int) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (160, 120), ((i * 37) % 256, (i * 91) % 256, (i * 13) % 256)).save(buf, "JPEG")
    return buf.getvalue()


class H(BaseHTTPRequestHandler):
    def log_message(self, *a):
        pass

    def do_GET(self):  # noqa: N802
        kind, _, n = self.path.strip("/").partition("/")
        n = int(n.split(".")[0])
        if kind == "good":
            time.sleep(0.1)
            data = image_bytes(n)
            self.send_response(200)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
        elif kind == "html":
            self.send_response(200)
            self.end_headers()
            self.wfile.write(b"<html>nope</html>")
        elif kind == "hang":
            time.sleep(8)
        elif kind == "drip":
            self.send_response(200)
            self.end_headers()
            for _ in range(30):
                self.wfile.write(b"\xff")
                time.sleep(1)
        else:
            self.send_error(404)


def main() -> None:
    server = ThreadingHTTPServer(("127.0.0.1", 0), H)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_port}"
    urls = ([f"{base}/good/{i}.jpg" for i in range(200)] + [f"{base}/html/{i}.jpg" for i in range(20)]
            + [f"{base}/missing/{i}.jpg" for i in range(20)] + [f"{base}/hang/{i}.jpg" for i in range(10)]
            + [f"{base}/drip/{i}.jpg" for i in range(10)])
    tmp = Path(tempfile.mkdtemp())

    from fastai.vision.utils import download_images, verify_images

    t0 = time.monotonic()
    download_images(tmp / "fastai", urls=urls, n_workers=8, timeout=4)
    bad = verify_images(list((tmp / "fastai").iterdir()))
    for p in bad:
        p.unlink()
    t_fastai = time.monotonic() - t0
    kept_fastai = len(list((tmp / "fastai").iterdir()))

    from classify_tui.core.pipeline import BuildOptions, build
    from classify_tui.core.workspace import Recipe, Workspace

    csv = tmp / "urls.csv"
    csv.write_text("label,url\n" + "".join(f"x,{u}\n" for u in urls))
    t0 = time.monotonic()
    report = build(Workspace(tmp / "ours"), Recipe(labels=["x"], source=f"urls:{csv}"), opts=BuildOptions(stop_after="verify"))
    t_ours = time.monotonic() - t0
    kept_ours = report.counts["verify"]["kept_total"]
    server.shutdown()
    print(f"fastai: {t_fastai:.1f}s, kept {kept_fastai}; classify-tui: {t_ours:.1f}s, kept {kept_ours} (200 good)")
    print(f"ratio classify-tui/fastai wall time: {t_ours / t_fastai:.2f} (goal <= 0.30)")


if __name__ == "__main__":
    main()
