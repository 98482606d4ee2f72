"""The one place dates and window lengths are parsed, stepped and checked."""

from __future__ import annotations

import datetime as dt
import re

from convergent.errors import ConvergentError

DAYS_PER_MONTH = 30.4375  # 365.25 / 12
EARLIEST = dt.date(1950, 1, 1)
ISO_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def months_to_days(months: float) -> int:
    """Window length in days for a length in months (12 months -> 365 days)."""
    return round(months * DAYS_PER_MONTH)


def parse_window(text: str) -> int:
    """Window length in days from '12m', '18m', '2y' or '90d'."""
    m = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([dmy])\s*", str(text).lower())
    if not m or float(m.group(1)) <= 0:
        raise ConvergentError(f"bad window {text!r}: use a number and d, m or y, e.g. 12m")
    value, unit = float(m.group(1)), m.group(2)
    days = value if unit == "d" else months_to_days(value * (12 if unit == "y" else 1))
    if days > 100 * 366:
        raise ConvergentError(f"bad window {text!r}: longer than 100 years")
    return round(days)


def month_end(year: int, month: int) -> dt.date:
    """The last day of a month."""
    nxt = dt.date(year + month // 12, month % 12 + 1, 1)
    return nxt - dt.timedelta(days=1)


def parse_date(text: str | dt.date | None) -> dt.date:
    """A date from YYYY-MM-DD, YYYY-MM (end of month), YYYY (end of year) or YYYY-Qn."""
    if text is None:
        return dt.date.today()
    if isinstance(text, dt.datetime):
        return text.date()
    if isinstance(text, dt.date):
        return text
    s = str(text).strip()
    try:
        if re.fullmatch(r"\d{4}", s):
            return dt.date(int(s), 12, 31)
        q = re.fullmatch(r"(\d{4})-?[Qq]([1-4])", s)
        if q:
            return month_end(int(q.group(1)), int(q.group(2)) * 3)
        ym = re.fullmatch(r"(\d{4})-(\d{1,2})", s)
        if ym and 1 <= int(ym.group(2)) <= 12:
            return month_end(int(ym.group(1)), int(ym.group(2)))
        if ISO_RE.match(s):
            return dt.date.fromisoformat(s)
    except ValueError:
        pass
    raise ConvergentError(f"bad date {text!r}: use YYYY-MM-DD, YYYY-MM, YYYY-Qn or YYYY")


def leading_date(value: object) -> dt.date | None:
    """A date from a date, a datetime or text starting with YYYY-MM-DD (a timestamp); else None.

    For values the library itself produced (rows, JSON round trips), not for user input.
    """
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    return parse_iso(str(value).strip()[:10])


def parse_iso(text: str) -> dt.date | None:
    """A strict YYYY-MM-DD cell of an input file; None when it is not one."""
    s = str(text).strip()
    if not ISO_RE.match(s):
        return None
    try:
        return dt.date.fromisoformat(s)
    except ValueError:
        return None


def latest_plausible(today: dt.date | None = None) -> dt.date:
    """The newest date evidence may carry: one year after today (announced releases)."""
    today = today or dt.date.today()
    return today + dt.timedelta(days=366)


def check_plausible(d: dt.date, where: str | None = None, *, allow_any: bool = False,
                    today: dt.date | None = None) -> dt.date:
    """Refuse a date before 1950 or more than a year after today, unless `allow_any`."""
    if allow_any:
        return d
    last = latest_plausible(today)
    if d < EARLIEST or d > last:
        raise ConvergentError(
            f"implausible date {d.isoformat()}: evidence must be dated "
            f"{EARLIEST.isoformat()}..{last.isoformat()}", where=where)
    return d


def fractional_year(d: dt.date) -> float:
    """Year plus the elapsed fraction of it: 1 January is exactly the integer year."""
    start = dt.date(d.year, 1, 1)
    days = (dt.date(d.year + 1, 1, 1) - start).days
    return d.year + (d - start).days / days


def period_ends(first: dt.date, last: dt.date, step_months: int = 3, *,
                include_last: bool = False) -> list[dt.date]:
    """Month ends at calendar multiples of `step_months` (quarter ends by default) in
    [first, last]; with `include_last`, `last` itself closes the list."""
    if step_months < 1:
        raise ConvergentError(f"bad step of {step_months} months: must be at least 1")
    out: list[dt.date] = []
    k = first.year * 12 + first.month - 1
    while (k % 12 + 1) % step_months:
        k += 1
    while True:
        y, m = divmod(k, 12)
        end = month_end(y, m + 1)
        if end > last:
            break
        if end >= first:
            out.append(end)
        k += step_months
    if include_last and (not out or out[-1] != last):
        out.append(last)
    return out


def calendar_years(first_year: int, last: dt.date) -> list[tuple[dt.date, dt.date]]:
    """(1 January, 31 December or `last`) for every calendar year from `first_year` to
    `last`'s year: windows that stay on the year ends."""
    return [(dt.date(y, 1, 1), min(dt.date(y, 12, 31), last))
            for y in range(first_year, last.year + 1)]
