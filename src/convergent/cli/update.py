"""`convergent update`: refresh evidence from live public sources into a --db file."""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from convergent.cli.common import JsonOpt, WriteDbOpt


def update(
    db: WriteDbOpt,
    epoch_url: Annotated[str | None, typer.Option(
        "--epoch-url", help="Epoch AI Notable AI Models CSV (default: its public URL, "
                            "epoch.ai/data/notable_ai_models.csv).")] = None,
    no_epoch: Annotated[bool, typer.Option("--no-epoch", help="Skip the Epoch AI table.")] = False,
    hf_model: Annotated[list[str] | None, typer.Option(
        "--hf-model", help="Hugging Face model id ORG/NAME whose config.json to read "
                           "(repeatable).")] = None,
    hf_top: Annotated[int, typer.Option(
        "--hf-top", help="Also read the configs of this many most-downloaded text-generation "
                         "models (0: none).")] = 0,
    hf_endpoint: Annotated[str | None, typer.Option(
        "--hf-endpoint", help="Hub address (default: HF_ENDPOINT or huggingface.co).")] = None,
    strict: Annotated[bool, typer.Option(
        "--strict", help="Refuse a source with any bad row (default: skip and report them).")
    ] = False,
    json: JsonOpt = False,
) -> None:
    """Refresh evidence from Epoch AI and the Hugging Face Hub (the only command that goes
    online without a URL). Everything is downloaded before anything is written.

    Example: convergent update --db evidence.duckdb --hf-top 100 --hf-model Qwen/Qwen3-8B
    """
    from rich.console import Console

    from convergent.cli.common import STATE, writing_only
    from convergent.cli.render import emit
    from convergent.ingest.update import EPOCH_URL, UpdatePlan
    from convergent.ingest.update import update as run
    from convergent.store import writing_store

    writing_only()
    plan = UpdatePlan(epoch_url=None if no_epoch else epoch_url or EPOCH_URL,
                      hf_models=list(hf_model or []), hf_top=hf_top, hf_endpoint=hf_endpoint,
                      strict=strict)
    err = Console(stderr=True)
    with err.status("updating", spinner="dots") as status:
        def progress(msg: str) -> None:
            if err.is_terminal:
                status.update(msg)

        with writing_store(db, builtin=STATE.builtin) as store:
            result = run(store, plan, progress)
    if json:
        emit([], as_json=True, data=result)
        return
    rows = []
    for key, label in (("epoch", "Epoch AI"), ("hf", "Hugging Face configs")):
        rep = result.get(key)
        if rep:
            rows.append({"source": label, "read": rep["rows_read"], "added": rep["added"],
                         "updated": rep["updated"], "unchanged": rep["unchanged"],
                         "skipped": rep["skipped"], "matched": rep["matched"],
                         "conflicts": len(rep["conflicts"])})
    emit(rows, columns=[(c, c) for c in ("source", "read", "added", "updated", "unchanged",
                                         "skipped", "matched", "conflicts")],
         title=f"update: {db}")
    for msg in result.get("hf_skipped") or []:
        sys.stderr.write(f"skipped: {msg}\n")


def register(app: typer.Typer) -> None:
    """Add the command to the app."""
    app.command("update")(update)
