"""Level history, its phases, and the Mermaid gantt timeline."""

from __future__ import annotations

import datetime as dt
import itertools
import re

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from convergent.classify import Classifier
from convergent.config import load_config
from convergent.forecast.history import level_history, phases
from convergent.forecast.synthetic import logistic_path, path_frames
from convergent.forecast.timeline import gantt, gantt_rows, mermaid, task_name
from convergent.store import Store

CFG = load_config()
AS_OF = dt.date(2025, 12, 31)
LEVELS = ["L1", "L2", "L3", "L4", "insufficient"]


def _hist(levels: list[str], area: str = "ffn") -> list[dict]:
    d0 = dt.date(2023, 3, 31)
    return [{"area": area, "layer": "architecture", "name_en": "Dense vs MoE",
             "name_zh": "前馈层", "date": d0 + dt.timedelta(days=91 * i), "level": lev,
             "degree": None, "leader": "MoE", "leader_share": 0.5, "n": 20}
            for i, lev in enumerate(levels)]


def test_phases_compress_runs() -> None:
    ph = phases(_hist(["L1", "L1", "L2", "L2", "L2", "L3"]))
    assert [(p["level"], p["quarters"]) for p in ph] == [("L1", 2), ("L2", 3), ("L3", 1)]
    assert ph[0]["end"] == ph[1]["start"] and ph[1]["end"] == ph[2]["start"]
    assert ph[-1]["current"] and not ph[0]["current"]
    assert ph[0]["leader"] is None and ph[1]["leader"] == "MoE"


@settings(max_examples=60, deadline=None)
@given(st.lists(st.sampled_from(LEVELS), min_size=1, max_size=30))
def test_phases_partition_the_history(levels: list[str]) -> None:
    hist = _hist(levels)
    ph = phases(hist)
    assert sum(p["quarters"] for p in ph) == len(hist)
    assert all(a["level"] != b["level"] for a, b in itertools.pairwise(ph))
    assert ph[0]["start"] == hist[0]["date"] and ph[-1]["end"] == hist[-1]["date"]


def _forecast(name: str = "Agent: protocol; #1", role: str = "leader") -> dict:
    cell = {"threshold": 0.9, "status": "forecast", "date": dt.date(2027, 3, 1),
            "low": dt.date(2026, 9, 1), "high": dt.date(2028, 1, 1), "p_cross": 1.0}
    return {"area": "agent_protocol", "layer": "application", "name_en": name,
            "name_zh": "智能体协议", "fit": "ok", "target": "MCP", "target_role": role,
            "cross_90": cell, "cross_95": {**cell, "threshold": 0.95,
                                          "date": dt.date(2027, 9, 1)}}


def test_mermaid_sections_tags_and_escaping() -> None:
    ph = phases(_hist(["L1", "L2", "L2"]))
    rows = gantt_rows(ph, [_forecast(role="challenger")], AS_OF, "en")
    text = mermaid(rows, "en")
    lines = text.splitlines()
    assert lines[0] == "gantt" and "dateFormat YYYY-MM-DD" in text
    assert "    section Architecture" in lines and "    section Application protocol" in lines
    tasks = [ln for ln in lines if ln.startswith("    ") and " :" in ln]
    assert len(tasks) == len(rows) == 4
    for ln in tasks:
        name, spec = ln.strip().rsplit(" :", 1)
        assert not re.search(r"[:;#]", name), name
        assert re.fullmatch(r"((done|active|crit|milestone), )*\d{4}-\d\d-\d\d, "
                            r"(\d{4}-\d\d-\d\d|0d)", spec), spec
    assert any(ln.strip().startswith("Dense vs MoE L2 MoE :active, ") for ln in tasks)
    assert any("crit, milestone, 2027-09-01, 0d" in ln for ln in tasks)
    zh = mermaid(gantt_rows(ph, [_forecast()], AS_OF, "zh"), "zh")
    assert "section 架构层" in zh and "section 应用协议层" in zh and "AI收敛演进时间线" in zh


def test_task_name_strips_breaking_characters() -> None:
    assert task_name("a:b;c#d%e\nf<g>") == "a：b；c＃d％e f＜g＞"
    assert task_name("   ") == "-"


def test_history_and_gantt_on_a_store() -> None:
    store = Store(None)
    store.replace_origin("synthetic", path_frames(
        {"ffn": logistic_path(1.2, -2.0, rest=(1.0,))}, start=dt.date(2020, 1, 1), end=AS_OF,
        ref=AS_OF, per_month=30, rng=np.random.default_rng(2)))
    clf = Classifier(store, CFG, areas=["ffn"])
    hist = level_history(store, CFG, dt.date(2023, 1, 1), AS_OF, clf=clf, segments=False)
    assert [r["date"] for r in hist][:2] == [dt.date(2023, 3, 31), dt.date(2023, 6, 30)]
    assert hist[-1]["date"] == AS_OF
    ph = phases(hist)
    assert ph[0]["leader"] == "MoE" and ph[-1]["leader"] == "dense" and ph[-1]["current"]
    text, rows = gantt(store, CFG, AS_OF, clf=clf, segments=False, bootstrap=0)
    assert {r["kind"] for r in rows} >= {"phase", "forecast"}
    assert text.count("section Architecture") == 1
