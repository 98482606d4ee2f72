"""The Markdown report (zh or en): the seed's structure regenerated from `ReportData`.

Every value that reaches the page goes through one of three escapes: `md_text` for prose
and table cells (HTML special characters, Markdown syntax, table pipes), `mermaid_label`
for diagram labels, `safe_url` for links. The template environment applies `md_text` to
every `{{ }}` output that is not explicitly marked safe, so forgetting is not possible.
Numbers are formatted once (`fmt_*`) and used in both languages, so zh and en agree.
"""

from __future__ import annotations

import math
import re
from typing import Any

from markupsafe import Markup

from convergent.report.assemble import OK, ReportData
from convergent.report.i18n import labels, level_label, stars, t

LEVEL_ORDER = ["L4", "L3", "L2", "L1", "L0", "insufficient"]
_MD_SPECIAL = re.compile(r"([\\`*_\[\]{}|#!~])")
_URL_OK = re.compile(r"^https?://[^\s<>\"'`|\\\[\]()]+$")
_MERMAID_BAD = re.compile(r"[^\w\s.,+\-/%≥≤→←·★☆×~=]", re.UNICODE)


def md_text(value: Any) -> str:
    """Untrusted text as inert Markdown: HTML entities, escaped Markdown syntax, one line."""
    if value is None:
        return ""
    if isinstance(value, Markup):
        return str(value)
    text = re.sub(r"\s+", " ", str(value)).strip()
    text = (text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
            .replace('"', "&quot;"))
    return _MD_SPECIAL.sub(r"\\\1", text)


def mermaid_label(value: Any, limit: int = 60) -> str:
    """Text safe in any Mermaid label or Gantt task name: letters, digits, a few signs."""
    text = _MERMAID_BAD.sub(" ", str(value if value is not None else ""))
    text = re.sub(r"\s+", " ", text).strip()
    return text[:limit].strip() or "-"


def safe_mermaid(text: str) -> str:
    """Defuse a Mermaid diagram made elsewhere: no directives, clicks, HTML or fences."""
    out = []
    for line in str(text).splitlines():
        stripped = line.strip()
        if stripped.startswith(("%%", "click ", "```")) or stripped == "click":
            continue
        line = line.replace("<", " ").replace("&", "＆").replace("`", " ")
        line = re.sub(r"(?<![-=.])>", " ", line)
        line = re.sub(r"(?i)javascript\s*:", " ", line)
        out.append(line)
    return "\n".join(out).strip() + "\n"


def safe_url(url: Any) -> str | None:
    """The URL when it is a plain http(s) address that needs no escaping, else None."""
    if isinstance(url, str) and _URL_OK.match(url.strip()):
        return url.strip()
    return None


def _finite(x: Any) -> bool:
    return isinstance(x, int | float) and not isinstance(x, bool) and math.isfinite(x)


def fmt_pct(share: Any, digits: int = 0) -> str:
    """A 0–1 share as percent text ('96%'); empty when unknown."""
    return f"{100 * share:.{digits}f}%" if _finite(share) else ""


def fmt_degree(deg: Any) -> str:
    """A 0–100 degree as '91%'."""
    return f"{deg:.0f}%" if _finite(deg) else ""


def fmt_pp(trend: Any) -> str:
    """A share trend in percentage points per year, signed ('+14.5')."""
    return f"{trend:+.1f}" if _finite(trend) else ""


def fmt_num(x: Any) -> str:
    """A count or measure: integers plainly, others with three significant digits."""
    if isinstance(x, bool) or x is None:
        return "" if x is None else str(x)
    if not _finite(x):
        return str(x) if isinstance(x, str) else ""
    if float(x).is_integer() and abs(x) < 1e6:
        return str(int(x))
    if abs(x) >= 1e6 or abs(x) < 1e-3:
        return f"{x:.3g}"
    return f"{x:.3g}" if abs(x) < 100 else f"{x:.0f}"


def _name(row: dict[str, Any], lang: str) -> str:
    return str(row.get(f"name_{lang}") or row.get("name_en") or row.get("area") or "")


def _criterion_text(level: str, cfg_thresholds: dict[str, Any], lang: str) -> str:
    """The seed's 分类标准 of a level, with the configured thresholds."""
    c = cfg_thresholds
    zh = lang == "zh"
    texts = {
        "L4": (f"首位方案份额 ≥ {fmt_pct(c['l4_share'])}，且无挑战者年增速超过 "
               f"+{fmt_num(c['l4_max_challenger_trend_pp'])} 个百分点",
               f"leader share ≥ {fmt_pct(c['l4_share'])} and no rival growing faster than "
               f"+{fmt_num(c['l4_max_challenger_trend_pp'])} pp/yr"),
        "L3": (f"首位方案份额 ≥ {fmt_pct(c['l3_share'])}，但理论挑战存在",
               f"leader share ≥ {fmt_pct(c['l3_share'])}, but challenged"),
        "L2": (f"首位方案份额 ≥ {fmt_pct(c['l2_share'])}；第二名 ≥ "
               f"{fmt_pct(c['duopoly_second_share'])} 时为双寡头",
               f"leader share ≥ {fmt_pct(c['l2_share'])}; a duopoly when the second holds ≥ "
               f"{fmt_pct(c['duopoly_second_share'])}"),
        "L1": (f"没有方案占据 {fmt_pct(c['l2_share'])}",
               f"no option holds {fmt_pct(c['l2_share'])}"),
        "L0": (f"至少两个场景（各 ≥ {fmt_num(c['min_n_segment'])} 个实体）由不同方案主导"
               f"（各 ≥ {fmt_pct(c['l0_segment_leader_share'])}），NMI ≥ "
               f"{fmt_num(c['l0_min_nmi'])}",
               f"at least two scenarios (≥ {fmt_num(c['min_n_segment'])} entities each) led by "
               f"different options (≥ {fmt_pct(c['l0_segment_leader_share'])} each), NMI ≥ "
               f"{fmt_num(c['l0_min_nmi'])}"),
        "insufficient": (f"窗口内已知采用数 n < {fmt_num(c['min_n'])}",
                         f"fewer than {fmt_num(c['min_n'])} known adoptions in the window"),
    }
    pair = texts.get(level, ("", ""))
    return pair[0] if zh else pair[1]


def matrix_rows(data: ReportData, lang: str) -> list[dict[str, Any]]:
    """One display row per area (share and capability), best converged first."""
    rows = []
    for r in data.matrix:
        chal = r.get("challenger")
        rival, rtrend = r.get("fastest_rival"), r.get("fastest_rival_trend_pp")
        contro = []
        if chal:
            tr = fmt_pp(r.get("challenger_trend_pp"))
            contro.append(f"{chal} {fmt_pct(r.get('challenger_share'))}"
                          + (f" ({tr} {t('pp_per_year', lang)})" if tr else ""))
        if rival and rival != chal and _finite(rtrend) and rtrend > 0:
            contro.append(f"{rival} ({fmt_pp(rtrend)} {t('pp_per_year', lang)})")
        rows.append({
            "area": r["area"], "name": _name(r, lang), "layer": r.get("layer"),
            "level": r["level"], "level_label": level_label(r["level"], lang),
            "criterion": r.get("criterion_zh") if lang == "zh" else r.get("criterion"),
            "leader": (f"{r['leader']} {fmt_pct(r.get('leader_share'))}"
                       if r.get("leader") else ""),
            "examples": ", ".join(data.examples.get(r["area"], [])),
            "degree": fmt_degree(r.get("degree")), "degree_value": r.get("degree"),
            "stars": stars(r.get("stars")), "controversy": "; ".join(contro) or t("none", lang),
            "n": fmt_num(r.get("n")), "hhi": fmt_num(r.get("hhi")),
        })
    for r in data.capability:
        rows.append(_capability_row(r, data, lang))
    rank = {lv: i for i, lv in enumerate(LEVEL_ORDER)}
    rows.sort(key=lambda x: (rank.get(x["level"], 9), -(x["degree_value"] or 0), x["area"]))
    return rows


def _capability_row(r: dict[str, Any], data: ReportData, lang: str) -> dict[str, Any]:
    zh = lang == "zh"
    crit = (r.get("criterion_zh") if zh else r.get("criterion")) or ""
    contro = []
    if r.get("saturated"):
        contro.append(t("saturated", lang))
    if _finite(r.get("open_closed_gap_pts")):
        contro.append(f"开源与闭源差 {fmt_num(r['open_closed_gap_pts'])} 分" if zh else
                       f"open vs closed gap {fmt_num(r['open_closed_gap_pts'])} pts")
    return {
        "area": r.get("area"), "name": _name(r, lang), "layer": r.get("layer"),
        "level": r.get("level") or "insufficient",
        "level_label": level_label(r.get("level") or "insufficient", lang),
        "criterion": crit,
        "leader": f"{r.get('leader')} {fmt_num(r.get('top'))}" if r.get("leader") else "",
        "examples": ", ".join(data.examples.get(str(r.get("area")), [])),
        "degree": fmt_degree(r.get("degree")), "degree_value": r.get("degree"),
        "stars": stars(r.get("stars")), "controversy": "; ".join(contro) or t("none", lang),
        "n": fmt_num(r.get("n")), "hhi": "",
    }


def level_rows(data: ReportData, cfg: dict[str, Any], lang: str) -> list[dict[str, Any]]:
    """The seed's per-level matrix: criterion, the areas there, degree range, ★, rivals, n."""
    from convergent.classify import l0_note

    rows = matrix_rows(data, lang)
    note = l0_note(data.matrix, cfg)
    out = []
    for level in LEVEL_ORDER:
        here = [r for r in rows if r["level"] == level]
        degs = [r["degree_value"] for r in here if _finite(r["degree_value"])]
        star_counts = sorted(len(r["stars"].replace("☆", "")) for r in here
                             if r["stars"] and level != "insufficient")
        med = star_counts[len(star_counts) // 2] if star_counts else 0
        contro = [f"{r['name']}: {r['controversy']}" for r in here
                  if r["controversy"] != t("none", lang)][:2]
        out.append({
            "level": level, "level_label": level_label(level, lang),
            "criterion": _criterion_text(level, cfg["classify"], lang),
            "areas": ", ".join(f"{r['name']} ({r['leader']})" if r["leader"] else r["name"]
                               for r in here)
            or (note[lang == "zh"] if level == "L0" and note else ""),
            "degree": (f"{min(degs):.0f}–{max(degs):.0f}%" if len(degs) > 1
                       else fmt_degree(degs[0]) if degs else ""),
            "stars": stars(med), "controversy": "; ".join(contro),
            "n": str(len(here)),
        })
    return out


def overview(data: ReportData, lang: str) -> str:
    """The generated 主题概述: counts per level and the extremes, from the numbers."""
    rows = matrix_rows(data, lang)
    if not rows:
        return t("no_data", lang)
    counts = {lv: sum(r["level"] == lv for r in rows) for lv in LEVEL_ORDER}
    zh = lang == "zh"
    parts = [f"{lv} {counts[lv]}" for lv in LEVEL_ORDER[:-1]]
    ranked = [r for r in rows if _finite(r["degree_value"])]
    top = max(ranked, key=lambda r: r["degree_value"]) if ranked else None
    low = min(ranked, key=lambda r: r["degree_value"]) if ranked else None
    conv = counts["L4"] + counts["L3"]
    div = counts["L1"] + counts["L0"]
    if zh:
        text = (f"截至 {data.as_of.isoformat()}（窗口 {data.window_days} 天），共分析 "
                f"{len(rows)} 个领域：{'、'.join(parts)}，证据不足 {counts['insufficient']}。")
        if top and low:
            text += (f"收敛度最高的是{top['name']}（{top['degree']}），最低的是"
                     f"{low['name']}（{low['degree']}）。")
        text += f"{conv} 个领域已收敛或准收敛，{div} 个仍未收敛或反向分化。"
        return text + _tagline(data, lang)
    text = (f"As of {data.as_of.isoformat()} (window {data.window_days} days), "
            f"{len(rows)} areas were analysed: {', '.join(parts)}, "
            f"insufficient evidence {counts['insufficient']}.")
    if top and low:
        text += (f" The most converged is {top['name']} ({top['degree']}), the least "
                 f"{low['name']} ({low['degree']}).")
    text += (f" {conv} areas are converged or quasi-converged while {div} are not "
             "converged or diverging.")
    return text + _tagline(data, lang)


def _tagline(data: ReportData, lang: str) -> str:
    """The seed's tagline with the verdict the data give it (nothing without that check)."""
    item = next((c for c in data.conclusions if c.get("key") == "tagline"), None)
    if item is None:
        return ""
    return ("" if lang == "zh" else " ") + md_text(item.get(f"text_{lang}"))


def conclusions(data: ReportData, lang: str) -> list[str]:
    """One generated sentence per layer with a score, strongest first."""
    zh = lang == "zh"
    out = []
    for lay in sorted((x for x in data.layers if _finite(x.get("score"))),
                      key=lambda x: -x["score"]):
        name = lay.get(f"name_{lang}") or lay.get("name_en")
        lvl = lay.get(f"level_{lang}") or lay.get("level")
        unc = ", ".join(a.get(f"name_{lang}") or a.get("name_en") or ""
                        for a in lay.get("unconverged", []))
        if zh:
            s = f"{name}：{lay['level']} {lvl}，收敛度 {fmt_degree(lay['score'])}"
            s += f"（{lay.get('n_classified')}/{lay.get('n_areas')} 个领域有结论）"
            s += f"；未收敛：{unc}" if unc else ""
        else:
            s = f"{name}: {lay['level']} {lvl}, degree {fmt_degree(lay['score'])}"
            s += f" ({lay.get('n_classified')}/{lay.get('n_areas')} areas classified)"
            s += f"; not converged: {unc}" if unc else ""
        out.append(s)
    return out


def fmt_predictability(pred: Any, lang: str) -> str:
    """可预测性 from the back-tests: stars, mean absolute error in pp and the number of cases."""
    if not isinstance(pred, dict):
        return "尚未测量" if lang == "zh" else "not yet measured"
    mae = pred.get("mae")
    if not _finite(mae):
        return stars(pred.get("stars")) or "—"
    st, cases = stars(pred.get("stars")), fmt_num(pred.get("cases"))
    if lang == "zh":
        return f"{st} 平均误差 {100 * mae:.1f} 个百分点（{cases} 个案例）"
    return f"{st} MAE {100 * mae:.1f} pp ({cases} cases)"


def five_layer_rows(data: ReportData, lang: str) -> list[dict[str, Any]]:
    """The five-layer table's cells in one language."""
    out = []
    for r in data.five_layer:
        pred = fmt_predictability(r.get("predictability"), lang)
        level = r.get("level") or ""
        out.append({
            "name": f"{r.get(f'name_{lang}') or r.get('name_en')} ({level})",
            "technical": r.get(f"technical_{lang}") or "",
            "market": r.get(f"market_{lang}") or "",
            "predictability": pred,
            "room": r.get(f"room_{lang}") or "",
        })
    return out


DRIVER_GROUPS = {
    "technical": ("技术收敛", "technical convergence"),
    "market": ("市场收敛", "market convergence"),
    "standards": ("标准收敛", "standards convergence"),
    "anti-convergence": ("反收敛力量", "anti-convergence forces"),
}
_STATUS = {"ok": ("可用", "ok"), "insufficient data": ("数据不足", "insufficient data")}


_UNITS = {
    "organisations": ("家机构", "organisations"),
    "organisations/year": ("家机构/年", "organisations/yr"),
    "HHI (0-10000)": ("HHI（0-10000）", "HHI (0-10000)"),
    "HHI points/year": ("HHI 点/年", "HHI points/yr"),
    "bits": ("比特", "bits"), "bits/year": ("比特/年", "bits/yr"),
    "x/year": ("倍/年", "x/yr"), "months": ("个月", "months"),
}


def _unit(unit: Any, lang: str) -> str:
    pair = _UNITS.get(str(unit or ""))
    return (pair[0] if lang == "zh" else pair[1]) if pair else str(unit or "")


def _driver_value(d: dict[str, Any], lang: str = "en") -> str:
    """A driver's value with its interval; shares as percent, other units translated."""
    v = d.get("value")
    if not _finite(v):
        return ""
    iv = d.get("interval")
    has_iv = isinstance(iv, list | tuple) and len(iv) == 2 and all(_finite(x) for x in iv)
    if d.get("unit") == "share":
        txt = fmt_pct(v, 1)
        return txt + (f" [{fmt_pct(iv[0], 1)}, {fmt_pct(iv[1], 1)}]" if has_iv else "")
    txt = f"{fmt_num(v)} {_unit(d.get('unit'), lang)}".strip()
    return txt + (f" [{fmt_num(iv[0])}, {fmt_num(iv[1])}]" if has_iv else "")


def _driver_trend(d: dict[str, Any], lang: str) -> str:
    """The trend in the value's own terms: a share's trend in percentage points per year."""
    tr = d.get("trend")
    if not _finite(tr):
        return ""
    if d.get("unit") == "share":
        return f"{fmt_pp(100 * tr)} {t('pp_per_year', lang)}"
    return f"{fmt_num(tr)} {_unit(d.get('trend_unit'), lang)}".strip()


def _driver_note(d: dict[str, Any], lang: str) -> str:
    """The method note; in Chinese, a note built from the numbers when none is given in zh."""
    if lang == "en":
        return str(d.get("note_en") or d.get("note") or "")
    if d.get("note_zh"):
        return str(d["note_zh"])
    if d.get("status") == "insufficient data":
        return f"数据不足：窗口内仅 {fmt_num(d.get('n'))} 个有数值的实体"
    return ""


def driver_rows(data: ReportData, lang: str) -> list[dict[str, Any]]:
    """Driver indicators in one language."""
    out = []
    for d in data.drivers:
        group = DRIVER_GROUPS.get(str(d.get("group")), (d.get("group"), d.get("group")))
        win = d.get("window") or {}
        status = _STATUS.get(str(d.get("status")), (d.get("status"), d.get("status")))
        out.append({
            "group": group[0] if lang == "zh" else group[1],
            "name": d.get(f"name_{lang}") or d.get("name_en") or d.get("id"),
            "value": _driver_value(d, lang),
            "trend": _driver_trend(d, lang),
            "window": (f"{win.get('start')}..{win.get('end')}"
                       if isinstance(win, dict) and win.get("start") else ""),
            "n": fmt_num(d.get("n")),
            "status": status[0] if lang == "zh" else status[1],
            "note": _driver_note(d, lang),
        })
    return out


def drivers_mermaid(data: ReportData, lang: str) -> str:
    """The seed's driver graph with the measured values: each force points to its effect."""
    zh = lang == "zh"
    lines = ["graph TB"]
    groups: dict[str, list[dict[str, Any]]] = {}
    for d in data.drivers:
        groups.setdefault(str(d.get("group")), []).append(d)
    conv = mermaid_label("收敛" if zh else "convergence")
    div = mermaid_label("分化" if zh else "divergence")
    lines.append(f'    CONV(["{conv}"])')
    lines.append(f'    DIV(["{div}"])')
    for gi, (g, items) in enumerate(groups.items()):
        name = DRIVER_GROUPS.get(g, (g, g))[0 if zh else 1]
        lines.append(f'    subgraph G{gi}["{mermaid_label(name)}"]')
        for di, d in enumerate(items):
            value = _driver_value(d, lang) or ("数据不足" if zh else "no data")
            label = mermaid_label(f"{d.get(f'name_{lang}') or d.get('name_en')} {value}", 90)
            lines.append(f'        D{gi}_{di}["{label}"]')
        lines.append("    end")
        target = "DIV" if g == "anti-convergence" else "CONV"
        for di in range(len(items)):
            lines.append(f"    D{gi}_{di} --> {target}")
    return "\n".join(lines) + "\n"


def generic_rows(rows: list[dict[str, Any]], lang: str,
                 prefer: list[str]) -> tuple[list[str], list[list[str]]]:
    """Columns present among `prefer` (language-specific keys first) and formatted cells."""
    if not rows:
        return [], []
    keys: list[str] = []
    for k in prefer:
        lk = f"{k}_{lang}"
        if any(lk in r for r in rows):
            keys.append(lk)
        elif any(k in r for r in rows):
            keys.append(k)
    cells = [[_cell(r.get(k)) for k in keys] for r in rows]
    heads = [t(re.sub(r"_(zh|en)$", "", k), lang) for k in keys]
    return heads, cells


def _cell(v: Any) -> str:
    if isinstance(v, float | int) and not isinstance(v, bool):
        return fmt_num(v)
    if isinstance(v, list | tuple):
        return ", ".join(_cell(x) for x in v)
    if isinstance(v, dict):
        return "; ".join(f"{k} {_cell(x)}" for k, x in v.items())
    return "" if v is None else str(v)


_PRED_STATUS = {
    "open": ("未到期", "open"),
    "open (insufficient evidence)": ("未到期（证据不足）", "open (insufficient evidence)"),
    "undetermined (insufficient evidence at due date)": ("无法判定（到期时证据不足）",
                                                         "undetermined (insufficient evidence "
                                                         "at due date)"),
    "resolved": ("已判定", "resolved"),
}


def prediction_table(data: ReportData, lang: str) -> tuple[list[str], list[list[str]]]:
    """The prediction registry: statement, due date, stated probability, status, outcome."""
    zh = lang == "zh"
    heads = [t(k, lang) for k in ("statement", "due", "probability", "status", "value",
                                  "outcome", "brier")]
    cells = []
    for p in data.predictions:
        st = _PRED_STATUS.get(str(p.get("status")), (p.get("status"),) * 2)[0 if zh else 1]
        out = p.get("outcome")
        outcome = "" if out is None else (("成立" if out else "不成立") if zh else
                                          ("true" if out else "false"))
        cells.append([str(p.get(f"statement_{lang}") or p.get("id")), str(p.get("due") or ""),
                      fmt_num(p.get("probability")), str(st or ""), _cell(p.get("value")),
                      outcome, fmt_num(p.get("brier")) or "—"])
    return heads, cells


VERDICT_LABELS = {"confirmed": ("证实", "confirmed"), "contradicted": ("否定", "contradicted"),
                  "not_measurable": ("尚无法测量", "not measurable yet")}


def claim_rows(data: ReportData, lang: str) -> list[dict[str, Any]]:
    """The seed's claims with verdict, reason, n and certainty in one language."""
    zh = lang == "zh"
    out = []
    for c in data.claims:
        cert = c.get("certainty")
        out.append({
            "section": c.get("section"), "claim": c.get(f"claim_{lang}"),
            "verdict": c.get("verdict"),
            "verdict_label": VERDICT_LABELS[str(c["verdict"])][0 if zh else 1],
            "why": c.get(f"why_{lang}"), "n": fmt_num(c.get("n")) or "—",
            "certainty": (f"{stars(c.get('stars'))} {cert:.2f}".strip() if _finite(cert)
                          else "—"),
        })
    return out


def claim_tally(data: ReportData, lang: str) -> str:
    """One line: how many of the seed's claims have each verdict."""
    from convergent.seedcheck import tally

    tl = tally(data.claims)
    parts = [f"{VERDICT_LABELS[k][0 if lang == 'zh' else 1]} {v}" for k, v in tl.items()]
    return ("、".join(parts) if lang == "zh" else ", ".join(parts))


def staleness(data: ReportData, lang: str) -> str:
    """The banner for old evidence, or '' when the newest evidence is recent enough."""
    if not data.stale or data.newest_evidence is None:
        return ""
    if lang == "zh":
        return (f"注意：最新证据日期为 {data.newest_evidence.isoformat()}，距生成日 "
                f"{data.generated} 已 {data.evidence_age_days} 天（超过 {data.stale_after_days} "
                "天），本报告描述的不是今天的格局。")
    return (f"Warning: the newest evidence is dated {data.newest_evidence.isoformat()}, "
            f"{data.evidence_age_days} days before {data.generated} (more than "
            f"{data.stale_after_days} days): this report does not describe today's landscape.")


def evidence_age(data: ReportData, lang: str) -> str:
    """The age of the newest evidence, for the header line."""
    if data.newest_evidence is None:
        return ""
    if lang == "zh":
        return f"最新证据 {data.newest_evidence.isoformat()}（{data.evidence_age_days} 天前）"
    return (f"newest evidence {data.newest_evidence.isoformat()} "
            f"({data.evidence_age_days} days old)")


def conclusion_lines(data: ReportData, lang: str) -> list[str]:
    """The computed conclusions in one language."""
    return [str(c.get(f"text_{lang}") or "") for c in data.conclusions]


def advice_groups(data: ReportData, lang: str) -> list[dict[str, Any]]:
    """The advice module's items grouped by action (adopt / hedge / explore / none)."""
    adv = data.advice.get(lang)
    if adv is None:
        return []
    if isinstance(adv, str):
        adv = [x for x in adv.splitlines() if x.strip()]
    if isinstance(adv, dict):
        adv = adv.get("items") or adv.get("advice") or []
    groups: dict[str, dict[str, Any]] = {}
    for x in adv:
        if isinstance(x, dict):
            label = str(x.get("action_label") or x.get("action") or "")
            text = (x.get(f"text_{lang}") or x.get("text")
                    or f"{x.get(f'name_{lang}') or x.get('area')}: {x.get('advice', '')}")
        else:
            label, text = "", str(x)
        order = _ACTION_ORDER.get(str(x.get("action")), 3) if isinstance(x, dict) else 3
        groups.setdefault(label, {"label": label, "items": [], "order": order}
                          )["items"].append(text)
    return sorted(groups.values(), key=lambda g: g["order"])


def forecast_rows(data: ReportData, lang: str) -> list[dict[str, Any]]:
    """Per area: the option forecast, the method, and when it crosses 0.90 and 0.95."""
    zh = lang == "zh"
    out = []
    for f in data.forecasts:
        cells = []
        for key in ("cross_90", "cross_95"):
            c = f.get(key) or {}
            if c.get("status") == "forecast" and c.get("date"):
                iv = (f" [{c['low']}, {c['high']}]" if c.get("low") and c.get("high") else "")
                cells.append(f"{c['date']}{iv}")
            elif c.get("status") == "reached":
                cells.append(("已达到 " if zh else "reached ") + str(c.get("date") or ""))
            elif m := re.fullmatch(r"not within (\d+) years?", str(c.get("status") or "")):
                cells.append(f"{m.group(1)} 年内不会" if zh else c["status"])
            else:
                cells.append(_STATUS_F.get(str(c.get("status")), (c.get("status"),) * 2)
                             [0 if zh else 1] or "")
        reason = f.get("no_fit_reason") or ""
        out.append({
            "name": f.get(f"name_{lang}") or f.get("name_en") or f.get("area"),
            "target": (f"{f.get('target')} ({_role(f.get('target_role'), zh)})"
                       if f.get("target_role") else str(f.get("target") or "")),
            "method": f.get("method") or (("未拟合：" if zh else "no fit: ") + reason
                                          if reason else ""),
            "share": fmt_pct(f.get("target_share", f.get("leader_share"))),
            "trend": fmt_pp(f.get("target_trend_pp", f.get("trend_pp"))),
            "l3": cells[0], "l4": cells[1],
        })
    return out


def _role(role: Any, zh: bool) -> str:
    names = {"leader": "领先者", "challenger": "挑战者"}
    return names.get(str(role), str(role)) if zh else str(role)


_ACTION_ORDER = {"adopt": 0, "participate-hedge": 1, "explore": 2}

_STATUS_F = {
    "no fit": ("未拟合", "no fit"),
    "not within horizon": ("预测期内不会", "not within horizon"),
    "beyond horizon": ("预测期内不会", "not within horizon"),
    "never": ("预测期内不会", "not within horizon"),
}


def sources_by_area(data: ReportData, lang: str) -> list[dict[str, Any]]:
    """Per area: its sources with counts, URLs only when they are plain http(s)."""
    by: dict[str, dict[str, Any]] = {}
    for s in data.sources:
        area = str(s["area"])
        entry = by.setdefault(area, {"name": s.get(f"name_{lang}") or area, "items": []})
        url = safe_url(s.get("url"))
        entry["items"].append({"url": url, "text": s.get("title") or s.get("url")
                               or s.get("source_id"), "n": fmt_num(s.get("n"))})
    return [by[k] for k in sorted(by, key=lambda a: str(by[a]["name"]))]


def _env() -> Any:
    """A Jinja2 environment whose every output is Markdown-escaped unless marked safe."""
    from jinja2 import Environment, PackageLoader, StrictUndefined

    env = Environment(loader=PackageLoader("convergent.report", "templates"),
                      autoescape=False, undefined=StrictUndefined, finalize=md_text,
                      keep_trailing_newline=True, trim_blocks=True, lstrip_blocks=True)
    env.filters["safe_md"] = Markup
    return env


def render_markdown(data: ReportData, cfg: dict[str, Any], lang: str,
                    figures: list[str] | None = None) -> str:
    """The whole report in one language."""
    s = data.sections

    def state(name: str) -> str:
        sec = s.get(name)
        if sec is None:
            return t("not_built", lang)
        if sec.status == OK:
            return ""
        if sec.status == "failed":
            return f"{t('failed', lang)} {sec.note}"
        return t("no_data" if sec.status == "no_data" else "not_built", lang)

    heads, pred_cells = prediction_table(data, lang)
    sheads, scells = generic_rows(
        data.scaling, lang, ["group", "form", "params", "loss", "n", "objective"])
    ctx = {
        "L": labels(lang), "lang": lang, "data": data,
        "as_of": data.as_of.isoformat(), "window": str(data.window_days),
        "state": state,
        "overview": Markup(overview(data, lang)),
        "pyramid": Markup(safe_mermaid(data.pyramid.get(lang, ""))),
        "level_rows": level_rows(data, cfg, lang),
        "matrix": matrix_rows(data, lang),
        "five_layer": five_layer_rows(data, lang),
        "drivers": driver_rows(data, lang),
        "drivers_mermaid": Markup(drivers_mermaid(data, lang)) if data.drivers else "",
        "gantt": Markup(safe_mermaid(data.gantt.get(lang, ""))),
        "pred_heads": heads, "pred_cells": pred_cells,
        "scaling_heads": sheads, "scaling_cells": scells,
        "conclusions": conclusions(data, lang),
        "computed": conclusion_lines(data, lang),
        "claims": claim_rows(data, lang), "claim_tally": claim_tally(data, lang),
        "banner": staleness(data, lang), "evidence_age": evidence_age(data, lang),
        "advice": advice_groups(data, lang),
        "forecast_rows": forecast_rows(data, lang),
        "sources": sources_by_area(data, lang),
        "figures": figures or [],
        "layer_names": {k: v for k, v in _layer_names(lang).items()},
    }
    return _env().get_template("report.md.j2").render(**ctx)


def _layer_names(lang: str) -> dict[str, str]:
    from convergent.registry import registry

    return {k: (v.zh if lang == "zh" else v.en) for k, v in registry().layers.items()}
