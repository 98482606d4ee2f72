"""The shape and bounds of every setting, as pydantic models (see defaults.yaml).

Numbers are strict (`true` is not a number), every count has an upper bound so no
setting can make a command run for hours, thresholds must be ordered, and degree bands
must be ordered and must not overlap, so an area of a lower level never outranks one of
a higher level.
"""

from __future__ import annotations

import datetime as dt
import itertools
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator, model_validator

LEVELS = ("L0", "L1", "L2", "L3", "L4")

Share = Annotated[float, Field(strict=True, gt=0, le=1)]
Prob = Annotated[float, Field(strict=True, ge=0, le=1)]
Months = Annotated[int, Field(strict=True, ge=1, le=600)]
def _divides_12(value: int) -> int:
    if value not in (1, 2, 3, 4, 6, 12):
        raise ValueError("must divide 12 (1, 2, 3, 4, 6 or 12 months)")
    return value


Step = Annotated[int, Field(strict=True), AfterValidator(_divides_12)]
Count = Annotated[int, Field(strict=True, ge=1, le=1_000_000)]
Seed = Annotated[int, Field(strict=True, ge=0, le=2**63 - 1)]
Year = Annotated[int, Field(strict=True, ge=1950, le=2100)]
Percent = Annotated[float, Field(strict=True, gt=0, le=100)]


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False, frozen=True)


class Window(_Section):
    """Trailing window and the spacing of the windows a trend is fitted on."""

    months: Months
    trend_span_months: Months
    trend_step_months: Step

    @model_validator(mode="after")
    def _span(self) -> Window:
        if self.trend_span_months < 2 * self.trend_step_months:
            raise ValueError("trend_span_months must be at least two trend steps "
                             "(a trend needs three windows)")
        return self


class Classify(_Section):
    """The L0-L4 thresholds (DESIGN.md §4)."""

    min_n: Count
    min_n_segment: Count
    l0_segment_leader_share: Share
    l0_min_nmi: Share
    l4_share: Share
    l4_max_challenger_trend_pp: Annotated[float, Field(strict=True, ge=0, le=100)]
    l3_share: Share
    l2_share: Share
    duopoly_second_share: Share

    @model_validator(mode="after")
    def _ordered(self) -> Classify:
        if not self.l2_share < self.l3_share < self.l4_share:
            raise ValueError("thresholds must be ordered l2_share < l3_share < l4_share <= 1 "
                             f"(got {self.l2_share}, {self.l3_share}, {self.l4_share})")
        return self


Band = Annotated[list[Annotated[float, Field(strict=True, ge=0, le=100)]],
                Field(min_length=2, max_length=2)]
Stars = Annotated[list[Prob], Field(min_length=4, max_length=4)]


class Degree(_Section):
    """收敛度 bands in percent, one per level."""

    bands: dict[Literal["L0", "L1", "L2", "L3", "L4"], Band]

    @field_validator("bands")
    @classmethod
    def _bands(cls, bands: dict[str, list[float]]) -> dict[str, list[float]]:
        missing = [lv for lv in LEVELS if lv not in bands]
        if missing:
            raise ValueError(f"a band is needed for every level; missing {', '.join(missing)}")
        prev_hi, prev = 0.0, None
        for lv in LEVELS:
            lo, hi = bands[lv]
            if not lo < hi:
                raise ValueError(f"band {lv} = [{lo:g}, {hi:g}] must rise (low < high)")
            if lo < prev_hi:
                raise ValueError(f"bands must be ordered and must not overlap: {lv} starts at "
                                 f"{lo:g}, below the end of {prev} ({prev_hi:g})")
            prev_hi, prev = hi, lv
        return {lv: bands[lv] for lv in LEVELS}


class Certainty(_Section):
    """Resampling settings and the star cut-offs."""

    resamples: Annotated[int, Field(strict=True, ge=10, le=100_000)]
    jitter_months: Annotated[float, Field(strict=True, ge=0, le=24)]
    seed: Seed
    normal_min_expected: Annotated[float | None, Field(strict=True, ge=5, le=1e9)]
    stars: Stars

    @field_validator("stars")
    @classmethod
    def _decreasing(cls, stars: list[float]) -> list[float]:
        if any(a <= b for a, b in itertools.pairwise(stars)):
            raise ValueError("must be four decreasing numbers in [0, 1] (★★★★★ first)")
        return stars


LevelCuts = dict[Literal["L4", "L3", "L2"], Annotated[float, Field(strict=True, gt=0, le=100)]]
Name = Annotated[str, Field(strict=True, min_length=1, max_length=200)]
Pair = tuple[Name, Annotated[float, Field(strict=True, gt=0, le=1e7)]]


def _ordered_cuts(cuts: dict[str, float]) -> dict[str, float]:
    if set(cuts) != {"L4", "L3", "L2"}:
        raise ValueError("needs exactly L4, L3 and L2")
    if not cuts["L4"] < cuts["L3"] < cuts["L2"]:
        raise ValueError(f"must be ordered L4 < L3 < L2 (got {cuts['L4']:g}, {cuts['L3']:g}, "
                         f"{cuts['L2']:g})")
    return cuts


class Capability(_Section):
    """Benchmark-spread levels (docs/capability.md)."""

    k: Annotated[int, Field(strict=True, ge=2, le=1000)]
    spread_pct: LevelCuts
    elo_edge_pp: LevelCuts
    elo_benchmarks: list[Name]
    saturation_distance_pct: Annotated[float, Field(strict=True, ge=0, le=100)]
    saturated_max_level: Literal["L1", "L2", "L3", "L4"]
    ceilings: list[Pair]
    gap_rank: Annotated[int, Field(strict=True, ge=2, le=1000)]
    distinct_organizations: Annotated[bool, Field(strict=True)]
    window_months: Months | None
    items: list[tuple[Name, Annotated[int, Field(strict=True, ge=1, le=10_000_000)]]]
    elo_se: Annotated[float, Field(strict=True, ge=0, le=1000)]
    history_step_months: Step
    claim_benchmark: Name
    claim_spread_pct: Percent

    _cuts = field_validator("spread_pct", "elo_edge_pp")(_ordered_cuts)


class Layers(_Section):
    """Weights of areas inside their layer's score."""

    weights: dict[str, Annotated[float, Field(strict=True, ge=0, le=1000)]]


class Advice(_Section):
    """Stars an L4/L3 area needs before the advice is 'adopt'."""

    adopt_min_stars: Annotated[int, Field(strict=True, ge=1, le=5)]


class Drivers(_Section):
    """Measured forces toward convergence (docs/drivers.md)."""

    compute_since: dt.date
    cost_since: dt.date
    min_points: Annotated[int, Field(strict=True, ge=3, le=100_000)]
    min_window_n: Count
    confidence: Annotated[float, Field(strict=True, gt=0, lt=1)]
    count_years: Annotated[int, Field(strict=True, ge=1, le=50)]

    @field_validator("compute_since", "cost_since", mode="before")
    @classmethod
    def _date(cls, value: Any) -> dt.date:
        if not isinstance(value, str | dt.date) or isinstance(value, dt.datetime):
            raise ValueError("must be a date YYYY-MM-DD")
        from convergent.dates import EARLIEST, parse_iso

        day = value if isinstance(value, dt.date) else parse_iso(value)
        if day is None:
            raise ValueError("is not a real date (YYYY-MM-DD)")
        if not EARLIEST <= day <= dt.date.today():
            raise ValueError("must lie between 1950-01-01 and today")
        return day


class Forecast(_Section):
    """Share-vector forecasts and their back-tests (docs/forecasting.md)."""

    step_months: Step
    max_options: Annotated[int, Field(strict=True, ge=1, le=50)]
    max_rate: Annotated[float, Field(strict=True, gt=0, le=20)]
    damping: Annotated[list[Annotated[float, Field(strict=True, gt=0, le=1)]],
                       Field(min_length=1, max_length=20)]
    method: Annotated[str, Field(strict=True, pattern=r"^(auto|persistence|linear|"
                                                       r"logratio_[0-9.]+)$")]
    horizon_years: Annotated[int, Field(strict=True, ge=1, le=100)]
    horizons: Annotated[list[Annotated[int, Field(strict=True, ge=1, le=20)]],
                        Field(min_length=1, max_length=10)]
    bootstrap: Annotated[int, Field(strict=True, ge=0, le=100_000)]
    interval: Annotated[float, Field(strict=True, gt=0, lt=1)]
    seed: Seed
    backtest_first_cutoff: Year
    backtest_step_months: Step
    backtest_horizons: Annotated[list[Annotated[int, Field(strict=True, ge=1, le=20)]],
                                 Field(min_length=1, max_length=10)]
    min_cases: Annotated[list[Annotated[int, Field(strict=True, ge=1, le=100_000)]],
                         Field(min_length=1, max_length=10)]
    min_area_cases: Annotated[int, Field(strict=True, ge=1, le=100_000)]
    min_interval_errors: Annotated[int, Field(strict=True, ge=1, le=10_000_000)]
    stars_mae: Stars

    @field_validator("stars_mae")
    @classmethod
    def _increasing(cls, cuts: list[float]) -> list[float]:
        if any(a >= b for a, b in itertools.pairwise(cuts)):
            raise ValueError("must be four increasing errors (★★★★★ first)")
        return cuts

    @model_validator(mode="after")
    def _one_minimum_per_horizon(self) -> Forecast:
        if len(self.min_cases) != len(self.backtest_horizons):
            raise ValueError("min_cases needs one number per backtest_horizons entry")
        return self


class Report(_Section):
    """Report settings (docs/report.md)."""

    stale_after_days: Annotated[int, Field(strict=True, ge=1, le=36_500)]


class Settings(_Section):
    """Every section of the config file."""

    window: Window
    classify: Classify
    degree: Degree
    certainty: Certainty
    capability: Capability
    layers: Layers
    advice: Advice
    drivers: Drivers
    forecast: Forecast
    report: Report
