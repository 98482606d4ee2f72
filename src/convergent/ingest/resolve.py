"""Resolution: which entity already in the store an input row describes."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from convergent.ingest.names import model_key, name_keys, org_keys
from convergent.schema import UNKNOWN

if TYPE_CHECKING:
    from convergent.store import Store

@dataclass
class Existing:
    """Entities of other origins already in the store, indexed for resolution."""

    by_key: dict[str, list[str]]
    info: dict[str, dict[str, Any]]
    known: dict[tuple[str, str], set[str]]


def existing_entities(store: Store, exclude_origin: str) -> Existing:
    """Entities, aliases and known adoptions not written by `exclude_origin`."""
    raw = store.con.con
    ents = raw.execute(
        "SELECT entity_id, name, organization, date, params_total, params_active, "
        "training_compute_flop, open_weights, tier, origin FROM entities WHERE origin IS NULL "
        "OR origin <> ?", [exclude_origin]).fetchall()
    cols = ["entity_id", "name", "organization", "date", "params_total", "params_active",
            "training_compute_flop", "open_weights", "tier", "origin"]
    info = {r[0]: dict(zip(cols, r, strict=True)) for r in ents}
    by_key: dict[str, list[str]] = {}

    def put(label: str, eid: str) -> None:
        for k in name_keys(label):
            lst = by_key.setdefault(k, [])
            if eid not in lst:
                lst.append(eid)

    for eid, d in info.items():
        put(d["name"], eid)
    for alias, eid in raw.execute("SELECT alias, entity_id FROM aliases").fetchall():
        if eid in info and alias:
            put(alias, eid)
    known: dict[tuple[str, str], set[str]] = {}
    for eid, area, opt in raw.execute(
        "SELECT entity_id, area_id, option FROM adoptions WHERE option <> ? AND "
        "(origin IS NULL OR origin <> ?)", [UNKNOWN, exclude_origin]).fetchall():
        known.setdefault((eid, area), set()).add(opt)
    return Existing(by_key, info, known)


def resolve(ex: Existing, name: str, org: str | None, date: dt.date | None,
            days: int = 60) -> str | None:
    """The existing entity this row describes: same normalised name, organisation and date."""
    cands: dict[str, int] = {}
    for i, k in enumerate(name_keys(name)):
        for eid in ex.by_key.get(k, []):
            cands.setdefault(eid, i)
    exact = model_key(name)
    best: tuple[int, int, int, str] | None = None
    okeys = org_keys(org)
    for eid, key_rank in cands.items():
        d = ex.info[eid]
        theirs = org_keys(d["organization"])
        if okeys and theirs and not (okeys & theirs):
            continue
        gap = 0
        if date is not None and d["date"] is not None:
            gap = abs((d["date"] - date).days)
            if gap > days:
                continue
        rank = (gap, 0 if model_key(str(d["name"])) == exact else 1, key_rank, eid)
        if best is None or rank < best:
            best = rank
    return best[3] if best else None
