"""The prediction registry: the seed's four, validation errors that name the entry,
metric resolution, Brier scores and the `predictions` command."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import numpy as np
import pytest
import typer
from typer.testing import CliRunner

from convergent.classify import Classifier
from convergent.config import load_config
from convergent.errors import ConvergentError
from convergent.forecast.predictions import brier_summary, evaluate_predictions, load_registry
from convergent.forecast.synthetic import path_frames
from convergent.store import Store

FIX = Path(__file__).parent / "fixtures" / "forecast"
CFG = load_config()
AS_OF = dt.date(2025, 12, 31)


def test_packaged_registry_has_the_seeds_four() -> None:
    preds = {p.id: p for p in load_registry()}
    assert set(preds) == {"mcp-agent-standard", "test-time-scaling-law",
                          "self-improvement-incident-regulation",
                          "foundation-model-market-3-to-5"}
    mcp = preds["mcp-agent-standard"]
    assert mcp.due == dt.date(2026, 6, 30) and mcp.resolver.kind == "metric"
    assert mcp.metric.area == "agent_protocol" and mcp.metric.option == "MCP"
    assert preds["test-time-scaling-law"].due == dt.date(2026, 12, 31)
    assert preds["self-improvement-incident-regulation"].due == dt.date(2027, 6, 30)
    market = preds["foundation-model-market-3-to-5"]
    assert market.due == dt.date(2027, 12, 31) and market.threshold == [3, 5]
    for p in preds.values():
        # the seed states no probability, so none is invented
        assert p.statement.zh and p.statement.en and p.criteria and p.probability is None
        if p.resolver.kind == "manual":
            assert p.resolver.evidence and p.resolver.resolution is None


def _store() -> Store:
    def ffn(t: np.ndarray) -> np.ndarray:           # dense 0.85 before 2025, then 0.98
        s = np.where(t < -1.0, 0.85, 0.98)
        return np.column_stack([s, 1 - s])

    def protocols(t: np.ndarray) -> np.ndarray:     # MCP just above half
        return np.tile([0.55, 0.45], (len(t), 1))

    store = Store(None)
    store.replace_origin("synthetic", path_frames(
        {"ffn": ffn, "agent_protocol": protocols}, start=dt.date(2022, 1, 1), end=AS_OF,
        ref=AS_OF, per_month=60, rng=np.random.default_rng(8)))
    return store


@pytest.fixture(scope="module")
def evaluated() -> dict[str, dict]:
    store = _store()
    rows = evaluate_predictions(store, CFG, FIX / "user_predictions.yaml", AS_OF,
                                clf=Classifier(store, CFG))
    return {r["id"]: r for r in rows}


def test_metric_at_due_resolves_and_scores(evaluated: dict[str, dict]) -> None:
    r = evaluated["dense-holds-2024"]
    assert r["status"] == "resolved" and r["outcome"] is True
    assert r["brier"] == pytest.approx((0.8 - 1) ** 2)
    r = evaluated["moe-leads-2024"]          # alias 'mixture of experts' means MoE
    assert r["condition"] == "leader(ffn) == MoE"
    assert r["outcome"] is False and r["brier"] == pytest.approx(0.09)


def test_by_resolves_early_when_condition_holds(evaluated: dict[str, dict]) -> None:
    r = evaluated["dense-l3-by-2027"]
    assert r["status"] == "resolved" and r["outcome"] is True
    assert dt.date(2025, 1, 1) <= r["resolved_on"] <= AS_OF


def test_between_and_manual(evaluated: dict[str, dict]) -> None:
    assert evaluated["two-or-three-options"]["outcome"] is True
    m = evaluated["manual-resolved"]
    assert m["status"] == "resolved" and m["outcome"] is False
    assert m["brier"] == pytest.approx(0.81)


def test_seed_predictions_are_open_before_due(evaluated: dict[str, dict]) -> None:
    mcp = evaluated["mcp-agent-standard"]
    assert mcp["status"] == "open" and mcp["brier"] is None
    assert 0.45 < mcp["value"] < 0.65 and mcp["values"][1] == "MCP"
    for key in ("test-time-scaling-law", "self-improvement-incident-regulation"):
        assert evaluated[key]["status"] == "open" and evaluated[key]["evidence"]
    market = evaluated["foundation-model-market-3-to-5"]
    assert market["status"].startswith("open") and market["value"] is None


def test_brier_summary(evaluated: dict[str, dict]) -> None:
    s = brier_summary(list(evaluated.values()))
    scores = [r["brier"] for r in evaluated.values() if r["brier"] is not None]
    assert s["scored"] == len(scores) == 5
    assert s["resolved"] == sum(r["status"] == "resolved" for r in evaluated.values())
    assert s["resolved"] + s["undetermined"] + s["open"] == len(evaluated)
    assert s["mean_brier"] == pytest.approx(sum(scores) / 5)


def test_due_date_passed_before_the_evidence_reaches_it() -> None:
    """Read after the due date with evidence ending before it: undetermined, saying why."""
    store = _store()                                   # evidence ends 2025-12-31
    rows = {r["id"]: r for r in evaluate_predictions(store, CFG, None, dt.date(2026, 9, 1))}
    mcp = rows["mcp-agent-standard"]
    assert mcp["status"] == ("undetermined — evidence ends 2025-12-31, before the due date")
    assert mcp["outcome"] is None and mcp["brier"] is None
    assert rows["foundation-model-market-3-to-5"]["status"].startswith("open")
    # read before the due date, the same prediction is simply open
    early = {r["id"]: r for r in evaluate_predictions(store, CFG, None, dt.date(2026, 1, 15))}
    assert early["mcp-agent-standard"]["status"] == "open"


def test_only_stated_probabilities_are_scored(tmp_path: Path) -> None:
    path = tmp_path / "mine.yaml"
    path.write_text("""
- id: stated
  statement: {zh: 中, en: stated}
  made: 2022-01-01
  due: 2024-12-31
  probability: 0.25
  metric: {measure: share, area: agent_protocol, option: MCP}
  comparator: ">="
  threshold: 0.5
  resolver: {kind: metric}
- id: unstated
  statement: {zh: 中, en: unstated}
  made: 2022-01-01
  due: 2024-12-31
  metric: {measure: share, area: agent_protocol, option: MCP}
  comparator: ">="
  threshold: 0.5
  resolver: {kind: metric}
""", "utf-8")
    rows = {r["id"]: r for r in evaluate_predictions(_store(), CFG, path, AS_OF,
                                                    include_packaged=False)}
    assert rows["stated"]["outcome"] is True and rows["unstated"]["outcome"] is True
    assert rows["stated"]["brier"] == pytest.approx(0.75 ** 2)
    assert rows["unstated"]["probability"] is None and rows["unstated"]["brier"] is None


def test_malformed_fixture_names_file_line_and_id() -> None:
    with pytest.raises(ConvergentError) as err:
        load_registry(FIX / "malformed.yaml")
    msg = str(err.value)
    assert "malformed.yaml:9" in msg and "'too-sure'" in msg and "probability" in msg


GOOD = """
  - id: {id}
    statement: {{zh: 中, en: en}}
    made: 2024-01-01
    due: 2025-01-01
    probability: 0.5
"""


@pytest.mark.parametrize(("extra", "needle"), [
    ("    resolver: {kind: manual}\n", "needs 'evidence'"),
    ("    resolver: {kind: metric}\n", "needs metric, comparator and threshold"),
    ("    metric: {measure: share, area: nowhere, option: x}\n    comparator: '>='\n"
     "    threshold: 0.5\n    resolver: {kind: metric}\n", "unknown area 'nowhere'"),
    ("    metric: {measure: share, area: ffn, option: banana}\n    comparator: '>='\n"
     "    threshold: 0.5\n    resolver: {kind: metric}\n", "unknown option 'banana'"),
    ("    metric: {measure: share, area: ffn}\n    comparator: '>='\n"
     "    threshold: 0.5\n    resolver: {kind: metric}\n", "needs an option"),
    ("    metric: {measure: effective_n, area: ffn}\n    comparator: between\n"
     "    threshold: 3\n    resolver: {kind: metric}\n", "threshold [low, high]"),
    ("    metric: {measure: hhi, area: mmlu}\n    comparator: '<'\n"
     "    threshold: 10\n    resolver: {kind: metric}\n", "not a share area"),
    ("    resolver: {kind: manual, evidence: x}\n    colour: red\n", "colour"),
])
def test_malformed_entry_error_names_it(tmp_path: Path, extra: str, needle: str) -> None:
    path = tmp_path / "mine.yaml"
    path.write_text("predictions:\n" + GOOD.format(id="ok-one")
                    + "    resolver: {kind: manual, evidence: x}\n"
                    + GOOD.format(id="broken-one") + extra, "utf-8")
    with pytest.raises(ConvergentError) as err:
        load_registry(path, include_packaged=False)
    msg = str(err.value)
    assert "mine.yaml:10" in msg and "'broken-one'" in msg and needle in msg, msg


def test_duplicate_of_packaged_id_is_an_error(tmp_path: Path) -> None:
    path = tmp_path / "dup.yaml"
    path.write_text("- id: mcp-agent-standard\n  statement: {zh: 中, en: en}\n"
                    "  made: 2024-01-01\n  due: 2025-01-01\n  probability: 0.5\n"
                    "  resolver: {kind: manual, evidence: x}\n", "utf-8")
    with pytest.raises(ConvergentError, match="duplicate id"):
        load_registry(path)


@pytest.mark.parametrize(("content", "needle"), [
    ("probability: true", "not true/false"),
    ("probability: .inf", "finite"),
    ("probability: 1.5", "less than or equal to 1"),
    ("due: 2023-02-29", "bad date '2023-02-29'"),
    ("due: 2023-13", "bad date"),
])
def test_bad_values_are_refused(tmp_path: Path, content: str, needle: str) -> None:
    key = content.split(":")[0]
    body = {"probability": "probability: 0.5", "due": "due: 2025-01-01"}
    body[key] = content
    path = tmp_path / "v.yaml"
    path.write_text(f"- id: v\n  statement: {{zh: 中, en: en}}\n  made: 2022-01-01\n"
                    f"  {body['due']}\n  {body['probability']}\n"
                    "  resolver: {kind: manual, evidence: x}\n", "utf-8")
    with pytest.raises(ConvergentError) as err:
        load_registry(path, include_packaged=False)
    msg = str(err.value)
    assert "v.yaml:1" in msg and needle in msg and "\n" not in msg, msg


def test_threshold_must_be_a_finite_number(tmp_path: Path) -> None:
    path = tmp_path / "t.yaml"
    path.write_text("- id: t\n  statement: {zh: 中, en: en}\n  made: 2022-01-01\n"
                    "  due: 2025-01-01\n  metric: {measure: hhi, area: ffn}\n"
                    "  comparator: '<'\n  threshold: .inf\n  resolver: {kind: metric}\n",
                    "utf-8")
    with pytest.raises(ConvergentError, match="finite"):
        load_registry(path, include_packaged=False)


def test_unreadable_registry_files_give_one_line(tmp_path: Path) -> None:
    import os

    latin = tmp_path / "latin.yaml"
    latin.write_bytes("- id: caf\xe9\n".encode("latin-1"))
    utf16 = tmp_path / "u16.yaml"
    utf16.write_bytes("- id: x\n".encode("utf-16"))
    fifo = tmp_path / "pipe.yaml"
    os.mkfifo(fifo)
    aliases = tmp_path / "alias.yaml"
    aliases.write_text("a: &x [1, 2]\nb: [*x, *x]\n", "utf-8")
    nested = tmp_path / "deep.yaml"
    nested.write_text("[" * 5000 + "]" * 5000, "utf-8")
    cases = [(latin, "not valid UTF-8"), (utf16, "statement: Field required"),
             (tmp_path, "is a folder"), (fifo, "not a regular file"), (aliases, "aliases"),
             (nested, "YAML")]
    for path, needle in cases:
        with pytest.raises(ConvergentError) as err:
            load_registry(path, include_packaged=False)
        msg = str(err.value)
        assert str(path) in msg and needle in msg and "\n" not in msg, msg


def test_bad_yaml_and_missing_file(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("predictions: [\n  - id: x\n", "utf-8")
    with pytest.raises(ConvergentError, match=r"bad\.yaml"):
        load_registry(bad)
    with pytest.raises(ConvergentError, match="not found"):
        load_registry(tmp_path / "absent.yaml")


def test_predictions_command(monkeypatch: pytest.MonkeyPatch) -> None:
    from convergent.cli import predictions as cmd

    store = _store()
    monkeypatch.setattr("convergent.store.open_store", lambda db=None, **kw: store)
    app = typer.Typer()
    cmd.register(app)
    app.command("noop")(lambda: None)
    runner = CliRunner()
    res = runner.invoke(app, ["predictions", "--registry", str(FIX / "user_predictions.yaml"),
                              "--as-of", "2025-12-31", "--json"])
    assert res.exit_code == 0, res.output
    data = json.loads(res.output)
    assert len(data["predictions"]) == 9 and data["summary"]["resolved"] == 5
    res = runner.invoke(app, ["predictions", "--as-of", "2025-12-31"])
    assert res.exit_code == 0 and "mcp-agent-standard" in res.output
    assert "mean Brier" in res.output
    res = runner.invoke(app, ["predictions", "--registry", str(FIX / "malformed.yaml")])
    assert isinstance(res.exception, ConvergentError) and "too-sure" in str(res.exception)
