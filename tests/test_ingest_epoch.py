"""Epoch AI CSV ingest: mapping, idempotence, snapshots, provenance and entity resolution."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from convergent.ingest import ingest
from convergent.ingest.epoch import modality_of, moe_of, openness_of, vendor_of
from convergent.store import Store
from test_ingest_common import FIXTURES, dump, store_with_catalog

SMALL = FIXTURES / "epoch_small.csv"


def _q(store: Store, sql: str, params: list | None = None) -> list[tuple]:
    return store.con.con.execute(sql, params or []).fetchall()


def test_real_file_maps_every_row(epoch_csv: Path) -> None:
    """All 787 rows load with vendors, precision, MoE, openness and frontier developers."""
    store = Store(None)
    report = ingest(store, "epoch", epoch_csv)
    assert (report.rows_read, report.added, report.skipped) == (787, 787, 0)
    assert store.count("entities") == 787
    vendors = dict(_q(store, "SELECT option, sum(weight) FROM adoptions "
                             "WHERE area_id = 'accelerator_vendor' GROUP BY 1"))
    assert vendors["NVIDIA"] > vendors["Google TPU"] > vendors["Huawei Ascend"] > 0
    assert {"AMD", "AWS Trainium", "other"} <= set(vendors)
    prec = dict(_q(store, "SELECT option, count(*) FROM adoptions WHERE area_id = 'precision' "
                          "GROUP BY 1"))
    assert prec["FP16"] == 84 and prec["BF16"] == 39 and prec["FP32"] == 83  # TF32 -> FP32
    moe = {r[0] for r in _q(store, "SELECT e.name FROM adoptions a JOIN entities e USING "
                                   "(entity_id) WHERE area_id = 'ffn' AND option = 'MoE'")}
    assert {"Grok-1", "GPT-4 (Mar 2023)", "M6-T"} <= moe and "GNMT" not in moe
    assert not _q(store, "SELECT 1 FROM adoptions WHERE area_id = 'ffn' AND option = 'dense'")
    grok = _q(store, "SELECT params_total, params_active, open_weights, organization, country "
                     "FROM entities WHERE name = 'Grok-1'")[0]
    assert grok == (314e9, 78.5e9, True, "xAI", "United States")
    weights = _q(store, "SELECT entity_id, sum(weight) FROM adoptions WHERE area_id = "
                        "'accelerator_vendor' GROUP BY 1 HAVING abs(sum(weight) - 1) > 1e-9")
    assert weights == []
    frontier = _q(store, "SELECT count(*) FROM adoptions WHERE area_id = 'frontier_developer'")
    assert frontier[0][0] == 106
    src = _q(store, "SELECT kind, origin, url FROM sources")
    assert src == [("epoch-csv", "epoch", epoch_csv.resolve().as_uri())]
    assert _q(store, "SELECT count(*) FROM entities WHERE row_hash IS NULL "
                     "OR source_ids IS NULL")[0][0] == 0


def test_fixture_cells(tmp_path: Path) -> None:
    """Multi-valued cells, quoted newlines and empty numbers are read as intended."""
    store = Store(None)
    ingest(store, "epoch", SMALL)
    beta = _q(store, "SELECT params_total, params_active, dataset_tokens, tier, country, "
                     "open_weights FROM entities WHERE name = 'Beta-MoE'")[0]
    assert beta == (102e9, 12e9, 2290000001.0, "frontier", "United States", False)
    vend = _q(store, "SELECT option, weight FROM adoptions WHERE entity_id = 'beta-moe' AND "
                     "area_id = 'accelerator_vendor' ORDER BY 1")
    assert vend == [("Google TPU", 0.5), ("NVIDIA", 0.5)]
    gamma = _q(store, "SELECT params_total, modality FROM entities WHERE name = 'Gamma Vision'")
    assert gamma == [(None, "vision")]
    assert _q(store, "SELECT modality FROM entities WHERE name = 'Zeta-VL'") == [
        ("vision-language",)]
    unknown_org = _q(store, "SELECT organization, country FROM entities "
                            "WHERE name = 'Epsilon Speech'")
    assert unknown_org == [("unknown", "unknown")]


def test_idempotent_on_file_backed_store(tmp_path: Path, epoch_csv: Path) -> None:
    """Ingesting the same file twice leaves every table identical."""
    store = store_with_catalog(tmp_path / "ev.duckdb")
    ingest(store, "epoch", epoch_csv)
    before = dump(store)
    again = ingest(store, "epoch", epoch_csv)
    assert (again.added, again.updated, again.unchanged) == (0, 0, 787)
    assert dump(store) == before
    store.con.disconnect()
    reopened = Store(tmp_path / "ev.duckdb")
    assert dump(reopened) == before


def test_newer_snapshot_updates_rows_and_provenance(tmp_path: Path) -> None:
    """A changed row is updated, the others stay, and the snapshot date moves on."""
    path = tmp_path / "epoch.csv"
    shutil.copy(SMALL, path)
    os.utime(path, (1_700_000_000, 1_700_000_000))
    store = Store(None)
    first = ingest(store, "epoch", path)
    old_hash = _q(store, "SELECT row_hash FROM entities WHERE name = 'Delta Diffuser'")[0][0]
    path.write_text(path.read_text("utf-8").replace("900000000", "950000000"), "utf-8")
    os.utime(path, (1_720_000_000, 1_720_000_000))
    second = ingest(store, "epoch", path)
    assert (second.added, second.updated, second.unchanged) == (0, 1, 5)
    row = _q(store, "SELECT params_total, row_hash FROM entities WHERE name = 'Delta Diffuser'")
    assert row[0][0] == 950e6 and row[0][1] != old_hash
    snaps = _q(store, "SELECT snapshot FROM sources")
    assert len(snaps) == 1 and str(snaps[0][0]) == second.snapshot != first.snapshot
    explicit = ingest(store, "epoch", path, snapshot=__import__("datetime").date(2024, 1, 31))
    assert explicit.snapshot == "2024-01-31" and explicit.updated == 0


def test_entity_resolution_with_catalog() -> None:
    """Same model in catalog and Epoch becomes one entity; catalog values win, conflicts listed."""
    store = store_with_catalog()
    report = ingest(store, "epoch", SMALL)
    assert report.matched == 2  # Alpha 7B (19 days apart), Zeta VL; Gamma is 2 years apart
    ids = {r[0] for r in _q(store, "SELECT entity_id FROM entities")}
    assert {"alpha-7b", "zeta-vl", "gamma-vision", "gamma-vision-epoch"} <= ids
    assert "alpha-7b-epoch" not in ids
    assert _q(store, "SELECT count(*) FROM entities WHERE entity_id = 'alpha-7b'")[0][0] == 1
    conflicts = {(c["entity_id"], c["field"]) for c in report.conflicts}
    assert ("alpha-7b", "precision") in conflicts and ("alpha-7b", "params_total") in conflicts
    prec = _q(store, "SELECT option, origin FROM adoptions WHERE entity_id = 'alpha-7b' AND "
                     "area_id = 'precision'")
    assert prec == [("FP16", "catalog")]
    filled = _q(store, "SELECT option, origin, date FROM adoptions WHERE entity_id = 'alpha-7b' "
                       "AND area_id = 'accelerator_vendor' AND option <> 'unknown'")
    assert filled == [("NVIDIA", "epoch", __import__("datetime").date(2023, 6, 20))]
    zeta = dict(_q(store, "SELECT area_id, option FROM adoptions WHERE entity_id = 'zeta-vl' "
                          "AND origin = 'epoch'"))
    assert zeta == {"accelerator_vendor": "AMD", "ffn": "MoE", "precision": "FP32"}
    again = ingest(store, "epoch", SMALL)
    assert again.unchanged == 6 and again.added == again.updated == 0


def test_skip_bad_rows_off_by_default(tmp_path: Path) -> None:
    """Without the flag nothing is written when one row is bad."""
    text = SMALL.read_text("utf-8").replace("2023-01-20", "2023-01-32")
    p = tmp_path / "e.csv"
    p.write_text(text, "utf-8")
    store = Store(None)
    with pytest.raises(Exception, match="row 5"):
        ingest(store, "epoch", p)
    assert store.count("entities") == 0 and store.count("sources") == 0


@pytest.mark.parametrize(("notes", "moe", "active"), [
    ("102B, of which 12B active", True, 12e9),
    ("Rumored to be 1.8T parameter MoE with 280B activated on the forward pass", True, 280e9),
    ("Table 5 in 'The Sparsely-Gated Mixture-of-Experts Layer'", False, None),
    ("sparse MoE with 960 experts; not all parameters are activated", True, None),
    ("7B dense", False, None),
    (None, False, None),
])
def test_moe_from_notes(notes: str | None, moe: bool, active: float | None) -> None:
    """MoE and active parameters come from the notes; a cited title does not count."""
    got = moe_of(notes)
    assert got[0] is moe and got[1] == active


@settings(max_examples=50, deadline=None)
@given(total=st.integers(2, 900), active=st.integers(1, 99), unit=st.sampled_from("MBT"))
def test_moe_active_round_trip(total: int, active: int, unit: str) -> None:
    """'<total>, of which <active> active' always yields the active count in the right unit."""
    scale = {"M": 1e6, "B": 1e9, "T": 1e12}[unit]
    moe, got, _ = moe_of(f"{total}{unit}, of which {active}{unit} active")
    assert moe and got == pytest.approx(active * scale)


def test_value_maps() -> None:
    """Hardware families, accessibility and domains map to the registry's options."""
    assert vendor_of("NVIDIA A100 SXM4 80 GB") == "NVIDIA"
    assert vendor_of("Google TPU v4") == "Google TPU"
    assert vendor_of("Amazon Trainium1") == "AWS Trainium"
    assert vendor_of("Huawei Ascend 910") == "Huawei Ascend"
    assert vendor_of("AMD Radeon Instinct MI250X") == "AMD"
    assert vendor_of("Cerebras CS-2") == "other"
    assert openness_of("Open weights (non-commercial)") == "open"
    assert openness_of("API access") == "closed"
    assert openness_of("") == "unknown"
    assert modality_of("Mathematics,Language") == ("language", "math")
    assert modality_of("Biology") == ("other", "science")
    assert modality_of("Language,Vision")[0] == "vision-language"
