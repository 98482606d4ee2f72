"""`convergent update`: refresh evidence from live public sources into a store.

Every download happens before anything is written, so being offline (or a source being
down) changes nothing. Sources: Epoch AI's Notable AI Models CSV by its public URL, and
Hugging Face `config.json` files of given model ids or of the most-downloaded
text-generation models, through `huggingface_hub` (which honours HF_ENDPOINT, HF_HOME,
its cache and HF_HUB_OFFLINE).
"""

from __future__ import annotations

import datetime as dt
import logging
import tempfile
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from convergent.dates import check_plausible
from convergent.errors import ConvergentError
from convergent.ingest.fetch import Input, fetch, source_row
from convergent.ingest.problems import IngestReport

if TYPE_CHECKING:
    from convergent.store import Store

EPOCH_URL = "https://epoch.ai/data/notable_ai_models.csv"
HF_DEFAULT_ENDPOINT = "https://huggingface.co"
PROBE_TIMEOUT = 15.0
MAX_HF_TOP = 5000

Progress = Callable[[str], None]


@dataclass
class UpdatePlan:
    """What to refresh: the Epoch CSV (or not) and which Hugging Face models."""

    epoch_url: str | None = EPOCH_URL
    hf_models: list[str] = field(default_factory=list)
    hf_top: int = 0
    hf_endpoint: str | None = None
    cache_dir: str | None = None
    strict: bool = False


@dataclass
class HfConfig:
    """One downloaded config with the model id and the repository's creation date."""

    model: str
    data: bytes
    created: dt.date | None


@dataclass
class Downloads:
    """Everything fetched, held in memory until the write phase."""

    epoch: tuple[bytes, dt.date] | None = None
    hf: list[HfConfig] = field(default_factory=list)
    hf_skipped: list[str] = field(default_factory=list)
    hf_endpoint: str = HF_DEFAULT_ENDPOINT


def _endpoint(plan: UpdatePlan) -> str:
    if plan.hf_endpoint:
        return plan.hf_endpoint.rstrip("/")
    from huggingface_hub import constants

    return str(constants.ENDPOINT).rstrip("/")


def _offline() -> bool:
    from huggingface_hub import constants

    return bool(constants.HF_HUB_OFFLINE)


def _probe(endpoint: str) -> None:
    """One quick request, so an unreachable Hub is one clear line rather than minutes of
    retries inside the client."""
    url = f"{endpoint}/api/models?limit=1"
    req = urllib.request.Request(url, headers={"User-Agent": "convergent-update"})
    try:
        with urllib.request.urlopen(req, timeout=PROBE_TIMEOUT) as resp:
            resp.read(1024)
    except urllib.error.HTTPError as exc:
        if exc.code >= 500:
            raise ConvergentError(f"the Hugging Face Hub answered HTTP {exc.code}; nothing was "
                                  "changed", where=endpoint) from None
    except (urllib.error.URLError, OSError, ValueError) as exc:
        reason = getattr(exc, "reason", exc)
        raise ConvergentError(
            f"cannot reach the Hugging Face Hub ({reason}); you may be offline. Nothing was "
            "changed (set HF_HUB_OFFLINE=1 to use cached configs of --hf-model ids)",
            where=endpoint) from None


def _created(value: Any) -> dt.date | None:
    """A repository's creation date when plausible (it stands in for the release date)."""
    if value is None:
        return None
    day = value.date() if isinstance(value, dt.datetime) else value
    try:
        return check_plausible(day)
    except ConvergentError:
        return None


def _hf_downloads(plan: UpdatePlan, out: Downloads, progress: Progress) -> None:
    """List the models, then fetch each one's config.json (missing, gated or private
    repositories are skipped and named)."""
    from huggingface_hub import HfApi, hf_hub_download
    from huggingface_hub import errors as hf_errors

    logging.getLogger("huggingface_hub").setLevel(logging.ERROR)
    endpoint = _endpoint(plan)
    out.hf_endpoint = endpoint
    offline = _offline()
    if plan.hf_top and offline:
        raise ConvergentError("HF_HUB_OFFLINE is set: listing the most-downloaded models needs "
                              "the network; give --hf-model ids to use cached configs")
    if not offline:
        _probe(endpoint)
    api = HfApi(endpoint=endpoint)
    created: dict[str, dt.date | None] = {}
    ids: list[str] = []
    if plan.hf_top:
        progress(f"listing the {plan.hf_top} most-downloaded text-generation models")
        try:
            for info in api.list_models(pipeline_tag="text-generation", sort="downloads",
                                        limit=plan.hf_top):
                ids.append(info.id)
                created[info.id] = _created(getattr(info, "created_at", None))
        except Exception as exc:  # the client raises transport and HTTP errors of many kinds
            raise ConvergentError(f"cannot list models: {str(exc).splitlines()[0]}; nothing "
                                  "was changed", where=endpoint) from None
    for m in plan.hf_models:
        if m not in ids:
            ids.append(m)
    for i, model in enumerate(ids, start=1):
        progress(f"config {i}/{len(ids)}: {model}")
        try:
            path = hf_hub_download(model, "config.json", endpoint=endpoint,
                                   cache_dir=plan.cache_dir)
            if model not in created and not offline:
                created[model] = _created(getattr(api.model_info(model), "created_at", None))
        except (hf_errors.GatedRepoError, hf_errors.RepositoryNotFoundError,
                hf_errors.RevisionNotFoundError, hf_errors.RemoteEntryNotFoundError,
                hf_errors.HFValidationError) as exc:
            out.hf_skipped.append(f"{model}: {type(exc).__name__}")
            continue
        except hf_errors.LocalEntryNotFoundError:
            if offline:
                out.hf_skipped.append(f"{model}: not in the local cache (offline mode)")
                continue
            raise ConvergentError(f"cannot download {model}/config.json (connection lost?); "
                                  "nothing was changed", where=endpoint) from None
        except Exception as exc:  # transport errors after the probe succeeded
            raise ConvergentError(f"cannot download {model}/config.json: "
                                  f"{str(exc).splitlines()[0]}; nothing was changed",
                                  where=endpoint) from None
        out.hf.append(HfConfig(model, Path(path).read_bytes(), created.get(model)))


def download(plan: UpdatePlan, progress: Progress | None = None) -> Downloads:
    """Fetch every source of the plan; raise one ConvergentError line on the first failure."""
    say = progress or (lambda _msg: None)
    out = Downloads()
    if plan.epoch_url:
        say(f"downloading {plan.epoch_url}")
        out.epoch = fetch(plan.epoch_url)
    if plan.hf_top or plan.hf_models:
        _hf_downloads(plan, out, say)
    return out


def write(store: Store, plan: UpdatePlan, got: Downloads, progress: Progress | None = None
          ) -> dict[str, Any]:
    """Ingest what was downloaded: each source in its own transaction."""
    from convergent.ingest.epoch import ORIGIN as EPOCH_ORIGIN
    from convergent.ingest.epoch import ingest_epoch
    from convergent.ingest.hf_config import ingest_hf_items

    say = progress or (lambda _msg: None)
    result: dict[str, Any] = {"epoch": None, "hf": None, "hf_skipped": got.hf_skipped}
    if got.epoch is not None and plan.epoch_url:
        say("writing Epoch AI rows")
        data, snap = got.epoch
        with tempfile.TemporaryDirectory(prefix="convergent-update-") as tmp:
            local = Path(tmp) / "notable_ai_models.csv"
            local.write_bytes(data)
            inp = Input(local, plan.epoch_url, local.name, snap)
            src = source_row(inp, "epoch-csv", EPOCH_ORIGIN)
            report = IngestReport("epoch", inp.url, EPOCH_ORIGIN, src["source_id"],
                                  snap.isoformat())
            ingest_epoch(store, inp, src, not plan.strict, report)
        result["epoch"] = report.as_dict()
    if got.hf:
        say(f"writing {len(got.hf)} Hugging Face configs")
        url = f"{got.hf_endpoint}/api/models"
        inp = Input(Path("."), url, "Hugging Face Hub configs", dt.date.today())
        items = [(f"{c.model}/config.json", c.data, c.model) for c in got.hf]
        dates = {c.model: c.created for c in got.hf if c.created is not None}
        report = ingest_hf_items(store, items, inp, not plan.strict, dates)
        result["hf"] = report.as_dict()
    return result


def update(store: Store, plan: UpdatePlan, progress: Progress | None = None) -> dict[str, Any]:
    """Download everything first, then write: offline means nothing changes."""
    if plan.hf_top < 0 or plan.hf_top > MAX_HF_TOP:
        raise ConvergentError(f"--hf-top {plan.hf_top}: must be 0..{MAX_HF_TOP}")
    if not plan.epoch_url and not plan.hf_top and not plan.hf_models:
        raise ConvergentError("nothing to update: give an Epoch URL, --hf-top or --hf-model")
    got = download(plan, progress)
    return write(store, plan, got, progress)
