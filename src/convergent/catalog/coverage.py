"""How much of the evidence states an option: known / unknown entities per area and year."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from convergent.schema import UNKNOWN

if TYPE_CHECKING:
    from convergent.store import Store


def coverage(
    store: Store,
    areas: list[str] | None = None,
    since: int | None = None,
    until: int | None = None,
) -> list[dict[str, Any]]:
    """Per area and year: entities with a known option, entities with only unknown, coverage.

    An entity counts once per area and year; it is known when any adoption row of it in that
    area states an option other than `unknown`. Rows are sorted by area (registry order), year.
    """
    from convergent.registry import registry

    a = store.table("adoptions")
    if areas is not None:
        a = a.filter(a.area_id.isin(areas))
    year = a.date.year()
    if since is not None:
        a = a.filter(year >= since)
    if until is not None:
        a = a.filter(year <= until)
    per_entity = (
        a.mutate(year=a.date.year(), is_known=(a.option != UNKNOWN).cast("int8"))
        .group_by(["area_id", "year", "entity_id"])
        .agg(known=lambda t: t.is_known.max())
    )
    agg = (
        per_entity.group_by(["area_id", "year"])
        .agg(known=lambda t: t.known.sum(), total=lambda t: t.entity_id.count())
    )
    df = agg.execute()
    order = {area_id: i for i, area_id in enumerate(registry().areas)}
    rows = []
    for rec in df.to_dict("records"):
        known, total = int(rec["known"]), int(rec["total"])
        rows.append({
            "area": rec["area_id"], "year": int(rec["year"]), "known": known,
            "unknown": total - known, "total": total,
            "coverage": known / total if total else None,
        })
    rows.sort(key=lambda r: (order.get(r["area"], len(order)), r["area"], r["year"]))
    return rows


def coverage_matrix(rows: list[dict[str, Any]]) -> tuple[list[int], list[dict[str, Any]]]:
    """Pivot coverage rows to one row per area with a 'known/total' cell per year and overall."""
    years = sorted({r["year"] for r in rows})
    by_area: dict[str, dict[str, Any]] = {}
    for r in rows:
        row = by_area.setdefault(r["area"], {"area": r["area"], "known": 0, "total": 0})
        row[str(r["year"])] = f"{r['known']}/{r['total']}"
        row["known"] += r["known"]
        row["total"] += r["total"]
    out = []
    for row in by_area.values():
        row["coverage"] = f"{100 * row['known'] / row['total']:.0f}%" if row["total"] else None
        out.append(row)
    return years, out
