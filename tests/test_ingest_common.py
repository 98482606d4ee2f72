"""Ingest helpers shared by the ingest tests, and tests of the shared reading machinery."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from convergent.catalog.load import load_catalog
from convergent.dates import parse_iso as parse_date
from convergent.errors import ConvergentError
from convergent.ingest.names import model_key, name_keys, org_keys
from convergent.ingest.sniff import sniff_text
from convergent.schema import TABLES
from convergent.store import Store

FIXTURES = Path(__file__).parent / "fixtures" / "ingest"
SHARED = Path(__file__).resolve().parents[1] / ".." / "shared" / "data"
EPOCH_REAL = SHARED / "epoch-notable-ai-models-to-2023.csv"
BENCH_REAL = SHARED / "obsscaling-base-llm-benchmark-eval.csv"
RUNS_REAL = SHARED / "chinchilla-figure4-points.csv"


def need(path: Path) -> Path:
    """Skip the test when a shared data file is absent."""
    if not path.exists():
        pytest.skip(f"shared data file {path.name} is absent (../shared/data not available)")
    return path


def store_with_catalog(db: Path | None = None) -> Store:
    """A store holding the small fixture catalog as the built-in evidence."""
    store = Store(db)
    store.replace_origin("catalog", load_catalog([FIXTURES / "catalog.yaml"]).frames())
    return store


def dump(store: Store) -> dict[str, list[tuple]]:
    """Every table's rows, sorted, for before/after comparisons."""
    out = {}
    for name in TABLES:
        rows = store.con.con.execute(f'SELECT * FROM "{name}"').fetchall()
        out[name] = sorted(rows, key=lambda r: tuple("" if v is None else str(v) for v in r))
    return out


def assert_refused_unchanged(source: str, path: Path, needle: str) -> None:
    """Ingesting `path` as `source` fails with an error matching `needle` (a regex) and
    leaves the store exactly as it was."""
    from convergent.ingest import ingest

    store = store_with_catalog()
    before = dump(store)
    with pytest.raises(ConvergentError, match=needle):
        ingest(store, source, path)
    assert dump(store) == before


def file_hash(db: Path) -> str:
    """Hash of every table of a database file, rows in a fixed order, read without writing."""
    import hashlib

    import duckdb

    con = duckdb.connect(str(db), read_only=True)
    h = hashlib.sha256()
    try:
        for name in TABLES:
            rows = con.execute(f'SELECT * FROM "{name}"').fetchall()
            for r in sorted(repr(x) for x in rows):
                h.update(r.encode())
            h.update(f"|{name}|{len(rows)}".encode())
    finally:
        con.close()
    return h.hexdigest()


def test_model_key_keeps_version_dots() -> None:
    """'opt-1.3b' and 'opt-13b' are different models; spacing and case do not matter."""
    assert model_key("facebook/opt-1.3b") != model_key("facebook/opt-13b")
    assert model_key("Llama 2 70B") == model_key("llama-2-70b")


def test_name_keys_cover_prefix_and_parentheses() -> None:
    """An org/ prefix, a -hf suffix and a (qualifier) are alternative lookup keys."""
    assert model_key("Llama-2-7b") in name_keys("meta-llama/Llama-2-7b-hf")
    assert model_key("GPT-4") in name_keys("GPT-4 (Mar 2023)")


def test_org_keys_merge_synonyms() -> None:
    """Meta's and Google's several spellings resolve to one organisation key."""
    assert org_keys("Meta AI") & org_keys("meta-llama")
    assert org_keys("Google DeepMind") & org_keys("Google Research,DeepMind")
    assert not org_keys("OpenAI") & org_keys("Anthropic")


@given(st.dates())
def test_parse_date_round_trips(day) -> None:
    """Every real date in ISO form parses back to itself."""
    assert parse_date(day.isoformat()) == day


@pytest.mark.parametrize("text", ["2023-13-45", "2023-02-30", "2023-6-1", "June 2023", ""])
def test_parse_date_is_strict(text: str) -> None:
    """Impossible or loosely written dates are rejected."""
    assert parse_date(text) is None


def test_sniff_rejects_utf16(tmp_path: Path) -> None:
    """A UTF-16 file is named as such."""
    p = tmp_path / "x.csv"
    p.write_text("Model,Organization\n", encoding="utf-16")
    with pytest.raises(ConvergentError, match="UTF-16"):
        sniff_text(p, "x.csv")
