"""The one schema: store table columns and the validated shapes of catalog files."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

if TYPE_CHECKING:
    import pandas as pd

UNKNOWN = "unknown"

Modality = Literal[
    "language", "vision-language", "multimodal", "image", "video", "audio", "vision", "other"
]

# Store tables: column name -> DuckDB/Ibis type. Every writer and reader uses these.
TABLES: dict[str, dict[str, str]] = {
    "sources": {
        "source_id": "string",
        "url": "string",
        "title": "string",
        "kind": "string",
        "origin": "string",
        "snapshot": "date",
    },
    "entities": {
        "entity_id": "string",
        "name": "string",
        "kind": "string",
        "organization": "string",
        "country": "string",
        "date": "date",
        "modality": "string",
        "params_total": "float64",
        "params_active": "float64",
        "open_weights": "boolean",
        "context_length": "float64",
        "training_compute_flop": "float64",
        "training_cost_usd": "float64",
        "dataset_tokens": "float64",
        "tier": "string",
        "origin": "string",
        "source_ids": "string",
        "row_hash": "string",
    },
    "aliases": {"alias": "string", "entity_id": "string"},
    "segments": {"entity_id": "string", "dimension": "string", "value": "string"},
    "areas": {
        "area_id": "string",
        "layer": "string",
        "kind": "string",
        "name_en": "string",
        "name_zh": "string",
        "benchmark": "string",
        "ceiling": "float64",
    },
    "options": {"area_id": "string", "option": "string", "alias": "string"},
    "adoptions": {
        "entity_id": "string",
        "area_id": "string",
        "option": "string",
        "weight": "float64",
        "date": "date",
        "source_id": "string",
        "origin": "string",
    },
    "scores": {
        "entity_id": "string",
        "benchmark": "string",
        "score": "float64",
        "date": "date",
        "source_id": "string",
        "origin": "string",
    },
    "entity_facts": {
        "entity_id": "string",
        "field": "string",
        "value": "float64",
        "source_id": "string",
        "origin": "string",
    },
    "runs": {
        "run_id": "string",
        "group_name": "string",
        "params": "float64",
        "tokens": "float64",
        "compute": "float64",
        "loss": "float64",
        "source_id": "string",
    },
}


def table_frame(table: str, data: Any) -> pd.DataFrame:
    """Rows (dicts or a DataFrame) as a DataFrame with exactly `table`'s columns and types;
    missing columns are null."""
    import pandas as pd

    cols = TABLES[table]
    df = data.copy() if isinstance(data, pd.DataFrame) else pd.DataFrame(list(data))
    for col in cols:
        if col not in df:
            df[col] = None
    df = df[list(cols)]
    for col, typ in cols.items():
        if typ == "date":
            df[col] = pd.to_datetime(df[col]).dt.date
        elif typ == "float64":
            df[col] = pd.to_numeric(df[col]).astype("float64")
        elif typ == "boolean":
            df[col] = df[col].astype("boolean")
        else:
            df[col] = df[col].astype("object")
    return df


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Layer(_Strict):
    """One layer of the pyramid."""

    zh: str
    en: str
    order: int


class Area(_Strict):
    """A decision area: a technology question with competing options."""

    area_id: str
    layer: str
    zh: str
    en: str
    kind: Literal["share", "capability"] = "share"
    applies_to: list[str] = Field(default_factory=list)
    segments: list[str] = Field(default_factory=list)
    options: dict[str, list[str]] = Field(default_factory=dict)
    open_options: bool = False
    derived_from: str | None = None
    benchmark: str | None = None
    ceiling: float | None = None


class Registry(_Strict):
    """All layers and areas, with the option alias table."""

    layers: dict[str, Layer]
    areas: dict[str, Area]

    @model_validator(mode="after")
    def _layers_exist(self) -> Registry:
        for area in self.areas.values():
            if area.layer not in self.layers:
                raise ValueError(f"area {area.area_id!r}: unknown layer {area.layer!r}")
        return self


class CatalogEntity(_Strict):
    """One model or system in a catalog file; `choices` maps area -> option(s)."""

    name: str = Field(min_length=1)
    organization: str = Field(min_length=1)
    country: str = Field(min_length=1)
    date: dt.date
    kind: Literal["model", "system", "product", "framework"] = "model"
    modality: Modality = "language"
    domain: str = "general"
    deployment: Literal["cloud", "edge"] = "cloud"
    tier: Literal["frontier", "notable"] = "notable"
    aliases: list[str] = Field(default_factory=list)
    params_total: float | None = Field(default=None, gt=0)
    params_active: float | None = Field(default=None, gt=0)
    open_weights: bool | None = None
    context_length: float | None = Field(default=None, gt=0)
    training_compute_flop: float | None = Field(default=None, gt=0, lt=1e32)
    training_cost_usd: float | None = Field(default=None, gt=0, lt=1e12)
    sources: list[str] = Field(min_length=1)
    choices: dict[str, Any] = Field(default_factory=dict)
    notes: str | None = None

    @field_validator("sources")
    @classmethod
    def _urls(cls, v: list[str]) -> list[str]:
        for url in v:
            if not url.startswith(("http://", "https://")):
                raise ValueError(f"source {url!r} is not a URL")
        return v

    @model_validator(mode="after")
    def _active_le_total(self) -> CatalogEntity:
        if (
            self.params_active is not None
            and self.params_total is not None
            and self.params_active > self.params_total
        ):
            raise ValueError("params_active exceeds params_total")
        return self


class CatalogEvent(_Strict):
    """A dated adoption event: a product or framework announces support for an option."""

    subject: str = Field(min_length=1)
    organization: str = Field(min_length=1)
    country: str = "unknown"
    kind: Literal["product", "framework", "model", "system"] = "product"
    area: str
    option: str
    date: dt.date
    sources: list[str] = Field(min_length=1)

    _urls = field_validator("sources")(CatalogEntity._urls.__func__)  # type: ignore[attr-defined]


class CatalogScore(_Strict):
    """A dated benchmark score of one model."""

    model: str
    benchmark: str
    score: float
    date: dt.date
    source: str

    @field_validator("source")
    @classmethod
    def _url(cls, v: str) -> str:
        if not v.startswith(("http://", "https://")):
            raise ValueError(f"source {v!r} is not a URL")
        return v
