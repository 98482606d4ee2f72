"""Evidence tables read in place from Parquet (`--tables DIR`): layout, defaults, the same
classification as rows stored the normal way, and every validation rule on both sides of
its boundary, named by file, row and column, with nothing read from a folder that fails."""

from __future__ import annotations

import datetime as dt
import json
import math
import os
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from convergent.classify import Classifier
from convergent.config import load_config
from convergent.dates import EARLIEST, latest_plausible
from convergent.errors import ConvergentError
from convergent.parquet_tables import IN_PLACE, open_tables
from convergent.registry import registry
from convergent.schema import TABLES, table_frame
from convergent.store import Store, open_store

CLI = [sys.executable, "-c", "from convergent.cli import main; main()"]
AS_OF = dt.date(2024, 12, 31)


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*CLI, *args], capture_output=True, text=True, timeout=120)


def write(path: Path, rows: list[dict[str, Any]], schema: pa.Schema | None = None) -> Path:
    """Rows as one Parquet file (columns: every key any row has; a missing cell is null)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    cols = list(dict.fromkeys(k for r in rows for k in r))
    data = {c: [r.get(c) for r in rows] for c in cols}
    pq.write_table(pa.table(data, schema=schema), path)
    return path


# ---------------------------------------------------------------- a small valid folder

def _day(i: int) -> dt.date:
    return dt.date(2024, 2, 1) + dt.timedelta(days=13 * i)


#: 21 entities: 15 AdamW, 4 Adam, one split evenly between AdamW and Lion, one unknown.
#: In the window ending AS_OF: known weight n = 20, AdamW 15.5/20, Adam 4/20, Lion 0.5/20.
#: Deployment: pq-e0..e9 "open" (10 AdamW), pq-e10..e20 "api" (10 known, 1 unknown).
PLAIN = ([{"entity_id": f"pq-e{i}", "area_id": "optimizer", "option": "AdamW",
           "date": _day(i)} for i in range(15)]
         + [{"entity_id": f"pq-e{i}", "area_id": "optimizer", "option": "Adam",
             "date": _day(i)} for i in range(15, 19)]
         + [{"entity_id": "pq-e20", "area_id": "optimizer", "option": "unknown",
             "date": _day(20)}])
WEIGHTED = [{"entity_id": "pq-e19", "area_id": "optimizer", "option": "AdamW", "weight": 0.5,
             "date": _day(19), "origin": "mined", "source_id": "repo-scan"},
            {"entity_id": "pq-e19", "area_id": "optimizer", "option": "Lion", "weight": 0.5,
             "date": _day(19), "origin": None, "source_id": None}]
SEGMENTS = [{"entity_id": f"pq-e{i}", "dimension": "deployment",
             "value": "open" if i < 10 else "api"} for i in range(21)]
KNOWN = 20.0


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    """adoptions/ (one flat file without the optional columns, one nested file with them,
    and Spark's _SUCCESS marker) and a top-level segments.parquet."""
    root = tmp_path / "ev"
    write(root / "adoptions" / "part-0.parquet", PLAIN)
    write(root / "adoptions" / "year=2024" / "part-1.parquet", WEIGHTED)
    (root / "adoptions" / "_SUCCESS").write_text("")
    write(root / "segments.parquet", SEGMENTS)
    return root


def stored_normally() -> Store:
    """The same rows inserted the ordinary way, with the defaults Parquet rows take."""
    store = open_store(None, builtin=False)
    ads = [{"weight": 1.0, "origin": "parquet", "source_id": None, **r} for r in PLAIN]
    ads += [{**r, "origin": r["origin"] or "parquet"} for r in WEIGHTED]
    store.append("adoptions", table_frame("adoptions", ads))
    store.append("segments", table_frame("segments", SEGMENTS))
    return store


def test_optimizer_options_used_here_are_canonical() -> None:
    options = registry().areas["optimizer"].options
    assert {"AdamW", "Adam", "Lion"} <= set(options)
    assert "adamw_torch" in options["AdamW"]
    assert "deployment" in registry().areas["optimizer"].segments


def test_valid_folder_is_read_with_defaults(folder: Path) -> None:
    store = open_store(None, builtin=False)
    store.read_in_place(str(folder))
    assert set(store.views) == {"adoptions", "segments"}
    assert store.count("adoptions") == len(PLAIN) + len(WEIGHTED)
    assert store.count("segments") == len(SEGMENTS)
    assert store.count("entities") == 0
    df = store.table("adoptions").execute().set_index(["entity_id", "option"])
    plain = df.loc[[(r["entity_id"], r["option"]) for r in PLAIN]]
    assert (plain["weight"] == 1.0).all()
    assert (plain["origin"] == "parquet").all()
    assert plain["source_id"].isna().all()
    mined = df.loc[("pq-e19", "AdamW")]
    assert (mined["weight"], mined["origin"], mined["source_id"]) == (0.5, "mined", "repo-scan")
    lion = df.loc[("pq-e19", "Lion")]
    assert (lion["weight"], lion["origin"]) == (0.5, "parquet")
    assert lion["source_id"] is None or math.isnan(lion["source_id"])
    assert str(df.loc[("pq-e0", "AdamW"), "date"])[:10] == "2024-02-01"


def test_classification_matches_rows_stored_normally(folder: Path) -> None:
    cfg = load_config()
    in_place = open_store(None, builtin=False)
    in_place.read_in_place(str(folder))
    normal = stored_normally()
    assert in_place.count("adoptions") == normal.count("adoptions")
    for as_of in (AS_OF, dt.date(2024, 9, 30)):
        got = [r.to_dict() for r in Classifier(in_place, cfg, ["optimizer"]).classify(as_of)]
        want = [r.to_dict() for r in Classifier(normal, cfg, ["optimizer"]).classify(as_of)]
        assert got == want
    (r,) = Classifier(in_place, cfg, ["optimizer"]).classify(AS_OF)
    assert r.n == pytest.approx(KNOWN)
    assert r.unknown == pytest.approx(1.0)
    assert r.leader == "AdamW" and r.leader_share == pytest.approx(15.5 / 20)
    assert r.shares == pytest.approx({"AdamW": 15.5 / 20, "Adam": 4 / 20, "Lion": 0.5 / 20})
    assert r.level == "L2"                       # 0.5 <= 0.775 < 0.9
    assert r.certainty is not None and r.stars is not None
    (seg,) = r.segments                          # both deployment segments hold 10
    assert seg["dimension"] == "deployment" and len(seg["segments"]) == 2


def test_catalog_and_in_place_rows_add_up(folder: Path) -> None:
    catalog = open_store(None)
    both = open_store(None)
    both.read_in_place(str(folder))
    assert catalog.count("adoptions") > 0
    assert both.count("adoptions") == catalog.count("adoptions") + len(PLAIN) + len(WEIGHTED)
    assert both.count("segments") == catalog.count("segments") + len(SEGMENTS)
    assert both.count("entities") == catalog.count("entities")


def test_file_uri_and_single_file_layout(tmp_path: Path) -> None:
    write(tmp_path / "adoptions.parquet", PLAIN)
    write(tmp_path / "adoptions" / "deep" / "er" / "more.parquet", WEIGHTED)
    store = open_store(None, builtin=False)
    store.read_in_place(f"file://{tmp_path}")
    assert store.count("adoptions") == len(PLAIN) + len(WEIGHTED)


# ---------------------------------------------------------------- one test per rule

LAST = latest_plausible()
NAN, INF = float("nan"), float("inf")

#: A valid row of every table, the template each planted row changes.
GOOD: dict[str, dict[str, Any]] = {
    "sources": {"source_id": "s", "url": "https://example.org", "title": "t", "kind": "paper",
                "origin": "parquet", "snapshot": dt.date(2024, 1, 1)},
    "entities": {"entity_id": "m", "name": "M", "kind": "model", "organization": "Org",
                 "country": "FR", "date": dt.date(2024, 1, 1), "modality": "language",
                 "params_total": 7e9, "params_active": 7e9, "open_weights": True,
                 "context_length": 8192.0, "training_compute_flop": 1e23,
                 "training_cost_usd": 1e6, "dataset_tokens": 2e12, "tier": "notable",
                 "origin": "parquet", "source_ids": "s", "row_hash": "h"},
    "aliases": {"alias": "m-alias", "entity_id": "m"},
    "segments": {"entity_id": "m", "dimension": "deployment", "value": "api"},
    "adoptions": {"entity_id": "m", "area_id": "optimizer", "option": "AdamW",
                  "weight": 0.5, "date": dt.date(2024, 1, 1)},
    "scores": {"entity_id": "m", "benchmark": "MMLU", "score": 70.0,
               "date": dt.date(2024, 1, 1)},
    "entity_facts": {"entity_id": "m", "field": "params_total", "value": 7e9},
    "runs": {"run_id": "r", "params": 1e8, "tokens": 2e9, "compute": 1e18, "loss": 2.5},
}


@dataclass(frozen=True)
class Rule:
    """A planted cell: `good` is accepted, `bad` refused with `words` in the message."""

    table: str
    column: str
    good: Any
    bad: Any
    words: tuple[str, ...]
    shown: str | None = None          # the bad value as the message quotes it
    base: dict[str, Any] = field(default_factory=dict)   # changes to every row

    def __str__(self) -> str:
        return f"{self.table}.{self.column}={self.bad!r}"


RANGE = "must lie in (0, 1]"
DATE = "is an implausible date"
BLANK = "is empty or starts with a blank"
RULES = [
    # adoption weight in (0, 1]
    Rule("adoptions", "weight", 1.0, 1.0000001, (RANGE,), "'1.0000001'"),
    Rule("adoptions", "weight", 1e-9, 0.0, (RANGE,), "'0.0'"),
    Rule("adoptions", "weight", 0.25, -0.5, (RANGE,), "'-0.5'"),
    Rule("adoptions", "weight", 1.0, NAN, ("is not finite",), "'nan'"),
    Rule("adoptions", "weight", 1.0, INF, ("is not finite",), "'inf'"),
    Rule("adoptions", "weight", "0.5", "half", ("is not a double",), "'half'",
         base={"weight": "1"}),
    # plausible dates
    Rule("adoptions", "date", EARLIEST, dt.date(1949, 12, 31), (DATE, "1950-01-01"),
         "'1949-12-31'"),
    Rule("adoptions", "date", LAST, LAST + dt.timedelta(days=1), (DATE, LAST.isoformat()),
         repr((LAST + dt.timedelta(days=1)).isoformat())),
    Rule("adoptions", "date", "2024-02-29", "2023-02-29", ("is not a date",), "'2023-02-29'",
         base={"date": "2024-01-01"}),
    Rule("scores", "date", EARLIEST, dt.date(1949, 12, 31), (DATE,), "'1949-12-31'"),
    Rule("entities", "date", LAST, LAST + dt.timedelta(days=1), (DATE,)),
    Rule("sources", "snapshot", EARLIEST, dt.date(1949, 12, 31), (DATE,), "'1949-12-31'"),
    # keys: empty or leading blank refused, a trailing blank kept
    Rule("adoptions", "entity_id", "e1 ", "", (BLANK,)),
    Rule("adoptions", "entity_id", "e1 ", " e1", (BLANK,), "' e1'"),
    Rule("adoptions", "entity_id", "e1", "\te1", (BLANK,)),
    Rule("adoptions", "entity_id", "e1", None, (BLANK,)),
    Rule("entities", "entity_id", "e1 ", " e1", (BLANK,), "' e1'"),
    Rule("segments", "dimension", "deployment", "", (BLANK,)),
    Rule("segments", "value", "api", "   ", (BLANK,)),
    Rule("aliases", "alias", "m alias", " m", (BLANK,)),
    Rule("sources", "source_id", "s ", "", (BLANK,)),
    Rule("scores", "benchmark", "MMLU", " MMLU", (BLANK,)),
    Rule("entity_facts", "field", "params_total", "", (BLANK,)),
    Rule("runs", "run_id", "r-1", "", (BLANK,)),
    # registered area, canonical option
    Rule("adoptions", "area_id", "optimizer", "optimiser", ("unknown area 'optimiser'",)),
    Rule("adoptions", "option", "unknown", "adamw_torch",
         ("'adamw_torch' must be written as the canonical option 'AdamW'",)),
    Rule("adoptions", "option", "AdamW", "AdamW ", ("canonical option 'AdamW'",)),
    Rule("adoptions", "option", "Lion", "Nadam", ("unknown option 'Nadam'",)),
    Rule("adoptions", "option", "Any Lab Ltd", " Any Lab", (BLANK,), "' Any Lab'",
         base={"area_id": "frontier_developer", "option": "Some Lab"}),
    # scores: 0-100, Elo 100-4000
    Rule("scores", "score", 100.0, 100.5, ("is out of range",), "'100.5'"),
    Rule("scores", "score", 0.0, -0.5, ("is out of range",), "'-0.5'"),
    Rule("scores", "score", 50.0, NAN, ("is not finite",), "'nan'"),
    Rule("scores", "score", 1500.0, 5000.0, ("is out of range", "100–4000"), "'5000.0'",
         base={"benchmark": "Arena Elo", "score": 1200.0}),
    Rule("scores", "score", 100.0, 99.5, ("is out of range",), "'99.5'",
         base={"benchmark": "chatbot-ELO rating", "score": 1200.0}),
    Rule("scores", "score", 4000.0, 4000.5, ("is out of range",), "'4000.5'",
         base={"benchmark": "Arena Elo", "score": 1200.0}),
    # runs: positive loss, plausible magnitudes
    Rule("runs", "loss", 1e-6, 0.0, ("must be positive",), "'0.0'"),
    Rule("runs", "loss", 3.0, -1.0, ("must be positive",), "'-1.0'"),
    Rule("runs", "params", 1e15, 1e16, ("implausible params value",), "'1e+16'"),
    Rule("runs", "compute", 1e32, 1e33, ("implausible compute value",)),
    Rule("runs", "tokens", 1.0, 0.5, ("implausible tokens value",), "'0.5'"),
    # entities: plausible magnitudes
    Rule("entities", "params_total", 1e15, 1.1e15, ("implausible params value",),
         "'1100000000000000.0'"),
    Rule("entities", "training_cost_usd", 0.0, -1.0, ("implausible cost value",), "'-1.0'"),
    Rule("entities", "context_length", 1e9, 2e9, ("implausible context value",),
         "'2000000000.0'"),
    Rule("entities", "params_total", 7e9, INF, ("is not finite",)),
    # entity facts: plausible for their field
    Rule("entity_facts", "value", 1e15, 1e16, ("is implausible for its field",), "'1e+16'"),
    Rule("entity_facts", "value", 0.0, -1.0, ("is implausible for its field",),
         base={"field": "training_cost_usd", "value": 5.0}),
]


def plant(root: Path, rule: Rule, value: Any) -> Path:
    """A folder whose `rule.table` has a.parquet (3 valid rows) and b.parquet (4 rows, the
    third holding `value` in `rule.column`), beside other valid tables; returns b.parquet."""
    row = {**GOOD[rule.table], **rule.base}
    rows_a = distinct_entities([dict(row) for _ in range(3)], "a")
    rows_b = distinct_entities([dict(row) for _ in range(4)], "b")
    rows_b[2] = {**rows_b[2], rule.column: value}
    write(root / rule.table / "a.parquet", rows_a)
    bad = write(root / rule.table / "nested" / "b.parquet", rows_b)
    for other in ("adoptions", "segments"):          # valid neighbours: read or nothing
        if other != rule.table:
            write(root / f"{other}.parquet", distinct_entities([GOOD[other]] * 2, "n"))
    return bad


def distinct_entities(rows: list[dict[str, Any]], tag: str) -> list[dict[str, Any]]:
    """Adoption rows of different entities (one entity counts once per area)."""
    return [{**r, "entity_id": f"{r['entity_id']}-{tag}{i}"} if "area_id" in r else r
            for i, r in enumerate(rows)]


def fresh() -> Store:
    store = open_store(None, builtin=False)
    store.append("adoptions", table_frame("adoptions", [GOOD["adoptions"]]))
    return store


def counts(store: Store) -> dict[str, int]:
    """Rows of every readable table the store itself holds (views aside)."""
    raw = store.con.con
    return {name: raw.execute(f'SELECT count(*) FROM main."{name}"').fetchone()[0]
            for name in IN_PLACE}


def refused(root: Path | str, store: Store | None = None) -> ConvergentError:
    """The error reading `root` raises; the store is left exactly as it was."""
    store = store or fresh()
    before, adoptions = counts(store), store.count("adoptions")
    with pytest.raises(ConvergentError) as info:
        store.read_in_place(str(root))
    assert store.views == {}
    assert counts(store) == before and store.count("adoptions") == adoptions
    assert "\n" not in str(info.value)
    return info.value


@pytest.mark.parametrize("rule", RULES, ids=str)
def test_rule_refuses_planted_row_and_accepts_its_boundary(tmp_path: Path, rule: Rule) -> None:
    bad_file = plant(tmp_path / "bad", rule, rule.bad)
    store = fresh()
    err = refused(tmp_path / "bad", store)
    assert err.where == f"{bad_file}: row 3, column {rule.column}"
    message = str(err)
    assert f"Parquet table {rule.table}: {rule.column}" in message
    for word in rule.words:
        assert word in message
    if rule.shown is not None:
        assert f"{rule.column} {rule.shown} " in message

    plant(tmp_path / "good", rule, rule.good)
    store.read_in_place(str(tmp_path / "good"))
    assert store.count(rule.table) == 7 + (1 if rule.table == "adoptions" else 0)


def test_first_bad_row_is_reported_across_rules(tmp_path: Path) -> None:
    """Two bad rows in one file: the earlier one is named, whatever rule it breaks."""
    row = GOOD["adoptions"]
    write(tmp_path / "adoptions" / "a.parquet", [row] * 2)
    b = write(tmp_path / "adoptions" / "b.parquet",
              [row, row, row, {**row, "weight": 2.0}, {**row, "option": "adam_w"}])
    assert refused(tmp_path).where == f"{b}: row 4, column weight"
    b = write(tmp_path / "adoptions" / "b.parquet",
              [row, {**row, "option": "adam_w"}, row, {**row, "weight": 2.0}])
    assert refused(tmp_path).where == f"{b}: row 2, column option"


def test_first_of_several_rows_breaking_one_rule_is_reported(tmp_path: Path) -> None:
    row = GOOD["adoptions"]
    write(tmp_path / "adoptions" / "a.parquet", [row] * 3)
    b = write(tmp_path / "adoptions" / "b.parquet",
              [row, {**row, "weight": 3.0}, row, {**row, "weight": 2.0}])
    err = refused(tmp_path)
    assert err.where == f"{b}: row 2, column weight" and "'3.0'" in str(err)
    a = write(tmp_path / "adoptions" / "a.parquet", [row, row, {**row, "weight": 4.0}])
    assert refused(tmp_path).where == f"{a}: row 3, column weight"


def test_nan_hidden_from_parquet_statistics_is_still_located(tmp_path: Path) -> None:
    """Parquet min/max statistics leave NaN out, so a row-group filter on `weight > 1` skips
    the group holding it; the failing row must still be found and named (no crash)."""
    row = GOOD["adoptions"]
    b = write(tmp_path / "adoptions.parquet", [row] * 5 + [{**row, "weight": NAN}] + [row])
    stats = pq.ParquetFile(b).metadata.row_group(0).column(3).statistics
    assert (stats.min, stats.max) == (0.5, 0.5)
    err = refused(tmp_path)
    assert err.where == f"{b}: row 6, column weight"
    assert "weight 'nan' is not finite" in str(err)


def test_null_optional_cells_take_defaults(tmp_path: Path) -> None:
    row = GOOD["adoptions"]
    write(tmp_path / "adoptions" / "a.parquet",
          [{**row, "weight": None, "origin": None, "source_id": "s1"}, {**row, "date": None}])
    store = open_store(None, builtin=False)
    store.read_in_place(str(tmp_path))
    df = store.table("adoptions").execute()
    assert df["weight"].tolist() == [1.0, 0.5]
    assert df["origin"].tolist() == ["parquet", "parquet"]


# ---------------------------------------------------------------- invariants

def _weight_accepted(weight: float) -> bool:
    with tempfile.TemporaryDirectory() as tmp:
        row = {**GOOD["adoptions"], "weight": weight}
        write(Path(tmp) / "adoptions.parquet", [row])
        try:
            open_tables(duckdb.connect(), tmp)
        except ConvergentError as exc:
            assert exc.where == f"{tmp}/adoptions.parquet: row 1, column weight"
            return False
    return True


@settings(max_examples=40, deadline=None)
@given(st.one_of(st.floats(), st.floats(min_value=0.0, max_value=1.0),
                 st.sampled_from([0.0, -0.0, 1.0, math.nextafter(1.0, 2.0), 5e-324])))
def test_any_weight_in_unit_interval_accepted_any_other_refused(weight: float) -> None:
    assert _weight_accepted(weight) == (math.isfinite(weight) and 0.0 < weight <= 1.0)


@settings(max_examples=30, deadline=None)
@given(st.dates(min_value=dt.date(1900, 1, 1), max_value=dt.date(2100, 12, 31)))
def test_any_date_in_plausible_span_accepted_any_other_refused(day: dt.date) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        write(Path(tmp) / "scores.parquet", [{**GOOD["scores"], "date": day}])
        try:
            open_tables(duckdb.connect(), tmp)
            accepted = True
        except ConvergentError as exc:
            assert exc.where == f"{tmp}/scores.parquet: row 1, column date"
            accepted = False
    assert accepted == (EARLIEST <= day <= latest_plausible())


# ---------------------------------------------------------------- folder problems

def test_missing_folder(tmp_path: Path) -> None:
    err = refused(tmp_path / "nowhere")
    assert err.where == str(tmp_path / "nowhere")
    assert "no such folder" in str(err)


def test_folder_without_tables(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("hello")
    write(tmp_path / "models" / "x.parquet", [GOOD["entities"]])   # not a table name
    (tmp_path / "adoptions").mkdir()                                 # an empty table folder
    err = refused(tmp_path)
    assert err.where == str(tmp_path)
    assert "no Parquet evidence tables" in str(err)


@pytest.mark.parametrize("stray", ["areas.parquet", "options/part-0.parquet"])
def test_registry_tables_are_refused(tmp_path: Path, stray: str) -> None:
    write(tmp_path / "adoptions.parquet", [GOOD["adoptions"]])
    write(tmp_path / stray, [{"area_id": "optimizer", "option": "AdamW", "alias": "x"}])
    err = refused(tmp_path)
    assert err.where == str(tmp_path)
    assert "areas and options come from the registry" in str(err)
    assert str(err).startswith(f"{tmp_path}: {stray.split('/')[0]}: ")


def test_remote_uri_needs_spark() -> None:
    err = refused("s3://b/x")
    assert err.where == "s3://b/x"
    assert "--backend pyspark" in str(err)


def test_corrupt_file(tmp_path: Path) -> None:
    write(tmp_path / "adoptions" / "a.parquet", [GOOD["adoptions"]])
    junk = tmp_path / "adoptions" / "x.parquet"
    junk.write_bytes(bytes(range(256)) * 8)
    err = refused(tmp_path)
    assert err.where == str(junk)
    assert "cannot read Parquet file" in str(err)


def test_corrupt_data_in_second_file_is_blamed_on_that_file(tmp_path: Path) -> None:
    """A file whose footer reads but whose compressed pages do not fails in the validation
    pass over all files; the error must still name the broken file, not the first one."""
    rows = [{**GOOD["adoptions"], "entity_id": f"entity-{i:05d}-{i * 7919 % 10007}"}
            for i in range(3000)]
    write(tmp_path / "adoptions" / "a.parquet", rows)
    broken = write(tmp_path / "adoptions" / "b.parquet", rows)
    data = bytearray(broken.read_bytes())
    data[64:4000] = bytes((i * 131 + 7) % 256 for i in range(64, 4000))
    broken.write_bytes(bytes(data))
    err = refused(tmp_path)
    assert err.where == str(broken)
    assert "cannot read Parquet table adoptions" in str(err)


def test_file_lacking_required_column(tmp_path: Path) -> None:
    row = GOOD["adoptions"]
    write(tmp_path / "adoptions" / "a.parquet", [row])
    b = write(tmp_path / "adoptions" / "b.parquet",
              [{k: v for k, v in row.items() if k != "option"}])
    err = refused(tmp_path)
    assert err.where == str(b)
    assert "Parquet table adoptions lacks columns ['option']" in str(err)


@pytest.mark.parametrize(("column", "value", "expected"), [
    ("date", True, "BOOLEAN; expected DATE"),
    ("weight", True, "BOOLEAN; expected DOUBLE"),
    ("date", 20240101, "BIGINT; expected DATE"),
])
def test_column_of_wrong_type(tmp_path: Path, column: str, value: Any, expected: str) -> None:
    row = GOOD["adoptions"]
    write(tmp_path / "adoptions" / "a.parquet", [row])
    b = write(tmp_path / "adoptions" / "b.parquet", [{**row, column: value}])
    err = refused(tmp_path)
    assert err.where == f"{b}: column {column}"
    assert f"column {column} has type {expected}" in str(err)


def test_timestamp_and_text_dates_are_read_as_dates(tmp_path: Path) -> None:
    row = GOOD["adoptions"]
    write(tmp_path / "adoptions" / "a.parquet",
          [{**row, "date": dt.datetime(2024, 3, 1, 23, 59)}])
    write(tmp_path / "adoptions" / "b.parquet", [{**row, "date": "2024-03-02"}])
    store = open_store(None, builtin=False)
    store.read_in_place(str(tmp_path))
    dates = sorted(str(d)[:10] for d in store.table("adoptions").execute()["date"])
    assert dates == ["2024-03-01", "2024-03-02"]


# ---------------------------------------------------------------- CLI

ARGS = ("classify", "--area", "optimizer", "--as-of", AS_OF.isoformat(), "--json")


def _optimizer(stdout: str) -> dict[str, Any]:
    (row,) = json.loads(stdout)
    return row


def test_cli_classifies_the_folder(folder: Path) -> None:
    out = run("--no-catalog", "--tables", str(folder), *ARGS)
    assert out.returncode == 0, out.stderr
    row = _optimizer(out.stdout)
    assert row["n"] == pytest.approx(KNOWN)
    assert row["leader"] == "AdamW"
    assert row["leader_share"] == pytest.approx(15.5 / 20)
    assert row["level"] == "L2"
    (want,) = Classifier(stored_normally(), load_config(), ["optimizer"]).classify(AS_OF)
    assert (row["certainty"], row["degree"]) == (want.certainty, want.degree)
    assert row["shares"] == want.shares


def test_cli_spark_tables_is_the_same_option_and_adds_to_the_catalog(folder: Path) -> None:
    from convergent.cli import app

    runner = CliRunner()
    (want,) = Classifier(stored_normally(), load_config(), ["optimizer"]).classify(AS_OF)
    for flag in ("--tables", "--spark-tables"):
        res = runner.invoke(app, ["--no-catalog", flag, str(folder), *ARGS])
        assert res.exit_code == 0, res.output
        row = _optimizer(res.stdout)
        assert (row["n"], row["certainty"], row["shares"]) == (want.n, want.certainty,
                                                               want.shares)
    res = runner.invoke(app, ["--spark-tables", str(folder), *ARGS])
    assert res.exit_code == 0, res.output
    (catalog,) = Classifier(open_store(None), load_config(), ["optimizer"]).classify(
        AS_OF, certainty=False)
    assert _optimizer(res.stdout)["n"] == pytest.approx(catalog.n + KNOWN)
    res = runner.invoke(app, ["--spark-tables", str(folder / "nowhere"), *ARGS])
    assert isinstance(res.exception, ConvergentError)
    assert res.exception.where == str(folder / "nowhere")


def test_cli_bad_folder_is_one_line_exit_2(tmp_path: Path) -> None:
    rule = RULES[0]
    bad = plant(tmp_path, rule, rule.bad)
    out = run("--spark-tables", str(tmp_path), "classify", "--json")
    assert out.returncode == 2
    assert out.stdout == ""
    assert out.stderr == (f"error: {bad}: row 3, column weight: Parquet table adoptions: "
                          "weight '1.0000001' must lie in (0, 1]\n")


def test_every_readable_table_has_a_template() -> None:
    assert set(GOOD) == set(IN_PLACE)
    for name, row in GOOD.items():
        assert set(row) <= set(TABLES[name])


@pytest.mark.parametrize("option", [["--tables", "."], ["--backend", "pyspark"]])
@pytest.mark.parametrize("command", [["ingest", "runs", "runs.csv"], ["update", "--no-epoch"]])
def test_commands_that_write_refuse_the_analysis_only_options(
        tmp_path: Path, option: list[str], command: list[str]) -> None:
    from convergent.cli import app

    db = tmp_path / "ev.duckdb"
    result = CliRunner().invoke(app, [*option, *command, "--db", str(db)])
    assert result.exit_code != 0
    assert isinstance(result.exception, ConvergentError)
    assert option[0] in str(result.exception) and "write" in str(result.exception)
    assert not db.exists()                    # nothing was written


# ---------------------------------------------------------------- no adoption twice

def _ad(entity: str, weight: float = 1.0, area: str = "optimizer", option: str = "AdamW",
        date: dt.date | None = dt.date(2024, 1, 1)) -> dict[str, Any]:
    return {"entity_id": entity, "area_id": area, "option": option, "weight": weight,
            "date": date}


@pytest.mark.parametrize(("rows_a", "rows_b", "where"), [
    # the same row twice: the second occurrence is named
    ([_ad("x1"), _ad("x2"), _ad("x1")], None, "a.parquet: row 3"),
    # the same adoption with another weight, across two files
    ([_ad("x1")], [_ad("y"), _ad("x1", 0.5)], "b.parquet: row 2"),
])
def test_an_adoption_recorded_twice_is_refused(
        tmp_path: Path, rows_a: list, rows_b: list | None, where: str) -> None:
    write(tmp_path / "adoptions" / "a.parquet", rows_a)
    if rows_b:
        write(tmp_path / "adoptions" / "nested" / "b.parquet", rows_b)
    err = refused(tmp_path)
    assert where in str(err) and "column entity_id" in str(err)
    assert "'x1'" in str(err) and "repeats its adoption of 'AdamW' in area 'optimizer' on " \
        "2024-01-01 in these files" in str(err) and "counts once" in str(err)


def test_distinct_adoptions_of_one_entity_are_accepted(tmp_path: Path) -> None:
    write(tmp_path / "adoptions" / "a.parquet", [
        _ad("x1", 0.5), _ad("x1", 0.5, option="Lion"),          # an even split
        _ad("x2"), _ad("x2", area="normalization", option="RMSNorm"),   # two areas
        _ad("x3"), _ad("x3", date=dt.date(2024, 6, 1)),         # a later adoption event
        _ad("x4"), _ad("x4", date=None), _ad("x4", date=None),  # undated rows count nowhere
        _ad("x5"), _ad("x5", option="unknown"), _ad("x5", option="unknown")])
    store = open_store(None, builtin=False)
    store.read_in_place(str(tmp_path))
    assert store.count("adoptions") == 12


def test_an_adoption_already_in_the_store_is_refused(tmp_path: Path) -> None:
    write(tmp_path / "adoptions" / "a.parquet", [_ad("x1"), _ad("m", 0.5)])
    err = refused(tmp_path, fresh())                  # the store holds m's AdamW on that day
    assert "a.parquet: row 2, column entity_id" in str(err)
    assert "'m'" in str(err) and "built-in catalog or --db" in str(err)
    other = open_store(None, builtin=False)           # elsewhere m is new: accepted
    other.read_in_place(str(tmp_path))
    assert other.count("adoptions") == 2


def test_the_built_in_catalog_written_as_parquet_reads_back_identically(tmp_path: Path) -> None:
    # real evidence: every table of the shipped catalog as Parquet, read in place without
    # the catalog, classifies exactly as the catalog itself (and passes every check)
    catalog = open_store(None)
    for name in IN_PLACE:
        table = catalog.con.to_pyarrow(catalog.table(name))
        if table.num_rows:
            pq.write_table(table, tmp_path / f"{name}.parquet")
    in_place = open_store(None, builtin=False)
    in_place.read_in_place(str(tmp_path))
    assert in_place.count("adoptions") == catalog.count("adoptions") > 5000
    cfg = load_config()
    when = dt.date(2026, 8, 13)
    for a, b in zip(Classifier(catalog, cfg).classify(when),
                    Classifier(in_place, cfg).classify(when), strict=True):
        assert a.to_dict() == b.to_dict()


def test_a_spark_output_folder_named_like_a_file_is_read(tmp_path: Path) -> None:
    # df.write.parquet("ev/adoptions.parquet") makes a folder of part files and markers
    write(tmp_path / "adoptions.parquet" / "part-00000-x.snappy.parquet", [_ad("x1")])
    write(tmp_path / "adoptions.parquet" / "part-00001-x.snappy.parquet", [_ad("x2")])
    (tmp_path / "adoptions.parquet" / "_SUCCESS").write_text("")
    (tmp_path / "adoptions.parquet" / ".part-00000-x.snappy.parquet.crc").write_text("crc")
    store = open_store(None, builtin=False)
    store.read_in_place(str(tmp_path))
    assert store.count("adoptions") == 2


def test_zoned_timestamps_give_their_utc_date_whatever_the_local_zone(tmp_path: Path) -> None:
    # the store's DuckDB session runs in UTC (Ibis sets it); were it to follow the local zone,
    # a timestamp late on 1 March UTC would be dated 2 March in Tokyo
    late = dt.datetime(2024, 3, 1, 23, 30, tzinfo=dt.UTC)   # 2 March in Tokyo
    write(tmp_path / "adoptions" / "a.parquet", [{**_ad("x1"), "date": late}],
          schema=pa.schema([("entity_id", pa.string()), ("area_id", pa.string()),
                            ("option", pa.string()), ("weight", pa.float64()),
                            ("date", pa.timestamp("us", tz="UTC"))]))
    code = ("import sys; from convergent.store import open_store; "
            "s = open_store(None, builtin=False); s.read_in_place(sys.argv[1]); "
            "print(s.table('adoptions').execute()['date'].iloc[0].date())")
    out = subprocess.run([sys.executable, "-c", code, str(tmp_path)], capture_output=True,
                         text=True, timeout=120, env={**os.environ, "TZ": "Asia/Tokyo"})
    assert out.stdout.strip() == "2024-03-01", out.stderr[-500:]


@pytest.mark.parametrize("value", [["AdamW", "Lion"], {"name": "AdamW"}])
def test_a_nested_value_in_a_text_column_is_a_type_error(tmp_path: Path, value: Any) -> None:
    write(tmp_path / "adoptions" / "a.parquet", [{**_ad("x1"), "option": value}])
    err = refused(tmp_path)
    assert "column option has type" in str(err) and "expected VARCHAR" in str(err)
