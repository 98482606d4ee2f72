"""The evidence catalog: it validates, bad files are named precisely, coverage and Epoch checks."""

from __future__ import annotations

import datetime as dt
import json
import sys
import textwrap
from pathlib import Path

import pandas as pd
import pytest

from convergent.catalog.coverage import coverage, coverage_matrix
from convergent.catalog.crosscheck import crosscheck, read_epoch
from convergent.catalog.load import build_evidence, builtin_files, entity_id
from convergent.ingest.names import name_keys
from convergent.ingest.names import org_overlap as org_similarity
from convergent.registry import norm_key
from convergent.store import Store


def run_cli(args: list[str], monkeypatch: pytest.MonkeyPatch,
            capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    """Run the `convergent` entry point in-process; return exit code, stdout, stderr."""
    from convergent.cli import main

    monkeypatch.setattr(sys, "argv", ["convergent", *args])
    code = 0
    try:
        main()
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else 1
    out, err = capsys.readouterr()
    return code, out, err


GOOD = """\
  - name: Alpha 7B
    aliases: [alpha-7b]
    organization: Example Lab
    country: France
    date: 2023-05-02
    params_total: 7.0e9
    sources: [https://example.org/alpha]
    choices: {attention: GQA}
"""


def entities(*blocks: str) -> str:
    """A catalog file text with the given entity blocks."""
    return "entities:\n" + "".join(blocks)


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(textwrap.dedent(text), "utf-8")
    return path


# --- the built-in catalog -------------------------------------------------------------------


def test_builtin_catalog_validates() -> None:
    ev, problems = build_evidence(builtin_files())
    assert problems == []
    assert len(ev.rows["entities"]) >= 400
    assert len(ev.rows["scores"]) >= 200


def test_builtin_validate_cli_exits_zero(monkeypatch: pytest.MonkeyPatch,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run_cli(["catalog", "validate"], monkeypatch, capsys)
    assert code == 0, err
    assert out.startswith("ok:")


def test_builtin_names_and_aliases_unique() -> None:
    ev, _ = build_evidence(builtin_files())
    owner: dict[str, str] = {}
    for row in ev.rows["aliases"]:
        key = norm_key(row["alias"])
        assert owner.setdefault(key, row["entity_id"]) == row["entity_id"], row["alias"]


def test_builtin_organisations_one_spelling() -> None:
    """Spellings that differ only in case or punctuation are the same organisation: one string."""
    ev, _ = build_evidence(builtin_files())
    seen: dict[str, str] = {}
    for row in ev.rows["entities"]:
        for org in str(row["organization"]).split(";"):
            org = org.strip()
            first = seen.setdefault(norm_key(org), org)
            assert first == org, f"{org!r} vs {first!r}"


# --- malformed catalogs: each problem names file and entry, and exits non-zero ----------------

BAD = {
    "duplicate_name": (entities(GOOD, GOOD.replace("alpha-7b", "alpha-seven")),
                       "Alpha 7B", "already used"),
    "alias_clash": (entities(GOOD, GOOD.replace("Alpha 7B", "Beta 2B")),
                    "Beta 2B", "'alpha-7b' is already used"),
    "unknown_option": (entities(GOOD.replace("GQA", "WobblyAttention")),
                       "Alpha 7B", "unknown option 'WobblyAttention'"),
    "unknown_area": (entities(GOOD.replace("attention: GQA", "vibes: strong")),
                     "Alpha 7B", "choices.vibes is not an area"),
    "bad_date": (entities(GOOD.replace("2023-05-02", "2023/05/02")),
                 "Alpha 7B", "date"),
    "month_only_date": (entities(GOOD.replace("2023-05-02", "May 2023")),
                        "Alpha 7B", "date"),
    "non_url_source": (entities(GOOD.replace("https://example.org/alpha", "the paper")),
                       "Alpha 7B", "is not a URL"),
    "missing_sources": (entities(GOOD.replace("    sources: [https://example.org/alpha]\n", "")),
                        "Alpha 7B", "sources"),
    "active_gt_total": (entities(GOOD.replace("params_total: 7.0e9",
                                              "params_total: 7.0e9\n    params_active: 9.0e9")),
                        "Alpha 7B", "params_active exceeds params_total"),
    "bad_yaml": ("entities:\n  - name: [Alpha\n    date: 2023\n", None, "not valid YAML"),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_malformed_catalog_names_file_and_entry(
    case: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    text, entry, message = BAD[case]
    path = write(tmp_path, f"{case}.yaml", text)
    _, problems = build_evidence([path])
    assert problems, case
    hits = [p for p in problems if message in p]
    assert hits, problems
    assert all(str(path) in p for p in problems)
    if entry is not None:
        assert any(f"({entry})" in p for p in hits), hits
    code, out, err = run_cli(["catalog", "validate", str(path)], monkeypatch, capsys)
    assert code == 2
    assert message in err and str(path) in err
    assert "Traceback" not in err
    assert out == ""


def test_impossible_date_is_a_problem(tmp_path: Path) -> None:
    path = write(tmp_path, "impossible.yaml",
                 entities(GOOD.replace("2023-05-02", "2023-13-45")))
    _, problems = build_evidence([path])
    assert problems and all(str(path) in p for p in problems)


def test_good_fixture_validates(tmp_path: Path) -> None:
    path = write(tmp_path, "good.yaml", entities(GOOD))
    ev, problems = build_evidence([path])
    assert problems == []
    assert [r["name"] for r in ev.rows["entities"]] == ["Alpha 7B"]


def test_every_problem_is_listed(tmp_path: Path) -> None:
    """Several broken entries in one file: one problem each, not only the first."""
    text = entities(GOOD.replace("GQA", "Nope"),
                    GOOD.replace("Alpha 7B", "Gamma").replace("alpha-7b", "g")
                    .replace("https://example.org/alpha", "nowhere"))
    _, problems = build_evidence([write(tmp_path, "two.yaml", text)])
    assert any("(Alpha 7B)" in p for p in problems)
    assert any("(Gamma)" in p for p in problems)


# --- coverage ---------------------------------------------------------------------------------

TINY = """\
entities:
  - name: A
    organization: Lab
    country: France
    date: 2023-02-01
    sources: [https://example.org/a]
    choices: {attention: GQA, optimizer: AdamW}
  - name: B
    organization: Lab
    country: France
    date: 2023-06-01
    sources: [https://example.org/b]
    choices: {attention: unknown}
  - name: C
    organization: Lab
    country: France
    date: 2023-09-01
    modality: image
    sources: [https://example.org/c]
    choices: {optimizer: Adam}
  - name: D
    organization: Lab
    country: France
    date: 2024-03-01
    sources: [https://example.org/d]
    choices: {attention: MLA}
events:
  - subject: Tool X
    organization: Vendor
    area: agent_protocol
    option: MCP
    date: 2024-05-01
    sources: [https://example.org/x]
  - subject: Tool X
    organization: Vendor
    area: agent_protocol
    option: A2A
    date: 2024-07-01
    sources: [https://example.org/x2]
"""


@pytest.fixture
def tiny_store(tmp_path: Path) -> Store:
    ev, problems = build_evidence([write(tmp_path, "tiny.yaml", TINY)])
    assert problems == []
    store = Store(None)
    store.replace_origin("catalog", ev.frames())
    return store


def _cell(rows: list[dict], area: str, year: int) -> tuple[int, int, int]:
    (r,) = [r for r in rows if r["area"] == area and r["year"] == year]
    return r["known"], r["unknown"], r["total"]


def test_coverage_counts_by_hand(tiny_store: Store) -> None:
    rows = coverage(tiny_store)
    # attention applies to language models: 2023 has A (GQA) and B (unknown); C is an image model.
    assert _cell(rows, "attention", 2023) == (1, 1, 2)
    assert _cell(rows, "attention", 2024) == (1, 0, 1)
    # optimizer applies to every model: A AdamW, B unstated, C Adam; D unstated.
    assert _cell(rows, "optimizer", 2023) == (2, 1, 3)
    assert _cell(rows, "optimizer", 2024) == (0, 1, 1)
    # image_paradigm applies only to C, which states none.
    assert _cell(rows, "image_paradigm", 2023) == (0, 1, 1)
    # Tool X states two protocols in 2024: one entity, known.
    assert _cell(rows, "agent_protocol", 2024) == (1, 0, 1)
    # no entity is frontier, so the derived developer area has no rows.
    assert not [r for r in rows if r["area"] == "frontier_developer"]
    for r in rows:
        assert r["known"] + r["unknown"] == r["total"]
        assert r["coverage"] == pytest.approx(r["known"] / r["total"])


def test_coverage_known_wins_over_unknown(tiny_store: Store) -> None:
    """A second, unknown row for an entity already known in that area and year changes nothing."""
    extra = pd.DataFrame([{
        "entity_id": entity_id("A"), "area_id": "attention", "option": "unknown",
        "weight": 1.0, "date": dt.date(2023, 2, 1), "source_id": "s", "origin": "catalog"}])
    tiny_store.append("adoptions", extra)
    assert _cell(coverage(tiny_store), "attention", 2023) == (1, 1, 2)


def test_coverage_filters_and_matrix(tiny_store: Store) -> None:
    rows = coverage(tiny_store, areas=["attention"], since=2024)
    assert rows == [{"area": "attention", "year": 2024, "known": 1, "unknown": 0, "total": 1,
                     "coverage": 1.0}]
    years, matrix = coverage_matrix(coverage(tiny_store, areas=["attention", "optimizer"]))
    assert years == [2023, 2024]
    att = next(m for m in matrix if m["area"] == "attention")
    assert (att["2023"], att["2024"], att["coverage"]) == ("1/2", "1/1", "67%")


def test_coverage_cli_json(monkeypatch: pytest.MonkeyPatch,
                           capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run_cli(["catalog", "coverage", "--json", "--area", "attention"],
                             monkeypatch, capsys)
    assert code == 0, err
    rows = json.loads(out)
    assert rows and {r["area"] for r in rows} == {"attention"}
    assert all(0 <= r["coverage"] <= 1 for r in rows)
    code, out, _ = run_cli(["catalog", "coverage", "--csv", "--area", "attention"],
                           monkeypatch, capsys)
    assert code == 0 and out.startswith("area,year,known,unknown,total,coverage")


# --- Epoch cross-check ------------------------------------------------------------------------

EPOCH_TINY = '''\
Model,Organization,Publication date,Parameters,Parameters notes,Link
Alpha-7B,"Example Lab,Some University",2023-05-01,7000000000,"7B, see the
""card"" for details",https://example.org/alpha
Beta 2B,Other Org,2023-05-01,2000000000,,
Gamma (13B),Example Lab,2023-01-01,20000000000,,
Delta,Example Lab,2023-08-01,1000000000,,https://arxiv.org/abs/2312.00001
'''

CAT_TINY = """\
entities:
  - name: Alpha 7B
    organization: Example Lab
    country: France
    date: 2023-05-02
    params_total: 7.0e9
    sources: [https://example.org/alpha]
  - name: Beta 2B
    organization: Example Lab
    country: France
    date: 2023-05-02
    params_total: 2.0e9
    sources: [https://example.org/beta]
  - name: Gamma
    organization: Example Lab
    country: France
    date: 2023-03-15
    params_total: 13.0e9
    sources: [https://example.org/gamma]
  - name: Delta
    organization: Example Lab
    country: France
    date: 2023-08-01
    sources: [https://arxiv.org/abs/2308.00002]
"""


def test_crosscheck_tiny(tmp_path: Path) -> None:
    epoch = write(tmp_path, "epoch.csv", EPOCH_TINY)
    cat = write(tmp_path, "cat.yaml", CAT_TINY)
    rows = read_epoch(epoch)
    assert [r.model for r in rows] == ["Alpha-7B", "Beta 2B", "Gamma (13B)", "Delta"]
    report = crosscheck(epoch, [cat])
    by_name = {m.name: m for m in report.matches}
    # Beta's organisation differs (another model of the same name); Delta's paper differs.
    assert set(by_name) == {"Alpha 7B", "Gamma"}
    assert by_name["Alpha 7B"].date_ok and by_name["Alpha 7B"].params_ok
    gamma = by_name["Gamma"]
    assert gamma.date_diff_days == 73 and gamma.date_ok is False
    assert gamma.params_rel_diff == pytest.approx(-0.35) and gamma.params_ok is False
    assert [m.name for m in report.mismatches] == ["Gamma"]
    s = report.summary()
    assert (s["matches"], s["date_within"], s["params_within"]) == (2, 1, 1)
    assert s["date_within_pct"] == pytest.approx(50.0)


def test_name_and_org_matching() -> None:
    assert {"palm(540b)", "palm"} <= set(name_keys("PaLM (540B)"))
    assert "qwen7b" in name_keys("Qwen/Qwen-7B")
    assert org_similarity("Google DeepMind", "DeepMind") > 0
    assert org_similarity("Meta AI", "Facebook AI Research,INRIA") > 0
    assert org_similarity("Zhipu AI", "Tsinghua University,Z.ai (Zhipu AI)") > 0
    assert org_similarity("OpenAI", "Anthropic") == 0
    assert org_similarity("Microsoft;NVIDIA", "NVIDIA,Microsoft") == 1.0
    assert org_similarity("Shanghai AI Lab", "Shanghai AI Laboratory") > 0


CAT_TWINS = """
entities:
  - name: Sonnet Large
    organization: Example Lab
    country: France
    date: 2024-06-20
    params_total: 7.0e9
    sources: [https://example.org/a]
  - name: Sonnet Large (new)
    aliases: [Sonnet Large v2]
    organization: Example Lab
    country: France
    date: 2024-10-22
    sources: [https://example.org/b]
"""

EPOCH_TWINS = (
    "Model,Organization,Publication date,Parameters,Link\n"
    "Sonnet Large,Example Lab,2024-06-20,7000000000,\n"
)


def test_crosscheck_is_one_to_one(tmp_path: Path) -> None:
    """Two catalog entries whose names reduce to one Epoch row: only the exact one matches
    (before, the second got a false 124-day date mismatch)."""
    report = crosscheck(write(tmp_path, "e.csv", EPOCH_TWINS), [write(tmp_path, "c.yaml",
                                                                       CAT_TWINS)])
    assert [(m.name, m.epoch_row, m.date_diff_days) for m in report.matches] == [
        ("Sonnet Large", 2, 0)]
    assert report.mismatches == []


def test_crosscheck_cli_rejects_non_epoch(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    bad = write(tmp_path, "x.csv", "a,b\n1,2\n")
    code, _, err = run_cli(["catalog", "crosscheck", str(bad)], monkeypatch, capsys)
    assert code == 2 and "not an Epoch" in err and "Traceback" not in err


def test_catalog_agrees_with_epoch(epoch_csv: Path) -> None:
    """≥ 95 % of matched entities agree with Epoch on date (31 days) and parameters (10 %)."""
    report = crosscheck(epoch_csv)
    s = report.summary()
    listing = "\n".join(
        f"{m.file} {m.name!r} ~ Epoch {m.epoch_model.strip()!r}: date {m.date} vs "
        f"{m.epoch_date}, params {m.params_total} vs {m.epoch_params}"
        for m in report.mismatches)
    assert s["matches"] >= 60, s
    assert s["date_within_pct"] >= 95.0, listing
    assert s["params_within_pct"] >= 95.0, listing


def test_crosscheck_cli_json(epoch_csv: Path, monkeypatch: pytest.MonkeyPatch,
                             capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run_cli(["catalog", "crosscheck", str(epoch_csv), "--json"],
                             monkeypatch, capsys)
    assert code == 0, err
    data = json.loads(out)
    assert data["summary"]["matches"] == len(data["matches"])
    assert all({"file", "name", "date", "epoch_date"} <= set(m) for m in data["mismatches"])


def test_catalog_files_parse_the_same_with_both_yaml_parsers() -> None:
    """libyaml (used for speed) accepts some text the pure-Python parser refuses, such as an
    unquoted URL with '?' inside a flow mapping; the shipped files must mean the same to both."""
    import yaml

    from convergent.catalog.load import builtin_files

    if not hasattr(yaml, "CSafeLoader"):
        pytest.skip("PyYAML without libyaml: only one parser to compare")
    for path in builtin_files():
        text = path.read_text("utf-8")
        assert yaml.load(text, Loader=yaml.CSafeLoader) == yaml.safe_load(text), path.name
