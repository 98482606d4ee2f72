"""The prediction registry: structured, dated claims resolved against convergent's
measures (or by hand with evidence), scored with the Brier score once resolved."""

from __future__ import annotations

import datetime as dt
import math
import operator
import re
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal

import yaml
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError, model_validator

from convergent.errors import ConvergentError, ValidationProblems

if TYPE_CHECKING:
    from convergent.classify import AreaResult, Classifier
    from convergent.store import Store

PACKAGED = "predictions.yaml"
MAX_BYTES = 4 * 2**20
MEASURES = ("share", "leader", "leader_share", "top2_share", "top_k_share", "hhi",
            "effective_n", "count_at_least", "n", "degree", "level")
TEXT_MEASURES = ("leader", "level")
LEVEL_ORDER = {"L0": 0, "L1": 1, "L2": 2, "L3": 3, "L4": 4}
_OPS = {">=": operator.ge, ">": operator.gt, "<=": operator.le, "<": operator.lt,
        "==": operator.eq, "!=": operator.ne}


def _date(value: Any) -> Any:
    """Accept YYYY-MM-DD, YYYY-MM, YYYY-Qn and YYYY for dates."""
    if isinstance(value, str):
        from convergent.dates import parse_date

        try:
            return parse_date(value)
        except ConvergentError as exc:
            raise ValueError(str(exc)) from None
    return value


DateLike = Annotated[dt.date, BeforeValidator(_date)]


def _number(value: Any) -> Any:
    """A finite number: YAML's true/false and .inf/.nan are not numbers here."""
    if isinstance(value, bool):
        raise ValueError("expected a number, not true/false")
    if isinstance(value, float) and not math.isfinite(value):
        raise ValueError("expected a finite number")
    if isinstance(value, list):
        return [_number(v) for v in value]
    return value


Probability = Annotated[float | None, BeforeValidator(_number)]
Threshold = Annotated[float | str | list[float], BeforeValidator(_number)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Statement(_Strict):
    """The claim in Chinese and English."""

    zh: str = Field(min_length=1)
    en: str = Field(min_length=1)


class Metric(_Strict):
    """A measure of one area in the trailing window ending at a date."""

    measure: Literal[MEASURES]  # type: ignore[valid-type]
    area: str
    option: str | None = None
    k: int | None = Field(default=None, ge=1)
    min_share: float | None = Field(default=None, gt=0, le=1)
    window_months: float | None = Field(default=None, gt=0)

    @model_validator(mode="after")
    def _needs(self) -> Metric:
        if self.measure == "share" and not self.option:
            raise ValueError("measure 'share' needs an option")
        if self.measure == "top_k_share" and self.k is None:
            raise ValueError("measure 'top_k_share' needs k")
        if self.measure == "count_at_least" and self.min_share is None:
            raise ValueError("measure 'count_at_least' needs min_share")
        return self

    def describe(self) -> str:
        """Short text such as share(agent_protocol, MCP)."""
        extra = [x for x in (self.option, f"k={self.k}" if self.k else None,
                             f"≥{self.min_share:g}" if self.min_share else None) if x]
        return f"{self.measure}({', '.join([self.area, *extra])})"


class Condition(_Strict):
    """metric comparator threshold."""

    metric: Metric
    comparator: Literal[">=", ">", "<=", "<", "==", "!=", "between"]
    threshold: Threshold

    @model_validator(mode="after")
    def _consistent(self) -> Condition:
        text = self.metric.measure in TEXT_MEASURES
        if self.comparator == "between":
            if not (isinstance(self.threshold, list) and len(self.threshold) == 2
                    and self.threshold[0] <= self.threshold[1]):
                raise ValueError("comparator 'between' needs threshold [low, high]")
        elif isinstance(self.threshold, list):
            raise ValueError(f"comparator {self.comparator!r} needs one threshold, not a list")
        if text and self.metric.measure == "leader" and self.comparator not in ("==", "!="):
            raise ValueError("measure 'leader' compares with == or != against an option")
        if text and self.metric.measure == "level" and str(self.threshold) not in LEVEL_ORDER:
            raise ValueError("measure 'level' needs a threshold among L0–L4")
        if not text and isinstance(self.threshold, str):
            raise ValueError(f"measure {self.metric.measure!r} needs a numeric threshold")
        return self

    def describe(self) -> str:
        """Text such as share(agent_protocol, MCP) >= 0.5."""
        thr = (f"[{self.threshold[0]:g}, {self.threshold[1]:g}]"
               if isinstance(self.threshold, list) else f"{self.threshold}")
        return f"{self.metric.describe()} {self.comparator} {thr}"

    def holds(self, value: Any) -> bool | None:
        """Whether the value meets the condition (None when the value is missing)."""
        if value is None:
            return None
        if self.metric.measure == "level":
            if value not in LEVEL_ORDER:
                return None
            return bool(_OPS[self.comparator](LEVEL_ORDER[value], LEVEL_ORDER[self.threshold]))
        if self.comparator == "between":
            lo, hi = self.threshold
            return bool(lo <= value <= hi)
        return bool(_OPS[self.comparator](value, self.threshold))


class Resolution(_Strict):
    """A manual resolution: the outcome, when, and the evidence it rests on."""

    outcome: bool
    date: DateLike
    sources: list[str] = Field(min_length=1)
    note: str | None = None


class Resolver(_Strict):
    """How a prediction is resolved: by a metric, or by hand against stated evidence."""

    kind: Literal["metric", "manual"]
    when: Literal["at", "by"] = "at"
    evidence: str | None = None
    resolution: Resolution | None = None

    @model_validator(mode="after")
    def _manual(self) -> Resolver:
        if self.kind == "manual" and not self.evidence:
            raise ValueError("a manual resolver needs 'evidence' (what would resolve it)")
        if self.kind == "metric" and self.resolution is not None:
            raise ValueError("a metric resolver is resolved by data, not by 'resolution'")
        return self


class Prediction(_Strict):
    """One dated, structured prediction."""

    id: str = Field(pattern=r"^[a-z0-9][a-z0-9_.-]*$")
    statement: Statement
    source: str | None = None
    made: DateLike
    due: DateLike
    probability: Probability = Field(default=None, ge=0, le=1)
    probability_basis: str | None = None
    criteria: str | None = None
    metric: Metric | None = None
    comparator: Literal[">=", ">", "<=", "<", "==", "!=", "between"] | None = None
    threshold: Threshold | None = None
    also: list[Condition] = Field(default_factory=list)
    resolver: Resolver

    @model_validator(mode="after")
    def _shape(self) -> Prediction:
        if self.due < self.made:
            raise ValueError(f"due {self.due} is before made {self.made}")
        has = [self.metric is not None, self.comparator is not None, self.threshold is not None]
        if any(has) and not all(has):
            raise ValueError("metric, comparator and threshold go together")
        if self.resolver.kind == "metric" and not all(has):
            raise ValueError("a metric resolver needs metric, comparator and threshold")
        if all(has):
            Condition(metric=self.metric, comparator=self.comparator, threshold=self.threshold)
        return self

    def conditions(self) -> list[Condition]:
        """The main condition followed by the `also` conditions."""
        if self.metric is None:
            return []
        main = Condition(metric=self.metric, comparator=self.comparator,
                         threshold=self.threshold)
        return [main, *self.also]


def _entry_lines(text: str) -> list[int]:
    """1-based line of each entry of the predictions list."""
    try:
        node = yaml.compose(text)
    except yaml.YAMLError:
        return []
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            if key.value == "predictions":
                node = value
                break
    if not isinstance(node, yaml.SequenceNode):
        return []
    return [item.start_mark.line + 1 for item in node.value]


class _Loader(yaml.SafeLoader):
    """Safe YAML without aliases (no entity expansion) and with dates left as text, so
    that our one date parser reads them and an impossible date is a clear error."""

    def compose_node(self, parent: Any, index: Any) -> Any:
        if self.check_event(yaml.AliasEvent):
            mark = self.peek_event().start_mark
            raise yaml.MarkedYAMLError(None, None, "aliases (*name) are not allowed", mark)
        return super().compose_node(parent, index)


_Loader.yaml_implicit_resolvers = {
    k: [(tag, rx) for tag, rx in v if tag != "tag:yaml.org,2002:timestamp"]
    for k, v in yaml.SafeLoader.yaml_implicit_resolvers.items()}


def _read(path: Path) -> str:
    """The text of a registry file, or a one-line error saying why it cannot be read."""
    from convergent.userfiles import read_text

    return read_text(path, "prediction registry", max_bytes=MAX_BYTES)


def _message(err: ValidationError) -> str:
    parts = []
    for e in err.errors():
        loc = ".".join(str(x) for x in e["loc"])
        msg = re.sub(r"^Value error, ", "", e["msg"])
        parts.append(f"{loc}: {msg}" if loc else msg)
    return "; ".join(parts)


def load_registry(path: str | Path | None = None, *, include_packaged: bool = True
                  ) -> list[Prediction]:
    """The packaged predictions plus a user's file (or only the user's file).

    Every problem names the file, the line and the entry's id; duplicate ids are errors.
    """
    sources: list[tuple[str, str]] = []
    if include_packaged or path is None:
        text = resources.files("convergent.forecast").joinpath(PACKAGED).read_text("utf-8")
        sources.append((PACKAGED, text))
    if path is not None:
        sources.append((str(path), _read(Path(path))))
    preds: list[Prediction] = []
    problems: list[str] = []
    seen: dict[str, str] = {}
    for name, text in sources:
        try:
            raw = yaml.load(text, Loader=_Loader)
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            where = f"{name}:{mark.line + 1}" if mark else name
            what = getattr(exc, "problem", None) or "cannot parse"
            raise ConvergentError(f"not valid YAML: {what}", where=where) from None
        except RecursionError:
            raise ConvergentError("not valid YAML: nested too deeply", where=name) from None
        items = raw.get("predictions") if isinstance(raw, dict) else raw
        if raw is None:
            items = []
        if not isinstance(items, list):
            raise ConvergentError("expected a list of predictions (or a 'predictions:' list)",
                                  where=name)
        lines = _entry_lines(text)
        for i, item in enumerate(items):
            line = lines[i] if i < len(lines) else None
            where = f"{name}:{line}" if line else name
            ident = item.get("id") if isinstance(item, dict) else None
            label = f"prediction {ident!r}" if ident else f"prediction #{i + 1} (no id)"
            if not isinstance(item, dict):
                problems.append(f"{where}: {label}: expected a mapping")
                continue
            try:
                pred = Prediction.model_validate(item)
                _check_names(pred)
            except ValidationError as exc:
                problems.append(f"{where}: {label}: {_message(exc)}")
                continue
            except ConvergentError as exc:
                problems.append(f"{where}: {label}: {exc}")
                continue
            if pred.id in seen:
                problems.append(f"{where}: {label}: duplicate id (first in {seen[pred.id]})")
                continue
            seen[pred.id] = where
            preds.append(pred)
    if problems:
        raise ValidationProblems(problems)
    return preds


def _check_names(pred: Prediction) -> None:
    """Areas and options must exist; options are stored in their canonical spelling."""
    from convergent.registry import canonical_option, get_area

    def fix(m: Metric, threshold: Any) -> Any:
        area = get_area(m.area)
        if area.kind != "share":
            raise ConvergentError(f"area {m.area!r} is not a share area")
        m.area = area.area_id
        if m.option:
            m.option = canonical_option(area.area_id, m.option)
        if m.measure == "leader" and isinstance(threshold, str):
            return canonical_option(area.area_id, threshold)
        return threshold

    if pred.metric is not None:
        pred.threshold = fix(pred.metric, pred.threshold)
    for cond in pred.also:
        cond.threshold = fix(cond.metric, cond.threshold)


def metric_value(m: Metric, r: AreaResult) -> Any:
    """The metric's value from one area's classification."""
    shares = sorted(r.shares.values(), reverse=True)
    if m.measure == "share":
        return float(r.shares.get(m.option, 0.0)) if r.n > 0 else None
    if m.measure == "top_k_share":
        return float(sum(shares[: m.k])) if r.n > 0 else None
    if m.measure == "count_at_least":
        return sum(1 for s in shares if s >= m.min_share - 1e-12) if r.n > 0 else None
    if m.measure == "level":
        return r.level
    if m.measure == "n":
        return float(r.n)
    return getattr(r, m.measure)


class _Evaluator:
    """Classifies areas at dates on demand (cached) for metric resolution."""

    def __init__(self, clf: Classifier, cfg: dict[str, Any]) -> None:
        self.clf, self.cfg = clf, cfg
        self.cache: dict[tuple[dt.date, int | None, bool], dict[str, AreaResult]] = {}

    def result(self, m: Metric, when: dt.date) -> AreaResult:
        """One area's classification at a date (cached per date and window)."""
        from convergent.dates import months_to_days

        length = months_to_days(m.window_months) if m.window_months else None
        seg = m.measure == "level"
        key = (when, length, seg)
        if key not in self.cache:
            rs = self.clf.classify(when, length, with_segments=seg, certainty=False)
            self.cache[key] = {r.area: r for r in rs}
        return self.cache[key][m.area]

    def check(self, conds: list[Condition], when: dt.date) -> tuple[bool | None, list[Any], bool]:
        """(all hold, values, enough evidence) at one date."""
        min_n = self.cfg["classify"]["min_n"]
        values, verdicts, enough = [], [], True
        for c in conds:
            r = self.result(c.metric, when)
            v = metric_value(c.metric, r)
            values.append(v)
            enough = enough and r.n >= min_n
            verdicts.append(c.holds(v))
        if any(v is None for v in verdicts):
            return None, values, enough
        return all(verdicts), values, enough


def evaluate_predictions(store: Store, cfg: dict[str, Any], path: str | Path | None = None,
                         as_of: dt.date | None = None, *, include_packaged: bool = True,
                         clf: Classifier | None = None) -> list[dict[str, Any]]:
    """Status, current metric value and Brier score of every registered prediction.

    `as_of` (default: today) is the date the registry is read at; only evidence dated on
    or before it is used, and the evidence ends at the newest such date. A metric
    prediction with `when: at` resolves on the window ending at its due date once the
    evidence reaches it; if the due date has come but the evidence stops earlier it is
    "undetermined — evidence ends D, before the due date". `when: by` resolves true at
    the first quarter end in [made, due] where its conditions hold, false once the due
    date is covered by evidence without that. Only stated probabilities get a Brier score.
    """
    from convergent.analysis import evidence_as_of
    from convergent.classify import Classifier

    preds = load_registry(path, include_packaged=include_packaged)
    clock = as_of or dt.date.today()
    evidence_end = evidence_as_of(store, clock)
    need = sorted({c.metric.area for p in preds for c in p.conditions()})
    ev = _Evaluator(clf or Classifier(store, cfg, need or None), cfg) if need else None
    rows = []
    for p in preds:
        conds = p.conditions()
        row: dict[str, Any] = {
            "id": p.id, "statement_zh": p.statement.zh, "statement_en": p.statement.en,
            "source": p.source, "made": p.made, "due": p.due, "probability": p.probability,
            "resolver": p.resolver.kind, "when": p.resolver.when,
            "condition": " and ".join(c.describe() for c in conds) or None,
            "criteria": p.criteria, "evidence": p.resolver.evidence, "as_of": clock,
            "evidence_end": evidence_end, "value": None, "values": [], "status": "open",
            "outcome": None, "resolved_on": None, "brier": None,
        }
        if p.resolver.kind == "manual":
            res = p.resolver.resolution
            if res is not None and res.date <= clock:
                row.update(status="resolved", outcome=res.outcome, resolved_on=res.date,
                           sources=res.sources)
            elif clock >= p.due:
                row["status"] = "undetermined — no resolution recorded by the due date"
        else:
            when_now = min(evidence_end, p.due)
            _, values, enough_now = ev.check(conds, when_now)
            row.update(value=values[0], values=values)
            _resolve_metric(row, p, conds, ev, clock, evidence_end)
            if row["status"] == "open" and not enough_now:
                row["status"] = "open (insufficient evidence)"
        if row["outcome"] is not None and p.probability is not None:
            row["brier"] = (p.probability - float(row["outcome"])) ** 2
        rows.append(row)
    return rows


def _resolve_metric(row: dict[str, Any], p: Prediction, conds: list[Condition],
                    ev: _Evaluator, clock: dt.date, evidence_end: dt.date) -> None:
    """Set status and outcome of a metric prediction from evidence dated ≤ evidence_end."""
    from convergent.dates import period_ends

    undetermined = (f"undetermined — evidence ends {evidence_end.isoformat()}, "
                    "before the due date")
    if p.resolver.when == "at":
        if clock < p.due:
            return
        if evidence_end < p.due:
            row["status"] = undetermined
            return
        ok, values, enough = ev.check(conds, p.due)
        row["values_at_due"] = values
        if not enough or ok is None:
            row["status"] = "undetermined (insufficient evidence at due date)"
            return
        row.update(status="resolved", outcome=ok, resolved_on=p.due)
        return
    last = min(evidence_end, p.due)
    dates = period_ends(p.made, last, include_last=True) if last >= p.made else []
    for d in dates:
        ok, values, enough = ev.check(conds, d)
        if ok and enough:
            row.update(status="resolved", outcome=True, resolved_on=d, values_at_due=values)
            return
    if evidence_end >= p.due:
        row.update(status="resolved", outcome=False, resolved_on=p.due)
    elif clock >= p.due:
        row["status"] = undetermined


def brier_summary(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """Counts by status and the mean Brier score of the resolved predictions that state a
    probability (lower is better; 0.25 is what a constant 0.5 earns)."""
    scores = [r["brier"] for r in rows if r["brier"] is not None]
    resolved = sum(r["status"] == "resolved" for r in rows)
    undetermined = sum(str(r["status"]).startswith("undetermined") for r in rows)
    return {"resolved": resolved, "scored": len(scores), "undetermined": undetermined,
            "open": len(rows) - resolved - undetermined,
            "mean_brier": sum(scores) / len(scores) if scores else None}
