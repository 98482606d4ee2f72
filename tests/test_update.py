"""`convergent update` against a local server that serves fixture files in the layouts of
Epoch AI's CSV download and the Hugging Face Hub API; no test touches the internet."""

from __future__ import annotations

import datetime as dt
import hashlib
import http.server
import json
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import ClassVar

import pytest

import convergent.catalog.load as catalog_load
from convergent.cli import main
from convergent.ingest.update import UpdatePlan, update
from convergent.store import open_store
from test_ingest_common import FIXTURES, dump

HF = FIXTURES / "hf"
# model id -> (fixture config, repository creation date as the Hub's API gives it)
MODELS = {
    "meta-llama/Llama-2-7b-hf": (HF / "meta-llama__Llama-2-7b-hf" / "config.json",
                                 "2023-07-13T16:28:21.000Z"),
    "example/gqa-7b": (HF / "example__gqa-7b.json", "2024-03-01T10:00:00.000Z"),
    "example/mla-moe": (HF / "example__mla-moe.json", "2025-01-20T08:00:00.000Z"),
    "example/falcon-mqa": (HF / "example__falcon-mqa.json", "9999-01-01T00:00:00.000Z"),
}
GATED = "example/gated"


class Hub(http.server.BaseHTTPRequestHandler):
    """Epoch's CSV at /data/notable_ai_models.csv; the Hub's /api/models listing,
    /api/models/ID info and /ID/resolve/main/config.json (HEAD and GET, with the ETag and
    X-Repo-Commit headers the client expects); a gated repository answers 401."""

    requests: ClassVar[list[str]] = []

    def log_message(self, *args: object) -> None:
        return

    def _send(self, body: bytes, head: bool, ctype: str = "application/json") -> None:
        self.send_response(200)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("ETag", f'"{hashlib.sha1(body).hexdigest()}"')
        self.send_header("X-Repo-Commit", "0" * 40)
        self.send_header("Last-Modified", "Mon, 02 Nov 2026 10:00:00 GMT")
        self.end_headers()
        if not head:
            self.wfile.write(body)

    def _route(self, head: bool) -> None:
        path = self.path.split("?")[0]
        Hub.requests.append(f"{self.command} {self.path}")
        if path == "/data/notable_ai_models.csv":
            return self._send((FIXTURES / "epoch_small.csv").read_bytes(), head, "text/csv")
        if path == "/api/models":
            listing = [{"id": m, "modelId": m, "downloads": 1000 - i, "createdAt": c,
                        "pipeline_tag": "text-generation"}
                       for i, (m, (_, c)) in enumerate(MODELS.items())]
            return self._send(json.dumps([*listing, {"id": GATED, "modelId": GATED}]).encode(),
                              head)
        for model, (cfg, created) in MODELS.items():
            if path == f"/api/models/{model}":
                return self._send(json.dumps({"id": model, "createdAt": created}).encode(), head)
            if path == f"/{model}/resolve/main/config.json":
                return self._send(cfg.read_bytes(), head)
        if path.startswith(f"/{GATED}/") or path.startswith(f"/api/models/{GATED}"):
            self.send_response(401)
            self.send_header("X-Error-Code", "GatedRepo")
            self.send_header("Content-Length", "0")
            self.end_headers()
            return None
        self.send_response(404)
        self.send_header("X-Error-Code", "RepoNotFound")
        self.send_header("Content-Length", "0")
        self.end_headers()
        return None

    def do_GET(self) -> None:
        self._route(False)

    def do_HEAD(self) -> None:
        self._route(True)


@pytest.fixture
def hub() -> Iterator[str]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Hub)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    Hub.requests = []
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture(autouse=True)
def small_catalog(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(catalog_load, "builtin_files", lambda: [FIXTURES / "catalog.yaml"])


def plan(base: str, tmp_path: Path, **kw: object) -> UpdatePlan:
    args: dict[str, object] = {"epoch_url": f"{base}/data/notable_ai_models.csv",
                               "hf_endpoint": base, "cache_dir": str(tmp_path / "hf-cache")}
    args.update(kw)
    return UpdatePlan(**args)  # type: ignore[arg-type]


def test_update_reads_epoch_and_top_models(hub: str, tmp_path: Path) -> None:
    store = open_store(tmp_path / "ev.duckdb")
    result = update(store, plan(hub, tmp_path, hf_top=10))
    assert result["epoch"]["rows_read"] == 6 and result["epoch"]["source"] == "epoch"
    assert result["hf"]["rows_read"] == 4
    assert result["hf_skipped"] == [f"{GATED}: GatedRepoError"]
    q = store.con.con.execute
    rows = dict(q("SELECT name, date FROM entities WHERE origin = 'hf-config'").fetchall())
    # the repository's creation date stands in for the release date; 9999 is refused
    assert rows["example/gqa-7b"] == dt.date(2024, 3, 1)
    assert rows["example/falcon-mqa"] is None
    att = dict(q("SELECT e.name, a.option FROM adoptions a JOIN entities e USING (entity_id) "
                 "WHERE a.area_id = 'attention' AND a.origin = 'hf-config'").fetchall())
    assert att["example/gqa-7b"] == "GQA" and att["example/mla-moe"] == "MLA"
    urls = {r[0] for r in q("SELECT url FROM sources").fetchall()}
    assert f"{hub}/data/notable_ai_models.csv" in urls and f"{hub}/api/models" in urls
    before = dump(store)
    again = update(store, plan(hub, tmp_path, hf_top=10))
    assert (again["hf"]["added"], again["hf"]["updated"]) == (0, 0)
    assert (again["epoch"]["added"], again["epoch"]["updated"]) == (0, 0)
    assert dump(store) == before


def test_update_given_models_only(hub: str, tmp_path: Path) -> None:
    store = open_store(None)
    result = update(store, plan(hub, tmp_path, epoch_url=None,
                                hf_models=["example/gqa-7b", "example/missing"]))
    assert result["epoch"] is None and result["hf"]["rows_read"] == 1
    assert result["hf_skipped"] == ["example/missing: RepositoryNotFoundError"]
    assert not any(r.startswith("GET /api/models?") and "limit=1&" not in r and
                   "sort" in r for r in Hub.requests)


def test_offline_is_one_line_and_changes_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    db = tmp_path / "ev.duckdb"
    before = dump(open_store(db))
    dead = "http://127.0.0.1:9"
    monkeypatch.setattr(sys, "argv", ["convergent", "update", "--db", str(db), "--epoch-url",
                                      f"{dead}/data/notable_ai_models.csv", "--hf-top", "5",
                                      "--hf-endpoint", dead])
    with pytest.raises(SystemExit) as exc:
        main()
    err = capsys.readouterr().err
    assert exc.value.code == 2
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err
    assert "cannot fetch" in err and "127.0.0.1:9" in err
    assert dump(open_store(db)) == before and not db.exists()


def test_hub_unreachable_after_epoch_changes_nothing(hub: str, tmp_path: Path) -> None:
    """The Epoch download succeeds, the Hub is down: nothing is written at all."""
    store = open_store(None)
    before = dump(store)
    from convergent.errors import ConvergentError

    with pytest.raises(ConvergentError, match="cannot reach the Hugging Face Hub"):
        update(store, plan(hub, tmp_path, hf_top=3, hf_endpoint="http://127.0.0.1:9"))
    assert dump(store) == before


def test_update_cli_json(hub: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                         capsys: pytest.CaptureFixture[str]) -> None:
    db = tmp_path / "ev.duckdb"
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "cache"))
    monkeypatch.setattr(sys, "argv", [
        "convergent", "update", "--db", str(db), "--epoch-url",
        f"{hub}/data/notable_ai_models.csv", "--hf-model", "example/mla-moe",
        "--hf-endpoint", hub, "--json"])
    try:
        main()
    except SystemExit as exc:
        assert not exc.code
    out = json.loads(capsys.readouterr().out)
    assert out["epoch"]["rows_read"] == 6 and out["hf"]["rows_read"] == 1


def test_bad_top_is_refused(tmp_path: Path) -> None:
    from convergent.errors import ConvergentError

    with pytest.raises(ConvergentError, match="--hf-top"):
        update(open_store(None), UpdatePlan(hf_top=-1))
    with pytest.raises(ConvergentError, match="nothing to update"):
        update(open_store(None), UpdatePlan(epoch_url=None))
