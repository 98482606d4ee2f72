"""The dashboard in a real headless Chromium, in both languages, on a phone and a desktop.

Every section of the Markdown report is on the page, nothing scrolls sideways at 400 px,
every chart has marks and a legend, the console stays clean, the page prints, and
injected names stay text.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from test_report import EVIL, xss_catalog

CHROMIUM = Path("/usr/bin/chromium")
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
SECTIONS = ["overview", "pyramid", "matrix-section", "five-layer", "drivers", "timeline",
            "conclusions", "seed", "sources"]
HEADINGS = {
    "zh": ["一、主题概述", "三、收敛的四层金字塔模型", "四、收敛模型分类矩阵", "五、收敛层次分析",
           "六、收敛驱动力分析", "七、收敛时间表", "八、核心结论", "九、原文论断逐条核查",
           "十、参考来源"],
    "en": ["1. Overview", "3. The convergence pyramid", "4. Classification matrix",
           "5. Convergence by layer", "6. Drivers of convergence", "7. Convergence timeline",
           "8. Conclusions", "9. The seed's claims, checked", "10. Sources"],
}
PAGES = {"zh": "index.html", "en": "index.en.html"}

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
def browser(tmp_path_factory):
    """One Chromium for the module, seeing the report's CJK font through fontconfig."""
    from convergent.report.fonts import fontconfig_file

    sync_playwright = _playwright()
    conf = fontconfig_file(tmp_path_factory.mktemp("fonts") / "fonts.conf")
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS,
                              env={**os.environ, "FONTCONFIG_FILE": str(conf)})
        try:
            yield b
        finally:
            b.close()


@pytest.fixture(scope="module")
def builtin_report(tmp_path_factory) -> Path:
    from convergent.config import load_config
    from convergent.report.write import build_report
    from convergent.store import open_store

    _playwright()
    out, _ = build_report(open_store(), load_config(), tmp_path_factory.mktemp("b") / "r",
                          figures=False)
    return out


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


def _open(browser, path: Path, width: int):
    errors: list[str] = []
    dialogs: list[str] = []
    requests: list[str] = []
    page = browser.new_page(viewport={"width": width, "height": 900})
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    page.on("request", lambda r: requests.append(r.url))
    page.goto(path.as_uri())
    page.wait_for_selector("body[data-charts-ready='1']", timeout=120_000)
    return page, errors, dialogs, requests


@pytest.mark.parametrize("lang", ["zh", "en"])
@pytest.mark.parametrize("width", [400, 1400])
def test_every_section_chart_and_legend(browser, builtin_report: Path, lang: str,
                                        width: int) -> None:
    page, errors, dialogs, requests = _open(browser, builtin_report / PAGES[lang], width)
    try:
        assert page.get_attribute("html", "lang").startswith(lang)
        for sid, head in zip(SECTIONS, HEADINGS[lang], strict=True):
            text = page.inner_text(f"#{sid}")
            assert head in text, (sid, head)
            assert len(text) > len(head) + 20, f"{sid} is empty"
        assert page.eval_on_selector_all("#claims tbody tr", "els => els.length") >= 30
        charts = page.eval_on_selector_all("div.chart", "els => els.map(e => e.id)")
        assert {"chart-radar", "chart-pyramid", "chart-timeline"} <= set(charts)
        assert sum(c.startswith("chart-shares-") for c in charts) >= 10
        for cid in charts:
            marks = page.eval_on_selector_all(f"#{cid} svg .role-mark > *", "els => els.length")
            assert marks > 0, f"{cid} rendered no marks"
            legend = page.eval_on_selector_all(f"#{cid} svg .role-legend-label text",
                                               "els => els.length")
            assert legend > 0, f"{cid} has no legend"
        overflow = page.evaluate(
            "() => Math.max(document.documentElement.scrollWidth, document.body.scrollWidth)")
        assert overflow <= width, f"page is {overflow} px wide at {width} px"
        if width == 400:
            wide = page.evaluate("""() => [...document.querySelectorAll('body *')]
                .filter(e => e.getBoundingClientRect().right > window.innerWidth + 1)
                .map(e => e.tagName + '#' + e.id).slice(0, 5)""")
            assert not wide, wide
        other = "en" if lang == "zh" else "zh"
        assert page.get_attribute("a.lang-switch", "href") == PAGES[other]
        shot = builtin_report.parent / f"dashboard-{lang}-{width}.png"
        page.screenshot(path=str(shot), full_page=width == 400)
        assert shot.stat().st_size > 10_000
    finally:
        page.close()
    assert not errors, errors
    assert not dialogs, dialogs
    assert all(u.startswith(("file:", "data:", "blob:", "about:")) for u in requests), requests


def test_prints_cleanly(browser, builtin_report: Path) -> None:
    page, errors, _, _ = _open(browser, builtin_report / "index.html", 1000)
    try:
        page.emulate_media(media="print")
        assert page.evaluate("() => getComputedStyle(document.querySelector('nav')).display"
                             ) == "none"
        pdf = builtin_report.parent / "dashboard.pdf"
        page.pdf(path=str(pdf), format="A4")
        assert pdf.read_bytes()[:5] == b"%PDF-" and pdf.stat().st_size > 50_000
        opened = page.eval_on_selector_all("details", "els => els.every(d => d.open)")
        assert opened
    finally:
        page.close()
    assert not errors, errors


def test_dashboard_renders_offline_without_errors(browser, evil_report: Path,
                                                  tmp_path: Path) -> None:
    page, errors, dialogs, requests = _open(browser, evil_report / "index.html", 1280)
    try:
        charts = page.eval_on_selector_all("div.chart", "els => els.map(e => e.id)")
        assert "chart-radar" in charts
        page.hover("#chart-radar svg .role-mark path", force=True)
        assert page.query_selector("img[src='x']") is None
        assert page.eval_on_selector_all("body img", "els => els.length") == 0
        text = page.inner_text("#matrix")
        assert EVIL in text
        shot = tmp_path / "dashboard.png"
        page.screenshot(path=str(shot), full_page=True)
        assert shot.stat().st_size > 10_000
        shutil.copy(shot, Path(evil_report).parent / "dashboard.png")
    finally:
        page.close()
    assert not errors, errors
    assert not dialogs, dialogs
    assert all(u.startswith(("file:", "data:", "blob:", "about:")) for u in requests), requests
