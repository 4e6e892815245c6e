"""Concurrent, bounded HTTP downloads into ``incoming/``; every failure becomes a reason."""

from __future__ import annotations

import os
import shutil
import threading
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urljoin

from .errors import Cancelled, UserError
from .events import Event, OnEvent
from .netguard import REFUSED, public_only_backend, url_problem
from .sniff import describe_non_image, sniff
from .sources import Candidate

USER_AGENT = (
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/126.0 Safari/537.36 classify-tui/0.1"
)
MAX_REDIRECTS = 5
SNIFF_BYTES = 12  # enough for every magic number sniff() knows (WEBP/AVIF need 12)
DESCRIBE_BYTES = 512  # what describe_non_image() looks at


@dataclass(frozen=True)
class DownloadOptions:
    workers: int = 48
    connect_timeout: float = 3.0
    read_timeout: float = 5.0
    total_timeout: float = 20.0
    max_bytes: int = 20_000_000


@dataclass
class FetchResult:
    ok: bool
    reason: str = ""
    final_url: str = ""
    refused: bool = False  # we looked and said no (private host, not an image, too big)



def guard_transport(transport) -> None:
    """Make an httpx transport connect only to public addresses (core/netguard.py).

    httpx has no public hook for httpcore's network backend, so this reaches into
    ``transport._pool``; if a new httpx moves it, this fails loudly (UserError and a failing
    test) rather than silently downloading without the DNS-rebinding guard."""
    import httpcore

    pool = getattr(transport, "_pool", None)
    if not isinstance(pool, httpcore.ConnectionPool) or not hasattr(pool, "_network_backend"):
        raise UserError("this httpx version hides its connection pool; the address guard for search results "
                        "cannot be installed (pin httpx<0.29 or report it)")
    pool._network_backend = public_only_backend()

def _make_client(opts: DownloadOptions, guard: bool):
    """``guard``: connect only to public addresses, checked at connect time (search results)."""
    import httpx

    timeout = httpx.Timeout(connect=opts.connect_timeout, read=opts.read_timeout, write=opts.read_timeout, pool=None)
    limits = httpx.Limits(max_connections=opts.workers * 2, max_keepalive_connections=opts.workers)
    kwargs: dict[str, Any] = {"limits": limits}
    if guard and not _env_proxies():  # behind a proxy the proxy resolves: the URL check is all we have
        transport = httpx.HTTPTransport(limits=limits)
        guard_transport(transport)
        kwargs = {"transport": transport}
    return httpx.Client(
        timeout=timeout, follow_redirects=False,
        headers={"User-Agent": USER_AGENT, "Accept": "image/*,*/*;q=0.8"}, **kwargs,
    )


def _env_proxies() -> bool:
    from urllib.request import getproxies

    return any(k in getproxies() for k in ("http", "https", "all"))


def fetch(client, url: str, dest: Path, opts: DownloadOptions, guard: bool, cancel: threading.Event) -> FetchResult:
    """GET ``url`` into ``dest`` (via ``dest.part``), following redirects by hand so that each
    hop is checked by the private-host guard."""
    import time

    import httpx

    start = time.monotonic()
    part = dest.with_name(dest.name + ".part")
    current = url
    for _hop in range(MAX_REDIRECTS + 1):
        problem = url_problem(current, guard)
        if problem:
            return FetchResult(False, problem, current, refused=True)
        try:
            with client.stream("GET", current) as resp:
                if resp.is_redirect:
                    location = resp.headers.get("location")
                    if not location:
                        return FetchResult(False, f"http {resp.status_code} redirect without location", current)
                    current = urljoin(current, location)
                    continue
                if resp.status_code != 200:
                    return FetchResult(False, f"http {resp.status_code}", current)
                declared = resp.headers.get("content-length")
                if declared and declared.isdigit() and int(declared) > opts.max_bytes:
                    return FetchResult(False, f"too large ({int(declared)} bytes > {opts.max_bytes})", current, True)
                size = 0
                head = b""
                not_image_since = 0.0
                with open(part, "wb") as fh:
                    # No chunk size: httpx would buffer up to it, hiding a drip-feed from
                    # both the sniff and the deadline until the server gives up.
                    for chunk in resp.iter_bytes():
                        if cancel.is_set():
                            raise Cancelled()
                        if len(head) < DESCRIBE_BYTES:
                            head += chunk[: DESCRIBE_BYTES - len(head)]
                        if not not_image_since and len(head) >= SNIFF_BYTES and sniff(head) is None:
                            not_image_since = time.monotonic()
                        # Not an image: read a little more so the reason can name what it is
                        # (an SVG's "<svg" may come after its XML prolog), but never wait long.
                        if not_image_since and (len(head) >= DESCRIBE_BYTES
                                                or time.monotonic() - not_image_since > 0.5):
                            return FetchResult(False, describe_non_image(head), current, True)
                        size += len(chunk)
                        if size > opts.max_bytes:
                            return FetchResult(False, f"too large (over {opts.max_bytes} bytes)", current, True)
                        if time.monotonic() - start > opts.total_timeout:
                            return FetchResult(False, f"too slow (over {opts.total_timeout:.0f}s)", current)
                        fh.write(chunk)
                if sniff(head) is None:
                    return FetchResult(False, describe_non_image(head), current, True)
                os.replace(part, dest)
                return FetchResult(True, "", current)
        except httpx.ConnectTimeout:
            return FetchResult(False, "connect timeout", current)
        except httpx.ReadTimeout:
            return FetchResult(False, "read timeout", current)
        except httpx.TooManyRedirects:
            return FetchResult(False, "too many redirects", current)
        except httpx.ConnectError as exc:
            if str(exc).startswith(REFUSED):  # the DNS answer changed to a private address
                return FetchResult(False, str(exc)[len(REFUSED):].strip(), current, refused=True)
            return FetchResult(False, f"ConnectError: {exc}".strip(": "), current)
        except httpx.HTTPError as exc:
            return FetchResult(False, f"{type(exc).__name__}: {exc}".strip(": "), current)
        except OSError as exc:
            return FetchResult(False, f"io error: {exc}", current)
        finally:
            if part.exists():
                part.unlink()  # a .part file is our own scratch, never user data
    return FetchResult(False, f"more than {MAX_REDIRECTS} redirects", current)


def materialise_local(cand: Candidate, dest: Path) -> FetchResult:
    """Copy a local file or inline bytes into incoming/ (the source is never modified)."""
    part = dest.with_name(dest.name + ".part")
    try:
        if cand.data is not None:
            part.write_bytes(cand.data)
        else:
            assert cand.local is not None
            shutil.copyfile(cand.local, part)
        os.replace(part, dest)
        return FetchResult(True)
    except OSError as exc:
        if part.exists():
            part.unlink()
        return FetchResult(False, f"cannot read: {exc.strerror or exc}")


def download_all(
    jobs: list[tuple[str, Candidate]],
    incoming: Path,
    opts: DownloadOptions,
    on_result: Callable[[str, FetchResult], None],
    on_event: OnEvent,
    cancel: threading.Event | None = None,
) -> None:
    """Fetch every (row id, candidate) job; ``on_result`` is called on the caller's thread.

    Many requests are in flight at once; cancellation stops new work and aborts open streams.
    """
    cancel = cancel or threading.Event()
    incoming.mkdir(parents=True, exist_ok=True)
    for stale in incoming.glob("*.part"):
        stale.unlink()
    total = len(jobs)
    if not total:
        return
    clients: dict[bool, Any] = {}  # guarded (search results) and plain (the user's own URLs)
    clients_lock = threading.Lock()

    def client_for(guard: bool):
        with clients_lock:
            if guard not in clients:
                clients[guard] = _make_client(opts, guard)
            return clients[guard]

    def work(row_id: str, cand: Candidate) -> FetchResult:
        if cancel.is_set():
            raise Cancelled()
        dest = incoming / row_id
        if cand.is_remote:
            return fetch(client_for(cand.guard), cand.source, dest, opts, cand.guard, cancel)
        return materialise_local(cand, dest)

    done = 0
    pool = ThreadPoolExecutor(max_workers=opts.workers, thread_name_prefix="download")
    try:
        it = iter(jobs)
        pending: dict[Future, str] = {}
        # Keep a bounded window in flight so memory stays flat for huge job lists.
        for row_id, cand in it:
            pending[pool.submit(work, row_id, cand)] = row_id
            if len(pending) >= opts.workers * 4:
                break
        while pending:
            finished, _ = wait(pending, timeout=0.5, return_when=FIRST_COMPLETED)
            if cancel.is_set():
                raise Cancelled()
            for fut in finished:
                row_id = pending.pop(fut)
                try:
                    result = fut.result()
                except Cancelled:
                    continue
                except Exception as exc:  # a bug in one fetch must not lose the others
                    result = FetchResult(False, f"internal error: {type(exc).__name__}: {exc}")
                on_result(row_id, result)
                done += 1
                if done % 10 == 0 or done == total:
                    on_event(Event("download", "progress", "", done, total))
                nxt = next(it, None)
                if nxt is not None:
                    pending[pool.submit(work, *nxt)] = nxt[0]
    except KeyboardInterrupt:
        cancel.set()
        raise
    finally:
        cancel_pending = cancel.is_set()
        pool.shutdown(wait=True, cancel_futures=cancel_pending)
        for client in clients.values():
            client.close()
