"""Per-area advice from level and certainty (seed §八): adopt, participate and hedge, explore.

L4/L3 with ★ ≥ `advice.adopt_min_stars` (and certainty ≥ 0.6) → adopt the standard
(拥抱已收敛层); L4/L3 with lower certainty is downgraded to participate-and-hedge and
says why; L2 → participate, hedge (谨慎参与收敛层); L1/L0 → explore with small fast
teams (激进探索未收敛层). Low or unmeasured certainty is always stated; an area without
enough evidence gets no advice, and neither does a saturated benchmark (its spread says
nothing about convergence, so "explore, the gaps are large" would mislead).
"""

from __future__ import annotations

import math
from typing import Any

ADOPT = "adopt"
HEDGE = "participate-hedge"
EXPLORE = "explore"
NONE = "none"
MIN_CERTAINTY = 0.6
ACTION_ZH = {ADOPT: "拥抱已收敛层", HEDGE: "谨慎参与收敛层", EXPLORE: "激进探索未收敛层",
             NONE: "暂无建议"}
ACTION_EN = {ADOPT: "adopt the standard", HEDGE: "participate, hedge",
             EXPLORE: "explore with small fast teams", NONE: "no advice"}


def _num(value: Any) -> float | None:
    if value is None:
        return None
    try:
        x = float(value)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(x) else x


def _n(row: dict[str, Any]) -> str:
    n = _num(row.get("n"))
    return "?" if n is None else f"{n:g}"


def _is_capability(row: dict[str, Any]) -> bool:
    """True for a benchmark-spread row (capability layer) rather than a share area."""
    if row.get("kind") is not None:
        return row.get("kind") == "capability"
    from convergent.registry import registry

    area = registry().areas.get(str(row.get("area")))
    return area is not None and area.kind == "capability"


def advise_one(row: dict[str, Any], cfg: dict[str, Any]) -> dict[str, Any]:
    """Advice for one classified area (an AreaResult dict or a capability row)."""
    from convergent.levels import LEVEL_NAMES, stars_text

    level = row.get("level")
    area = row.get("area")
    name_en = row.get("name_en") or str(area)
    name_zh = row.get("name_zh") or name_en
    base = {"area": area, "layer": row.get("layer"), "name_en": name_en, "name_zh": name_zh,
            "level": level, "degree": row.get("degree"), "certainty": row.get("certainty"),
            "stars": row.get("stars"), "leader": row.get("leader"),
            "challenger": row.get("challenger")}
    if level not in ("L0", "L1", "L2", "L3", "L4") or _num(row.get("degree")) is None:
        return {**base, "action": NONE, "low_certainty": None,
                "text_en": f"{name_en}: no advice: insufficient evidence (n={_n(row)})",
                "text_zh": f"{name_zh}：暂无建议：证据不足（n={_n(row)}）"}
    if row.get("saturated"):
        top, ceiling = _num(row.get("top")), _num(row.get("ceiling"))
        near = (f" (top {top:g} of {ceiling:g})" if top is not None and ceiling is not None
                else "")
        near_zh = (f"（最高 {top:g}，满分 {ceiling:g}）" if top is not None and ceiling is not None
                   else "")
        return {**base, "action": NONE, "low_certainty": None,
                "text_en": f"{name_en}: no advice: the benchmark is saturated{near}, so its "
                           "spread no longer separates models; compare on harder benchmarks",
                "text_zh": f"{name_zh}：暂无建议：该基准已饱和{near_zh}，分差不再区分模型；"
                           "应在更难的基准上比较"}
    degree = float(row["degree"])
    cert = _num(row.get("certainty"))
    stars = int(_num(row.get("stars")) or 0)
    min_stars = int(cfg.get("advice", {}).get("adopt_min_stars", 4))
    measured = cert is not None and stars > 0
    low = not measured or stars < min_stars or cert < MIN_CERTAINTY
    if level in ("L4", "L3"):
        action = HEDGE if low else ADOPT
    elif level == "L2":
        action = HEDGE
    else:
        action = EXPLORE
    zh_level, en_level = LEVEL_NAMES[level]
    if measured:
        cert_en = f"certainty {stars_text(stars)} {cert:.2f}"
        cert_zh = f"确定性 {stars_text(stars)} {cert:.2f}"
    else:
        cert_en, cert_zh = "certainty not measured", "确定性未测"
    facts_en = f"{level} {en_level}, degree {degree:.0f}%, {cert_en}"
    facts_zh = f"{level} {zh_level}，收敛度 {degree:.0f}%，{cert_zh}"
    leader, chal = row.get("leader"), row.get("challenger")
    capability = _is_capability(row)
    if action == ADOPT and capability:
        en = "top models are interchangeable on this benchmark; choose on cost and other tests"
        zh = "头部模型在该基准上已无差别：按成本和其他评测选型"
    elif action == ADOPT:
        en = f"use {leader} as the standard; do not rebuild it"
        zh = f"直接采用 {leader}，不重复造轮子"
    elif action == HEDGE and capability:
        en = (f"top models are close on this benchmark ({leader} leads); it no longer separates "
              "them: compare on harder or hidden abilities")
        zh = f"头部模型在该基准上已接近（{leader} 领先），区分度下降：应比较更难或隐性的能力"
    elif action == HEDGE and level in ("L4", "L3"):
        en = f"{leader} leads, but the level is not yet certain: use it, keep an exit"
        zh = f"{leader} 领先，但层级尚不确定：可采用，保留退路"
    elif action == HEDGE:
        rival = f" and hedge with {chal}" if chal else ""
        rival_zh = f"，并以 {chal} 对冲" if chal else ""
        en = f"participate: {leader} leads{rival}; accept the uncertainty"
        zh = f"可投入 {leader}{rival_zh}，但要接受不确定性"
    elif capability:
        en = "top models still differ widely; small fast teams can still take the lead"
        zh = "头部模型差距仍大：小团队快跑，仍有领先机会"
    else:
        en = "no option is settled; stake out a position early with small fast teams"
        zh = "尚无定局：小团队快跑，提前卡位"
    if low:
        why_en = ("certainty was not measured" if not measured else
                  f"low certainty ({stars_text(stars)}, {cert:.2f}): the level may change")
        why_zh = ("确定性未测" if not measured else
                  f"确定性低（{stars_text(stars)}，{cert:.2f}）：层级可能变化")
        en, zh = f"{en}. Note: {why_en}", f"{zh}。注意：{why_zh}"
    return {**base, "action": action, "low_certainty": low,
            "text_en": f"{name_en} — {ACTION_EN[action]}: {en} ({facts_en})",
            "text_zh": f"{name_zh} — {ACTION_ZH[action]}：{zh}（{facts_zh}）"}


def advise(results: list[dict[str, Any]], cfg: dict[str, Any], lang: str = "en"
           ) -> list[dict[str, Any]]:
    """Advice per area; `text` is in `lang` (zh uses the seed's terms), both texts are kept."""
    out = []
    for row in results:
        adv = advise_one(row, cfg)
        adv["text"] = adv["text_zh"] if str(lang) == "zh" else adv["text_en"]
        adv["action_label"] = (ACTION_ZH if str(lang) == "zh" else ACTION_EN)[adv["action"]]
        out.append(adv)
    return out
