"""The seed document's testable claims, each checked against the measured results.

Every claim of the seed (§一 tagline, §三 pyramid, §四 matrix examples, §五 five-layer rows,
§七 Gantt bars and predictions, §八 thesis) becomes one plain row: the claim in zh/en, the
verdict (`confirmed`, `contradicted` or `not_measurable` yet), why in both languages, the
number it rests on, n, and a certainty (share of resamples that keep the verdict) where a
resampling exists; `None` otherwise. The numbers the seed asserts (95 %, 6 firms, < 5 %,
3-5 providers, 200+ to 15) are the claims' own content, written here once; the level
thresholds come from the config.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict, model_validator

from convergent.dates import leading_date, parse_date

if TYPE_CHECKING:
    from convergent.store import Store

CONFIRMED, CONTRADICTED, NOT_MEASURABLE = "confirmed", "contradicted", "not_measurable"
VERDICTS = (CONFIRMED, CONTRADICTED, NOT_MEASURABLE)
CONVERGED = ("L3", "L4")
UNCONVERGED = ("L1", "L0")
SEED_TOP_FIRMS, SEED_TOP_SHARE = 6, 0.95
SEED_PLAYERS_2023, SEED_PLAYERS_2025 = 200, 15
SEED_MARKET_RANGE = (3.0, 5.0)


@dataclass
class Inputs:
    """The measured results the claims are checked against (plain rows, as the report keeps)."""

    as_of: dt.date
    rows: list[dict[str, Any]]
    layers: list[dict[str, Any]] = field(default_factory=list)
    level_history: list[dict[str, Any]] = field(default_factory=list)
    forecasts: list[dict[str, Any]] = field(default_factory=list)
    predictions: list[dict[str, Any]] = field(default_factory=list)
    predictability: list[dict[str, Any]] = field(default_factory=list)
    mmlu: dict[str, Any] | None = None
    organisations: dict[int, int] = field(default_factory=dict)

    def row(self, area: str) -> dict[str, Any] | None:
        return next((r for r in self.rows if r.get("area") == area), None)

    def layer(self, layer: str) -> dict[str, Any] | None:
        return next((r for r in self.layers if r.get("layer") == layer), None)


def _pct(x: Any) -> str:
    return f"{100 * float(x):.0f}%" if _num(x) else "?"


def _num(x: Any) -> bool:
    return isinstance(x, int | float) and not isinstance(x, bool) and math.isfinite(x)


def claim(cid: str, section: str, zh: str, en: str, verdict: str, why_zh: str, why_en: str,
          *, value: Any = None, n: Any = None, certainty: float | None = None,
          stars: int | None = None, areas: Iterable[str] = ()) -> dict[str, Any]:
    """One checked claim as a plain row."""
    assert verdict in VERDICTS
    return {"id": cid, "section": section, "claim_zh": zh, "claim_en": en, "verdict": verdict,
            "why_zh": why_zh, "why_en": why_en, "value": value,
            "n": float(n) if _num(n) else None,
            "certainty": certainty if verdict != NOT_MEASURABLE else None,
            "stars": stars if verdict != NOT_MEASURABLE else None, "areas": list(areas)}


def _measured(r: dict[str, Any]) -> tuple[str, str]:
    """What the row measures, in zh and en: level, leader and share (or top score), n."""
    lead = r.get("leader")
    share = r.get("leader_share")
    what = (f"{lead} {_pct(share)}" if _num(share) else
            f"{lead} {float(r['top']):.1f}" if _num(r.get("top")) else str(lead or "—"))
    deg = f"{float(r['degree']):.0f}%" if _num(r.get("degree")) else "—"
    n = f"{float(r.get('n') or 0):.0f}"
    name_zh, name_en = r.get("name_zh") or r.get("area"), r.get("name_en") or r.get("area")
    return (f"{name_zh}实测 {r.get('level')}（领先 {what}，收敛度 {deg}，n = {n}）",
            f"{name_en} measures {r.get('level')} (leader {what}, degree {deg}, n = {n})")


def _thin(r: dict[str, Any] | None, area: str) -> tuple[str, str]:
    if r is None:
        return (f"证据中没有领域 {area}", f"no evidence for area {area}")
    return (f"证据不足：{r.get('criterion_zh') or r.get('criterion')}",
            f"insufficient evidence: {r.get('criterion')}")


def level_claim(inp: Inputs, cid: str, section: str, zh: str, en: str, area: str,
                want: tuple[str, ...], leader: str | None = None) -> dict[str, Any]:
    """The seed puts `area` at one of the levels `want` (led by `leader` when given)."""
    r = inp.row(area)
    if r is None or r.get("level") not in ("L0", "L1", "L2", "L3", "L4"):
        why_zh, why_en = _thin(r, area)
        return claim(cid, section, zh, en, NOT_MEASURABLE, why_zh, why_en,
                     n=(r or {}).get("n"), areas=[area])
    ok = r["level"] in want and (leader is None or r.get("leader") == leader)
    m_zh, m_en = _measured(r)
    seed = "/".join(want) + (f" ({leader})" if leader else "")
    return claim(cid, section, zh, en, CONFIRMED if ok else CONTRADICTED,
                 f"{m_zh}；原文为 {seed}", f"{m_en}; the seed says {seed}",
                 value=r.get("leader_share") if _num(r.get("leader_share")) else r.get("degree"),
                 n=r.get("n"), certainty=r.get("certainty"), stars=r.get("stars"), areas=[area])


def layer_claim(inp: Inputs, cid: str, section: str, zh: str, en: str, layer: str,
                want: tuple[str, ...]) -> dict[str, Any]:
    """The seed puts a whole layer at one of the levels `want`."""
    lay = inp.layer(layer)
    if lay is None or lay.get("level") not in ("L0", "L1", "L2", "L3", "L4"):
        return claim(cid, section, zh, en, NOT_MEASURABLE,
                     f"该层没有证据充分的领域（{layer}）",
                     f"no area of this layer has enough evidence ({layer})")
    ok = lay["level"] in want
    ncls, nall = lay.get("n_classified"), lay.get("n_areas")
    score = f"{float(lay['score']):.0f}%"
    return claim(cid, section, zh, en, CONFIRMED if ok else CONTRADICTED,
                 f"{lay.get('name_zh')}实测 {lay['level']}，收敛度 {score}"
                 f"（{ncls}/{nall} 个领域有结论）"
                 f"；原文为 {'/'.join(want)}",
                 f"{lay.get('name_en')} measures {lay['level']}, degree {score} ({ncls}/{nall} "
                 f"areas classified); the seed says {'/'.join(want)}",
                 value=lay.get("score"), n=ncls)


def _not_measurable(cid: str, section: str, zh: str, en: str, why_zh: str,
                    why_en: str) -> dict[str, Any]:
    return claim(cid, section, zh, en, NOT_MEASURABLE, why_zh, why_en)


def segment_claim(inp: Inputs, cid: str, section: str, zh: str, en: str, dimension: str,
                  min_n_segment: int) -> dict[str, Any]:
    """§四 L0: some area tears apart along `dimension` (different leaders per scenario)."""
    torn = [r for r in inp.rows if r.get("level") == "L0" and r.get("l0_dimension") == dimension]
    if torn:
        r = max(torn, key=lambda x: float(x.get("n") or 0))
        m_zh, m_en = _measured(r)
        return claim(cid, section, zh, en, CONFIRMED, f"{m_zh}，按 {dimension} 撕裂",
                     f"{m_en}, torn along {dimension}", value=r.get("degree"), n=r.get("n"),
                     certainty=r.get("certainty"), stars=r.get("stars"), areas=[r["area"]])
    testable = []
    for r in inp.rows:
        for seg in r.get("segments") or []:
            big = [s for s in seg.get("segments", []) if float(s.get("n") or 0) >= min_n_segment]
            if seg.get("dimension") == dimension and len(big) >= 2:
                testable.append((float(seg.get("nmi") or 0.0), r, big))
    if not testable:
        return claim(cid, section, zh, en, NOT_MEASURABLE,
                     f"没有领域在 {dimension} 的两个场景中各有 ≥ {min_n_segment} 个实体",
                     f"no area has two {dimension} segments with ≥ {min_n_segment} entities each")
    nmi, r, big = max(testable, key=lambda x: x[0])
    segs = ", ".join(f"{s['value']}: {s.get('leader')} {_pct(s.get('leader_share'))} "
                     f"(n {float(s['n']):.0f})" for s in big)
    return claim(cid, section, zh, en, CONTRADICTED,
                 f"{len(testable)} 个领域可检验，无一按 {dimension} 撕裂；最强的是"
                 f"{r.get('name_zh')}（NMI {nmi:.2f}；{segs}）",
                 f"{len(testable)} areas testable, none torn along {dimension}; strongest "
                 f"{r.get('name_en')} (NMI {nmi:.2f}; {segs})",
                 value=nmi, n=r.get("n"), areas=[r["area"]])


def _history(inp: Inputs, area: str) -> list[dict[str, Any]]:
    rows = [h for h in inp.level_history if h.get("area") == area]
    return sorted(rows, key=lambda h: str(h.get("date")))


def _forecast(inp: Inputs, area: str) -> dict[str, Any] | None:
    return next((f for f in inp.forecasts if f.get("area") == area), None)


_CROSS = {"reached": ("已达到 90%", "has reached 90%"), "no fit": ("未拟合", "no fit")}


def _forecast_text(inp: Inputs, area: str) -> tuple[str, str]:
    """The area's forecast crossing of 90 % (by its leader or a challenger), as a clause."""
    f = _forecast(inp, area)
    c = (f or {}).get("cross_90") or {}
    status = str(c.get("status") or "")
    if not f or not status:
        return "", ""
    who = f.get("target")
    if status == "forecast" and c.get("date"):
        return (f"；预测 {who} 于 {c['date']} 达到 90%", f"; forecast: {who} reaches 90% on "
                f"{c['date']}")
    zh, en = _CROSS.get(status, (status, status))
    horizon = re.fullmatch(r"not within (\d+) years?", status)
    if horizon:  # both languages name the horizon and the 90 % mark
        zh = f"{horizon.group(1)} 年内不会达到 90%"
        en = f"does not reach 90% within {horizon.group(1)} years"
    return f"；预测：{who} {zh}", f"; forecast: {who} {en}"


def period_claim(inp: Inputs, cid: str, zh: str, en: str, area: str, start: str, end: str,
                 *, leader: str | None, whole: bool) -> dict[str, Any]:
    """A §七 Gantt bar over [start, end] for `area` (led by `leader` when given).

    `whole` (a reign, e.g. 'Transformer 统治'): in every classified quarter of the bar the
    leader leads with at least the L2 share. Otherwise (a convergence that completes by
    the bar's end): the area is at L3/L4 at the end.
    """
    section = "§七"
    lo, hi = parse_date(start), parse_date(end)
    hist = [h for h in _history(inp, area) if leading_date(h["date"]) <= min(hi, inp.as_of)]
    seen = [h for h in hist if leading_date(h["date"]) >= lo and h.get("level") in
            ("L0", "L1", "L2", "L3", "L4")]
    held = ("L2", "L3", "L4") if whole else CONVERGED

    def ok_row(h: dict[str, Any]) -> bool:
        return h.get("level") in held and (leader is None or h.get("leader") == leader)

    fz, fe = _forecast_text(inp, area)
    if whole:
        bad = [h for h in seen if not ok_row(h)]
        if bad:
            b = bad[0]
            return claim(cid, section, zh, en, CONTRADICTED,
                         f"{b['date']} 实测 {b['level']}（领先 {b.get('leader') or '—'}）",
                         f"{b['date']}: measured {b['level']} (leader {b.get('leader') or '—'})",
                         value=b.get("leader_share"), n=b.get("n"), areas=[area])
        if not seen:
            return _not_measurable(cid, section, zh, en, "该时段没有证据充分的季度",
                                   "no quarter of the period has enough evidence")
        last = seen[-1]
        if hi > inp.as_of:
            return _not_measurable(
                cid, section, zh, en,
                f"截至 {last['date']} 的 {len(seen)} 个季度均成立，但时段至 {end} 才结束{fz}",
                f"holds in all {len(seen)} quarters to {last['date']}, but the period runs to "
                f"{end}{fe}")
        return claim(cid, section, zh, en, CONFIRMED,
                     f"时段内 {len(seen)} 个季度均由 {last.get('leader')} 领先（≥ L2）",
                     f"{last.get('leader')} leads (L2 or above) in all {len(seen)} quarters of "
                     "the period", value=last.get("leader_share"), n=last.get("n"), areas=[area])
    if hi > inp.as_of:
        now = inp.row(area) or {}
        return _not_measurable(
            cid, section, zh, en,
            f"截止 {end} 晚于证据日期 {inp.as_of}；当前 {now.get('level', '—')}（领先 "
            f"{now.get('leader') or '—'} {_pct(now.get('leader_share'))}）{fz}",
            f"due {end}, after the evidence ({inp.as_of}); now {now.get('level', '—')} (leader "
            f"{now.get('leader') or '—'} {_pct(now.get('leader_share'))}){fe}")
    if not seen:
        return _not_measurable(cid, section, zh, en, f"截至 {end} 证据不足",
                               f"insufficient evidence by {end}")
    last = seen[-1]
    ok = ok_row(last)
    return claim(cid, section, zh, en, CONFIRMED if ok else CONTRADICTED,
                 f"{last['date']} 实测 {last['level']}（领先 {last.get('leader') or '—'} "
                 f"{_pct(last.get('leader_share'))}）",
                 f"{last['date']}: measured {last['level']} (leader {last.get('leader') or '—'} "
                 f"{_pct(last.get('leader_share'))})",
                 value=last.get("leader_share"), n=last.get("n"), areas=[area])


def top_share_claim(inp: Inputs, cfg: dict[str, Any]) -> dict[str, Any]:
    """§五 '头部 6 家垄断 95% 市场': the 6 largest frontier developers' share of frontier models."""
    import numpy as np

    from convergent.levels import stars_for

    zh, en = "头部 6 家垄断 95% 市场", "the top 6 firms hold 95% of the market"
    r = inp.row("frontier_developer")
    if r is None or r.get("level") not in ("L0", "L1", "L2", "L3", "L4"):
        why_zh, why_en = _thin(r, "frontier_developer")
        return claim("s5-top6", "§五", zh, en, NOT_MEASURABLE, why_zh, why_en,
                     n=(r or {}).get("n"), areas=["frontier_developer"])
    shares = sorted((float(v) for v in (r.get("shares") or {}).values()), reverse=True)
    n = float(r.get("n") or 0)
    top = sum(shares[:SEED_TOP_FIRMS])
    counts = np.array(shares) * n
    c = cfg["certainty"]
    rng = np.random.default_rng(int(c["seed"]))
    draws = rng.multinomial(round(n), counts / counts.sum(), size=int(c["resamples"]))
    draws.sort(axis=1)
    tops = draws[:, ::-1][:, :SEED_TOP_FIRMS].sum(axis=1) / max(draws.sum(axis=1)[0], 1)
    holds = top >= SEED_TOP_SHARE
    keep = float(np.mean((tops >= SEED_TOP_SHARE) == holds))
    firms = len(shares)
    return claim("s5-top6", "§五", zh, en, CONFIRMED if holds else CONTRADICTED,
                 f"窗口内前沿模型的前 6 家提供商占 {_pct(top)}（共 {firms} 家，n = {n:.0f}）",
                 f"the 6 largest of {firms} frontier developers release {_pct(top)} of the "
                 f"window's frontier models (n = {n:.0f})",
                 value=top, n=n, certainty=keep, stars=stars_for(keep, cfg["certainty"]["stars"]),
                 areas=["frontier_developer"])


def mmlu_claim(inp: Inputs, cid: str, section: str, cfg: dict[str, Any]) -> dict[str, Any]:
    """'MMLU 差异 < 5%': the capability module's own test of that claim."""
    from convergent.levels import stars_for

    zh, en = "头部模型在 MMLU 上差异 < 5%", "top models differ by < 5% on MMLU"
    m = inp.mmlu
    if not m or m.get("holds") is None:
        return claim(cid, section, zh, en, NOT_MEASURABLE,
                     (m or {}).get("verdict_zh") or "没有 MMLU 分数",
                     (m or {}).get("verdict") or "no MMLU scores", n=(m or {}).get("n"),
                     areas=["mmlu"])
    holds = bool(m["holds"])
    prob = m.get("probability")
    keep = None if prob is None else (float(prob) if holds else 1 - float(prob))
    return claim(cid, section, zh, en, CONFIRMED if holds else CONTRADICTED,
                 str(m.get("verdict_zh")), str(m.get("verdict")), value=m.get("spread_pct"),
                 n=m.get("n"), certainty=keep,
                 stars=stars_for(keep, cfg["certainty"]["stars"]), areas=["mmlu"])


def players_claim(inp: Inputs) -> dict[str, Any]:
    """§三 '从 2023 年 200+ 玩家收敛至 2025 年 15 家主流': organisations releasing models."""
    zh = "市场从 2023 年 200+ 玩家收敛至 2025 年 15 家主流"
    en = "the market shrank from 200+ players in 2023 to 15 mainstream ones in 2025"
    a, b = inp.organisations.get(2023), inp.organisations.get(2025)
    if inp.as_of < dt.date(2025, 12, 31) or not a or b is None:
        return _not_measurable("s3-players", "§三", zh, en,
                               f"需要 2023 与完整 2025 年的证据（证据截至 {inp.as_of}）",
                               f"needs evidence for 2023 and all of 2025 (evidence ends "
                               f"{inp.as_of})")
    counts_zh = f"证据中发布模型的机构：2023 年 {a} 家，2025 年 {b} 家"
    counts_en = f"organisations releasing models in the evidence: {a} in 2023, {b} in 2025"
    if b >= a:
        return claim("s3-players", "§三", zh, en, CONTRADICTED, f"{counts_zh}，没有减少",
                     f"{counts_en}: no decline", value=b / a, n=a + b)
    if a < SEED_PLAYERS_2023:
        return _not_measurable("s3-players", "§三", zh, en,
                               f"{counts_zh}；证据不是全部玩家的普查（2023 年不足 "
                               f"{SEED_PLAYERS_2023} 家），无法检验倍数",
                               f"{counts_en}; the evidence is not a census of players (fewer "
                               f"than {SEED_PLAYERS_2023} in 2023), so the ratio cannot be tested")
    ok = a / b >= SEED_PLAYERS_2023 / SEED_PLAYERS_2025
    return claim("s3-players", "§三", zh, en, CONFIRMED if ok else CONTRADICTED,
                 f"{counts_zh}，缩小 {a / b:.1f} 倍", f"{counts_en}: {a / b:.1f}x fewer",
                 value=a / b, n=a + b)


def prediction_claim(p: dict[str, Any], k: int) -> dict[str, Any]:
    """A §七 key prediction, from the prediction registry's resolution."""
    zh, en = str(p.get("statement_zh")), str(p.get("statement_en"))
    cid = f"s7-prediction-{k}"
    status = str(p.get("status") or "")
    value = p.get("value")
    val = f"{float(value):.2f}" if _num(value) else "—"
    if status == "resolved" and p.get("outcome") is not None:
        ok = bool(p["outcome"])
        return claim(cid, "§七", zh, en, CONFIRMED if ok else CONTRADICTED,
                     f"{p.get('resolved_on')} 判定{'成立' if ok else '不成立'}（数值 {val}）",
                     f"resolved {'true' if ok else 'false'} on {p.get('resolved_on')} "
                     f"(value {val})", value=value)
    if p.get("resolver") == "manual":
        return _not_measurable(cid, "§七", zh, en,
                               f"需人工依据判定，到期 {p.get('due')}；尚无依据",
                               f"resolved by hand with evidence, due {p.get('due')}; none yet")
    if status.startswith("undetermined"):
        return _not_measurable(cid, "§七", zh, en, f"到期 {p.get('due')} 时证据不足",
                               f"insufficient evidence at its due date {p.get('due')}")
    return _not_measurable(cid, "§七", zh, en,
                           f"到期 {p.get('due')}，尚未到期；当前数值 {val}",
                           f"due {p.get('due')}, not yet; current value {val}")


def predictability_claims(inp: Inputs) -> list[dict[str, Any]]:
    """§五 可预测性 stars per layer, against the back-tested predictability stars."""
    seed = [("architecture", 5, "基础架构层"), ("training", 4, "训练范式层"),
            ("capability", 3, "能力表现层"), ("application", 2, "应用协议层"),
            ("hardware", 1, "硬件适配层")]
    by = {str(p.get("layer")): p for p in inp.predictability}
    out = []
    for layer, want, name in seed:
        zh = f"{name}可预测性 {'★' * want}{'☆' * (5 - want)}"
        en = f"{layer} layer predictability {'★' * want}{'☆' * (5 - want)}"
        p = by.get(layer)
        cid = f"s5-predictability-{layer}"
        if not p or not p.get("cases"):
            out.append(_not_measurable(cid, "§五", zh, en, "没有回测案例",
                                       "no back-test cases"))
            continue
        got = int(p.get("stars") or 0)
        mae = 100 * float(p.get("mae") or 0)
        out.append(claim(cid, "§五", zh, en, CONFIRMED if got == want else CONTRADICTED,
                         f"回测得 {got} 星（平均误差 {mae:.1f} 个百分点，{p['cases']} 个案例）",
                         f"back-tests give {got} star{'s' if got != 1 else ''} (mean error "
                         f"{mae:.1f} pp, {p['cases']} case{'s' if p['cases'] != 1 else ''})",
                         value=got, n=p.get("cases")))
    return out


def tagline_claim(inp: Inputs) -> dict[str, Any]:
    """§一 '收敛正在发生，但呈现分层收敛、局部发散': some layer has converged (L3/L4) while
    some area stays unconverged (L1/L0); judged only when most areas have a level."""
    zh = "收敛正在发生，但呈现“分层收敛、局部发散”的格局"
    en = "convergence is happening, layer by layer, with local divergence"
    classified = [r for r in inp.rows if r.get("level") in ("L0", "L1", "L2", "L3", "L4")]
    if len(classified) * 2 < len(inp.rows) or not classified:
        return _not_measurable("s1-tagline", "§一", zh, en,
                               f"仅 {len(classified)}/{len(inp.rows)} 个领域证据充分",
                               f"only {len(classified)} of {len(inp.rows)} areas have enough "
                               "evidence")
    layers = [x for x in inp.layers if x.get("level") in ("L0", "L1", "L2", "L3", "L4")]
    conv = [x for x in layers if x["level"] in CONVERGED]
    div = [r for r in classified if r["level"] in UNCONVERGED]
    ok = bool(conv) and bool(div)
    names_zh = "、".join(str(x.get("name_zh")) for x in conv) or "无"
    names_en = ", ".join(str(x.get("name_en")) for x in conv) or "none"
    return claim("s1-tagline", "§一", zh, en, CONFIRMED if ok else CONTRADICTED,
                 f"{len(layers)} 个有结论的层中 {len(conv)} 个为 L3/L4（{names_zh}）；"
                 f"{len(classified)} 个有结论的领域中 {len(div)} 个为 L1/L0",
                 f"{len(conv)} of {len(layers)} classified layers at L3/L4 ({names_en}); "
                 f"{len(div)} of {len(classified)} classified areas at L1/L0",
                 value=len(conv), n=len(classified))


def _share_now(inp: Inputs, area: str, option: str) -> tuple[str, str, Any, Any]:
    """An option's share now and its leader/challenger trend, as text and numbers."""
    r = inp.row(area) or {}
    share = (r.get("shares") or {}).get(option)
    trend = None
    for role in ("leader", "challenger", "fastest_rival"):
        if r.get(role) == option and _num(r.get(f"{role}_trend_pp")):
            trend = float(r[f"{role}_trend_pp"])
    tr = f"{trend:+.1f}" if trend is not None else "—"
    n = f"{float(r.get('n') or 0):.0f}"
    return (f"{option} 当前份额 {_pct(share) if share is not None else '—'}，趋势 {tr} "
            f"个百分点/年（n = {n}）",
            f"{option} holds {_pct(share) if share is not None else '—'} now, trend {tr} pp/yr "
            f"(n = {n})", share, r.get("n"))


def challenger_claim(inp: Inputs) -> dict[str, Any]:
    """§七 '新架构挑战者' (2026-12-31): the seed gives no size, so only the numbers are shown."""
    r = inp.row("backbone") or {}
    chal = r.get("challenger") or r.get("fastest_rival")
    zh, en = "新架构挑战者出现（2026-12-31）", "a new architecture challenger (2026-12-31)"
    if not chal:
        return _not_measurable("s7-challenger", "§七", zh, en, "主干网络没有挑战者的证据",
                               "no evidence of a backbone challenger")
    tz, te, _, _ = _share_now(inp, "backbone", str(chal))
    return _not_measurable("s7-challenger", "§七", zh, en, f"原文未给出规模标准；{tz}",
                           f"the seed gives no size for a challenger; {te}")


def benchmarks_claim(inp: Inputs) -> dict[str, Any]:
    """§七 '基准测试同质化' (done by 2025-12-31): most classified benchmarks at L3/L4."""
    zh = "基准测试同质化（2024-06-01 至 2025-12-31）"
    en = "benchmarks homogenise (2024-06-01 to 2025-12-31)"
    caps = [r for r in inp.rows if r.get("kind") == "capability"
            and r.get("level") in ("L0", "L1", "L2", "L3", "L4")]
    if not caps:
        return _not_measurable("s7-benchmarks", "§七", zh, en, "没有证据充分的基准",
                               "no benchmark has enough evidence")
    conv = [r for r in caps if r["level"] in CONVERGED]
    names = ", ".join(str(r.get("name_en")) for r in conv) or "—"
    ok = 2 * len(conv) > len(caps)
    return claim("s7-benchmarks", "§七", zh, en, CONFIRMED if ok else CONTRADICTED,
                 f"{len(caps)} 个基准中 {len(conv)} 个为 L3/L4（{names}），按当前数据",
                 f"{len(conv)} of {len(caps)} benchmarks at L3/L4 ({names}), on current data",
                 value=len(conv), n=len(caps), areas=[str(r["area"]) for r in caps])


def market_claim(inp: Inputs) -> dict[str, Any]:
    """§七 '市场格局 3-5 家' (2027-06-30): effective number of frontier developers in [3, 5]."""
    zh, en = "市场格局 3-5 家（2027-06-30）", "a market of 3-5 firms (2027-06-30)"
    due = dt.date(2027, 6, 30)
    r = inp.row("frontier_developer")
    if r is None or not _num(r.get("effective_n")) or r.get("level") == "insufficient":
        why_zh, why_en = _thin(r, "frontier_developer")
        return _not_measurable("s7-market", "§七", zh, en, why_zh, why_en)
    eff = float(r["effective_n"])
    lo, hi = SEED_MARKET_RANGE
    if inp.as_of < due:
        return _not_measurable("s7-market", "§七", zh, en,
                               f"截止 {due} 晚于证据日期；当前有效提供商数 {eff:.1f}",
                               f"due {due}, after the evidence; effective number of "
                               f"providers now {eff:.1f}")
    ok = lo <= eff <= hi
    return claim("s7-market", "§七", zh, en, CONFIRMED if ok else CONTRADICTED,
                 f"有效提供商数 {eff:.1f}", f"effective number of providers {eff:.1f}",
                 value=eff, n=r.get("n"), areas=["frontier_developer"])


def domestic_compute_claim(inp: Inputs) -> dict[str, Any]:
    """§七 '国产算力突破' (2025-2026): the seed names no threshold; the share and trend."""
    zh = "国产算力突破（2025-01-01 至 2026-12-31）"
    en = "a Chinese-accelerator breakthrough (2025-01-01 to 2026-12-31)"
    tz, te, _, _ = _share_now(inp, "accelerator_vendor", "Huawei Ascend")
    return _not_measurable("s7-domestic-compute", "§七", zh, en, f"原文未给出“突破”的标准；{tz}",
                           f"the seed names no threshold for a breakthrough; {te}")


def organisations_per_year(store: Store, years: Iterable[int]) -> dict[int, int]:
    """Distinct organisations (joint releases split on ';') with a model dated in each year."""
    e = store.table("entities")
    df = e.filter(e.kind == "model").select(e.organization, e.date).execute()
    out: dict[int, set[str]] = {y: set() for y in years}
    for org, d in zip(df["organization"], df["date"], strict=True):
        if org is None or d is None or (isinstance(d, float) and math.isnan(d)):
            continue
        y = d.year
        if y in out:
            out[y].update(o.strip() for o in str(org).split(";") if o.strip())
    return {y: len(v) for y, v in out.items()}


class Claim(BaseModel):
    """One entry of seedclaims.yaml: a claim's words and the rule that checks it."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    id: str
    section: str
    zh: str
    en: str
    kind: Literal["level", "layer", "segment", "period", "unmeasurable"]
    area: str | None = None
    layer: str | None = None
    dimension: str | None = None
    expect: tuple[str, ...] = ()
    leader: str | None = None
    start: str | None = None
    end: str | None = None
    whole: bool = False
    why_zh: str | None = None
    why_en: str | None = None

    @model_validator(mode="after")
    def _complete(self) -> Claim:
        need = {"level": ("area", "expect"), "layer": ("layer", "expect"),
                "segment": ("dimension",), "period": ("area", "start", "end"),
                "unmeasurable": ("why_zh", "why_en")}[self.kind]
        missing = [k for k in need if not getattr(self, k)]
        if missing:
            raise ValueError(f"claim {self.id}: a {self.kind} claim needs {', '.join(missing)}")
        return self


class Computed(BaseModel):
    """A claim whose check and words live in code (`COMPUTED`)."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    computed: str


@cache
def seed_claims() -> tuple[Claim | Computed, ...]:
    """The seed's claims in its order, from the packaged seedclaims.yaml."""
    import yaml

    text = resources.files("convergent").joinpath("seedclaims.yaml").read_text("utf-8")
    return tuple(Computed(**e) if "computed" in e else Claim(**e) for e in yaml.safe_load(text))


def _seed_predictions(inp: Inputs, cfg: dict[str, Any]) -> list[dict[str, Any]]:
    seed = (p for p in inp.predictions if str(p.get("source") or "").startswith("seed"))
    return [prediction_claim(p, k) for k, p in enumerate(seed, start=1)]


COMPUTED: dict[str, Callable[[Inputs, dict[str, Any]], list[dict[str, Any]]]] = {
    "tagline": lambda inp, cfg: [tagline_claim(inp)],
    "mmlu": lambda inp, cfg: [mmlu_claim(inp, "s3-mmlu", "§三", cfg)],
    "players": lambda inp, cfg: [players_claim(inp)],
    "top_share": lambda inp, cfg: [top_share_claim(inp, cfg)],
    "predictability": lambda inp, cfg: predictability_claims(inp),
    "challenger": lambda inp, cfg: [challenger_claim(inp)],
    "benchmarks": lambda inp, cfg: [benchmarks_claim(inp)],
    "market": lambda inp, cfg: [market_claim(inp)],
    "domestic_compute": lambda inp, cfg: [domestic_compute_claim(inp)],
    "predictions": _seed_predictions,
}


def _check(inp: Inputs, c: Claim, min_n_segment: int) -> dict[str, Any]:
    """One table claim checked by the rule its kind names."""
    if c.kind == "level":
        return level_claim(inp, c.id, c.section, c.zh, c.en, str(c.area), c.expect, c.leader)
    if c.kind == "layer":
        return layer_claim(inp, c.id, c.section, c.zh, c.en, str(c.layer), c.expect)
    if c.kind == "segment":
        return segment_claim(inp, c.id, c.section, c.zh, c.en, str(c.dimension), min_n_segment)
    if c.kind == "period":
        return period_claim(inp, c.id, c.zh, c.en, str(c.area), str(c.start), str(c.end),
                            leader=c.leader, whole=c.whole)
    return _not_measurable(c.id, c.section, c.zh, c.en, str(c.why_zh), str(c.why_en))


def check_seed(inp: Inputs, cfg: dict[str, Any]) -> list[dict[str, Any]]:
    """Every testable claim of the seed with its verdict, in the seed's order."""
    min_n_segment = int(cfg["classify"]["min_n_segment"])
    out: list[dict[str, Any]] = []
    for c in seed_claims():
        if isinstance(c, Computed):
            out += COMPUTED[c.computed](inp, cfg)
        else:
            out.append(_check(inp, c, min_n_segment))
    return out


def tally(claims: list[dict[str, Any]]) -> dict[str, int]:
    """How many claims have each verdict."""
    return {v: sum(c["verdict"] == v for c in claims) for v in VERDICTS}
