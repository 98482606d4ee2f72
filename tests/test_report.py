"""The report: sections from data, escaping, zh/en agreement, atomic writing, the CLI."""

from __future__ import annotations

import json
import re
import time
from collections import Counter
from pathlib import Path

import pytest

from convergent.config import load_config
from convergent.errors import ConvergentError
from convergent.report.assemble import NOT_BUILT, OK, ReportData, assemble
from convergent.report.markdown import (
    md_text,
    mermaid_label,
    render_markdown,
    safe_mermaid,
    safe_url,
)
from convergent.report.write import MARKER, build_report

EVIL = "<img src=x onerror=alert(1)>"
EVIL_ORG = "Evil|Org <script>alert(2)</script>"


def xss_catalog(folder: Path) -> Path:
    """A catalog file with models named and organised by HTML/Markdown payloads."""
    lines = ["entities:"]
    for i in range(12):
        name = EVIL if i == 0 else f"{EVIL} v{i}"
        lines += [
            f"  - name: '{name}'",
            f"    organization: '{EVIL_ORG}'",
            "    country: United States",
            f"    date: 2026-11-{i + 1:02d}",  # newer than the built-in evidence
            "    tier: frontier",
            "    sources: ['https://example.org/model-card']",
            "    choices: {backbone: Transformer, normalization: RMSNorm, ffn: MoE}",
        ]
    path = folder / "evil.yaml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def cfg() -> dict:
    return load_config()


@pytest.fixture(scope="module")
def store():
    from convergent.store import open_store

    return open_store()


@pytest.fixture(scope="module")
def built(tmp_path_factory, store, cfg) -> tuple[Path, ReportData, float]:
    out = tmp_path_factory.mktemp("rep") / "report"
    t0 = time.perf_counter()
    folder, data = build_report(store, cfg, out, figures=True)
    return folder, data, time.perf_counter() - t0


@pytest.fixture(scope="module")
def evil_store(tmp_path_factory):
    from convergent.catalog.load import build_evidence
    from convergent.store import open_store

    folder = tmp_path_factory.mktemp("evil")
    ev, problems = build_evidence([xss_catalog(folder)], origin="evil")
    assert not problems, problems
    s = open_store()
    s.replace_origin("evil", ev.frames())
    return s


def test_escapes_are_inert() -> None:
    assert "<" not in md_text(EVIL) and "&lt;img" in md_text(EVIL)
    assert "\\|" in md_text("a|b")
    assert md_text("[x](javascript:alert(1))").startswith("\\[x\\]")
    for bad in ['"', "'", "<", ">", ";", "#", ":", "`", "\n"]:
        assert bad not in mermaid_label(f"a{bad}b{EVIL}")
    assert safe_url("https://arxiv.org/abs/2401.02954") == "https://arxiv.org/abs/2401.02954"
    assert safe_url("javascript:alert(1)") is None
    assert safe_url("https://x.org/<script>") is None
    text = safe_mermaid('graph TD\n%%{init: {}}%%\nA["<b>x</b>"] --> B\nclick A "javascript:x"\n')
    assert "<" not in text and "click" not in text and "%%" not in text and "-->" in text


def test_sections_built_or_marked(built) -> None:
    _, data, _ = built
    assert data.ok("matrix") and data.matrix
    assert data.ok("sources") and data.sources
    for name, sec in data.sections.items():
        assert sec.status in (OK, NOT_BUILT, "no_data", "failed"), name
    assert all(s.status != "failed" for s in data.sections.values()), data.warnings
    leaders = {r["area"]: r for r in data.matrix if r.get("leader") and r["n"] > 0}
    assert leaders and all(data.examples.get(a) for a in leaders)


def test_section_not_built_is_said_not_invented(store, cfg, monkeypatch) -> None:
    import convergent.report.assemble as asm

    steps = [(n, (lambda ctx, data: NOT_BUILT) if n == "drivers" else f) for n, f in asm.STEPS]
    monkeypatch.setattr(asm, "STEPS", steps)
    data = assemble(store, cfg)
    assert data.sections["drivers"].status == NOT_BUILT and data.drivers == []
    md = render_markdown(data, cfg, "en")
    part = md.split("## 6. Drivers")[1].split("<a id=")[0]
    assert "not built yet" in part and not re.search(r"\d", part.replace("6.", ""))


def test_failing_section_is_reported(store, cfg, monkeypatch) -> None:
    import convergent.report.assemble as asm

    def boom(ctx, data):
        raise RuntimeError("kaputt")

    monkeypatch.setattr(asm, "STEPS", [*asm.STEPS[:1], ("drivers", boom)])
    data = assemble(store, cfg)
    assert data.sections["drivers"].status == "failed" and "kaputt" in data.warnings[0]
    with pytest.raises(RuntimeError):
        assemble(store, cfg, strict=True)


def test_files_written(built) -> None:
    folder, data, seconds = built
    for name in ("report.md", "report.en.md", "index.html", MARKER, "data/matrix.csv",
                 "data/matrix.json", "data/sources.csv", "data/report.json",
                 "figures/radar.svg", "figures/radar.png", "figures/shares.svg"):
        assert (folder / name).exists(), name
    assert (folder / "figures/radar.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    rows = json.loads((folder / "data/matrix.json").read_text("utf-8"))
    assert {r["area"] for r in rows} == {r["area"] for r in data.matrix}
    assert seconds < 120


def test_markdown_structure(built) -> None:
    folder, data, _ = built
    zh = (folder / "report.md").read_text("utf-8")
    en = (folder / "report.en.md").read_text("utf-8")
    for head in ("收敛的四层金字塔模型", "收敛模型分类矩阵", "收敛层次分析", "收敛驱动力分析",
                 "收敛时间表", "核心结论", "参考来源"):
        assert head in zh
    assert "L4: 完全收敛（工业标准）" in zh and "L4: fully converged" in en
    assert zh.count("```mermaid") >= 1
    backbone = next(r for r in data.matrix if r["area"] == "backbone")
    assert f"{backbone['n']:.0f} |" in en
    some_url = next(s["url"] for s in data.sources if s["url"] and safe_url(s["url"]))
    assert f"<{some_url}>" in zh and f"<{some_url}>" in en


NUM = re.compile(r"[-+]?\d+(?:\.\d+)?")


def _numbers(text: str) -> Counter:
    from convergent.registry import registry

    reg = registry()
    for item in [*reg.areas.values(), *reg.layers.values()]:
        for name in sorted((item.zh, item.en), key=len, reverse=True):
            text = text.replace(md_text(name), " ").replace(name, " ")  # labels, not numbers
    text = text.replace("–", "-").replace("−", "-")
    # method notes of the drivers are written in English only (the zh report points to them)
    text = re.sub(r'<a id="driver-notes"></a>.*?(?=<a id="timeline">)', "", text, flags=re.S)
    text = re.sub(r"(?m)^#+ .*$", "", text)          # headings carry section numbers
    text = re.sub(r"\]\(#[^)]*\)", "]", text)          # table-of-contents anchors
    text = re.sub(r"^- \[.*$", "", text, flags=re.M)
    return Counter(NUM.findall(text))


def test_zh_and_en_carry_the_same_numbers(built) -> None:
    folder, _, _ = built
    zh = _numbers((folder / "report.md").read_text("utf-8"))
    en = _numbers((folder / "report.en.md").read_text("utf-8"))
    assert zh == en, {"only_zh": zh - en, "only_en": en - zh}


def test_xss_names_stay_text(tmp_path, evil_store, cfg) -> None:
    folder, data = build_report(evil_store, cfg, tmp_path / "r", figures=False)
    names = {n for ex in data.examples.values() for n in ex}
    assert EVIL in names or any(EVIL in n for n in names)
    for md in ("report.md", "report.en.md"):
        text = (folder / md).read_text("utf-8")
        assert "<img" not in text and "<script" not in text
        assert "&lt;img src=x onerror=alert(1)&gt;" in text
        for block in re.findall(r"```mermaid\n(.*?)```", text, flags=re.S):
            assert "<" not in block
    html = (folder / "index.html").read_text("utf-8")
    body = html.split("<script>", 1)[0]
    assert "<img" not in body and "<script>alert" not in body
    assert "&lt;img src=x onerror=alert(1)&gt;" in body


def test_failed_run_keeps_previous_report(tmp_path, store, cfg, monkeypatch) -> None:
    out = tmp_path / "rep"
    build_report(store, cfg, out, figures=False, langs=["en"])
    before = (out / "report.md").read_text("utf-8")
    import convergent.report.html as html

    def broken(*a, **k):
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(html, "render_html", broken)
    with pytest.raises(RuntimeError):
        build_report(store, cfg, out, figures=False, langs=["en"])
    assert (out / "report.md").read_text("utf-8") == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["rep"]


def test_refuses_to_replace_a_foreign_folder(tmp_path, store, cfg) -> None:
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "thesis.tex").write_text("precious")
    with pytest.raises(ConvergentError):
        build_report(store, cfg, tmp_path / "mine", figures=False)
    assert (tmp_path / "mine" / "thesis.tex").read_text() == "precious"


def test_cli_report(tmp_path) -> None:
    from typer.testing import CliRunner

    from convergent.cli import app

    res = CliRunner().invoke(app, ["report", "--out", str(tmp_path / "r"), "--lang", "en",
                                   "--no-figures", "--as-of", "2025-06"])
    assert res.exit_code == 0, res.output
    text = (tmp_path / "r" / "report.md").read_text("utf-8")
    assert "2025-06-30" in text and "## 4. Classification matrix" in text
    assert not (tmp_path / "r" / "report.en.md").exists()


def _cli(*args: str) -> tuple[int, str, str]:
    """Run the installed entry point as a user would (one-line errors come from main())."""
    import subprocess
    import sys

    res = subprocess.run([sys.executable, "-c", "from convergent.cli import main; main()",
                          *args], capture_output=True, text=True, timeout=300)
    return res.returncode, res.stdout, res.stderr


@pytest.mark.parametrize("args, needle", [
    (["report", "--lang", "fr"], "'--lang': 'fr' is not one of"),
    (["report", "--out", "/proc/nope", "--no-figures"], "cannot write the report here"),
    (["report", "--bogus"], "No such option: --bogus"),
    (["scaling", "optimal", "--compute", "abc"], "'--compute'"),
])
def test_bad_options_are_one_line(args, needle) -> None:
    code, out, err = _cli(*args)
    assert code == 2, (out, err)
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and needle in lines[0], err
    assert "Traceback" not in err and "╭" not in err


def test_stale_evidence_banner_in_both_languages(tmp_path, store, cfg) -> None:
    import datetime as dt

    from convergent.analysis import evidence_as_of

    newest = evidence_as_of(store)
    for days, shown in ((91, True), (90, False)):
        data = assemble(store, cfg, today=newest + dt.timedelta(days=days))
        assert data.stale is shown and data.evidence_age_days == days
        zh = render_markdown(data, cfg, "zh").split("## 一、")[0]
        en = render_markdown(data, cfg, "en").split("## 1. ")[0]
        assert ("注意：最新证据日期为" in zh) is shown
        assert ("Warning: the newest evidence is dated" in en) is shown
        assert f"{days} 天前" in zh and f"{days} days old" in en
