"""Every Mermaid block of the Markdown report renders with the Mermaid CLI (mmdc)."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from convergent.report.markdown import drivers_mermaid, mermaid_label

ROOT = Path(__file__).resolve().parents[1]
LOCAL_MMDC = ROOT / ".ci" / "node" / "node_modules" / ".bin" / "mmdc"
PUPPETEER = ROOT / ".ci" / "node" / "puppeteer.json"

pytestmark = pytest.mark.browser


def _mmdc() -> str:
    found = str(LOCAL_MMDC) if LOCAL_MMDC.exists() else shutil.which("mmdc")
    if not found:
        pytest.skip("Mermaid CLI (mmdc) not installed: run .ci/install-browser.sh")
    if not Path("/usr/bin/chromium").exists():
        pytest.skip("Debian chromium not installed at /usr/bin/chromium")
    return found


def test_labels_cannot_break_a_diagram() -> None:
    import datetime as dt

    from convergent.report.assemble import ReportData

    data = ReportData(as_of=dt.date(2025, 1, 1), window_days=365, generated="x")
    data.drivers = [{"group": "technical", "name_en": 'a"] --> X; click X "javascript:1"',
                     "value": 2.0, "unit": "x/year"}]
    text = drivers_mermaid(data, "en")
    node = next(line for line in text.splitlines() if "D0_0[" in line)
    assert node.count('"') == 2 and node.rstrip().endswith('"]')
    assert node.count("]") == 1 and ":" not in node and ";" not in node
    assert mermaid_label("A:B;C#D") == "A B C D"


def test_every_mermaid_block_renders(tmp_path: Path) -> None:
    from convergent.config import load_config
    from convergent.report.write import build_report
    from convergent.store import open_store

    mmdc = _mmdc()
    folder, _ = build_report(open_store(), load_config(), tmp_path / "r", figures=False)
    blocks = []
    for md in ("report.md", "report.en.md"):
        text = (folder / md).read_text("utf-8")
        blocks += re.findall(r"```mermaid\n(.*?)```", text, flags=re.S)
    assert len(blocks) >= 2
    from convergent.report.fonts import fontconfig_file

    env = {**os.environ, "PUPPETEER_SKIP_DOWNLOAD": "1",
           "FONTCONFIG_FILE": str(fontconfig_file(tmp_path / "fonts.conf"))}
    for i, block in enumerate(blocks):
        src = tmp_path / f"b{i}.mmd"
        out = tmp_path / f"b{i}.svg"
        src.write_text(block, encoding="utf-8")
        cmd = [mmdc, "-i", str(src), "-o", str(out), "-q"]
        if PUPPETEER.exists():
            cmd += ["-p", str(PUPPETEER)]
        res = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=120)
        assert res.returncode == 0, f"block {i} failed:\n{block}\n{res.stderr[-2000:]}"
        svg = out.read_text("utf-8")
        assert "<svg" in svg and "Syntax error" not in svg, block
