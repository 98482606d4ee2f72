"""Entity resolution on real data: joint organisations, versions aliased together, exact
names winning ties, and the no-catalog flag."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from convergent.ingest import ingest
from convergent.ingest.names import org_keys, org_names
from convergent.store import open_store
from test_ingest_cli import run


def test_organisation_cells_split_on_commas_and_semicolons() -> None:
    assert org_keys("Microsoft; NVIDIA") >= {"microsoft", "nvidia"}
    assert org_keys("Microsoft,NVIDIA") & org_keys("NVIDIA; Microsoft")
    assert org_names("Tsinghua University; Zhipu AI") == ["tsinghuauniversity", "zhipu"]
    assert org_names("Google DeepMind, DeepMind") == ["google"]
    assert org_names("") == [] and org_names(None) == []


@pytest.mark.parametrize("name", ["Megatron-Turing NLG 530B", "GLM-130B", "LLaVA", "ELMo",
                                  "XLNet"])
def test_joint_catalog_models_are_not_duplicated_by_epoch(epoch_csv: Path, name: str) -> None:
    """Catalog entries with ';'-joined organisations resolve to Epoch's comma-joined rows."""
    store = open_store(None)
    ingest(store, "epoch", epoch_csv)
    got = store.con.con.execute(
        "SELECT count(*) FROM entities e WHERE e.name = ? OR e.entity_id IN "
        "(SELECT entity_id FROM aliases WHERE alias = ?)", [name, name]).fetchone()[0]
    assert got == 1


def test_versions_aliased_together_are_one_entity_with_a_conflict(tmp_path: Path) -> None:
    """gpt-4-0314 and gpt-4-0613 both alias GPT-4: the file is ingested, one row kept and
    the other reported; an exact name wins over an earlier alias (GPT-5.1 vs Instant)."""
    f = tmp_path / "scores.csv"
    f.write_text("Model,MMLU\nGPT-5.1 Instant,90.1\ngpt-5.1,91.0\ngpt-4-0314,86.4\n"
                 "gpt-4-0613,86.1\n", encoding="utf-8")
    store = open_store(None)
    report = ingest(store, "benchmarks", f)
    assert report.matched == 2
    kept = {c["entity_id"]: (c["row"], c["kept"]) for c in report.conflicts}
    assert kept == {"gpt-5-1": (2, "row 3 (gpt-5.1)"), "gpt-4": (5, "row 4 (gpt-4-0314)")}
    scores = dict(store.con.con.execute(
        "SELECT entity_id, score FROM scores WHERE origin LIKE 'benchmarks:%'").fetchall())
    assert scores == {"gpt-5-1": 91.0, "gpt-4": 86.4}


def test_no_catalog_flag_analyses_own_evidence(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                              capsys: pytest.CaptureFixture[str],
                                              epoch_csv: Path) -> None:
    db = str(tmp_path / "own.duckdb")
    code, _, err = run(monkeypatch, capsys, "--no-catalog", "ingest", "epoch", str(epoch_csv),
                       "--db", db)
    assert code == 0, err
    code, out, err = run(monkeypatch, capsys, "--no-catalog", "classify", "--db", db, "--json")
    assert code == 0, err
    rows = json.loads(out)
    assert rows and max(r["as_of"] for r in rows) <= "2023-12-31"
    code, out, _ = run(monkeypatch, capsys, "classify", "--db", db, "--json")
    with_catalog = json.loads(out)
    assert max(r["as_of"] for r in with_catalog) > "2024-01-01"
    code, out, err = run(monkeypatch, capsys, "--no-catalog", "classify", "--json")
    assert code == 0, err
    assert {r["level"] for r in json.loads(out)} == {"insufficient"}


def test_catalog_training_cost_is_stored(tmp_path: Path) -> None:
    """A catalog entity's training_cost_usd reaches the store (the cost driver reads it);
    an absurd cost is refused by validation."""
    from convergent.catalog.load import build_evidence

    good = tmp_path / "c.yaml"
    good.write_text(
        "entities:\n  - name: Cost Model\n    organization: Lab\n    country: France\n"
        "    date: 2023-01-01\n    training_cost_usd: 4.5e6\n"
        "    sources: [https://example.org/a]\n", encoding="utf-8")
    ev, problems = build_evidence([good])
    assert problems == []
    assert [r["training_cost_usd"] for r in ev.rows["entities"]] == [4.5e6]
    bad = tmp_path / "d.yaml"
    bad.write_text(good.read_text().replace("4.5e6", "-1"), encoding="utf-8")
    _, problems = build_evidence([bad])
    assert problems and "training_cost_usd" in problems[0]
