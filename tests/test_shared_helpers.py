"""The shared helpers (dates, levels, stats, user files) against hand-worked values."""

from __future__ import annotations

import datetime as dt
import os
import stat
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from convergent.dates import (
    calendar_years,
    check_plausible,
    leading_date,
    months_to_days,
    parse_date,
    parse_iso,
    parse_window,
    period_ends,
)
from convergent.errors import ConvergentError
from convergent.ingest.values import positive_number
from convergent.levels import level_name, stars_for, stars_text
from convergent.stats import concentration, entropy_nats, slope_fit, weighted_lines, wilson
from convergent.userfiles import check_path, read_text


def test_parse_date_forms() -> None:
    assert parse_date("2024") == dt.date(2024, 12, 31)
    assert parse_date("2024-02") == dt.date(2024, 2, 29)
    assert parse_date("2023-Q1") == dt.date(2023, 3, 31)
    assert parse_date("2023q4") == dt.date(2023, 12, 31)
    assert parse_date(" 2023-07-18 ") == dt.date(2023, 7, 18)
    for bad in ("2023-02-29", "2023-13", "July 2023", "2023-7-1", "", "20230718"):
        with pytest.raises(ConvergentError):
            parse_date(bad)


def test_parse_iso_is_strict() -> None:
    assert parse_iso("2024-01-31") == dt.date(2024, 1, 31)
    assert parse_iso("2024-02-30") is None
    assert parse_iso("2024-1-31") is None
    assert parse_iso("31/01/2024") is None


def test_leading_date_takes_what_the_library_produced() -> None:
    d = dt.date(2026, 2, 28)
    assert leading_date(d) == d
    assert leading_date(dt.datetime(2026, 2, 28, 23, 59)) == d
    assert leading_date("2026-02-28T12:00:00") == d
    assert leading_date(" 2026-02-28 ") == d
    assert leading_date("2026-02-30") is None
    assert leading_date("2026-2-28") is None
    assert leading_date(None) is None


def test_positive_number_says_what_is_wrong() -> None:
    assert positive_number("1,500") == (1500.0, None)
    assert positive_number("") == (None, None)
    assert positive_number("0") == (None, "must be positive, got '0'")
    assert positive_number("-2.5") == (None, "must be positive, got '-2.5'")
    assert positive_number("abc") == (None, "not a number: 'abc'")
    assert positive_number("inf") == (None, "not a number: 'inf'")
    assert positive_number("1e-300")[0] == 1e-300


def test_windows() -> None:
    assert parse_window("12m") == 365 == months_to_days(12)
    assert parse_window("2y") == 730
    assert parse_window("90d") == 90
    for bad in ("0m", "-3m", "12", "twelve", "1000000000y"):
        with pytest.raises(ConvergentError):
            parse_window(bad)


def test_plausible_dates() -> None:
    today = dt.date(2026, 12, 1)
    assert check_plausible(dt.date(1950, 1, 1), today=today) == dt.date(1950, 1, 1)
    assert check_plausible(dt.date(2027, 12, 1), today=today) == dt.date(2027, 12, 1)
    for bad in (dt.date(1949, 12, 31), dt.date(2027, 12, 3), dt.date(9999, 12, 31)):
        with pytest.raises(ConvergentError, match="implausible date"):
            check_plausible(bad, "f.csv: row 3", today=today)
    assert check_plausible(dt.date(1, 1, 1), allow_any=True) == dt.date(1, 1, 1)


def test_period_ends_by_hand() -> None:
    assert period_ends(dt.date(2023, 2, 10), dt.date(2023, 12, 30)) == [
        dt.date(2023, 3, 31), dt.date(2023, 6, 30), dt.date(2023, 9, 30)]
    assert period_ends(dt.date(2023, 2, 10), dt.date(2023, 12, 30), include_last=True)[-1] == \
        dt.date(2023, 12, 30)
    assert period_ends(dt.date(2023, 1, 1), dt.date(2023, 12, 31), 12) == [dt.date(2023, 12, 31)]
    assert calendar_years(2024, dt.date(2025, 6, 30)) == [
        (dt.date(2024, 1, 1), dt.date(2024, 12, 31)), (dt.date(2025, 1, 1), dt.date(2025, 6, 30))]


@settings(max_examples=200, deadline=None)
@given(st.dates(dt.date(2000, 1, 1), dt.date(2030, 1, 1)), st.integers(0, 4000),
       st.sampled_from([1, 2, 3, 6, 12]))
def test_period_ends_are_month_ends_on_the_step(first: dt.date, days: int, step: int) -> None:
    last = first + dt.timedelta(days=days)
    ends = period_ends(first, last, step)
    assert all(first <= d <= last for d in ends)
    assert all((d + dt.timedelta(days=1)).day == 1 and d.month % step == 0 for d in ends)
    assert ends == sorted(set(ends))


def test_levels_and_stars() -> None:
    cuts = [0.95, 0.80, 0.60, 0.40]
    assert [stars_for(v, cuts) for v in (0.95, 0.9499, 0.80, 0.6, 0.4, 0.39)] == [5, 4, 4, 3, 2, 1]
    assert stars_for(None, cuts) is None
    assert stars_for(float("nan"), cuts) is None
    assert [stars_for(v, [0.03, 0.06, 0.1, 0.15], higher_is_better=False)
            for v in (0.03, 0.031, 0.15, 0.2)] == [5, 4, 2, 1]
    assert stars_text(4) == "★★★★☆"
    assert stars_text(None) == "—" and stars_text(0) == "—"
    assert level_name("L4", "zh") == "完全收敛"
    assert level_name("L0", "en", full=True).startswith("L0: scenario tearing")


def test_slope_fit_by_hand() -> None:
    fit = slope_fit([0, 1, 2, 3], [1, 3, 5, 7])
    assert fit is not None and fit["slope"] == pytest.approx(2.0) and fit["se"] == 0
    f = slope_fit([0.0, 1.0, 2.0], [1.0, 10.0, 1000.0], log10_y=True)
    assert f is not None and f["slope"] == pytest.approx(1.5)
    assert f["se"] == pytest.approx((1 / 12) ** 0.5)
    assert slope_fit([1, 1, 1], [1, 2, 3]) is None
    assert slope_fit([0, 1], [0, 1]) is None


def test_weighted_lines_by_hand() -> None:
    x = np.array([[0.0, 1.0, 2.0], [0.0, 1.0, 2.0], [1.0, 1.0, 1.0]])
    y = np.array([[1.0, 3.0, 5.0], [0.0, 0.0, 6.0], [2.0, 2.0, 2.0]])
    w = np.array([[1.0, 1.0, 1.0], [1.0, 0.0, 1.0], [1.0, 1.0, 1.0]])
    slope, icpt = weighted_lines(x, y, w)
    assert slope[:2] == pytest.approx([2.0, 3.0]) and icpt[:2] == pytest.approx([1.0, 0.0])
    assert np.isnan(slope[2])
    ref = slope_fit(x[0], y[0])
    assert ref is not None and slope[0] == pytest.approx(ref["slope"])


def test_entropy_nats_by_hand() -> None:
    assert entropy_nats([0.5, 0.5, 0.0]) == pytest.approx(np.log(2))
    assert entropy_nats([[0.25, 0.25], [0.25, 0.25]]) == pytest.approx(np.log(4))
    assert entropy_nats([1.0]) == 0.0


def test_concentration_by_hand() -> None:
    c = concentration([3, 5, 0, 2])
    assert c["hhi"] == pytest.approx(3800.0)
    assert c["effective_n"] == pytest.approx(1 / 0.38)
    p = np.array([0.3, 0.5, 0.2])
    assert c["entropy_norm"] == pytest.approx(float(-(p * np.log(p)).sum() / np.log(4)))
    assert concentration([1, 1, 1, 1])["entropy_bits"] == pytest.approx(2.0)
    assert np.isnan(concentration([0, 0])["hhi"])


@pytest.mark.parametrize(("k", "n"), [(0, 10), (3, 10), (10, 10), (57, 230), (1, 1)])
def test_wilson_matches_scipy(k: int, n: int) -> None:
    from scipy.stats import binomtest

    ci = binomtest(k, n).proportion_ci(0.95, method="wilson")
    lo, hi = wilson(k, n)
    assert lo == pytest.approx(ci.low, abs=1e-12) and hi == pytest.approx(ci.high, abs=1e-12)


def test_user_files(tmp_path: Path) -> None:
    good = tmp_path / "a.yaml"
    good.write_text("x: 1\n", encoding="utf-8")
    assert read_text(good) == "x: 1\n"
    bom = tmp_path / "b.yaml"
    bom.write_bytes("x: ü\n".encode("utf-16"))
    assert read_text(bom) == "x: ü\n"
    latin = tmp_path / "c.yaml"
    latin.write_bytes("x: \xe9\n".encode("latin-1"))
    with pytest.raises(ConvergentError, match="not valid UTF-8"):
        read_text(latin)
    gz = tmp_path / "d.csv"
    gz.write_bytes(b"\x1f\x8b\x08\x00rest")
    with pytest.raises(ConvergentError, match="gzip"):
        read_text(gz)
    with pytest.raises(ConvergentError, match="not found"):
        read_text(tmp_path / "missing")
    with pytest.raises(ConvergentError, match="is a folder"):
        read_text(tmp_path)
    assert check_path(tmp_path, folder_ok=True) == tmp_path
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    with pytest.raises(ConvergentError, match="not a regular file"):
        read_text(fifo)
    with pytest.raises(ConvergentError, match="more than"):
        read_text(good, max_bytes=2)


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads files whatever their mode")
def test_unreadable_file(tmp_path: Path) -> None:
    p = tmp_path / "secret.yaml"
    p.write_text("x: 1\n")
    p.chmod(stat.S_IWUSR)
    with pytest.raises(ConvergentError, match="permission denied"):
        read_text(p)
