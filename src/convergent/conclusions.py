"""Conclusions computed from the results (seed §八): every sentence is built from numbers.

Which layers converged, which diverge, what moved most in the last year, where the
evidence is thin, and how the seed's claims fared. Each item is plain data (its numbers
and the sentence in zh and en), so renderers only print it; with no evidence an item says
so instead of repeating a fixed conclusion.
"""

from __future__ import annotations

import datetime as dt
import math
from typing import Any

from convergent.dates import leading_date

CLASSIFIED = ("L0", "L1", "L2", "L3", "L4")
YEAR = dt.timedelta(days=365)


def _names(items: list[dict[str, Any]], lang: str, extra: str = "") -> str:
    sep = "、" if lang == "zh" else ", "
    return sep.join(f"{x.get(f'name_{lang}') or x.get('name_en')}"
                    + (f" {x[extra]}" if extra and x.get(extra) else "") for x in items)


def _item(key: str, zh: str, en: str, **values: Any) -> dict[str, Any]:
    return {"key": key, "text_zh": zh, "text_en": en, "values": values}


def _degree_phrase(x: dict[str, Any], lang: str) -> str:
    """A layer's name and degree, with its unconverged areas in brackets where it has any."""
    unc = x.get("unconverged") or []
    if not unc:
        return f"{x.get(f'name_{lang}')} {x['deg']}"
    inner = _names(unc, lang)
    bracket = f"（{inner}）" if lang == "zh" else f" ({inner})"
    return f"{x.get(f'name_{lang}')} {x['deg']}{bracket}"


def layer_items(layers: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The converged (L3/L4) and the diverging (L1/L0) layers, with their degrees."""
    scored = [dict(x, deg=f"{float(x['score']):.0f}%") for x in layers
              if x.get("level") in CLASSIFIED]
    groups = (
        ("converged", ("L3", "L4"), "已收敛（L3/L4）的层：{zh}。",
         "Converged layers (L3/L4): {en}.",
         "{n} 个有结论的层中没有一层达到 L3/L4。",
         "None of the {n} classified layers reaches L3/L4.", False),
        ("diverging", ("L1", "L0"), "未收敛或分化（L1/L0）的层：{zh}。",
         "Layers not converged or diverging (L1/L0): {en}.",
         "{n} 个有结论的层中没有一层处于 L1/L0。",
         "None of the {n} classified layers is at L1/L0.", True),
    )
    out = []
    for key, levels, zh, en, zh_none, en_none, with_areas in groups:
        picked = [x for x in scored if x["level"] in levels]
        if not picked:
            out.append(_item(key, zh_none.format(n=len(scored)), en_none.format(n=len(scored)),
                             layers=[]))
            continue
        if with_areas:
            text_zh = "；".join(_degree_phrase(x, "zh") for x in picked)
            text_en = "; ".join(_degree_phrase(x, "en") for x in picked)
        else:
            text_zh, text_en = _names(picked, "zh", "deg"), _names(picked, "en", "deg")
        out.append(_item(key, zh.format(zh=text_zh), en.format(en=text_en),
                         layers=[x["layer"] for x in picked]))
    return out


def _nearest(dates: list[dt.date], target: dt.date, slack: int = 60) -> dt.date | None:
    best = min(dates, key=lambda d: abs((d - target).days), default=None)
    return best if best is not None and abs((best - target).days) <= slack else None


def moved_item(history: list[dict[str, Any]], level_history: list[dict[str, Any]],
               as_of: dt.date) -> dict[str, Any]:
    """The largest change of any option's share, and the level changes, over the last year."""
    by: dict[str, dict[dt.date, dict[str, float]]] = {}
    names: dict[str, tuple[str, str]] = {}
    for h in history:
        area = str(h["area"])
        by.setdefault(area, {}).setdefault(leading_date(h["date"]), {})[str(h["option"])] = float(
            h["share"])
        names[area] = (str(h.get("name_zh") or area), str(h.get("name_en") or area))
    moves = []
    for area, series in by.items():
        dates = sorted(series)
        now = _nearest(dates, as_of, 0)
        then = _nearest(dates, as_of - YEAR)
        if now is None or then is None:
            continue
        for opt in set(series[now]) | set(series[then]):
            a, b = series[then].get(opt, 0.0), series[now].get(opt, 0.0)
            moves.append((b - a, area, opt, a, b))
    changes = _level_changes(level_history, as_of)
    ch_zh = "；".join(f"{c['name_zh']} {c['from']}→{c['to']}" for c in changes)
    ch_en = "; ".join(f"{c['name_en']} {c['from']}→{c['to']}" for c in changes)
    if not moves:
        return _item("moved", "没有领域在一年前后都有足够证据，无法比较过去一年的变化。"
                     + (f"层级变化：{ch_zh}。" if changes else ""),
                     "No area has enough evidence both now and a year ago to compare."
                     + (f" Level changes: {ch_en}." if changes else ""),
                     moves=[], level_changes=changes)
    moves.sort(key=lambda m: (-abs(m[0]), m[1], m[2]))
    top = moves[:3]
    zh = "；".join(f"{names[a][0]}的 {o}：{100 * x:.0f}% → {100 * y:.0f}%"
                  f"（{100 * d:+.0f} 个百分点）" for d, a, o, x, y in top)
    en = "; ".join(f"{names[a][1]}, {o}: {100 * x:.0f}% → {100 * y:.0f}% ({100 * d:+.0f} pp)"
                   for d, a, o, x, y in top)
    return _item(
        "moved",
        f"过去一年变化最大：{zh}。" + (f"层级变化：{ch_zh}。" if changes else "层级无变化。"),
        f"Moved most in the last year: {en}." + (f" Level changes: {ch_en}." if changes
                                                  else " No level changed."),
        moves=[{"area": a, "option": o, "from": x, "to": y, "change": d}
               for d, a, o, x, y in top], level_changes=changes)


def _level_changes(level_history: list[dict[str, Any]], as_of: dt.date) -> list[dict[str, Any]]:
    by: dict[str, dict[dt.date, dict[str, Any]]] = {}
    for h in level_history:
        by.setdefault(str(h["area"]), {})[leading_date(h["date"])] = h
    out = []
    for area, series in sorted(by.items()):
        dates = sorted(series)
        now, then = _nearest(dates, as_of, 0), _nearest(dates, as_of - YEAR)
        if now is None or then is None:
            continue
        a, b = series[then].get("level"), series[now].get("level")
        if a in CLASSIFIED and b in CLASSIFIED and a != b:
            h = series[now]
            out.append({"area": area, "name_zh": h.get("name_zh") or area,
                        "name_en": h.get("name_en") or area, "from": a, "to": b})
    return out


def thin_item(rows: list[dict[str, Any]], layers: list[dict[str, Any]]) -> dict[str, Any]:
    """Where the evidence is thin: areas without a level and layers without a classified area."""
    thin = [r for r in rows if r.get("level") not in CLASSIFIED]
    empty = [x for x in layers if x.get("level") not in CLASSIFIED]
    low = [r for r in rows if r.get("level") in CLASSIFIED and _frac(r.get("coverage")) < 0.25]
    if not thin and not empty:
        zh = f"全部 {len(rows)} 个领域证据充分。"
        en = f"All {len(rows)} areas have enough evidence."
    else:
        n_txt = [dict(r, nn=f"n = {float(r.get('n') or 0):.0f}") for r in thin]
        zh = (f"证据不足的领域 {len(thin)}/{len(rows)} 个：{_names(n_txt, 'zh', 'nn')}。"
              if thin else "")
        en = (f"Thin evidence in {len(thin)} of {len(rows)} areas: {_names(n_txt, 'en', 'nn')}."
              if thin else "")
        if empty:
            zh += f"没有有结论领域的层：{_names(empty, 'zh')}。"
            en += f" Layers with no classified area: {_names(empty, 'en')}."
    if low:
        cov = [dict(r, cv=f"{100 * _frac(r.get('coverage')):.0f}%") for r in low]
        zh += f"已分类但覆盖率低于 25% 的领域：{_names(cov, 'zh', 'cv')}。"
        en += f" Classified with coverage under 25%: {_names(cov, 'en', 'cv')}."
    return _item("thin", zh, en.strip(), areas=[r.get("area") for r in thin],
                 layers=[x.get("layer") for x in empty])


def _frac(x: Any) -> float:
    return float(x) if isinstance(x, int | float) and math.isfinite(x) else 1.0


def seed_item(claims: list[dict[str, Any]]) -> dict[str, Any]:
    """How the seed's claims fared: counts per verdict and the contradicted ones."""
    from convergent.seedcheck import CONFIRMED, CONTRADICTED, NOT_MEASURABLE, tally

    t = tally(claims)
    bad = [c for c in claims if c["verdict"] == CONTRADICTED]
    zh = (f"原文 {len(claims)} 条可检验论断：{t[CONFIRMED]} 条得到证实，{t[CONTRADICTED]} 条被证据"
          f"否定，{t[NOT_MEASURABLE]} 条尚无法测量。")
    en = (f"Of the seed's {len(claims)} testable claims, {t[CONFIRMED]} are confirmed, "
          f"{t[CONTRADICTED]} contradicted by the evidence and {t[NOT_MEASURABLE]} not "
          "measurable yet.")
    if bad:
        zh += "被否定：" + "；".join(c["claim_zh"] for c in bad[:5]) + ("等。" if len(bad) > 5
                                                                    else "。")
        en += " Contradicted: " + "; ".join(c["claim_en"] for c in bad[:5]) + (
            " and more." if len(bad) > 5 else ".")
    return _item("seed", zh, en, **t)


def tagline_item(claims: list[dict[str, Any]]) -> dict[str, Any] | None:
    """The seed's tagline, said only with the verdict the data give it."""
    c = next((c for c in claims if c["id"] == "s1-tagline"), None)
    if c is None:
        return None
    word = {"confirmed": ("成立", "holds"), "contradicted": ("不成立", "does not hold"),
            "not_measurable": ("尚无法判断", "cannot be judged yet")}[c["verdict"]]
    return _item("tagline", f"原文的判断“{c['claim_zh']}”{word[0]}：{c['why_zh']}。",
                 f"The seed's verdict \"{c['claim_en']}\" {word[1]}: {c['why_en']}.",
                 verdict=c["verdict"])


def conclusions(rows: list[dict[str, Any]], layers: list[dict[str, Any]],
                history: list[dict[str, Any]], level_history: list[dict[str, Any]],
                claims: list[dict[str, Any]], as_of: dt.date) -> list[dict[str, Any]]:
    """The generated conclusions, in reading order."""
    out = [*layer_items(layers), moved_item(history, level_history, as_of),
           thin_item(rows, layers)]
    if claims:
        tag = tagline_item(claims)
        out += [seed_item(claims), *([tag] if tag else [])]
    return out
