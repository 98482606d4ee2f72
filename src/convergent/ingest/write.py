"""Writes: the one path by which an ingest changes the store, in one transaction."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from convergent.ingest.csvread import qi
from convergent.ingest.names import model_key
from convergent.ingest.problems import IngestReport
from convergent.ingest.resolve import Existing, existing_entities, resolve
from convergent.registry import norm_key
from convergent.schema import TABLES, UNKNOWN, table_frame

if TYPE_CHECKING:
    import pandas as pd

    from convergent.store import Store

def frame(table: str, rows: list[dict[str, Any]]) -> pd.DataFrame:
    """A DataFrame with exactly the schema's columns and types for `table`."""
    return table_frame(table, rows)


def upsert_source(store: Store, src: dict[str, Any]) -> None:
    """Insert or refresh the `sources` row of one ingested file (inside a transaction)."""
    raw = store.con.con
    raw.execute("DELETE FROM sources WHERE source_id = ?", [src["source_id"]])
    store.append("sources", frame("sources", [src]))


def replace_entities(store: Store, origin: str, own_ids: list[str], foreign_ids: list[str],
                     frames: dict[str, pd.DataFrame]) -> None:
    """Replace the rows of `origin` for the given entities, then append `frames`.

    `own_ids` are entities this origin created (their entity, alias and segment rows go too);
    `foreign_ids` are entities of other origins that this origin added facts to.
    """
    import pandas as pd

    raw = store.con.con
    ids = pd.DataFrame({"entity_id": list(own_ids) + list(foreign_ids)}, dtype="object")
    own = pd.DataFrame({"entity_id": list(own_ids)}, dtype="object")
    raw.register("_ids", ids)
    raw.register("_own", own)
    try:
        raw.execute("DELETE FROM entities WHERE origin = ? AND entity_id IN "
                    "(SELECT entity_id FROM _own)", [origin])
        for t in ("aliases", "segments"):
            raw.execute(f"DELETE FROM {t} WHERE entity_id IN (SELECT entity_id FROM _own)")
        for t in ("adoptions", "scores", "entity_facts"):
            raw.execute(f"DELETE FROM {t} WHERE origin = ? AND entity_id IN "
                        "(SELECT entity_id FROM _ids)", [origin])
    finally:
        raw.unregister("_ids")
        raw.unregister("_own")
    for name, df in frames.items():
        store.append(name, df)


def stored_rows(store: Store, table: str, origin: str, eid: str) -> set[tuple[Any, ...]]:
    """The rows of `table` from `origin` for one entity, as a comparable set."""
    cols = [c for c in TABLES[table] if c != "origin"]
    sel = ", ".join(qi(c) for c in cols)
    rows = store.con.con.execute(
        f"SELECT {sel} FROM {table} WHERE origin = ? AND entity_id = ?", [origin, eid]).fetchall()
    return {tuple(r) for r in rows}


def plain_row(table: str, row: dict[str, Any]) -> tuple[Any, ...]:
    """A row as the tuple DuckDB returns for it (origin left out): comparable with stored rows."""
    out = []
    for col, typ in TABLES[table].items():
        if col == "origin":
            continue
        v = row.get(col)
        if v is None or (isinstance(v, float) and v != v):
            out.append(None)
        elif typ == "float64":
            out.append(float(v))
        elif typ == "boolean":
            out.append(bool(v))
        elif typ == "date":
            out.append(v.date() if isinstance(v, dt.datetime) else v)
        else:
            out.append(str(v))
    return tuple(out)


def as_row_set(df: pd.DataFrame, table: str) -> set[tuple[Any, ...]]:
    """Rows of a frame as a set comparable with `stored_rows`."""
    import pandas as pd

    cols = [c for c in TABLES[table] if c != "origin"]
    out = set()
    for rec in df[cols].itertuples(index=False, name=None):
        out.add(tuple(None if v is None or (not isinstance(v, str) and pd.isna(v)) else
                      (bool(v) if TABLES[table][c] == "boolean" else v)
                      for c, v in zip(cols, rec, strict=True)))
    return out


@dataclass
class Record:
    """One input row about one model, in store terms, before resolution."""

    row: int
    name: str
    organization: str | None = None
    date: dt.date | None = None
    entity: dict[str, Any] = field(default_factory=dict)
    choices: dict[str, list[str]] = field(default_factory=dict)
    scores: list[tuple[str, float]] = field(default_factory=list)
    segments: dict[str, str] = field(default_factory=dict)
    raw_hash: str = ""


def write_records(store: Store, origin: str, src: dict[str, Any], records: list[Record],
                  report: IngestReport, score_date: dt.date | None = None) -> None:
    """Resolve records against existing entities, then write what changed in one transaction.

    A record that matches an existing entity of another origin adds only the choices that
    entity leaves unknown (a differing known choice is reported as a conflict and kept);
    scores are always added. Other records become entities of `origin`.
    """
    from convergent.catalog.load import entity_id
    from convergent.registry import registry

    ex = existing_entities(store, origin)
    stored = _stored_by_entity(store, origin)
    sid = src["source_id"]
    reg = registry()
    out: dict[str, list[dict[str, Any]]] = {t: [] for t in
                                            ("entities", "aliases", "segments", "adoptions",
                                             "scores")}
    own_changed: list[str] = []
    foreign_changed: list[str] = []
    resolved = []
    for rec in records:
        match = resolve(ex, rec.name, rec.organization, rec.date)
        if match is not None:
            eid = match
        else:
            eid = entity_id(rec.name)
            if eid in ex.info:
                eid = f"{eid}-{norm_key(origin)}"
        resolved.append((rec, match, eid))
    keep = _one_record_per_entity(resolved, ex, report)
    for rec, match, eid in resolved:
        if keep[eid] is not rec:
            continue
        if match is not None:
            report.matched += 1
            date = ex.info[eid]["date"] or rec.date
        else:
            date = rec.date
        rows: dict[str, list[dict[str, Any]]] = {t: [] for t in out}
        modality = rec.entity.get("modality", "language")
        for area_id, options in rec.choices.items():
            if match is not None:
                theirs = ex.known.get((eid, area_id))
                if theirs and set(theirs) != set(options):
                    report.conflicts.append({"entity_id": eid, "row": rec.row, "field": area_id,
                                             "existing": sorted(theirs), "ingested": options,
                                             "kept": sorted(theirs)})
                if theirs:
                    continue
            rows["adoptions"].extend(
                {"entity_id": eid, "area_id": area_id, "option": o, "weight": 1.0 / len(options),
                 "date": date, "source_id": sid, "origin": origin} for o in options)
        if match is None:
            for area in reg.areas.values():
                if (area.kind == "share" and area.derived_from != "organization"
                        and area.area_id not in rec.choices and modality in area.applies_to):
                    rows["adoptions"].append({
                        "entity_id": eid, "area_id": area.area_id, "option": UNKNOWN,
                        "weight": 1.0, "date": date, "source_id": sid, "origin": origin})
            ent = {c: None for c in TABLES["entities"]}
            ent.update({"kind": "model", "tier": "notable", "modality": modality,
                        "organization": rec.organization or UNKNOWN, "country": UNKNOWN})
            ent.update(rec.entity)
            ent.update({"entity_id": eid, "name": rec.name, "date": rec.date, "origin": origin,
                        "source_ids": sid, "row_hash": rec.raw_hash})
            rows["entities"].append(ent)
            rows["aliases"].append({"alias": rec.name, "entity_id": eid})
            rows["segments"].extend({"entity_id": eid, "dimension": k, "value": v}
                                    for k, v in rec.segments.items())
        rows["scores"].extend(
            {"entity_id": eid, "benchmark": b, "score": s, "date": rec.date or score_date or date,
             "source_id": sid, "origin": origin} for b, s in rec.scores)
        if _same(stored, eid, rows, own=match is None):
            report.unchanged += 1
            continue
        existed = any(eid in stored[t] for t in stored)
        report.updated += int(existed)
        report.added += int(not existed)
        (own_changed if match is None else foreign_changed).append(eid)
        for t, lst in rows.items():
            out[t].extend(lst)
    commit(store, origin, src, own_changed, foreign_changed,
           {t: frame(t, lst) for t, lst in out.items()})


def _one_record_per_entity(resolved: list[tuple[Record, str | None, str]], ex: Existing,
                           report: IngestReport) -> dict[str, Record]:
    """The record kept for each entity when several rows resolve to one (versions of a model
    the catalog aliases together): the row named exactly like the entity, else the first.
    Every other row is reported as a conflict, never a refused file."""
    groups: dict[str, list[Record]] = {}
    for rec, _, eid in resolved:
        groups.setdefault(eid, []).append(rec)
    keep: dict[str, Record] = {}
    for eid, recs in groups.items():
        name = ex.info.get(eid, {}).get("name")
        exact = [r for r in recs if name is not None and model_key(r.name) == model_key(name)]
        kept = (exact or recs)[0]
        keep[eid] = kept
        for r in recs:
            if r is kept:
                continue
            report.conflicts.append({
                "entity_id": eid, "row": r.row, "field": "entity",
                "existing": f"row {kept.row} ({kept.name})", "ingested": r.name,
                "kept": f"row {kept.row} ({kept.name})"})
            report.notes.append(f"row {r.row}: {r.name!r} resolves to the same entity as row "
                                f"{kept.row} ({kept.name!r}), which was kept")
    return keep


def commit(store: Store, origin: str, src: dict[str, Any], own_ids: list[str],
           foreign_ids: list[str], frames: dict[str, pd.DataFrame],
           bulk: Callable[[], None] | None = None) -> None:
    """The one write of every ingest, in one transaction: the source row, the replaced rows
    of `origin` (`bulk` writes rows staged in SQL first), then entity facts re-applied."""
    with store.transaction():
        upsert_source(store, src)
        if bulk is not None:
            bulk()
        replace_entities(store, origin, own_ids, foreign_ids, frames)
        store.apply_facts()


def _stored_by_entity(store: Store, origin: str) -> dict[str, dict[str, set[tuple[Any, ...]]]]:
    """Every row of `origin` in entities, adoptions and scores, grouped by entity."""
    out: dict[str, dict[str, set[tuple[Any, ...]]]] = {}
    for t in ("entities", "adoptions", "scores"):
        cols = [c for c in TABLES[t] if c != "origin"]
        sel = ", ".join(qi(c) for c in cols)
        by: dict[str, set[tuple[Any, ...]]] = {}
        k = cols.index("entity_id")
        for r in store.con.con.execute(f"SELECT {sel} FROM {t} WHERE origin = ?",
                                       [origin]).fetchall():
            by.setdefault(r[k], set()).add(tuple(r))
        out[t] = by
    return out


def _same(stored: dict[str, dict[str, set[tuple[Any, ...]]]], eid: str,
          rows: dict[str, list[dict[str, Any]]], own: bool) -> bool:
    """True when the store already holds exactly these rows of the origin for the entity."""
    for t in ("entities", "adoptions", "scores") if own else ("adoptions", "scores"):
        if {plain_row(t, r) for r in rows[t]} != stored[t].get(eid, set()):
            return False
    return True
