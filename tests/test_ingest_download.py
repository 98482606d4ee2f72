"""URL ingest against a local server: bounded time and size, truncation, redirects, secrets."""

from __future__ import annotations

import http.server
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

import convergent.ingest.fetch as fetch_mod
from convergent.errors import ConvergentError
from convergent.ingest import ingest
from convergent.ingest.fetch import download, fetch, redact
from test_ingest_common import FIXTURES, dump, store_with_catalog

EPOCH = (FIXTURES / "epoch_small.csv").read_bytes()


class Handler(http.server.BaseHTTPRequestHandler):
    """Fixture routes: good file, drip, endless body, short body, redirects."""

    def log_message(self, *args: object) -> None:
        pass

    def _head(self, length: int | None, code: int = 200) -> None:
        self.send_response(code)
        self.send_header("Content-Type", "text/csv")
        if length is not None:
            self.send_header("Content-Length", str(length))
        self.end_headers()

    def do_GET(self) -> None:
        port = self.server.server_address[1]
        try:
            if self.path == "/epoch.csv":
                self._head(len(EPOCH))
                self.wfile.write(EPOCH)
            elif self.path == "/drip.csv":
                self._head(None)
                for _ in range(40):
                    self.wfile.write(b"x")
                    self.wfile.flush()
                    time.sleep(0.25)
            elif self.path == "/endless.csv":
                self._head(None)
                block = b"a,b\n" * 16384
                for _ in range(4096):
                    self.wfile.write(block)
            elif self.path == "/short.csv":
                self._head(10**12)
                self.wfile.write(EPOCH)
            elif self.path == "/liar.csv":
                self._head(len(EPOCH) + 100)
                self.wfile.write(EPOCH)
            elif self.path == "/away.csv":
                self.send_response(302)
                self.send_header("Location", f"http://localhost:{port}/epoch.csv")
                self.end_headers()
            elif self.path == "/here.csv":
                self.send_response(302)
                self.send_header("Location", "/epoch.csv")
                self.end_headers()
            else:
                self._head(0, 404)
        except (BrokenPipeError, ConnectionResetError):
            pass


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    """A local HTTP server on 127.0.0.1; its base URL."""
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    srv.daemon_threads = True
    t = threading.Thread(target=srv.serve_forever, daemon=True)
    t.start()
    yield f"http://127.0.0.1:{srv.server_address[1]}"
    srv.shutdown()


def test_good_download_ingests(server: str) -> None:
    """The plain case works and records the URL."""
    store = store_with_catalog()
    report = ingest(store, "epoch", f"{server}/epoch.csv")
    assert report.added == 6 and report.path == f"{server}/epoch.csv"


def test_drip_stops_at_the_total_deadline(server: str) -> None:
    """One byte every 0.25 s never trips a per-read timeout; the whole-download one trips."""
    t0 = time.monotonic()
    with pytest.raises(ConvergentError, match="longer than 1 s"):
        fetch(f"{server}/drip.csv", deadline=1.0, timeout=5.0)
    assert time.monotonic() - t0 < 5


def test_endless_body_stops_at_the_cap_without_holding_it(server: str, tmp_path: Path) -> None:
    """The cap is enforced while streaming to disk: never more than the cap is written."""
    with pytest.raises(ConvergentError, match="larger than the 2,000,000 bytes"):
        download(f"{server}/endless.csv", tmp_path, max_bytes=2_000_000)
    assert sum(p.stat().st_size for p in tmp_path.iterdir()) <= 2_000_000


@pytest.mark.parametrize("route", ["short.csv", "liar.csv"])
def test_truncated_body_is_detected(server: str, route: str, tmp_path: Path) -> None:
    """A body shorter than its Content-Length is an error, not a smaller file (or a
    declared size above the cap is refused at once)."""
    with pytest.raises(ConvergentError, match=r"truncated|larger than"):
        download(f"{server}/{route}", tmp_path)


def test_redirect_to_another_host_is_refused(server: str) -> None:
    """127.0.0.1 -> localhost is another host: refused, naming where it leads."""
    store = store_with_catalog()
    before = dump(store)
    with pytest.raises(ConvergentError, match="another host") as info:
        ingest(store, "epoch", f"{server}/away.csv")
    assert "localhost" in str(info.value)
    assert dump(store) == before


def test_same_host_redirect_is_followed(server: str) -> None:
    """A redirect on the same host is fine."""
    store = store_with_catalog()
    assert ingest(store, "epoch", f"{server}/here.csv").added == 6


def test_password_never_appears(server: str) -> None:
    """A URL with credentials is refused, and the message does not repeat the password."""
    url = server.replace("http://", "http://alice:s3cret@") + "/epoch.csv"
    with pytest.raises(ConvergentError) as info:
        ingest(store_with_catalog(), "epoch", url)
    assert "s3cret" not in str(info.value) and "alice" not in str(info.value)
    assert redact(url) == f"{server}/epoch.csv"


def test_http_error_is_one_line(server: str) -> None:
    """A 404 is one line naming the URL."""
    with pytest.raises(ConvergentError, match="HTTP 404") as info:
        fetch(f"{server}/missing.csv")
    assert "\n" not in str(info.value)


def test_default_limits_are_bounded() -> None:
    """Defaults: a total deadline and a cap well below memory sizes."""
    assert fetch_mod.DOWNLOAD_DEADLINE <= 3600
    assert fetch_mod.MAX_DOWNLOAD_BYTES <= 2 * 1024**3
