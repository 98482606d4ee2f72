"""Static SVG and PNG figures of the main charts, rendered by vl-convert (no browser).

Chinese labels need a CJK font: `convergent.report.fonts` registers one before drawing.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any


def write_figures(specs: list[dict[str, Any]], folder: Path, png_scale: float = 1.5) -> list[str]:
    """Write `<id>.svg` and `<id>.png` for each chart; return the relative paths written."""
    import vl_convert as vlc

    from convergent.report.fonts import register_fonts

    register_fonts()
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for c in specs:
        name = str(c["id"]).replace("_", "-")
        svg = vlc.vegalite_to_svg(c["spec"])
        (folder / f"{name}.svg").write_text(svg, encoding="utf-8")
        # rasterise the SVG already made: same pixels, without running Vega twice
        (folder / f"{name}.png").write_bytes(vlc.svg_to_png(svg, scale=png_scale))
        written += [f"{folder.name}/{name}.svg", f"{folder.name}/{name}.png"]
    return written
