"""Locating the input: a local path, or an http(s) URL downloaded with bounded time and size."""

from __future__ import annotations

import contextlib
import datetime as dt
import email.utils
import shutil
import tempfile
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from convergent.errors import ConvergentError

URL_TIMEOUT = 20.0
MAX_DOWNLOAD_BYTES = 4 * 1024**3


@dataclass
class Input:
    """A local file to read, with the URL or path it came from and its snapshot date."""

    path: Path
    url: str
    name: str
    snapshot: dt.date
    tmpdir: Path | None = None

    def cleanup(self) -> None:
        """Remove a downloaded copy."""
        if self.tmpdir is not None:
            shutil.rmtree(self.tmpdir, ignore_errors=True)


def is_url(text: str) -> bool:
    """True for http(s) URLs: the only inputs that use the network."""
    return text.lower().startswith(("http://", "https://"))


def fetch(url: str, timeout: float = URL_TIMEOUT) -> tuple[bytes, dt.date]:
    """Download `url` (bounded time and size); return the bytes and the snapshot date."""
    req = urllib.request.Request(url, headers={"User-Agent": "convergent-ingest"})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            data = resp.read(MAX_DOWNLOAD_BYTES + 1)
            modified = resp.headers.get("Last-Modified")
    except urllib.error.HTTPError as exc:
        raise ConvergentError(f"cannot fetch: HTTP {exc.code} {exc.reason}", where=url) from None
    except (urllib.error.URLError, OSError, ValueError) as exc:
        reason = getattr(exc, "reason", exc)
        raise ConvergentError(
            f"cannot fetch ({reason}); check the address or that you are online, "
            "or download the file and pass its path", where=url) from None
    if len(data) > MAX_DOWNLOAD_BYTES:
        raise ConvergentError("download larger than 4 GiB", where=url)
    snap = dt.datetime.now(dt.UTC).date()
    if modified:
        with contextlib.suppress(TypeError, ValueError):
            snap = email.utils.parsedate_to_datetime(modified).date()
    return data, snap


def open_input(path_or_url: str | Path, snapshot: dt.date | None = None) -> Input:
    """Resolve a path or URL to a local file; URLs are downloaded into a temporary folder."""
    text = str(path_or_url)
    if is_url(text):
        data, snap = fetch(text)
        tmp = Path(tempfile.mkdtemp(prefix="convergent-ingest-"))
        name = Path(text.split("?")[0].rstrip("/")).name or "download"
        local = tmp / name
        local.write_bytes(data)
        return Input(local, text, name, snapshot or snap, tmp)
    path = Path(text).expanduser()
    if not path.exists():
        raise ConvergentError("no such file or folder", where=text)
    mtime = dt.datetime.fromtimestamp(path.stat().st_mtime, dt.UTC).date()
    return Input(path, path.resolve().as_uri(), path.name, snapshot or mtime)


def source_row(inp: Input, kind: str, origin: str) -> dict[str, Any]:
    """The `sources` row describing one ingested file."""
    from convergent.catalog.load import source_id

    return {"source_id": source_id(inp.url), "url": inp.url, "title": inp.name, "kind": kind,
            "origin": origin, "snapshot": inp.snapshot}
