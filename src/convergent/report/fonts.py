"""Fonts for the static figures, so Chinese labels render wherever the report is built.

vl-convert draws SVG text to PNG with its own font database, which holds only the
system's fonts; a machine without a CJK font would draw every Chinese glyph as a box.
The report therefore registers, in this order:

1. every folder named in `CONVERGENT_FONT_DIR` (a path list, like `PATH`);
2. the Noto Sans CJK collection of the `noto-cjk-sans-otc` package, a dependency of
   convergent, so a plain `pip install` brings a CJK font along;
3. system fonts, which vl-convert finds by itself (e.g. Debian's `fonts-noto-cjk`).

`cjk_font_files()` lists what was found; with none the report still builds and warns.
"""

from __future__ import annotations

import os
from functools import cache
from pathlib import Path

ENV = "CONVERGENT_FONT_DIR"
SUFFIXES = (".ttf", ".otf", ".ttc", ".otc")
SYSTEM_DIRS = ("/usr/share/fonts/opentype/noto", "/usr/share/fonts/truetype/noto",
               "/usr/share/fonts/truetype/wqy", "/usr/share/fonts/opentype/source-han-sans")
CJK_HINTS = ("cjk", "sc-", "sc.", "hans", "wqy", "han", "hei", "song", "ming")


def _packaged() -> list[Path]:
    try:
        import noto_cjk_sans_otc
    except ImportError:
        return []
    return [Path(str(noto_cjk_sans_otc.FONT_PATH)).parent]


def font_dirs() -> list[Path]:
    """Folders to register with vl-convert: `CONVERGENT_FONT_DIR`, then the packaged font."""
    env = [Path(p) for p in os.environ.get(ENV, "").split(os.pathsep) if p]
    return [d for d in [*env, *_packaged()] if d.is_dir()]


def cjk_font_files() -> list[Path]:
    """Font files that look like CJK fonts, in the registered folders and the system's."""
    out = []
    for d in [*font_dirs(), *(Path(p) for p in SYSTEM_DIRS)]:
        if not d.is_dir():
            continue
        for f in sorted(d.rglob("*")):
            if f.suffix.lower() in SUFFIXES and any(h in f.name.lower() for h in CJK_HINTS):
                out.append(f)
    return out


@cache
def register_fonts() -> tuple[str, ...]:
    """Register the font folders with vl-convert once per process; return them."""
    import vl_convert as vlc

    dirs = font_dirs()
    for d in dirs:
        vlc.register_font_directory(str(d))
    return tuple(str(d) for d in dirs)


def fontconfig_file(dest: Path) -> Path:
    """A fontconfig file adding the registered folders to the system's (for a browser)."""
    dirs = "\n".join(f"  <dir>{d}</dir>" for d in font_dirs())
    dest.write_text('<?xml version="1.0"?>\n<!DOCTYPE fontconfig SYSTEM "fonts.dtd">\n'
                    "<fontconfig>\n  <include ignore_missing=\"yes\">/etc/fonts/fonts.conf"
                    f"</include>\n{dirs}\n</fontconfig>\n", encoding="utf-8")
    return dest
