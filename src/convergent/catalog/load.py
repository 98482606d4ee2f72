"""Read catalog YAML files into store-shaped tables, collecting every problem with its place."""

from __future__ import annotations

import contextlib
import hashlib
import json
import re
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import pandas as pd
import yaml
from pydantic import ValidationError

from convergent.errors import ConvergentError, ValidationProblems
from convergent.registry import canonical_option, context_bucket, norm_key, registry
from convergent.schema import (
    TABLES,
    UNKNOWN,
    CatalogEntity,
    CatalogEvent,
    CatalogScore,
    table_frame,
)

try:
    _Loader: type = yaml.CSafeLoader
except AttributeError:  # pragma: no cover - pure-Python PyYAML
    _Loader = yaml.SafeLoader


def source_id(url: str) -> str:
    """Stable short id of a source URL."""
    return "src-" + hashlib.sha1(url.encode("utf-8")).hexdigest()[:12]


def entity_id(name: str) -> str:
    """Stable id of an entity from its canonical name."""
    slug = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")
    return slug or "e-" + hashlib.sha1(name.encode("utf-8")).hexdigest()[:10]


@dataclass
class Evidence:
    """Rows for each store table, as lists of dicts until frozen into DataFrames."""

    rows: dict[str, list[dict[str, Any]]] = field(
        default_factory=lambda: {name: [] for name in TABLES}
    )

    def frames(self) -> dict[str, pd.DataFrame]:
        """One DataFrame per table, with exactly the schema's columns."""
        return {name: table_frame(name, self.rows[name]) for name in TABLES}


def builtin_files() -> list[Path]:
    """The catalog files shipped with the package (everything but the registry)."""
    root = Path(str(resources.files("convergent.catalog")))
    return sorted(p for p in root.rglob("*.yaml") if p.name != "areas.yaml")


def _loc(err: dict[str, Any]) -> str:
    return ".".join(str(p) for p in err["loc"])


class _Builder:
    """Accumulates rows and problems while walking catalog files."""

    def __init__(self, origin: str) -> None:
        self.origin = origin
        self.ev = Evidence()
        self.problems: list[str] = []
        self.names: dict[str, str] = {}  # normalised name or alias -> where first defined
        self.entity_ids: set[str] = set()
        self.sources: set[str] = set()

    def source(self, url: str) -> str:
        sid = source_id(url)
        if sid not in self.sources:
            self.sources.add(sid)
            self.ev.rows["sources"].append({
                "source_id": sid, "url": url, "title": None, "kind": "url",
                "origin": self.origin, "snapshot": None,
            })
        return sid

    def claim_name(self, label: str, where: str) -> bool:
        key = norm_key(label)
        if key in self.names and self.names[key] != where:
            self.problems.append(f"{where}: name {label!r} is already used at {self.names[key]}")
            return False
        self.names[key] = where
        return True

    def add_entity(self, e: CatalogEntity, where: str) -> None:
        eid = entity_id(e.name)
        if not self.claim_name(e.name, where) or eid in self.entity_ids:
            return
        for alias in e.aliases:
            if not self.claim_name(alias, where):
                return
        sids = [self.source(u) for u in e.sources]
        adoptions = self._choices(e, eid, sids[0], where)
        if adoptions is None:
            return
        self.entity_ids.add(eid)
        payload = e.model_dump(mode="json")
        self.ev.rows["entities"].append({
            "entity_id": eid, "name": e.name, "kind": e.kind, "organization": e.organization,
            "country": e.country, "date": e.date, "modality": e.modality,
            "params_total": e.params_total, "params_active": e.params_active,
            "open_weights": e.open_weights, "context_length": e.context_length,
            "training_compute_flop": e.training_compute_flop,
            "training_cost_usd": e.training_cost_usd,
            "dataset_tokens": None, "tier": e.tier, "origin": self.origin,
            "source_ids": ";".join(sids),
            "row_hash": hashlib.sha1(json.dumps(payload, sort_keys=True).encode()).hexdigest(),
        })
        self.ev.rows["aliases"].extend(
            {"alias": a, "entity_id": eid} for a in [e.name, *e.aliases]
        )
        openness = UNKNOWN if e.open_weights is None else ("open" if e.open_weights else "closed")
        for dim, value in (("modality", e.modality), ("domain", e.domain),
                           ("deployment", e.deployment), ("openness", openness),
                           ("country", e.country), ("tier", e.tier)):
            self.ev.rows["segments"].append({"entity_id": eid, "dimension": dim, "value": value})
        self.ev.rows["adoptions"].extend(adoptions)

    def _choices(
        self, e: CatalogEntity, eid: str, default_sid: str, where: str
    ) -> list[dict[str, Any]] | None:
        reg = registry()
        rows: list[dict[str, Any]] = []
        ok = True
        for area_id in e.choices:
            area = reg.areas.get(area_id)
            if area is None or area.kind != "share" or area.derived_from:
                self.problems.append(f"{where}: choices.{area_id} is not an area one can choose")
                ok = False
        for area in reg.areas.values():
            if area.kind != "share":
                continue
            raw = e.choices.get(area.area_id)
            sid = default_sid
            if area.derived_from == "context_length":
                labels = [context_bucket(e.context_length)]
            elif area.derived_from == "organization":
                if e.tier != "frontier":
                    continue
                labels = [e.organization]
            elif raw is None:
                if e.modality not in area.applies_to:
                    continue
                labels = [UNKNOWN]
            else:
                if isinstance(raw, dict):
                    if set(raw) - {"option", "source"} or "option" not in raw:
                        self.problems.append(
                            f"{where}: choices.{area.area_id} must be an option, a list of "
                            "options, or {option, source}")
                        ok = False
                        continue
                    if "source" in raw:
                        if not str(raw["source"]).startswith(("http://", "https://")):
                            self.problems.append(
                                f"{where}: choices.{area.area_id}.source is not a URL")
                            ok = False
                            continue
                        sid = self.source(str(raw["source"]))
                    raw = raw["option"]
                labels = raw if isinstance(raw, list) else [raw]
            try:
                options = [canonical_option(area.area_id, str(x)) for x in labels]
            except ConvergentError as exc:
                self.problems.append(f"{where}: choices.{area.area_id}: {exc}")
                ok = False
                continue
            if len(set(options)) != len(options):
                self.problems.append(f"{where}: choices.{area.area_id} repeats an option")
                ok = False
                continue
            if UNKNOWN in options and len(options) > 1:
                self.problems.append(f"{where}: choices.{area.area_id} mixes unknown with options")
                ok = False
                continue
            for opt in options:
                rows.append({
                    "entity_id": eid, "area_id": area.area_id, "option": opt,
                    "weight": 1.0 / len(options), "date": e.date, "source_id": sid,
                    "origin": self.origin,
                })
        return rows if ok else None

    def add_event(self, ev: CatalogEvent, where: str) -> None:
        area = registry().areas.get(ev.area)
        if area is None or area.kind != "share":
            self.problems.append(f"{where}: area {ev.area!r} is not a share area")
            return
        try:
            option = canonical_option(ev.area, ev.option)
        except ConvergentError as exc:
            self.problems.append(f"{where}: {exc}")
            return
        eid = entity_id(ev.subject)
        sids = [self.source(u) for u in ev.sources]
        if eid not in self.entity_ids:
            self.entity_ids.add(eid)
            self.names.setdefault(norm_key(ev.subject), where)
            self.ev.rows["entities"].append({
                "entity_id": eid, "name": ev.subject, "kind": ev.kind,
                "organization": ev.organization, "country": ev.country, "date": ev.date,
                "modality": "other", "params_total": None, "params_active": None,
                "open_weights": None, "context_length": None, "training_compute_flop": None,
                "training_cost_usd": None, "dataset_tokens": None, "tier": "notable",
                "origin": self.origin, "source_ids": ";".join(sids), "row_hash": None,
            })
            self.ev.rows["aliases"].append({"alias": ev.subject, "entity_id": eid})
            self.ev.rows["segments"].append(
                {"entity_id": eid, "dimension": "country", "value": ev.country})
        self.ev.rows["adoptions"].append({
            "entity_id": eid, "area_id": ev.area, "option": option, "weight": 1.0,
            "date": ev.date, "source_id": sids[0], "origin": self.origin,
        })

    def add_score(self, sc: CatalogScore, where: str, resolve: dict[str, str]) -> None:
        eid = resolve.get(norm_key(sc.model))
        if eid is None:
            self.problems.append(f"{where}: model {sc.model!r} is not in the catalog")
            return
        self.ev.rows["scores"].append({
            "entity_id": eid, "benchmark": sc.benchmark, "score": sc.score, "date": sc.date,
            "source_id": self.source(sc.source), "origin": self.origin,
        })


def parse_yaml(path: Path) -> Any:
    """A catalog file's YAML, parsed the one way every reader of catalog files uses."""
    return yaml.load(Path(path).read_text("utf-8"), Loader=_Loader)


def _read(path: Path, problems: list[str]) -> dict[str, list[Any]] | None:
    try:
        raw = parse_yaml(path) or {}
    except (OSError, UnicodeDecodeError) as exc:
        problems.append(f"{path}: cannot read: {exc}")
        return None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        problems.append(f"{path}:{mark.line + 1 if mark else '?'}: not valid YAML")
        return None
    except ValueError as exc:  # e.g. a timestamp like 2023-13-45
        problems.append(f"{path}: not valid YAML: {exc}")
        return None
    if not isinstance(raw, dict):
        problems.append(f"{path}: top level must be a mapping with entities/events/scores")
        return None
    unknown = set(raw) - {"entities", "events", "scores"}
    if unknown:
        problems.append(f"{path}: unknown top-level keys {sorted(unknown)}")
        return None
    parsed: dict[str, list[Any]] = {"entities": [], "events": [], "scores": []}
    kinds = {"entities": CatalogEntity, "events": CatalogEvent, "scores": CatalogScore}
    for key, model in kinds.items():
        items = raw.get(key) or []
        if not isinstance(items, list):
            problems.append(f"{path}: {key} must be a list")
            continue
        for i, item in enumerate(items):
            label = item.get("name") or item.get("subject") or item.get("model") \
                if isinstance(item, dict) else None
            where = f"{path} {key}[{i}]" + (f" ({label})" if label else "")
            try:
                parsed[key].append((where, model.model_validate(item)))
            except ValidationError as exc:
                for err in exc.errors():
                    problems.append(f"{where}: {_loc(err) or 'entry'}: {err['msg']}")
    return parsed


def build_evidence(paths: list[Path], origin: str = "catalog") -> tuple[Evidence, list[str]]:
    """Parse and validate catalog files; return the rows and every problem found."""
    builder = _Builder(origin)
    files = []
    for path in paths:
        cf = _read(Path(path), builder.problems)
        if cf is not None:
            files.append(cf)
    for cf in files:
        for where, ent in cf["entities"]:
            builder.add_entity(ent, where)
    for cf in files:
        for where, ev in cf["events"]:
            builder.add_event(ev, where)
    resolve = {norm_key(r["alias"]): r["entity_id"] for r in builder.ev.rows["aliases"]}
    for cf in files:
        for where, sc in cf["scores"]:
            builder.add_score(sc, where, resolve)
    return builder.ev, builder.problems


def builtin_frames() -> dict[str, pd.DataFrame]:
    """Store frames of the built-in catalog, cached by a hash of its files' contents."""
    import pickle

    from convergent import __version__
    from convergent.cache import cache_dir, cached_bytes

    files = builtin_files()
    digest = hashlib.sha1(__version__.encode())
    for path in files:
        digest.update(path.name.encode())
        digest.update(path.read_bytes())
    name = f"catalog-{digest.hexdigest()[:16]}.pkl"
    data = cached_bytes(name, lambda: pickle.dumps(load_catalog(files).frames()))
    try:
        return pickle.loads(data)
    except Exception:  # a damaged cache file: drop it and rebuild from the YAML
        with contextlib.suppress(OSError):
            (cache_dir() / name).unlink()
        return load_catalog(files).frames()


def load_catalog(paths: list[Path] | None = None, origin: str = "catalog") -> Evidence:
    """Load catalog files (the built-in ones by default); raise on any problem."""
    ev, problems = build_evidence(paths if paths is not None else builtin_files(), origin)
    if problems:
        raise ValidationProblems(problems)
    return ev
