"""The convergence timeline: historical phases and forecast crossings as a Mermaid gantt."""

from __future__ import annotations

import datetime as dt
import re
from typing import TYPE_CHECKING, Any

from convergent.registry import registry

if TYPE_CHECKING:
    from convergent.classify import Classifier
    from convergent.store import Store

TITLE = {"zh": "AI收敛演进时间线", "en": "AI convergence timeline"}
_BAD = {":": "：", ";": "；", "#": "＃", "%": "％", "<": "＜", ">": "＞", "\n": " ", "\r": " ",
        '"': "'"}


def task_name(text: str) -> str:
    """A task or section name that cannot break Mermaid's gantt syntax."""
    out = "".join(_BAD.get(ch, ch) for ch in str(text))
    return re.sub(r"\s+", " ", out).strip() or "-"


def gantt_rows(phase_rows: list[dict[str, Any]], forecasts: list[dict[str, Any]],
               as_of: dt.date, lang: str = "en", until: dt.date | None = None
               ) -> list[dict[str, Any]]:
    """Tasks of the chart: past phases (done), current phases (active), and forecast
    crossings of the L3 share (a bar from the as-of date) and of the L4 share (a milestone).

    A bar is marked `crit` when the crossing belongs to a challenger taking over.
    """
    reg = registry()
    zh = lang == "zh"
    rows: list[dict[str, Any]] = []
    for p in phase_rows:
        if p["level"] not in ("L0", "L1", "L2", "L3", "L4"):
            continue
        name = p["name_zh"] if zh else p["name_en"]
        label = f"{name} {p['level']}" + (f" {p['leader']}" if p.get("leader") else "")
        end = as_of if p["current"] else p["end"]
        if end <= p["start"]:
            end = p["start"] + dt.timedelta(days=1)
        rows.append({"layer": p["layer"], "area": p["area"], "kind": "phase",
                     "task": task_name(label), "tags": ["active"] if p["current"] else ["done"],
                     "start": p["start"], "end": end, "level": p["level"],
                     "option": p.get("leader"), "low": None, "high": None})
    for f in forecasts:
        if f.get("fit") != "ok":
            continue
        name = f["name_zh"] if zh else f["name_en"]
        crit = f.get("target_role") == "challenger"
        for key, kind in (("cross_90", "forecast"), ("cross_95", "milestone")):
            cell = f[key]
            if cell["status"] != "forecast" or cell["date"] is None:
                continue
            if until is not None and cell["date"] > until:
                continue
            pct = f"{cell['threshold']:.0%}"
            label = f"{name} {f['target']} ≥{pct}"
            tags = (["crit"] if crit else []) + (["milestone"] if kind == "milestone" else [])
            start = cell["date"] if kind == "milestone" else as_of
            end = cell["date"] if kind == "milestone" else max(cell["date"],
                                                                as_of + dt.timedelta(days=1))
            rows.append({"layer": f["layer"], "area": f["area"], "kind": kind,
                         "task": task_name(label), "tags": tags, "start": start, "end": end,
                         "level": "L3" if key == "cross_90" else "L4", "option": f["target"],
                         "low": cell["low"], "high": cell["high"]})
    order = {k: v.order for k, v in reg.layers.items()}
    area_order = {a: i for i, a in enumerate(reg.areas)}
    kind_order = {"phase": 0, "forecast": 1, "milestone": 2}
    rows.sort(key=lambda r: (order.get(r["layer"], 99), area_order.get(r["area"], 999),
                             kind_order[r["kind"]], r["start"]))
    for r in rows:
        layer = reg.layers.get(r["layer"])
        r["section"] = task_name((layer.zh if zh else layer.en) if layer else r["layer"])
    return rows


def mermaid(rows: list[dict[str, Any]], lang: str = "en", title: str | None = None) -> str:
    """Mermaid `gantt` text of timeline rows (sections in the rows' order)."""
    lines = ["gantt", f'    title "{task_name(title or TITLE.get(lang, TITLE["en"]))}"',
             "    dateFormat YYYY-MM-DD", "    axisFormat %Y-%m"]
    section = None
    for r in rows:
        if r["section"] != section:
            section = r["section"]
            lines += ["", f"    section {section}"]
        tags = "".join(f"{t}, " for t in r["tags"])
        if r["kind"] == "milestone":
            when = f"{r['start'].isoformat()}, 0d"
        else:
            when = f"{r['start'].isoformat()}, {r['end'].isoformat()}"
        lines.append(f"    {r['task']} :{tags}{when}")
    return "\n".join(lines) + "\n"


def gantt(store: Store, cfg: dict[str, Any], as_of: dt.date | None = None,
          start: dt.date | None = None, lang: str = "en", *, clf: Classifier | None = None,
          segments: bool = True, bootstrap: int | None = None, until: dt.date | None = None
          ) -> tuple[str, list[dict[str, Any]]]:
    """The timeline from `start` (default 2023-01-01, as in the seed) to the forecasts."""
    from convergent.analysis import evidence_as_of
    from convergent.classify import Classifier
    from convergent.forecast.crossings import forecast_areas
    from convergent.forecast.history import level_history, phases

    clf = clf or Classifier(store, cfg)
    as_of = as_of or evidence_as_of(store)
    hist = level_history(store, cfg, start or dt.date(2023, 1, 1), as_of, clf=clf,
                         segments=segments)
    fc = forecast_areas(store, as_of, cfg, clf=clf, bootstrap=bootstrap)
    rows = gantt_rows(phases(hist), fc, as_of, lang, until)
    return mermaid(rows, lang), rows
