"""Opening files a user names: only regular files (or folders where asked), bounded in size,
decoded strictly, every failure one ConvergentError line that names the file."""

from __future__ import annotations

import codecs
import os
import stat
from pathlib import Path

from convergent.errors import ConvergentError

MAX_TEXT_BYTES = 64 * 1024 * 1024

_BOMS = ((codecs.BOM_UTF8, "utf-8-sig"), (codecs.BOM_UTF32_LE, "utf-32"),
         (codecs.BOM_UTF32_BE, "utf-32"), (codecs.BOM_UTF16_LE, "utf-16"),
         (codecs.BOM_UTF16_BE, "utf-16"))


def check_path(path: str | os.PathLike[str], what: str = "file", *, folder_ok: bool = False
               ) -> Path:
    """The path if it is an existing, readable regular file (or folder when `folder_ok`);
    a FIFO, device or socket is refused before anything opens it (opening one can hang)."""
    p = Path(path)
    try:
        st = p.stat()
    except FileNotFoundError:
        raise ConvergentError(f"{what} not found", where=str(p)) from None
    except PermissionError:
        raise ConvergentError(f"permission denied reading this {what}", where=str(p)) from None
    except OSError as exc:
        raise ConvergentError(f"cannot read this {what}: {exc.strerror or exc}",
                              where=str(p)) from None
    if stat.S_ISDIR(st.st_mode):
        if not folder_ok:
            raise ConvergentError(f"is a folder, expected a {what}", where=str(p))
    elif not stat.S_ISREG(st.st_mode):
        raise ConvergentError(f"not a regular file (a pipe, device or socket), expected a "
                              f"{what}", where=str(p))
    if not os.access(p, os.R_OK | (os.X_OK if stat.S_ISDIR(st.st_mode) else 0)):
        raise ConvergentError(f"permission denied reading this {what}", where=str(p))
    return p


def read_bytes(path: str | os.PathLike[str], what: str = "file", *,
               max_bytes: int = MAX_TEXT_BYTES) -> bytes:
    """The whole content of a regular file no larger than `max_bytes`."""
    p = check_path(path, what)
    size = p.stat().st_size
    if size > max_bytes:
        raise ConvergentError(f"{what} is {size:,} bytes, more than the {max_bytes:,} allowed",
                              where=str(p))
    try:
        with p.open("rb") as fh:
            data = fh.read(max_bytes + 1)
    except PermissionError:
        raise ConvergentError(f"permission denied reading this {what}", where=str(p)) from None
    except OSError as exc:
        raise ConvergentError(f"cannot read this {what}: {exc.strerror or exc}",
                              where=str(p)) from None
    if len(data) > max_bytes:
        raise ConvergentError(f"{what} is larger than the {max_bytes:,} bytes allowed",
                              where=str(p))
    return data


def decode_text(data: bytes, where: str, what: str = "file") -> str:
    """UTF-8 text (a UTF-8/16/32 byte-order mark is honoured); anything else, a gzip file
    or binary content gives one line with the byte offset."""
    if data[:2] == b"\x1f\x8b":
        raise ConvergentError(f"{what} is gzip-compressed: decompress it first", where=where)
    encoding = "utf-8"
    for bom, enc in _BOMS:
        if data.startswith(bom):
            encoding = enc
            break
    try:
        text = data.decode(encoding)
    except UnicodeDecodeError as exc:
        raise ConvergentError(
            f"{what} is not valid {encoding.upper().replace('-SIG', '')} text (byte "
            f"{exc.start}); save it as UTF-8", where=where) from None
    if "\x00" in text:
        raise ConvergentError(f"{what} contains NUL characters (binary, or a wrong encoding)",
                              where=where)
    return text


def read_text(path: str | os.PathLike[str], what: str = "file", *,
              max_bytes: int = MAX_TEXT_BYTES) -> str:
    """A user's text file (config, registry, CSV) read whole and decoded strictly."""
    return decode_text(read_bytes(path, what, max_bytes=max_bytes), str(path), what)
