"""A corpus of malformed inputs through the real CLI (in-process, so it stays fast).

Every case must: exit with code 2; print exactly one line on stderr, naming the file and the
row/column or key; print no traceback; leave the `--db` file byte for byte unchanged (and its
ordered dump hash); and finish within a time bound (a hang fails the case, it cannot block).
"""

from __future__ import annotations

import csv
import io
import json
import os
import random
import signal
import socket
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

import convergent.catalog.load as catalog_load
from convergent.cli import main
from test_ingest_common import FIXTURES, file_hash

TIME_BOUND = 60  # seconds per case; normal cases take a fraction of a second
EPOCH = (FIXTURES / "epoch_small.csv").read_text("utf-8")
ROWS = list(csv.reader(io.StringIO(EPOCH)))
HEADER = ROWS[0]
BENCH = ("Model,Model Size (B),Pretraining Data Size (T),FLOPs (1E21),MMLU,GSM8K,Date\n"
         "x/a-1b,1.0,0.3,1.2,0.3,0.1,2023-01-05\nx/b-2b,2.0,0.6,2.4,0.35,0.12,2023-02-05\n"
         "x/c-3b,3.0,1.0,3.6,0.38,0.15,2023-03-05\n")
RUNS = "N,D,loss,run_id\n1e8,2e9,3.1,a\n2e8,4e9,2.9,b\n4e8,8e9,2.7,c\n"
GOOD_CFG = {"model_type": "llama", "num_attention_heads": 8, "num_key_value_heads": 8,
            "hidden_act": "silu", "max_position_embeddings": 4096,
            "architectures": ["LlamaForCausalLM"], "_name_or_path": "x/good"}


@dataclass
class Case:
    """One malformed input: how to write it, which importer, what the error must name."""

    id: str
    source: str
    write: Callable[[Path], Path]
    expect: list[str] = field(default_factory=list)
    args: list[str] = field(default_factory=list)
    root_skip: bool = False


def _csv_text(rows: list[list[str]]) -> str:
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerows(rows)
    return buf.getvalue()


def text(content: str, name: str = "bad.csv", encoding: str = "utf-8") -> Callable[[Path], Path]:
    """A writer of `content` into `name`."""
    def write(d: Path) -> Path:
        p = d / name
        p.write_bytes(content.encode(encoding))
        return p
    return write


def raw(data: bytes, name: str = "bad.csv") -> Callable[[Path], Path]:
    """A writer of raw bytes."""
    def write(d: Path) -> Path:
        p = d / name
        p.write_bytes(data)
        return p
    return write


def epoch_cell(row: int, column: str, value: str) -> str:
    """The Epoch fixture with data row `row` (1-based) of `column` set to `value`."""
    rows = [list(r) for r in ROWS]
    rows[row][HEADER.index(column)] = value
    return _csv_text(rows)


def hf_folder(files: dict[str, object]) -> Callable[[Path], Path]:
    """A folder of config files (dicts are JSON-encoded, strings written as they are)."""
    def write(d: Path) -> Path:
        root = d / "configs"
        root.mkdir()
        (root / "good.json").write_text(json.dumps(GOOD_CFG), encoding="utf-8")
        for name, body in files.items():
            data = body if isinstance(body, str) else json.dumps(body)
            (root / name).write_text(data, encoding="utf-8")
        return root
    return write


def hf_file(body: str | bytes, name: str = "config.json") -> Callable[[Path], Path]:
    """One config file."""
    return raw(body if isinstance(body, bytes) else body.encode("utf-8"), name)


def build_cases() -> list[Case]:
    """Every class of the reliability sweep, for every importer."""
    cases: list[Case] = []
    add = cases.append
    # --- Epoch numbers: each column with values that are not numbers or not plausible
    bad_common = ["seven billion", "1e309", "-1e309", "inf", "-Infinity", "nan", "NaN",
                  "1.7e308", "-5", "0x10", "1..2", "12,abc", "1e", "--1", "\u221e", "1,2,x",
                  "7 B", "1e400"]
    per_col = {
        "Parameters": ["1e-300", "0.5", "0", "2e15", "1e16"],
        "Training compute (FLOP)": ["1e-300", "0.5", "0", "1e33"],
        "Training dataset size (gradients)": ["0.5", "1e18", "0"],
        "Training compute cost (2023 USD)": ["-0.01", "1e14", "5e13"],
    }
    for (col, extra), short in zip(per_col.items(), ("params", "compute", "dataset", "cost"),
                                   strict=True):
        for i, v in enumerate(bad_common + extra):
            row = 1 + i % 6
            add(Case(f"epoch-{short}-{i}", "epoch", text(epoch_cell(row, col, v)),
                     [f"row {row + 1}", col]))
    # --- Epoch dates
    dates = ["0001-01-01", "1899-12-31", "1949-12-31", "2031-06-01", "9999-12-31",
             "2023-02-29", "2023-13-01", "2023-00-10", "2023-04-31", "2023/01/01",
             "01-02-2023", "2023-1-1", "June 2023", "2023", "20230101", "2023-01-01T00:00",
             "today", "+2023-01-01", "\uff12\uff10\uff12\uff13-01-01", "1900-02-29", " "]
    for i, v in enumerate(dates):
        row = 1 + i % 6
        add(Case(f"epoch-date-{i}", "epoch", text(epoch_cell(row, "Publication date", v)),
                 [f"row {row + 1}", "Publication date"]))
    for i, v in enumerate(["maybe", "2", "Y", "tru", "null", "-1"]):
        add(Case(f"epoch-frontier-{i}", "epoch", text(epoch_cell(2, "Frontier model", v)),
                 ["row 3", "Frontier model"]))
    # --- Epoch names: empty, duplicates, duplicates hidden by invisible characters
    for i, v in enumerate(["", "   ", "Alpha-7B", "alpha 7b", "Alpha-7B\u200b", "\u200bAlpha-7B",
                           "Alpha\u2060-7B", "ALPHA_7B", "Alpha-7B\u202e"]):
        add(Case(f"epoch-name-{i}", "epoch", text(epoch_cell(4, "Model", v)), ["row 5", "Model"]))
    # --- Epoch header problems
    add(Case("epoch-header-trailing-comma", "epoch",
             text(EPOCH.replace("\n", ",\n", 1)), ["bad.csv:1", "no name"]))
    add(Case("epoch-empty-column-name", "epoch",
             text(EPOCH.replace("Task,", ",", 1)), ["bad.csv:1", "no name"]))
    add(Case("epoch-header-row-column", "epoch", text(EPOCH.replace("Task,", "_row,", 1)),
             ["bad.csv:1", "_row"]))
    add(Case("epoch-duplicate-header", "epoch", text(EPOCH.replace("Task,", "Domain,", 1)),
             ["bad.csv:1", "twice"]))
    fakes = {"Model": ["M\u043edel", "\u041codel", "Mod\u0435l"],
             "Organization": ["Org\u0430nization", "\u039frganization"],
             "Publication date": ["Public\u0430tion date", "Publication d\u0430te"],
             "Domain": ["D\u043emain", "Dom\u0430in"],
             "Parameters": ["P\u0430rameters", "Par\u0430meters", "Paramet\u0435rs"],
             "Training compute (FLOP)": ["Training c\u043empute (FLOP)"]}
    for col, variants in fakes.items():
        for j, fake in enumerate(variants):
            add(Case(f"epoch-homoglyph-{col[:10]}-{len(col)}-{j}", "epoch",
                     text(EPOCH.replace(col, fake, 1)), ["bad.csv:1", "did you mean"]))
    for col in ("Model", "Organization", "Publication date", "Domain"):
        rows = [list(r) for r in ROWS]
        k = HEADER.index(col)
        add(Case(f"epoch-missing-{col[:11]}", "epoch",
                 text(_csv_text([r[:k] + r[k + 1:] for r in rows])), ["bad.csv:1", col]))
    for label, sep in (("semicolon", ";"), ("tab", "\t"), ("pipe", "|")):
        add(Case(f"epoch-delimiter-{label}", "epoch",
                 text(_csv_text(ROWS).replace(",", sep)), ["bad.csv:1", "delimiter"]))
    # --- Epoch structure: NUL bytes, truncated and overlong rows, blank lines before a bad row
    for row in range(1, 7):
        add(Case(f"epoch-nul-{row}", "epoch", text(epoch_cell(row, "Task", "a\x00b")),
                 ["bad.csv", "NUL"]))
    for row in range(2, 7):
        rows = [list(r) for r in ROWS[:row]] + [ROWS[row][:10]]
        add(Case(f"epoch-truncated-row-{row}", "epoch", text(_csv_text(rows)),
                 [f"row {row + 1}", "expected 46"]))
        rows = [list(r) for r in ROWS]
        rows[row] = [*rows[row], "extra"]
        add(Case(f"epoch-extra-field-{row}", "epoch", text(_csv_text(rows)),
                 [f"row {row + 1}", "expected 46"]))
    add(Case("epoch-ends-in-quote", "epoch", text(EPOCH[: EPOCH.index("It has") + 3]),
             ["bad.csv", "quoted"]))
    for blanks in (1, 2, 3):
        for row in (3, 5):
            rows = [list(r) for r in ROWS]
            rows[row][HEADER.index("Publication date")] = "2023-13-45"
            body = _csv_text(rows[:row]) + "\n" * blanks + _csv_text(rows[row:])
            add(Case(f"epoch-blank-lines-{blanks}-{row}", "epoch", text(body),
                     [f"row {row + 1 + blanks}", "Publication date"]))
    add(Case("epoch-huge-cell", "epoch",
             text(epoch_cell(1, "Abstract", "x" * (1024 * 1024 + 10))), ["bad.csv", "KiB"]))
    # --- encodings and empty files, for each CSV importer
    garbage = bytes(random.Random(7).randrange(256) for _ in range(5000))
    for src, body in (("epoch", EPOCH), ("benchmarks", BENCH), ("runs", RUNS)):
        head = body.split("\n", 1)[0] + "\n"
        add(Case(f"{src}-utf16", src, text(body, encoding="utf-16"), ["bad.csv", "UTF-16"]))
        add(Case(f"{src}-utf16le", src, text(body, encoding="utf-16-le"), ["bad.csv", "UTF-16"]))
        add(Case(f"{src}-latin1", src, raw((body + "caf\u00e9,x\n").encode("latin-1")),
                 ["bad.csv", "UTF-8"]))
        add(Case(f"{src}-garbage", src, raw(b"PK\x03\x04" + garbage), ["bad.csv"]))
        add(Case(f"{src}-gzip", src, raw(b"\x1f\x8b\x08\x00" + garbage), ["bad.csv"]))
        add(Case(f"{src}-empty", src, text(""), ["bad.csv", "empty"]))
        add(Case(f"{src}-blank", src, text("\n \n\n"), ["bad.csv", "empty"]))
        add(Case(f"{src}-header-only", src, text(head), ["bad.csv", "no data rows"]))
        add(Case(f"{src}-header-then-blank", src, text(head + "\n\n"), ["bad.csv", "no data rows"]))
        add(Case(f"{src}-trailing-comma", src, text(body.replace("\n", ",\n", 1)),
                 ["bad.csv:1", "no name"]))
        with_row = "".join(line + (",_row\n" if i == 0 else ",1\n")
                           for i, line in enumerate(body.splitlines()))
        add(Case(f"{src}-row-column", src, text(with_row), ["bad.csv:1", "_row"]))
        add(Case(f"{src}-nul", src, text(body.replace("\n", "\x00\n", 2)), ["bad.csv", "NUL"]))
        # file-system cases: a folder, a FIFO, a device, a missing path, unreadable files
        add(Case(f"{src}-folder", src, lambda d: d, ["folder"]))
        add(Case(f"{src}-fifo", src, _fifo, ["pipe.csv", "not a regular file"]))
        add(Case(f"{src}-dev-zero", src, _dev_zero, ["zero.csv", "not a regular file"]))
        add(Case(f"{src}-missing", src, lambda d: d / "absent.csv", ["absent.csv", "not found"]))
        add(Case(f"{src}-unreadable", src, _unreadable(body), ["locked.csv", "permission"],
                 root_skip=True))
        add(Case(f"{src}-socket", src, _socket, ["sock.csv", "not a regular file"]))
    # --- benchmarks: sizes, units, dates, scores, names
    bench_rows = list(csv.reader(io.StringIO(BENCH)))

    def bench_cell(row: int, col: str, value: str) -> str:
        rows = [list(r) for r in bench_rows]
        rows[row][rows[0].index(col)] = value
        return _csv_text(rows)

    for i, v in enumerate(["1e300", "inf", "-2", "0", "abc", "1e309", "nan", "2e10"]):
        add(Case(f"bench-size-{i}", "benchmarks", text(bench_cell(2, "Model Size (B)", v)),
                 ["row 3", "Model Size (B)"]))
    for i, v in enumerate(["1e300", "-1", "x", "1e10"]):
        add(Case(f"bench-tokens-{i}", "benchmarks",
                 text(bench_cell(1, "Pretraining Data Size (T)", v)),
                 ["row 2", "Pretraining Data Size (T)"]))
    for i, v in enumerate(["1e300", "-1", "1e12"]):
        add(Case(f"bench-flops-{i}", "benchmarks", text(bench_cell(3, "FLOPs (1E21)", v)),
                 ["row 4", "FLOPs (1E21)"]))
    for i, unit in enumerate(["-1", "0", "-1e9", "inf", "nan", "-0.5"]):
        add(Case(f"bench-unit-{i}", "benchmarks",
                 text(BENCH.replace("Model Size (B)", f"Model Size ({unit})")),
                 ["bad.csv:1", "unit"]))
    for i, v in enumerate(["0001-01-01", "1899-12-31", "2031-06-01", "9999-12-31", "2023-02-29",
                           "2023/01/05", "Jan 2023", "2023-13-01"]):
        add(Case(f"bench-date-{i}", "benchmarks", text(bench_cell(1, "Date", v)),
                 ["row 2", "Date"]))
    for i, v in enumerate(["n/a", "inf", "nan", "1e309", "-inf", "high"]):
        add(Case(f"bench-score-{i}", "benchmarks", text(bench_cell(2, "MMLU", v)),
                 ["row 3", "MMLU"]))
    for i, v in enumerate(["", "x/a-1b", "X/A-1B", "x/a-1b\u200b"]):
        add(Case(f"bench-model-{i}", "benchmarks", text(bench_cell(3, "Model", v)),
                 ["row 4", "Model"]))
    add(Case("bench-no-model-column", "benchmarks", text(BENCH.replace("Model,", "Name,", 1)),
             ["bad.csv:1", "Model"]))
    add(Case("bench-homoglyph-model", "benchmarks", text(BENCH.replace("Model,", "M\u043edel,", 1)),
             ["bad.csv:1", "did you mean"]))
    add(Case("bench-no-benchmarks", "benchmarks", text("Model,Date\nx/a,2023-01-01\n"),
             ["bad.csv", "no benchmark columns"]))
    rows = BENCH.split("\n")
    add(Case("bench-blank-lines", "benchmarks",
             text("\n".join([rows[0], rows[1], "", "", rows[2].replace("0.35", "n/a"), rows[3]])),
             ["row 5", "MMLU"]))
    # --- runs (the importer's own rules belong to scaling; here: reading and structure)
    add(Case("runs-text-loss", "runs", text(RUNS.replace("2.9", "low")), ["row 3", "loss"]))
    add(Case("runs-negative-n", "runs", text(RUNS.replace("2e8", "-2e8")), ["row 3", "N"]))
    add(Case("runs-inf-n", "runs", text(RUNS.replace("2e8", "inf")), ["row 3", "N"]))
    add(Case("runs-duplicate-id", "runs", text(RUNS.replace(",b\n", ",a\n")), ["row 3"]))
    add(Case("runs-missing-loss", "runs", text(RUNS.replace("loss", "score")), ["bad.csv:1"]))
    lines = RUNS.split("\n")
    add(Case("runs-blank-lines", "runs",
             text("\n".join([lines[0], lines[1], "", lines[2].replace("2.9", "low"), lines[3]])),
             ["row 4", "loss"]))
    # --- hf-config: every count key with numbers JSON can hold but a model cannot
    bad_numbers = ["1e309", "-1e309", "NaN", "Infinity", "-Infinity", '"8"', "true", "[]",
                   "{}", "1.5", "-1", "0", "1e300", "null8"]
    keys = {"num_attention_heads": ["2e6"], "num_key_value_heads": [],
            "num_local_experts": ["5e6"], "num_experts_per_tok": [],
            "max_position_embeddings": ["2e9"], "n_head": [], "n_positions": ["1e10"],
            "num_experts": []}
    drop = {"n_head": "num_attention_heads", "n_positions": "max_position_embeddings"}
    for key, extra in keys.items():
        for i, v in enumerate(bad_numbers + extra):
            body = json.dumps({k: val for k, val in GOOD_CFG.items()
                               if k not in ("num_key_value_heads", "_name_or_path",
                                            drop.get(key))})[:-1]
            body += f', "{key}": {v}}}'
            expect = ["bad.json"] + ([] if v == "null8" else [key])
            add(Case(f"hf-{key}-{i}", "hf-config", hf_folder({"bad.json": body}), expect))
    for i, v in enumerate([5, "x" * 0 or 5.5, [1, 2], {"a": 1}, [None], True]):
        add(Case(f"hf-architectures-{i}", "hf-config",
                 hf_folder({"bad.json": {**GOOD_CFG, "architectures": v}}),
                 ["bad.json", "architectures"]))
    for i, v in enumerate([5, [], {}, True]):
        add(Case(f"hf-model-type-{i}", "hf-config",
                 hf_folder({"bad.json": {**GOOD_CFG, "model_type": v}}),
                 ["bad.json", "model_type"]))
    for depth in (100, 10_000, 100_000):
        add(Case(f"hf-deep-{depth}", "hf-config",
                 hf_folder({"bad.json": '{"a": ' + "[" * depth + "]" * depth + "}"}),
                 ["bad.json", "nested"]))
    for i, body in enumerate(['{"model_type": ', "{'a': 1}", '{"a": 1,}', "", "null", "[]",
                              '"text"', "42", "{\"a\": NaN", "\ufeff"]):
        add(Case(f"hf-json-{i}", "hf-config", hf_folder({"bad.json": body}), ["bad.json"]))
    add(Case("hf-kv-divide", "hf-config", hf_folder({"bad.json": {
        "num_attention_heads": 32, "num_key_value_heads": 5}}), ["bad.json", "divide"]))
    add(Case("hf-active-experts", "hf-config", hf_folder({"bad.json": {
        "num_attention_heads": 8, "num_local_experts": 4, "num_experts_per_tok": 6}}),
        ["bad.json", "exceed"]))
    add(Case("hf-utf16", "hf-config", hf_file(json.dumps(GOOD_CFG).encode("utf-16")),
             ["config.json", "UTF-16"]))
    add(Case("hf-latin1", "hf-config",
             hf_file(json.dumps({**GOOD_CFG, "x": "caf\u00e9"}, ensure_ascii=False)
                     .encode("latin-1")), ["config.json", "UTF-8"]))
    add(Case("hf-too-large", "hf-config",
             hf_file('{"a": "' + "x" * (5 * 1024 * 1024) + '"}'), ["config.json"]))
    add(Case("hf-dev-zero", "hf-config", _dev_zero, ["zero.csv", "not a regular file"]))
    add(Case("hf-fifo", "hf-config", _fifo, ["pipe.csv", "not a regular file"]))
    add(Case("hf-empty-folder", "hf-config", lambda d: d, ["no .json"]))
    add(Case("hf-unreadable", "hf-config", _unreadable(json.dumps(GOOD_CFG), "c.json"),
             ["c.json", "permission"], root_skip=True))
    # --- the snapshot option
    for i, v in enumerate(["9999-12-31", "0001-01-01", "1900-01-01", "2023-02-30", "soon"]):
        add(Case(f"snapshot-{i}", "epoch", raw(EPOCH.encode()), ["--snapshot"],
                 args=["--snapshot", v]))
    return cases


def _fifo(d: Path) -> Path:
    p = d / "pipe.csv"
    os.mkfifo(p)
    return p


def _dev_zero(d: Path) -> Path:
    p = d / "zero.csv"
    p.symlink_to("/dev/zero")
    return p


def _socket(d: Path) -> Path:
    p = d / "sock.csv"
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.bind(str(p))
    return p


def _unreadable(body: str, name: str = "locked.csv") -> Callable[[Path], Path]:
    def write(d: Path) -> Path:
        p = d / name
        p.write_text(body, encoding="utf-8")
        p.chmod(0)
        return p
    return write


CASES = build_cases()


def test_corpus_is_large_and_ids_are_unique() -> None:
    """The issue asks for at least 300 malformed inputs."""
    assert len(CASES) >= 300
    assert len({c.id for c in CASES}) == len(CASES)


@pytest.fixture(scope="module")
def evidence_db(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A --db file holding valid evidence of every kind, built through the CLI."""
    mp = pytest.MonkeyPatch()
    mp.setattr(catalog_load, "builtin_files", lambda: [FIXTURES / "catalog.yaml"])
    d = tmp_path_factory.mktemp("corpus")
    db = d / "ev.duckdb"
    (d / "runs.csv").write_text(RUNS, encoding="utf-8")
    (d / "bench.csv").write_text(BENCH, encoding="utf-8")
    for source, path in (("epoch", FIXTURES / "epoch_small.csv"), ("hf-config", FIXTURES / "hf"),
                         ("runs", d / "runs.csv"), ("benchmarks", d / "bench.csv")):
        mp.setattr(sys, "argv", ["convergent", "ingest", source, str(path), "--db", str(db)])
        with pytest.raises(SystemExit) as done:
            main()
            raise SystemExit(0)
        assert done.value.code in (0, None)
    yield db
    mp.undo()


class _Hang(Exception):
    pass


def _alarm(signum: int, frame: object) -> None:
    raise _Hang


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_malformed_input(case: Case, evidence_db: Path, tmp_path: Path,
                         monkeypatch: pytest.MonkeyPatch,
                         capsys: pytest.CaptureFixture[str]) -> None:
    """Exit 2, one line naming the place, no traceback, the store unchanged, no hang."""
    if case.root_skip and os.geteuid() == 0:
        pytest.skip("permissions do not apply to root")
    monkeypatch.setattr(catalog_load, "builtin_files", lambda: [FIXTURES / "catalog.yaml"])
    before_bytes = evidence_db.read_bytes()
    before_hash = file_hash(evidence_db)
    path = case.write(tmp_path)
    argv = ["convergent", "ingest", case.source, str(path), "--db", str(evidence_db), *case.args]
    monkeypatch.setattr(sys, "argv", argv)
    old = signal.signal(signal.SIGALRM, _alarm)
    signal.alarm(TIME_BOUND)
    code = 0
    try:
        main()
    except SystemExit as exc:
        code = int(exc.code or 0)
    except _Hang:
        pytest.fail(f"no answer within {TIME_BOUND} s")
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)
    err = capsys.readouterr().err
    assert code == 2, err
    assert err.count("\n") == 1 and err.endswith("\n"), err
    assert "Traceback" not in err
    for fragment in case.expect:
        assert fragment.lower() in err.lower(), (fragment, err)
    assert evidence_db.read_bytes() == before_bytes
    assert file_hash(evidence_db) == before_hash
