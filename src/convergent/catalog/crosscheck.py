"""Cross-check catalog entities against Epoch AI's Notable Models table: dates and parameters."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import yaml

from convergent.dates import leading_date
from convergent.errors import ConvergentError
from convergent.ingest.names import model_key, name_keys, org_overlap

DATE_TOLERANCE_DAYS = 31
PARAMS_TOLERANCE = 0.10
@dataclass
class CatalogRow:
    """One catalog entity as needed for matching, with its file and entry name."""

    file: str
    name: str
    aliases: list[str]
    organization: str
    date: dt.date
    params_total: float | None
    papers: set[str] = field(default_factory=set)


@dataclass
class EpochRow:
    """One Epoch row: model name, organisation, publication date, parameters."""

    row: int
    model: str
    organization: str
    date: dt.date | None
    params: float | None
    papers: set[str] = field(default_factory=set)


@dataclass
class Match:
    """A catalog entity paired with an Epoch row, and how far their facts differ."""

    file: str
    name: str
    epoch_model: str
    epoch_row: int
    organization: str
    epoch_organization: str
    date: str
    epoch_date: str | None
    date_diff_days: int | None
    date_ok: bool | None
    params_total: float | None
    epoch_params: float | None
    params_rel_diff: float | None
    params_ok: bool | None


@dataclass
class CrosscheckReport:
    """Totals, agreement rates and every match; `mismatches` lists the disagreeing ones."""

    epoch_rows: int
    catalog_entities: int
    matches: list[Match] = field(default_factory=list)

    @property
    def mismatches(self) -> list[Match]:
        """Matches whose date or parameter count disagrees beyond tolerance."""
        return [m for m in self.matches if m.date_ok is False or m.params_ok is False]

    def summary(self) -> dict[str, Any]:
        """Counts and percentages of agreement (over matches where both values exist)."""
        dates = [m.date_ok for m in self.matches if m.date_ok is not None]
        params = [m.params_ok for m in self.matches if m.params_ok is not None]
        return {
            "epoch_rows": self.epoch_rows,
            "catalog_entities": self.catalog_entities,
            "matches": len(self.matches),
            "date_compared": len(dates),
            "date_within": sum(dates),
            "date_within_pct": 100.0 * sum(dates) / len(dates) if dates else None,
            "params_compared": len(params),
            "params_within": sum(params),
            "params_within_pct": 100.0 * sum(params) / len(params) if params else None,
            "date_tolerance_days": DATE_TOLERANCE_DAYS,
            "params_tolerance_pct": 100.0 * PARAMS_TOLERANCE,
            "mismatches": len(self.mismatches),
        }

    def to_dict(self) -> dict[str, Any]:
        """Plain data for JSON output."""
        return {"summary": self.summary(),
                "mismatches": [asdict(m) for m in self.mismatches],
                "matches": [asdict(m) for m in self.matches]}


_ARXIV = re.compile(r"arxiv\.org/(?:abs|pdf)/(\d{4}\.\d{4,5})")


def arxiv_ids(text: str) -> set[str]:
    """arXiv identifiers (without version) of every arXiv URL in a text."""
    return set(_ARXIV.findall(text or ""))


def _as_float(value: Any) -> float | None:
    try:
        out = float(value)
    except (TypeError, ValueError):
        return None
    return out if out == out and out > 0 else None


def read_epoch(path: Path) -> list[EpochRow]:
    """Read Epoch's Notable Models CSV (quoted cells may span lines)."""
    import pandas as pd

    try:
        df = pd.read_csv(path, dtype=str, keep_default_na=False)
    except (OSError, UnicodeDecodeError, pd.errors.ParserError) as exc:
        raise ConvergentError(f"cannot read Epoch CSV: {exc}".splitlines()[0],
                              where=str(path)) from None
    need = {"Model", "Organization", "Publication date", "Parameters"}
    if not need <= set(df.columns):
        raise ConvergentError(f"not an Epoch Notable Models CSV: lacks columns "
                              f"{sorted(need - set(df.columns))}", where=str(path))
    rows = []
    for i, rec in enumerate(df.to_dict("records")):
        model = str(rec["Model"]).strip()
        if not model:
            continue
        rows.append(EpochRow(row=i + 2, model=model, organization=str(rec["Organization"]),
                             date=leading_date(rec["Publication date"]),
                             params=_as_float(rec["Parameters"]),
                             papers=arxiv_ids(str(rec.get("Link", "")))))
    return rows


def read_catalog(paths: list[Path] | None = None) -> list[CatalogRow]:
    """Entities of catalog files with the file each comes from (built-in files by default)."""
    from convergent.catalog.load import builtin_files, parse_yaml

    out = []
    for path in paths if paths is not None else builtin_files():
        raw = parse_yaml(Path(path)) or {}
        for ent in raw.get("entities") or []:
            if not isinstance(ent, dict) or "name" not in ent:
                continue
            date = leading_date(ent.get("date"))
            if date is None:
                continue
            out.append(CatalogRow(
                file=Path(path).name, name=str(ent["name"]),
                aliases=[str(a) for a in ent.get("aliases") or []],
                organization=str(ent.get("organization", "")), date=date,
                params_total=_as_float(ent.get("params_total")),
                papers=arxiv_ids(yaml.safe_dump(ent.get("sources") or [])
                                 + yaml.safe_dump(ent.get("choices") or {}))))
    return out


def _candidates(cat: CatalogRow, candidates: list[EpochRow]) -> list[tuple[Any, ...]]:
    """Ranked Epoch rows for one entity: organisation must overlap; closer date breaks ties.

    A row whose paper (arXiv id) differs from every paper the entity cites describes another
    variant of the model (a v2 under the same name, say) and is not a match.
    """
    scored = []
    for ep in candidates:
        sim = org_overlap(cat.organization, ep.organization)
        if sim <= 0 or (cat.papers and ep.papers and not cat.papers & ep.papers):
            continue
        gap = abs((ep.date - cat.date).days) if ep.date else 10**6
        scored.append((-sim, gap, ep.row, ep))
    return sorted(scored, key=lambda t: t[:3])


def crosscheck(epoch_path: Path, catalog_paths: list[Path] | None = None) -> CrosscheckReport:
    """Match catalog entities to Epoch rows one to one and compare dates and parameters.

    Names are matched exactly first (after normalisation), then loosely (brackets, org/
    prefixes dropped); organisations with the importer's matcher. Pairs are assigned best
    first (exact name, organisation overlap, closest date), each Epoch row to one entity.
    """
    epoch = read_epoch(Path(epoch_path))
    catalog = read_catalog(catalog_paths)
    exact: dict[str, list[EpochRow]] = {}
    loose: dict[str, list[EpochRow]] = {}
    for ep in epoch:
        exact.setdefault(model_key(ep.model), []).append(ep)
        for key in name_keys(ep.model):
            loose.setdefault(key, []).append(ep)
    report = CrosscheckReport(epoch_rows=len(epoch), catalog_entities=len(catalog))
    pairs: list[tuple[Any, ...]] = []
    for i, cat in enumerate(catalog):
        labels = [cat.name, *cat.aliases]
        strict = {ep.row: ep for lab in labels for ep in exact.get(model_key(lab), [])}
        wide = {ep.row: ep for lab in labels for k in name_keys(lab)
                for ep in loose.get(k, [])}
        for tier, cands in ((0, strict), (1, {r: e for r, e in wide.items() if r not in strict})):
            pairs += [(tier, *c[:3], i, c[3]) for c in _candidates(cat, list(cands.values()))]
    used_rows: set[int] = set()
    chosen: dict[int, EpochRow] = {}
    for *_, i, ep in sorted(pairs, key=lambda t: t[:5]):
        if i in chosen or ep.row in used_rows:
            continue
        chosen[i] = ep
        used_rows.add(ep.row)
    report.matches = [_compare(catalog[i], chosen[i]) for i in sorted(chosen)]
    return report


def _compare(cat: CatalogRow, ep: EpochRow) -> Match:
    diff = (cat.date - ep.date).days if ep.date else None
    rel = None
    if cat.params_total is not None and ep.params is not None:
        rel = (cat.params_total - ep.params) / ep.params
    return Match(
        file=cat.file, name=cat.name, epoch_model=ep.model, epoch_row=ep.row,
        organization=cat.organization, epoch_organization=ep.organization,
        date=cat.date.isoformat(), epoch_date=ep.date.isoformat() if ep.date else None,
        date_diff_days=diff,
        date_ok=None if diff is None else abs(diff) <= DATE_TOLERANCE_DAYS,
        params_total=cat.params_total, epoch_params=ep.params, params_rel_diff=rel,
        params_ok=None if rel is None else abs(rel) <= PARAMS_TOLERANCE + 1e-9)
