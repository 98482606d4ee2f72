"""Level codes and names (short and the seed's full names, zh/en) and the ★ scale."""

from __future__ import annotations

from collections.abc import Sequence

LEVELS = ("L0", "L1", "L2", "L3", "L4")
INSUFFICIENT = "insufficient"

LEVEL_NAMES: dict[str, tuple[str, str]] = {
    "L4": ("完全收敛", "fully converged"),
    "L3": ("准收敛", "quasi-converged"),
    "L2": ("收敛进行时", "converging"),
    "L1": ("未收敛", "not converged"),
    "L0": ("反向分化", "scenario tearing"),
    INSUFFICIENT: ("证据不足", "insufficient evidence"),
}

LEVEL_FULL: dict[str, tuple[str, str]] = {
    "L4": ("L4: 完全收敛（工业标准）", "L4: fully converged (industry standard)"),
    "L3": ("L3: 准收敛（事实垄断）", "L3: quasi-converged (de-facto monopoly)"),
    "L2": ("L2: 收敛进行时（双寡头竞争）", "L2: converging (duopoly contest)"),
    "L1": ("L1: 未收敛（百家争鸣）", "L1: not converged (a hundred schools)"),
    "L0": ("L0: 反向分化（场景撕裂）", "L0: scenario tearing (divergence)"),
    INSUFFICIENT: ("证据不足", "insufficient evidence"),
}

NO_STARS = "—"


def level_name(level: str, lang: str, *, full: bool = False) -> str:
    """A level's name in 'zh' or 'en'; unknown codes come back unchanged."""
    pair = (LEVEL_FULL if full else LEVEL_NAMES).get(level)
    if pair is None:
        return level
    return pair[0] if lang == "zh" else pair[1]


def stars_for(value: float | None, cuts: Sequence[float], *, higher_is_better: bool = True
              ) -> int | None:
    """★ count (1–5) of a value against four descending cuts (certainty) or, with
    `higher_is_better=False`, ascending cuts (an error such as MAE); None stays None."""
    if value is None or value != value:
        return None
    for i, cut in enumerate(cuts):
        if (value >= cut) if higher_is_better else (value <= cut):
            return 5 - i
    return 1


def stars_text(count: int | None) -> str:
    """★★★★☆ for 4 of 5; '—' when there is no certainty (insufficient evidence)."""
    if not count:
        return NO_STARS
    return "★" * int(count) + "☆" * (5 - int(count))
