"""Hugging Face config.json ingest: derived architecture, folders, URLs and resolution."""

from __future__ import annotations

import functools
import http.server
import json
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from convergent.errors import ConvergentError
from convergent.ingest import ingest
from convergent.ingest.hf_config import parse_config
from test_ingest_common import FIXTURES, dump, store_with_catalog

HF = FIXTURES / "hf"


def _cfg(name: str) -> dict:
    return json.loads((HF / name).read_text("utf-8"))


@pytest.mark.parametrize(("name", "expected"), [
    ("example__gqa-7b.json", {"attention": "GQA", "ffn": "dense", "normalization": "RMSNorm",
                              "activation": "SwiGLU", "positional": "RoPE",
                              "context_window": "128K-999K"}),
    ("example__moe-8x7b.json", {"attention": "GQA", "ffn": "MoE"}),
    ("example__mla-moe.json", {"attention": "MLA", "ffn": "MoE"}),
    ("example__gpt2-small.json", {"attention": "MHA", "normalization": "LayerNorm",
                                  "activation": "GELU", "positional": "learned"}),
    ("example__falcon-mqa.json", {"attention": "MQA", "positional": "RoPE"}),
    ("example__t5-base.json", {"structure": "encoder-decoder", "normalization": "RMSNorm",
                               "activation": "GeGLU", "positional": "relative"}),
    ("meta-llama__Llama-2-7b-hf/config.json", {"attention": "MHA", "structure": "decoder-only",
                                               "context_window": "<32K"}),
])
def test_parse_config_choices(name: str, expected: dict[str, str]) -> None:
    """Each fixture yields the documented option per area."""
    got = parse_config(_cfg(name), name)["choices"]
    assert {k: got.get(k) for k in expected} == expected


def test_parse_config_details() -> None:
    """Experts, active experts, RoPE scaling, tied embeddings and dtype are read."""
    d = parse_config(_cfg("example__mla-moe.json"))
    assert (d["experts"], d["active_experts"], d["rope_scaling"], d["rope_scaling_factor"]) == (
        256, 8, "yarn", 40)
    assert d["tied_embeddings"] is False and d["dtype"] == "bfloat16"
    assert parse_config(_cfg("example__gqa-7b.json"))["kv_heads"] == 8


def test_unknown_stays_unknown() -> None:
    """A config that does not say is not guessed."""
    d = parse_config({"model_type": "mystery"})
    assert d["choices"] == {}


def test_folder_ingest_and_resolution() -> None:
    """A folder of configs; the Llama config enriches the catalog's Llama 2 7B entity."""
    store = store_with_catalog()
    report = ingest(store, "hf-config", HF)
    assert report.rows_read == 7 and report.matched == 1 and report.conflicts == []
    rows = dict(store.con.con.execute(
        "SELECT area_id, option FROM adoptions WHERE entity_id = 'llama-2-7b' "
        "AND origin = 'hf-config'").fetchall())
    assert rows["normalization"] == "RMSNorm" and "attention" not in rows
    ents = {r[0] for r in store.con.con.execute(
        "SELECT name FROM entities WHERE origin = 'hf-config'").fetchall()}
    assert "example/mla-moe" in ents and "meta-llama/Llama-2-7b-hf" not in ents
    before = dump(store)
    again = ingest(store, "hf-config", HF)
    assert again.unchanged == 7 and dump(store) == before


def test_conflict_is_reported_not_overwritten(tmp_path: Path) -> None:
    """A config that says GQA where the catalog says MHA leaves MHA and reports it."""
    d = tmp_path / "meta-llama__Llama-2-7b"
    d.mkdir()
    cfg = _cfg("meta-llama__Llama-2-7b-hf/config.json") | {"num_key_value_heads": 8}
    (d / "config.json").write_text(json.dumps(cfg), "utf-8")
    store = store_with_catalog()
    report = ingest(store, "hf-config", d / "config.json")
    assert [(c["field"], c["kept"]) for c in report.conflicts] == [("attention", ["MHA"])]


@pytest.fixture
def server() -> Iterator[str]:
    """A local HTTP server on 127.0.0.1 serving the fixture folder."""
    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            """Keep test output clean."""

    handler = functools.partial(Quiet, directory=str(FIXTURES))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    t = threading.Thread(target=httpd.serve_forever, daemon=True)
    t.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


def test_url_modes(server: str) -> None:
    """A config URL, a URL pattern with model ids, and an Epoch CSV over HTTP."""
    store = store_with_catalog()
    one = ingest(store, "hf-config", f"{server}/hf/example__gpt2-small.json")
    assert one.rows_read == 1 and one.path.startswith("http://127.0.0.1")
    many = ingest(store, "hf-config", server + "/hf/{model}.json",
                  models=["example__gqa-7b", "example__moe-8x7b"])
    assert many.rows_read == 2 and many.added == 2
    ep = ingest(store, "epoch", f"{server}/epoch_small.csv")
    assert ep.rows_read == 6
    with pytest.raises(ConvergentError, match="HTTP 404"):
        ingest(store, "epoch", f"{server}/missing.csv")
    with pytest.raises(ConvergentError, match="model ids"):
        ingest(store, "hf-config", server)
