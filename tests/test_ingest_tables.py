"""Benchmark tables and training runs: real files, units, fractions and idempotence."""

from __future__ import annotations

from pathlib import Path

import pytest

from convergent.ingest import ingest
from convergent.store import Store
from test_ingest_common import dump, store_with_catalog


def test_obsscaling_table(obsscaling_csv: Path) -> None:
    """148 models, 8 benchmarks as percent, sizes and FLOPs in absolute units."""
    store = Store(None)
    report = ingest(store, "benchmarks", obsscaling_csv)
    assert report.rows_read == 148 and report.skipped == 0
    q = store.con.con.execute
    assert q("SELECT count(DISTINCT benchmark) FROM scores").fetchone()[0] == 8
    mmlu = q("SELECT s.score FROM scores s JOIN entities e USING (entity_id) "
             "WHERE e.name = 'meta-llama/Llama-2-70b-hf' AND s.benchmark = 'MMLU'").fetchone()[0]
    assert mmlu == pytest.approx(69.832, abs=0.01)
    ent = q("SELECT params_total, dataset_tokens, training_compute_flop, origin FROM entities "
            "WHERE name = 'meta-llama/Llama-2-70b-hf'").fetchone()
    assert ent[:3] == (70e9, 2e12, pytest.approx(8.4e23)) and ent[3].startswith("benchmarks:")
    assert q("SELECT min(score), max(score) FROM scores").fetchone()[1] <= 100
    before = dump(store)
    again = ingest(store, "benchmarks", obsscaling_csv)
    assert again.unchanged == 148 and dump(store) == before


def test_benchmarks_attach_to_existing_models(obsscaling_csv: Path, epoch_csv: Path) -> None:
    """Scores of a model Epoch already knows go to that entity, not a new one."""
    store = Store(None)
    ingest(store, "epoch", epoch_csv)
    report = ingest(store, "benchmarks", obsscaling_csv)
    assert report.matched >= 5
    row = store.con.con.execute(
        "SELECT e.origin FROM scores s JOIN entities e USING (entity_id) "
        "WHERE s.benchmark = 'MMLU' AND e.name = 'Llama 2-70B'").fetchall()
    assert row == [("epoch",)]


def test_chinchilla_runs(chinchilla_csv: Path) -> None:
    """245 runs with N and C; D is derived as C / 6N."""
    store = Store(None)
    report = ingest(store, "runs", chinchilla_csv)
    assert report.added == 245
    n, d, c = store.con.con.execute(
        "SELECT params, tokens, compute FROM runs LIMIT 1").fetchone()
    assert d == pytest.approx(c / (6 * n))
    before = dump(store)
    assert ingest(store, "runs", chinchilla_csv).unchanged == 245
    assert dump(store) == before


def test_runs_groups_and_update(tmp_path: Path) -> None:
    """Group columns are kept; a changed loss updates that run only."""
    p = tmp_path / "runs.csv"
    p.write_text("params,tokens,loss,family,run\n1e8,2e9,3.1,a,r1\n2e8,4e9,2.9,b,r2\n", "utf-8")
    store = store_with_catalog()
    ingest(store, "runs", p)
    rows = store.con.con.execute("SELECT run_id, group_name, compute FROM runs "
                                 "ORDER BY 1").fetchall()
    assert rows == [("r1", "a", pytest.approx(1.2e18)), ("r2", "b", pytest.approx(4.8e18))]
    p.write_text("params,tokens,loss,family,run\n1e8,2e9,3.0,a,r1\n2e8,4e9,2.9,b,r2\n", "utf-8")
    report = ingest(store, "runs", p)
    assert (report.updated, report.unchanged) == (1, 1)


@pytest.mark.parametrize("header", ["Release date", "Publication date", "released", "Date"])
def test_benchmark_date_column_names(tmp_path: Path, header: str) -> None:
    """The usual names of a release-date column are read as the model's date (not as a
    benchmark), and an implausible date there is refused like anywhere else."""
    from convergent.errors import ConvergentError

    good = tmp_path / "good.csv"
    good.write_text(f"Model,{header},MMLU\nA-1,2025-03-04,65\n")
    store = Store(None)
    ingest(store, "benchmarks", good)
    q = store.con.con.execute
    assert q("SELECT CAST(date AS VARCHAR) FROM entities WHERE name = 'A-1'").fetchone() == (
        "2025-03-04",)
    assert q("SELECT DISTINCT benchmark FROM scores").fetchall() == [("MMLU",)]
    bad = tmp_path / "bad.csv"
    bad.write_text(f"Model,{header},MMLU\nA-1,9999-01-01,65\n")
    with pytest.raises(ConvergentError, match="implausible date 9999-01-01"):
        ingest(Store(None), "benchmarks", bad)


def test_arena_elo_column_is_a_rating_not_a_percentage(tmp_path: Path) -> None:
    """An Arena Elo column is kept as ratings next to percent columns; ratings outside the
    plausible range are refused on their own rows."""
    from convergent.errors import ConvergentError

    good = tmp_path / "elo.csv"
    good.write_text("Model,MMLU (%),Arena Elo\nA-1,65,1200\nA-2,70,1312.5\n")
    store = Store(None)
    ingest(store, "benchmarks", good)
    got = store.con.con.execute("SELECT benchmark, score FROM scores ORDER BY 1, 2").fetchall()
    assert got == [("Arena Elo", 1200.0), ("Arena Elo", 1312.5), ("MMLU", 65.0), ("MMLU", 70.0)]
    bad = tmp_path / "bad.csv"
    bad.write_text("Model,Arena Elo\nA-1,1200\nA-2,12000\nA-3,99\n")
    with pytest.raises(ConvergentError, match=r"row 3, column 'Arena Elo': Elo rating 12000 "
                                              r"is outside 100–4000 \(and 1 more"):
        ingest(Store(None), "benchmarks", bad)
    kept = Store(None)
    ingest(kept, "benchmarks", bad, skip_bad_rows=True)
    assert kept.con.con.execute("SELECT score FROM scores").fetchall() == [(1200.0,)]
