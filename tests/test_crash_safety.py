"""Crash safety: a writer killed at any moment leaves the old store or the new one, whole."""

from __future__ import annotations

import csv
import io
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from test_ingest_common import FIXTURES, file_hash

CLI = [sys.executable, "-c", "from convergent.cli import main; main()"]
ROUNDS = int(os.environ.get("CONVERGENT_KILL_ROUNDS", "6"))


def big_epoch(path: Path, n: int) -> Path:
    """The fixture's header with `n` distinct synthetic models."""
    rows = list(csv.reader(io.StringIO((FIXTURES / "epoch_small.csv").read_text("utf-8"))))
    header, template = rows[0], rows[1]
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(header)
    for i in range(n):
        r = list(template)
        r[header.index("Model")] = f"Synthetic-{i}"
        r[header.index("Organization")] = f"Org {i % 97}"
        r[header.index("Publication date")] = f"20{10 + i % 14}-0{1 + i % 9}-1{i % 9}"
        w.writerow(r)
    path.write_text(buf.getvalue(), encoding="utf-8")
    return path


def ingest_cmd(csv_path: Path, db: Path) -> list[str]:
    return [*CLI, "ingest", "epoch", str(csv_path), "--db", str(db)]


@pytest.fixture(scope="module")
def states(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, str, str]:
    """A store with the small fixture, a big file to add, and the before/after hashes."""
    d = tmp_path_factory.mktemp("crash")
    base = d / "base.duckdb"
    subprocess.run(ingest_cmd(FIXTURES / "epoch_small.csv", base), check=True,
                   capture_output=True, timeout=300)
    big = big_epoch(d / "big.csv", 30000)
    after_db = d / "after.duckdb"
    after_db.write_bytes(base.read_bytes())
    done = subprocess.run(ingest_cmd(big, after_db), capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 0, done.stderr
    return base, big, file_hash(base), file_hash(after_db)


def test_kill_at_many_moments_never_tears_the_store(states: tuple[Path, Path, str, str],
                                                    tmp_path: Path) -> None:
    """kill -9 from start-up to just after the swap: the file is always old or new."""
    base, big, before, after = states
    db = tmp_path / "ev.duckdb"
    t0 = time.perf_counter()
    db.write_bytes(base.read_bytes())
    done = subprocess.run(ingest_cmd(big, db), capture_output=True, timeout=300)
    assert done.returncode == 0
    span = time.perf_counter() - t0
    seen = set()
    for i in range(ROUNDS):
        db.write_bytes(base.read_bytes())
        proc = subprocess.Popen(ingest_cmd(big, db), stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL)
        time.sleep(span * (0.35 + 0.7 * i / max(ROUNDS - 1, 1)))
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        state = file_hash(db)
        assert state in (before, after), f"torn store after a kill at round {i}"
        seen.add("old" if state == before else "new")
    again = subprocess.run(ingest_cmd(big, db), capture_output=True, text=True, timeout=300)
    assert again.returncode == 0, again.stderr
    assert file_hash(db) == after
    assert not list(tmp_path.glob(".ev.duckdb.tmp-*")), "a killed writer's copy was left"


def test_reader_runs_while_a_writer_holds_the_file(states: tuple[Path, Path, str, str],
                                                   tmp_path: Path) -> None:
    """A report-style read of the file succeeds during an ingest and sees the old evidence."""
    from convergent.store import open_store, writing_store

    base, _, before, _ = states
    db = tmp_path / "ev.duckdb"
    db.write_bytes(base.read_bytes())
    with writing_store(db) as store:
        store.con.con.execute("DELETE FROM entities WHERE origin = 'epoch'")
        reader = open_store(db)
        assert reader.con.con.execute(
            "SELECT count(*) FROM entities WHERE origin = 'epoch'").fetchone()[0] == 6
        assert file_hash(db) == before
    assert open_store(db).con.con.execute(
        "SELECT count(*) FROM entities WHERE origin = 'epoch'").fetchone()[0] == 0


def test_second_writer_gets_one_clear_error(states: tuple[Path, Path, str, str],
                                            tmp_path: Path) -> None:
    """Two ingests into one file: the second is refused at once, the first completes."""
    from convergent.errors import ConvergentError
    from convergent.store import writing_store

    base = states[0]
    db = tmp_path / "ev.duckdb"
    db.write_bytes(base.read_bytes())
    with (writing_store(db), pytest.raises(ConvergentError, match="another ingest"),
          writing_store(db)):
        pass
    with writing_store(db):
        pass


def test_failed_write_changes_nothing(states: tuple[Path, Path, str, str],
                                      tmp_path: Path) -> None:
    """An error inside the block leaves the file byte for byte as it was."""
    from convergent.store import writing_store

    base, _, before, _ = states
    db = tmp_path / "ev.duckdb"
    db.write_bytes(base.read_bytes())
    raw = db.read_bytes()
    with pytest.raises(RuntimeError), writing_store(db) as store:
        store.con.con.execute("DELETE FROM sources")
        raise RuntimeError("boom")
    assert db.read_bytes() == raw and file_hash(db) == before


def test_two_readers_share_one_file(states: tuple[Path, Path, str, str]) -> None:
    """Opening for reading takes no write lock and changes no byte."""
    from convergent.store import open_store

    base = states[0]
    raw = base.read_bytes()
    a, b = open_store(base), open_store(base)
    assert a.count("entities") == b.count("entities") > 6
    assert base.read_bytes() == raw


def test_commands_read_while_an_ingest_writes(states: tuple[Path, Path, str, str],
                                              tmp_path: Path) -> None:
    """Two readers run at once, during a big ingest into the same file: all succeed."""
    base, big, _, after = states
    db = tmp_path / "ev.duckdb"
    db.write_bytes(base.read_bytes())
    writer = subprocess.Popen(ingest_cmd(big, db), stdout=subprocess.DEVNULL,
                              stderr=subprocess.PIPE)
    readers = [subprocess.Popen([*CLI, "classify", "--area", "structure", "--db", str(db),
                                 "--json"], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
               for _ in range(2)]
    for r in readers:
        _, err = r.communicate(timeout=300)
        assert r.returncode == 0, err
    _, err = writer.communicate(timeout=300)
    assert writer.returncode == 0, err
    assert file_hash(db) == after
