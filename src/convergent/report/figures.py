"""Static SVG and PNG figures of the main charts, rendered by vl-convert (no browser).

Chinese labels need a CJK font: `convergent.report.fonts` registers one before drawing.
`FigureJobs` draws each figure on a worker thread as soon as the sections it shows are
assembled, so drawing (which runs outside the GIL) overlaps the rest of the report.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from convergent.report.assemble import ReportData

PNG_SCALE = 1.5


def draw(spec: dict[str, Any], png_scale: float = PNG_SCALE) -> tuple[str, bytes]:
    """One chart as SVG text and PNG bytes (the PNG rasterised from that SVG)."""
    import vl_convert as vlc

    from convergent.report.fonts import register_fonts

    register_fonts()
    svg = vlc.vegalite_to_svg(spec)
    return svg, vlc.svg_to_png(svg, scale=png_scale)


def write_figures(specs: list[dict[str, Any]], folder: Path,
                  png_scale: float = PNG_SCALE) -> list[str]:
    """Write `<id>.svg` and `<id>.png` for each chart; return the relative paths written."""
    drawn = [(str(c["id"]), *draw(c["spec"], png_scale)) for c in specs]
    return save(drawn, folder)


def save(drawn: list[tuple[str, str, bytes]], folder: Path) -> list[str]:
    """Write drawn figures (id, SVG, PNG) into `folder`; return the relative paths."""
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for cid, svg, png in drawn:
        name = cid.replace("_", "-")
        (folder / f"{name}.svg").write_text(svg, encoding="utf-8")
        (folder / f"{name}.png").write_bytes(png)
        written += [f"{folder.name}/{name}.svg", f"{folder.name}/{name}.png"]
    return written


class FigureJobs:
    """Build every language's charts and draw the main language's figures on a worker
    thread while the report is being assembled.

    `ready(section)` is called after each assembled section; a chart starts once every
    section it needs is done. `finish()` starts whatever is left and waits.
    """

    def __init__(self, data_ref: Callable[[], ReportData | None], cfg: dict[str, Any],
                 langs: list[str], draw_figures: bool = True) -> None:
        from convergent.report import html

        self.data_ref, self.cfg, self.langs, self.draw = data_ref, cfg, langs, draw_figures
        self.needs = {cid: set(html.CHART_NEEDS[cid]) for cid in html.CHART_ORDER}
        self.needs["shares-small"] = set(html.CHART_NEEDS["shares"])
        self.done: set[str] = set()
        self.futures: dict[str, Future[Any]] = {}
        self.seconds: dict[str, float] = {}
        self.pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="figures")

    def _job(self, cid: str) -> dict[str, Any]:
        """Chart `cid` in every language; drawn in the main one (or the small multiples)."""
        import time

        from convergent.report.html import chart, share_charts

        t0 = time.thread_time()
        data = self.data_ref()
        out: dict[str, Any] = {"specs": {}, "drawn": None}
        if data is not None:
            for lang in self.langs:
                out["specs"][lang] = (share_charts(data, self.cfg, lang)
                                      if cid == "shares-small" else
                                      chart(cid, data, self.cfg, lang))
            main = out["specs"].get(self.langs[0])
            if self.draw and main is not None and cid != "shares-small":
                out["drawn"] = draw(main)
        self.seconds[cid] = time.thread_time() - t0
        return out

    def ready(self, section: str) -> None:
        """Start every chart whose sections are all assembled."""
        self.done.add(section)
        for cid, needs in self.needs.items():
            if cid not in self.futures and needs <= self.done:
                self.futures[cid] = self.pool.submit(self._job, cid)

    def close(self) -> None:
        """Stop without waiting (the report failed): queued charts are dropped."""
        self.pool.shutdown(wait=False, cancel_futures=True)

    def finish(self) -> Drawn:
        """Wait for every chart and return them."""
        from convergent.report.html import CHART_ORDER, chart_title

        for cid in self.needs:
            if cid not in self.futures:
                self.futures[cid] = self.pool.submit(self._job, cid)
        try:
            results = {cid: fut.result() for cid, fut in self.futures.items()}
        finally:
            self.pool.shutdown(wait=True, cancel_futures=True)
        out = Drawn({lang: [] for lang in self.langs}, {}, [])
        for cid in CHART_ORDER:
            for lang, spec in results[cid]["specs"].items():
                if spec is not None:
                    out.charts[lang].append({"id": cid, "title": chart_title(cid, lang),
                                             "spec": spec})
            if results[cid]["drawn"] is not None:
                out.figures.append((cid, *results[cid]["drawn"]))
        out.small = dict(results["shares-small"]["specs"])
        return out


@dataclass
class Drawn:
    """Charts per language (the figures' specs), the small multiples per language, and
    the main language's drawn figures as (id, SVG, PNG)."""

    charts: dict[str, list[dict[str, Any]]]
    small: dict[str, list[dict[str, Any]]]
    figures: list[tuple[str, str, bytes]] = field(default_factory=list)
