"""Locating the input: a local path, or an http(s) URL downloaded with bounded time and size.

A download has a deadline for the whole transfer (not only per read), a size cap enforced
while the body streams to disk, a check that the body is as long as `Content-Length` says,
and refuses a redirect to another host. Passwords in a URL never appear in messages or in
the store.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import email.utils
import shutil
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from convergent.errors import ConvergentError

URL_TIMEOUT = 20.0
DOWNLOAD_DEADLINE = 600.0
MAX_DOWNLOAD_BYTES = 1024**3
CHUNK = 1024 * 1024


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


def redact(url: str) -> str:
    """`url` without any user name or password."""
    try:
        parts = urllib.parse.urlsplit(url)
    except ValueError:
        return "<unparsable URL>"
    if parts.username is None and parts.password is None:
        return url
    host = parts.hostname or ""
    if parts.port:
        host = f"{host}:{parts.port}"
    return urllib.parse.urlunsplit((parts.scheme, host, parts.path, parts.query,
                                    parts.fragment))


def _origin(url: str) -> tuple[str, str | None, int | None]:
    p = urllib.parse.urlsplit(url)
    return p.scheme.lower(), (p.hostname or "").lower(), p.port


class _SameHostRedirects(urllib.request.HTTPRedirectHandler):
    """Follow redirects on the same scheme, host and port only."""

    def redirect_request(self, req: Any, fp: Any, code: int, msg: str, headers: Any,
                         newurl: str) -> Any:
        if _origin(newurl) != _origin(req.full_url):
            raise ConvergentError(
                f"the server redirects to another host ({redact(newurl)}); pass that URL "
                "yourself if you trust it", where=redact(req.full_url))
        return super().redirect_request(req, fp, code, msg, headers, newurl)


def _stream(url: str, sink: Callable[[bytes], None], *, max_bytes: int, timeout: float,
            deadline: float) -> tuple[str, dt.date]:
    """Send the body of `url` to `sink`; return the final URL and the snapshot date."""
    where = redact(url)
    parts = urllib.parse.urlsplit(url)
    if parts.username is not None or parts.password is not None:
        raise ConvergentError("URLs with a user name or password are not supported; "
                              "download the file and pass its path", where=where)
    opener = urllib.request.build_opener(_SameHostRedirects)
    req = urllib.request.Request(url, headers={"User-Agent": "convergent-ingest"})
    end = time.monotonic() + deadline
    got = 0
    try:
        with opener.open(req, timeout=min(timeout, deadline)) as resp:
            length = resp.headers.get("Content-Length")
            expected = int(length) if length and length.strip().isdigit() else None
            if expected is not None and expected > max_bytes:
                raise ConvergentError(f"download of {expected:,} bytes is larger than the "
                                      f"{max_bytes:,} allowed", where=where)
            while True:
                if time.monotonic() > end:
                    raise ConvergentError(f"download took longer than {deadline:g} s "
                                          f"({got:,} bytes received)", where=where)
                chunk = resp.read1(CHUNK)
                if not chunk:
                    break
                got += len(chunk)
                if got > max_bytes:
                    raise ConvergentError(f"download is larger than the {max_bytes:,} bytes "
                                          "allowed", where=where)
                sink(chunk)
            if expected is not None and got != expected:
                raise ConvergentError(f"download truncated: {got:,} of {expected:,} bytes "
                                      "(Content-Length) received", where=where)
            final = resp.geturl()
            modified = resp.headers.get("Last-Modified")
    except ConvergentError:
        raise
    except urllib.error.HTTPError as exc:
        raise ConvergentError(f"cannot fetch: HTTP {exc.code} {exc.reason}", where=where) from None
    except TimeoutError:
        raise ConvergentError(f"no data for {min(timeout, deadline):g} s; the server stopped "
                              "answering", where=where) from None
    except (urllib.error.URLError, OSError, ValueError, EOFError) as exc:
        reason = getattr(exc, "reason", None) or type(exc).__name__
        raise ConvergentError(
            f"cannot fetch ({reason}); check the address or that you are online, "
            "or download the file and pass its path", where=where) from None
    except Exception as exc:  # http.client raises several types on a broken response
        raise ConvergentError(f"cannot fetch: broken response ({type(exc).__name__})",
                              where=where) from None
    snap = dt.datetime.now(dt.UTC).date()
    if modified:
        with contextlib.suppress(TypeError, ValueError, IndexError):
            snap = email.utils.parsedate_to_datetime(modified).date()
    return final, snap


def fetch(url: str, *, max_bytes: int = 256 * 1024 * 1024, timeout: float = URL_TIMEOUT,
          deadline: float | None = None) -> tuple[bytes, dt.date]:
    """Download a small document into memory; return its bytes and the snapshot date."""
    parts: list[bytes] = []
    _, snap = _stream(url, parts.append, max_bytes=max_bytes, timeout=timeout,
                      deadline=DOWNLOAD_DEADLINE if deadline is None else deadline)
    return b"".join(parts), snap


def download(url: str, folder: Path, *, max_bytes: int | None = None,
             timeout: float = URL_TIMEOUT, deadline: float | None = None
             ) -> tuple[Path, str, dt.date]:
    """Stream `url` into a file in `folder`; return the file, the final URL and snapshot."""
    name = Path(urllib.parse.urlsplit(url).path.rstrip("/")).name or "download"
    local = folder / name
    with local.open("wb") as fh:
        final, snap = _stream(url, fh.write,
                              max_bytes=MAX_DOWNLOAD_BYTES if max_bytes is None else max_bytes,
                              timeout=timeout,
                              deadline=DOWNLOAD_DEADLINE if deadline is None else deadline)
    return local, final, snap


def open_input(path_or_url: str | Path, snapshot: dt.date | None = None) -> Input:
    """Resolve a path or URL to a local file; URLs are downloaded into a temporary folder."""
    from convergent.userfiles import check_path

    text = str(path_or_url)
    if is_url(text):
        tmp = Path(tempfile.mkdtemp(prefix="convergent-ingest-"))
        try:
            local, _, snap = download(text, tmp)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        # the address the user gave is recorded (redirects stay on its host)
        return Input(local, redact(text), local.name, snapshot or snap, tmp)
    path = check_path(Path(text).expanduser(), "file or folder", folder_ok=True)
    mtime = dt.datetime.fromtimestamp(path.stat().st_mtime, dt.UTC).date()
    return Input(path, path.resolve().as_uri(), path.name, snapshot or mtime)


def source_row(inp: Input, kind: str, origin: str) -> dict[str, Any]:
    """The `sources` row describing one ingested file."""
    from convergent.catalog.load import source_id

    return {"source_id": source_id(inp.url), "url": inp.url, "title": inp.name, "kind": kind,
            "origin": origin, "snapshot": inp.snapshot}
