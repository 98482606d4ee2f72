"""Epoch facts for catalog entities: stored in entity_facts, filling only unknown values."""

from __future__ import annotations

import csv
import datetime as dt
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from convergent.catalog.load import load_catalog
from convergent.errors import ConvergentError
from convergent.ingest import ingest
from convergent.store import FACT_FIELDS, Store, open_store, writing_store
from test_ingest_common import dump

HEADER = ["Model", "Organization", "Publication date", "Domain", "Parameters",
          "Training compute (FLOP)", "Training dataset size (gradients)",
          "Training compute cost (2023 USD)"]
CATALOG = """\
entities:
  - name: Kappa 30B
    organization: Example Labs
    country: United States
    date: 2023-03-01
    modality: language
    params_total: 3.0e10
    sources: [https://example.org/kappa]
  - name: Lambda Chat
    organization: Other Org
    country: France
    date: 2022-05-01
    modality: language
    training_compute_flop: 5.0e23
    sources: [https://example.org/lambda]
"""
KAPPA = {"Model": "Kappa-30B", "Organization": "Example Labs", "Publication date": "2023-03-10",
         "Domain": "Language", "Parameters": "32000000000",
         "Training compute (FLOP)": "3.6e23", "Training dataset size (gradients)": "2e12",
         "Training compute cost (2023 USD)": "400000"}
LAMBDA = {"Model": "Lambda Chat", "Organization": "Other Org", "Publication date": "2022-05-02",
          "Domain": "Language", "Parameters": "70000000000",
          "Training compute (FLOP)": "9e23", "Training dataset size (gradients)": "",
          "Training compute cost (2023 USD)": ""}


def _csv(path: Path, rows: list[dict[str, str]]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.DictWriter(fh, fieldnames=HEADER)
        w.writeheader()
        w.writerows(rows)
    return path


def _catalog_store(tmp_path: Path, db: Path | None = None, text: str = CATALOG) -> Store:
    """A store whose catalog is `text`, loaded and filled the way open_store does it."""
    yaml = tmp_path / "catalog.yaml"
    yaml.write_text(text, encoding="utf-8")
    store = Store(db)
    store.replace_origin("catalog", load_catalog([yaml]).frames())
    with store.transaction():
        store.apply_facts()
    return store


def _entity(store: Store, eid: str) -> dict[str, Any]:
    cols = ", ".join(FACT_FIELDS)
    row = store.con.con.execute(f"SELECT {cols} FROM entities WHERE entity_id = ?",
                                [eid]).fetchall()
    assert len(row) == 1, f"expected one entity row for {eid}"
    return dict(zip(FACT_FIELDS, row[0], strict=True))


def test_epoch_compute_fills_catalog_entity(tmp_path: Path) -> None:
    """A catalog entity without compute shows Epoch's compute, cost and tokens after ingest."""
    store = _catalog_store(tmp_path)
    report = ingest(store, "epoch", _csv(tmp_path / "e.csv", [KAPPA]))
    assert report.matched == 1
    df = store.table("entities").filter(lambda t: t.entity_id == "kappa-30b").execute()
    assert len(df) == 1
    assert df["training_compute_flop"].iloc[0] == pytest.approx(3.6e23)
    kappa = _entity(store, "kappa-30b")
    assert kappa["training_cost_usd"] == pytest.approx(4e5)
    assert kappa["dataset_tokens"] == pytest.approx(2e12)
    facts = store.con.con.execute(
        "SELECT entity_id, field, origin, source_id FROM entity_facts ORDER BY field").fetchall()
    assert [(e, f, o) for e, f, o, _ in facts] == [
        ("kappa-30b", "dataset_tokens", "epoch"),
        ("kappa-30b", "training_compute_flop", "epoch"),
        ("kappa-30b", "training_cost_usd", "epoch")]
    assert {s for *_, s in facts} == {report.source_id}


def test_catalog_value_is_never_overwritten(tmp_path: Path) -> None:
    """Values the catalog states win; a differing one is reported as a conflict, not stored."""
    store = _catalog_store(tmp_path)
    report = ingest(store, "epoch", _csv(tmp_path / "e.csv", [KAPPA, LAMBDA]))
    assert report.matched == 2
    assert _entity(store, "kappa-30b")["params_total"] == 3e10
    lam = _entity(store, "lambda-chat")
    assert lam["training_compute_flop"] == 5e23
    assert lam["params_total"] == 7e10
    conflicts = {(c["entity_id"], c["field"]) for c in report.conflicts}
    assert {("kappa-30b", "params_total"), ("lambda-chat", "training_compute_flop")} <= conflicts
    stored = store.con.con.execute("SELECT entity_id, field FROM entity_facts").fetchall()
    assert ("kappa-30b", "params_total") not in stored
    assert ("lambda-chat", "training_compute_flop") not in stored


def test_reingest_is_idempotent(tmp_path: Path) -> None:
    """The same file twice leaves every table identical and counts every row unchanged."""
    store = _catalog_store(tmp_path, tmp_path / "ev.duckdb")
    path = _csv(tmp_path / "e.csv", [KAPPA, LAMBDA])
    first = ingest(store, "epoch", path)
    assert first.added == 2
    before = dump(store)
    again = ingest(store, "epoch", path)
    assert dump(store) == before
    assert (again.added, again.updated, again.unchanged) == (0, 0, 2)


def test_changed_value_replaces_the_fact(tmp_path: Path) -> None:
    """A newer file with another compute value replaces the fact and the fill."""
    store = _catalog_store(tmp_path)
    path = _csv(tmp_path / "e.csv", [KAPPA])
    ingest(store, "epoch", path)
    _csv(path, [{**KAPPA, "Training compute (FLOP)": "4e23"}])
    report = ingest(store, "epoch", path)
    assert report.updated == 1
    assert store.count("entity_facts") == 3
    store.replace_origin("catalog", load_catalog([tmp_path / "catalog.yaml"]).frames())
    with store.transaction():
        store.apply_facts()
    assert _entity(store, "kappa-30b")["training_compute_flop"] == 4e23


def test_failed_ingest_writes_no_facts(tmp_path: Path) -> None:
    """A file with a bad row writes nothing, facts included."""
    store = _catalog_store(tmp_path)
    bad = {**LAMBDA, "Model": "Broken", "Publication date": "2022-13-40"}
    with pytest.raises(ConvergentError):
        ingest(store, "epoch", _csv(tmp_path / "e.csv", [KAPPA, bad]))
    assert store.count("entity_facts") == 0
    assert _entity(store, "kappa-30b")["training_compute_flop"] is None


def test_deleting_the_origin_drops_its_facts(tmp_path: Path) -> None:
    """delete_origin('epoch') removes its facts; after the next catalog reload the fill is gone."""
    store = _catalog_store(tmp_path)
    ingest(store, "epoch", _csv(tmp_path / "e.csv", [KAPPA]))
    with store.transaction():
        store.delete_origin("epoch")
    assert store.count("entity_facts") == 0
    store.replace_origin("catalog", load_catalog([tmp_path / "catalog.yaml"]).frames())
    with store.transaction():
        store.apply_facts()
    assert _entity(store, "kappa-30b")["training_compute_flop"] is None


def _builtin_target() -> dict[str, Any]:
    """A built-in catalog language model with parameters but no compute, from one organisation."""
    ents = load_catalog().frames()["entities"]
    pick = ents[ents["training_compute_flop"].isna() & ents["params_total"].notna()
                & (ents["modality"] == "language") & ents["date"].notna()
                & ~ents["organization"].str.contains("[,;/]", regex=True)]
    if pick.empty:
        pytest.skip("the built-in catalog has no model without compute")
    return pick.sort_values("entity_id").iloc[0].to_dict()


def test_reopen_with_open_store_keeps_the_fill(tmp_path: Path) -> None:
    """The built-in catalog is reloaded on every open; the Epoch fill is applied again."""
    target = _builtin_target()
    eid = target["entity_id"]
    date = target["date"]
    date = date.date() if isinstance(date, dt.datetime) else date
    row = {"Model": target["name"], "Organization": target["organization"],
           "Publication date": date.isoformat(), "Domain": "Language",
           "Parameters": str(target["params_total"] * 3), "Training compute (FLOP)": "1.5e24",
           "Training dataset size (gradients)": "", "Training compute cost (2023 USD)": ""}
    db = tmp_path / "ev.duckdb"
    with writing_store(db) as store:
        report = ingest(store, "epoch", _csv(tmp_path / "e.csv", [row]))
        assert report.matched == 1
        before = dump(store)
    reopened = open_store(db)
    got = _entity(reopened, eid)
    assert got["training_compute_flop"] == 1.5e24
    assert got["params_total"] == target["params_total"]
    assert dump(reopened) == before


_VALUES = st.one_of(st.none(), st.sampled_from([1e9, 2.5e11, 7e12, 3e16]))


@settings(max_examples=10, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(cat_compute=_VALUES, cat_tokens=_VALUES, ep_compute=_VALUES, ep_tokens=_VALUES)
def test_fill_rule(tmp_path: Path, cat_compute: float | None, cat_tokens: float | None,
                   ep_compute: float | None, ep_tokens: float | None) -> None:
    """Each field ends as the catalog's value if it has one, else Epoch's, else unknown."""
    text = ("entities:\n  - name: Mu Net\n    organization: Example Labs\n"
            "    country: United States\n    date: 2021-01-01\n"
            "    sources: [https://example.org/mu]\n")
    if cat_compute is not None:
        text += f"    training_compute_flop: {cat_compute:e}\n"
    store = _catalog_store(tmp_path, text=text)
    if cat_tokens is not None:
        store.con.con.execute("UPDATE entities SET dataset_tokens = ?", [cat_tokens])
    row = {"Model": "Mu Net", "Organization": "Example Labs", "Publication date": "2021-01-01",
           "Domain": "Language", "Parameters": "",
           "Training compute (FLOP)": "" if ep_compute is None else repr(ep_compute),
           "Training dataset size (gradients)": "" if ep_tokens is None else repr(ep_tokens),
           "Training compute cost (2023 USD)": ""}
    ingest(store, "epoch", _csv(tmp_path / "e.csv", [row]))
    got = _entity(store, "mu-net")
    assert got["training_compute_flop"] == (cat_compute if cat_compute is not None
                                            else ep_compute)
    assert got["dataset_tokens"] == (cat_tokens if cat_tokens is not None else ep_tokens)
