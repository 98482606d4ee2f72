"""The dashboard in a real headless Chromium: renders, no console errors, no script injection."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from test_report import EVIL, xss_catalog

CHROMIUM = Path("/usr/bin/chromium")
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]

pytestmark = pytest.mark.browser


def _playwright():
    if not CHROMIUM.exists():
        pytest.skip("Debian chromium not installed at /usr/bin/chromium (.ci/install-browser.sh)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.skip("the playwright Python package is not installed (pip install playwright)")
    return sync_playwright


@pytest.fixture(scope="module")
def evil_report(tmp_path_factory) -> Path:
    from convergent.catalog.load import build_evidence
    from convergent.config import load_config
    from convergent.report.write import build_report
    from convergent.store import open_store

    _playwright()
    folder = tmp_path_factory.mktemp("browser")
    ev, problems = build_evidence([xss_catalog(folder)], origin="evil")
    assert not problems
    store = open_store()
    store.replace_origin("evil", ev.frames())
    out, _ = build_report(store, load_config(), folder / "report", figures=False)
    return out


def test_dashboard_renders_offline_without_errors(evil_report: Path, tmp_path: Path) -> None:
    sync_playwright = _playwright()
    errors: list[str] = []
    dialogs: list[str] = []
    requests: list[str] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
            page.on("request", lambda r: requests.append(r.url))
            page.goto((evil_report / "index.html").as_uri())
            page.wait_for_selector("body[data-charts-ready='1']", timeout=60_000)
            charts = page.eval_on_selector_all("div.chart", "els => els.map(e => e.id)")
            assert {"chart-radar", "chart-shares"} <= set(charts)
            for cid in charts:
                marks = page.eval_on_selector_all(
                    f"#{cid} svg .role-mark > *", "els => els.length")
                assert marks > 0, f"{cid} rendered no marks"
            page.hover("#chart-radar svg .role-mark path", force=True)
            assert page.query_selector("img[src='x']") is None
            assert page.eval_on_selector_all("body img", "els => els.length") == 0
            text = page.inner_text("#matrix")
            assert EVIL in text
            shot = tmp_path / "dashboard.png"
            page.screenshot(path=str(shot), full_page=True)
            assert shot.stat().st_size > 10_000
            kept = Path(evil_report).parent / "dashboard.png"
            shutil.copy(shot, kept)
        finally:
            browser.close()
    assert not errors, errors
    assert not dialogs, dialogs
    assert all(u.startswith(("file:", "data:", "blob:", "about:")) for u in requests), requests
