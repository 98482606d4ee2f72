"""Layer scores, the convergence pyramid (seed §三) and the five-layer table (seed §五).

A layer's score is the weighted mean of the degrees (收敛度) of its classified areas;
areas with insufficient evidence are left out, and a layer with no classified area
shows "no evidence" instead of a number. The layer's level is the degree band
(config `degree.bands`) the score falls in — the highest level whose lower edge is
≤ the score — clamped to the range of its areas' levels: the bands share their edges,
so a score exactly on an edge could otherwise name a level that none of its areas has.
"""

from __future__ import annotations

import datetime as dt
import itertools
import re
from typing import TYPE_CHECKING, Any

from convergent.levels import LEVELS

if TYPE_CHECKING:
    from convergent.store import Store

NO_EVIDENCE = "no evidence"
NOT_MEASURED = "not yet measured"
UNCONVERGED = ("L1", "L0")
FIVE_LAYERS = ("architecture", "training", "capability", "application", "hardware")
FIVE_LAYER_ZH = {
    "architecture": "基础架构层", "training": "训练范式层", "capability": "能力表现层",
    "application": "应用协议层", "hardware": "硬件适配层",
}
FIVE_LAYER_EN = {
    "architecture": "Base architecture", "training": "Training paradigm",
    "capability": "Capability", "application": "Application protocol",
    "hardware": "Hardware adaptation",
}


def _classified(row: dict[str, Any]) -> bool:
    return row.get("level") in LEVELS and row.get("degree") is not None


def _layer_of(row: dict[str, Any]) -> str | None:
    """The row's layer, looked up in the registry when the row does not carry it."""
    if row.get("layer"):
        return str(row["layer"])
    from convergent.registry import registry

    area = registry().areas.get(str(row.get("area")))
    return area.layer if area else None


def _names(row: dict[str, Any]) -> tuple[str, str]:
    from convergent.registry import registry

    area = registry().areas.get(str(row.get("area")))
    en = row.get("name_en") or (area.en if area else str(row.get("area")))
    zh = row.get("name_zh") or (area.zh if area else en)
    return str(zh), str(en)


def level_for_score(score: float, cfg: dict[str, Any]) -> str:
    """The level whose degree band holds `score`: the highest level with lower edge ≤ score."""
    bands = cfg["degree"]["bands"]
    found = LEVELS[0]
    for level in LEVELS:
        if score >= float(bands[level][0]):
            found = level
    return found


def layer_scores(results: list[dict[str, Any]], cfg: dict[str, Any]) -> list[dict[str, Any]]:
    """Per layer (registry order): score, level, its areas and its unconverged (L1/L0) areas."""
    from convergent.levels import LEVEL_NAMES
    from convergent.registry import registry

    reg = registry()
    weights = (cfg.get("layers") or {}).get("weights") or {}
    by_layer: dict[str, list[dict[str, Any]]] = {k: [] for k in reg.layers}
    for row in results:
        layer = _layer_of(row)
        if layer in by_layer:
            by_layer[layer].append(row)
    out = []
    for layer_id, layer in sorted(reg.layers.items(), key=lambda kv: kv[1].order):
        rows = by_layer[layer_id]
        areas = []
        num = den = 0.0
        for r in rows:
            zh, en = _names(r)
            w = float(weights.get(r.get("area"), 1.0))
            areas.append({"area": r.get("area"), "name_zh": zh, "name_en": en,
                          "level": r.get("level"), "degree": r.get("degree"),
                          "stars": r.get("stars"), "weight": w})
            if _classified(r) and w > 0:
                num += w * float(r["degree"])
                den += w
        classified = [a for a in areas if a["level"] in LEVELS and a["degree"] is not None]
        if den > 0:
            score: float | None = num / den
            level = level_for_score(score, cfg)
            idx = [LEVELS.index(a["level"]) for a in classified if a["weight"] > 0]
            level = LEVELS[min(max(LEVELS.index(level), min(idx)), max(idx))]
            zh_name, en_name = LEVEL_NAMES[level]
        else:
            score, level = None, NO_EVIDENCE
            zh_name, en_name = "无证据", NO_EVIDENCE
        out.append({
            "layer": layer_id, "name_zh": layer.zh, "name_en": layer.en, "order": layer.order,
            "score": score, "level": level, "level_zh": zh_name, "level_en": en_name,
            "n_areas": len(areas), "n_classified": len(classified),
            "areas": areas,
            "unconverged": [a for a in classified if a["level"] in UNCONVERGED],
        })
    return out


def _hhi_from_counts(counts: dict[str, float]) -> tuple[float | None, float | None]:
    """HHI (0–10,000) and effective number of organisations from their entity counts."""
    from convergent.stats import concentration

    if sum(counts.values()) <= 0:
        return None, None
    conc = concentration(sorted(counts.values()))   # sorted: the same sum every run
    return conc["hhi"], conc["effective_n"]


def organisation_counts(store: Store, area_ids: list[str], start: dt.date, end: dt.date,
                        capability: bool = False) -> dict[str, int]:
    """Entities per organisation adopting `area_ids` (or scored on them) in (start, end]."""
    from convergent.schema import UNKNOWN

    e = store.table("entities")
    if capability:
        s = store.table("scores")
        ar = store.table("areas")
        ar = ar.filter(ar.area_id.isin(area_ids) & ar.benchmark.notnull())

        def key(col: Any) -> Any:
            return col.strip().lower().re_replace(r"[\s_\-./]+", "")

        s = s.filter((s.date > start) & (s.date <= end) & s.score.notnull())
        s = s.mutate(bkey=key(s.benchmark))
        ar = ar.mutate(bkey=key(ar.benchmark)).select("bkey")
        ids = s.join(ar, "bkey").select("entity_id").distinct()
    else:
        a = store.table("adoptions")
        a = a.filter(a.area_id.isin(area_ids) & (a.option != UNKNOWN)
                     & (a.date > start) & (a.date <= end))
        ids = a.select("entity_id").distinct()
    j = ids.join(e, "entity_id")
    j = j.filter(j.organization.notnull() & (j.organization != UNKNOWN)
                 & (j.organization.strip() != ""))
    df = j.group_by("organization").agg(n=j.entity_id.nunique()).execute()
    # sorted, so float sums over the counts are the same on every run
    return dict(sorted((str(r.organization), int(r.n)) for r in df.itertuples()))


def _headline(rows: list[dict[str, Any]]) -> dict[str, Any] | None:
    """The layer's best-evidenced classified area (largest n; registry order breaks ties)."""
    cand = [r for r in rows if _classified(r)]
    if not cand:
        return None
    return max(cand, key=lambda r: float(r.get("n") or 0.0))


def _fmt_share(x: Any) -> str:
    return "" if x is None else f" {float(x):.0%}"


def five_layer_table(store: Store, results: list[dict[str, Any]], as_of: dt.date,
                     cfg: dict[str, Any], predictability: dict[str, Any] | None = None,
                     length: int | None = None) -> list[dict[str, Any]]:
    """The seed's §五 table from data: technique, market, predictability, room to improve."""
    from convergent.dates import months_to_days
    from convergent.registry import registry

    reg = registry()
    length = length or months_to_days(cfg["window"]["months"])
    start = as_of - dt.timedelta(days=length)
    levels = {r["layer"]: r for r in layer_scores(results, cfg)}
    out = []
    for layer_id in FIVE_LAYERS:
        rows = [r for r in results if _layer_of(r) == layer_id]
        head = _headline(rows)
        area_ids = [a.area_id for a in reg.areas.values() if a.layer == layer_id]
        counts = organisation_counts(store, area_ids, start, as_of,
                                     capability=layer_id == "capability")
        hhi, eff = _hhi_from_counts(counts)
        top_orgs = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[:3]
        total = sum(counts.values())
        if head is None:
            tech_en, tech_zh = NO_EVIDENCE, "无证据"
            leader = share = None
        else:
            zh, en = _names(head)
            leader, share = head.get("leader"), head.get("leader_share")
            if share is None and head.get("spread_pct") is not None:
                tech_en = f"{en}: top-k spread {float(head['spread_pct']):.1f}% (leader {leader})"
                tech_zh = f"{zh}：头部差异 {float(head['spread_pct']):.1f}%（领先 {leader}）"
            else:
                tech_en = f"{en}: {leader}{_fmt_share(share)}"
                tech_zh = f"{zh}：{leader}{_fmt_share(share)}"
        chal = _strongest_challenger(rows)
        if chal is None:
            room_en, room_zh = "no challenger measured", "无可测挑战者"
        else:
            zh, en = _names(chal)
            trend = chal.get("challenger_trend_pp")
            t = "" if trend is None else f" ({float(trend):+.1f} pp/yr)"
            tz = "" if trend is None else f"（{float(trend):+.1f} 个百分点/年）"
            room_en = f"{en}: {chal['challenger']}{_fmt_share(chal.get('challenger_share'))}{t}"
            room_zh = f"{zh}：{chal['challenger']}{_fmt_share(chal.get('challenger_share'))}{tz}"
        pred = (predictability or {}).get(layer_id)
        if hhi is None:
            market_en, market_zh = NO_EVIDENCE, "无证据"
        else:
            orgs = ", ".join(f"{o} {c / total:.0%}" for o, c in top_orgs)
            market_en = f"HHI {hhi:.0f}, {eff:.1f} effective organisations ({orgs})"
            market_zh = f"HHI {hhi:.0f}，有效机构数 {eff:.1f}（{orgs}）"
        lay = levels[layer_id]
        out.append({
            "layer": layer_id, "name_zh": FIVE_LAYER_ZH[layer_id],
            "name_en": FIVE_LAYER_EN[layer_id],
            "level": lay["level"], "score": lay["score"],
            "headline_area": head.get("area") if head else None,
            "leader": leader, "leader_share": share,
            "technical_en": tech_en, "technical_zh": tech_zh,
            "market_hhi": hhi, "market_effective_n": eff, "market_n_entities": total,
            "market_n_organisations": len(counts),
            "market_top": [{"organization": o, "share": c / total} for o, c in top_orgs],
            "market_en": market_en, "market_zh": market_zh,
            "predictability": pred if pred is not None else NOT_MEASURED,
            "challenger_area": chal.get("area") if chal else None,
            "challenger": chal.get("challenger") if chal else None,
            "challenger_share": chal.get("challenger_share") if chal else None,
            "challenger_trend_pp": chal.get("challenger_trend_pp") if chal else None,
            "room_en": room_en, "room_zh": room_zh,
            "window_start": start, "as_of": as_of,
        })
    return out


def _strongest_challenger(rows: list[dict[str, Any]]) -> dict[str, Any] | None:
    """Among classified areas with a challenger: the fastest-growing one, else the largest."""
    cand = [r for r in rows if _classified(r) and r.get("challenger")]
    if not cand:
        return None
    with_trend = [r for r in cand if r.get("challenger_trend_pp") is not None]
    if with_trend:
        return max(with_trend, key=lambda r: float(r["challenger_trend_pp"]))
    return max(cand, key=lambda r: float(r.get("challenger_share") or 0.0))


def _label(text: Any) -> str:
    """Text safe inside a quoted Mermaid label: no quotes, brackets, braces, pipes or '#'."""
    clean = re.sub(r"[\"'`\[\]{}()<>|#;]", " ", str(text))
    return re.sub(r"\s+", " ", clean).strip()


def pyramid_mermaid(layers: list[dict[str, Any]], lang: str = "en") -> str:
    """A Mermaid `graph TD` like the seed's §三 pyramid: measured levels, unconverged areas."""
    zh = str(lang) == "zh"
    by_id = {r["layer"]: r for r in layers}
    ids = {lid: f"N{i}" for i, lid in enumerate(by_id)}

    def node(r: dict[str, Any]) -> str:
        name = r["name_zh"] if zh else r["name_en"]
        if r["score"] is None:
            state = "无证据" if zh else NO_EVIDENCE
        else:
            lvl = r["level_zh"] if zh else r["level_en"]
            state = (f"{r['level']} {lvl} 收敛度 {r['score']:.0f}%" if zh
                     else f"{r['level']} {lvl}, degree {r['score']:.0f}%")
        return f'{ids[r["layer"]]}["{_label(name)} {_label(state)}"]'

    lines = ["graph TD"]
    spine = [lid for lid in ("market", "capability", "architecture", "math") if lid in by_id]
    for lid in spine:
        lines.append(f"    {node(by_id[lid])}")
    for a, b in itertools.pairwise(spine):
        lines.append(f"    {ids[a]} --> {ids[b]}")
    others = [lid for lid in by_id if lid not in spine]
    if others:
        lines.append(f'    subgraph OTHER["{"其他层" if zh else "other layers"}"]')
        lines.extend(f"        {node(by_id[lid])}" for lid in others)
        lines.append("    end")
    unconv = [(r["layer"], a) for r in layers for a in r["unconverged"]]
    if unconv:
        lines.append(f'    subgraph UNCONVERGED["{"未收敛区域" if zh else "unconverged"}"]')
        for i, (_, a) in enumerate(unconv):
            name = a["name_zh"] if zh else a["name_en"]
            lines.append(f'        U{i}["{_label(name)} {_label(a["level"])}"]')
        lines.append("    end")
        for i, (lid, _) in enumerate(unconv):
            lines.append(f"    {ids[lid]} -.-> U{i}")
    return "\n".join(lines) + "\n"
