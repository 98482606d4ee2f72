"""Hugging Face `config.json` files: architecture choices of open-weights models."""

from __future__ import annotations

import datetime as dt
import json
import math
from pathlib import Path
from typing import TYPE_CHECKING, Any

from convergent.errors import ConvergentError
from convergent.ingest.fetch import Input, fetch, is_url, open_input, redact, source_row
from convergent.ingest.problems import IngestReport
from convergent.ingest.sniff import INVISIBLE_RE
from convergent.ingest.values import PLAUSIBLE, row_hash
from convergent.ingest.write import Record, write_records
from convergent.registry import canonical_option, context_bucket

if TYPE_CHECKING:
    from convergent.store import Store

ORIGIN = "hf-config"
HUB_PATTERN = "{base}/{model}/resolve/main/config.json"
MAX_CONFIG_BYTES = 4 * 1024 * 1024
MAX_COUNT = 1e6  # heads, experts: far above any real model
MAX_DEPTH = 64

_T5 = {"t5", "mt5", "umt5", "longt5", "switch_transformers"}
_GATED = {
    "llama", "mistral", "mixtral", "qwen", "qwen2", "qwen2_moe", "qwen3", "qwen3_moe", "gemma",
    "gemma2", "gemma3", "gemma3_text", "deepseek", "deepseek_v2", "deepseek_v3", "phi3",
    "phimoe", "olmo", "olmo2", "olmoe", "internlm", "internlm2", "baichuan", "yi", "cohere",
    "cohere2", "granite", "granitemoe", "exaone", "minicpm", "glm", "glm4", "chatglm", "dbrx",
    "jamba", "arctic", "stablelm", "hunyuan", "ernie4_5", "ernie4_5_moe", "kimi_k2", "smollm3",
}
_ROPE_TYPES = _GATED | {"gptj", "gpt_neox", "falcon", "persimmon", "phi", "starcoder2", "codegen"}
_LEARNED = {"gpt2", "opt", "gpt_neo", "bert", "roberta", "xlm-roberta", "bart", "mbart",
            "electra", "albert", "gpt_bigcode", "whisper", "distilbert"}
_ENCODER_ONLY = {"bert", "roberta", "xlm-roberta", "deberta", "deberta-v2", "electra", "albert",
                 "distilbert", "modernbert"}
_SSM = {"mamba", "mamba2"}
_RNN = {"rwkv", "rwkv5", "rwkv6", "rwkv7"}
_HYBRID = {"jamba", "zamba", "zamba2", "falcon_h1", "nemotron_h", "bamba"}


class ConfigError(ConvergentError):
    """A config value that cannot be right, named by file and key."""


def _first(cfg: dict[str, Any], *keys: str) -> Any:
    for k in keys:
        if cfg.get(k) is not None:
            return cfg[k]
    return None


def _count(cfg: dict[str, Any], where: str, *keys: str, limit: float = MAX_COUNT) -> int | None:
    """A positive integer setting up to `limit`, or None; anything else is an error naming
    the key (NaN, infinities and huge numbers included)."""
    for k in keys:
        v = cfg.get(k)
        if v is None:
            continue
        if (isinstance(v, bool) or not isinstance(v, int | float) or not math.isfinite(v)
                or v != int(v) or v <= 0):
            raise ConfigError(f"{k} must be a positive integer, got {_show(v)}",
                              where=f"{where}:{k}")
        if v > limit:
            raise ConfigError(f"{k} of {v:g} is implausible (at most {limit:g})",
                              where=f"{where}:{k}")
        return int(v)
    return None


def _show(v: Any) -> str:
    """A short rendering of a bad value for a message."""
    text = repr(v)
    return text if len(text) <= 60 else text[:57] + "..."


def _text_list(cfg: dict[str, Any], key: str, where: str) -> list[str]:
    """A list of strings setting (such as `architectures`); anything else names the key."""
    v = cfg.get(key)
    if v is None:
        return []
    if isinstance(v, str):
        return [v]
    if not isinstance(v, list) or not all(isinstance(a, str) for a in v):
        raise ConfigError(f"{key} must be a list of names, got {_show(v)}", where=f"{where}:{key}")
    return v


def _text(cfg: dict[str, Any], key: str, where: str) -> str | None:
    """A string setting, or None; a number, list or object there names the key."""
    v = cfg.get(key)
    if v is None:
        return None
    if not isinstance(v, str):
        raise ConfigError(f"{key} must be a string, got {_show(v)}", where=f"{where}:{key}")
    return v


def _activation(cfg: dict[str, Any], mt: str) -> str:
    if mt in _T5:
        proj = str(cfg.get("feed_forward_proj", "relu")).lower()
        return {"gated-gelu": "GeGLU", "gated-silu": "SwiGLU", "relu": "ReLU",
                "gelu": "GELU"}.get(proj, "other")
    act = _first(cfg, "hidden_act", "hidden_activation", "activation_function", "ffn_act")
    if act is None:
        return "unknown"
    act = str(act).lower()
    if mt in _GATED and act in ("silu", "swish", "swiglu"):
        return "SwiGLU"
    if mt in _GATED and act.startswith("gelu"):
        return "GeGLU"
    try:
        return canonical_option("activation", act)
    except ConvergentError:
        return "GELU" if "gelu" in act else "other"


def _normalization(cfg: dict[str, Any], mt: str) -> str:
    if mt in _T5 or any(k in cfg for k in ("rms_norm_eps", "rms_norm_epsilon", "rmsnorm")):
        return "RMSNorm"
    if any(k in cfg for k in ("layer_norm_eps", "layer_norm_epsilon", "layernorm_epsilon")):
        return "LayerNorm"
    return "unknown"


def _positional(cfg: dict[str, Any], mt: str) -> str:
    attn = cfg.get("attn_config") if isinstance(cfg.get("attn_config"), dict) else {}
    if mt in _T5:
        return "relative"
    if cfg.get("alibi") is True or attn.get("alibi") is True or mt in ("bloom", "mpt"):
        return "ALiBi"
    pe = str(cfg.get("position_embedding_type", "")).lower()
    if pe == "rotary" or any(k in cfg for k in ("rope_theta", "rotary_emb_base", "rotary_pct",
                                                 "rope_scaling", "rotary_dim", "rope_type")):
        return "RoPE"
    if mt in _ROPE_TYPES:
        return "RoPE"
    if pe == "absolute" or mt in _LEARNED:
        return "learned"
    return "unknown"


def _attention(cfg: dict[str, Any], where: str) -> tuple[str, int | None, int | None]:
    heads = _count(cfg, where, "num_attention_heads", "n_head", "num_heads", "n_heads",
                   "encoder_attention_heads")
    kv = _count(cfg, where, "num_key_value_heads", "num_kv_heads", "n_head_kv", "n_kv_heads",
                "multi_query_group_num")
    if cfg.get("kv_lora_rank") is not None or cfg.get("q_lora_rank") is not None:
        return "MLA", heads, kv
    if cfg.get("multi_query") is True and kv is None:
        return "MQA", heads, 1
    if heads is None:
        return "unknown", None, kv
    if kv is None:
        return "MHA", heads, heads
    if kv > heads or heads % kv:
        raise ConfigError(f"{kv} key/value heads do not divide {heads} attention heads",
                          where=f"{where}:num_key_value_heads")
    return ("MQA" if kv == 1 else "MHA" if kv == heads else "GQA"), heads, kv


def _experts(cfg: dict[str, Any], where: str) -> tuple[int | None, int | None]:
    ffn = cfg.get("ffn_config") if isinstance(cfg.get("ffn_config"), dict) else {}
    n = _count(cfg, where, "num_local_experts", "n_routed_experts", "num_experts",
               "moe_num_experts") or _count(ffn, where, "moe_num_experts")
    k = _count(cfg, where, "num_experts_per_tok", "moe_top_k", "num_selected_experts",
               "top_k_experts") or _count(ffn, where, "moe_top_k")
    if n is not None and k is not None and k > n:
        raise ConfigError(f"{k} active experts exceed {n} experts",
                          where=f"{where}:num_experts_per_tok")
    return n, k


def parse_config(cfg: dict[str, Any], where: str = "config.json") -> dict[str, Any]:
    """Architecture facts derived from one config: choices by area plus descriptive details."""
    if not isinstance(cfg, dict):
        raise ConfigError("top level must be a JSON object", where=where)
    text = cfg.get("text_config") if isinstance(cfg.get("text_config"), dict) else None
    llm = {**cfg, **text} if text else cfg
    mt = (_text(llm, "model_type", where) or _text(cfg, "model_type", where) or "").lower()
    attention, heads, kv = _attention(llm, where)
    experts, active = _experts(llm, where)
    ctx = _count(llm, where, "max_position_embeddings", "n_positions", "max_sequence_length",
                 "seq_length", "n_ctx", "max_seq_len", limit=PLAUSIBLE["context"][1])
    rope = llm.get("rope_scaling") if isinstance(llm.get("rope_scaling"), dict) else None
    archs = _text_list(cfg, "architectures", where)
    if cfg.get("is_encoder_decoder") or mt in _T5 or mt in ("bart", "mbart", "whisper"):
        structure = "encoder-decoder"
    elif mt in _ENCODER_ONLY or any(a.endswith("ForMaskedLM") for a in archs):
        structure = "encoder-only"
    elif any(a.endswith(("ForCausalLM", "LMHeadModel", "ForConditionalGeneration"))
             for a in archs) or mt in _ROPE_TYPES:
        structure = "decoder-only"
    else:
        structure = "unknown"
    backbone = ("SSM" if mt in _SSM else "RNN" if mt in _RNN else "hybrid" if mt in _HYBRID
                else "Transformer" if heads is not None else "unknown")
    modality = ("vision-language" if isinstance(cfg.get("vision_config"), dict)
                else "multimodal" if isinstance(cfg.get("audio_config"), dict) else "language")
    choices = {
        "backbone": backbone, "structure": structure,
        "ffn": "MoE" if experts is not None and experts > 1 else
               ("dense" if backbone == "Transformer" else "unknown"),
        "attention": attention, "normalization": _normalization(llm, mt),
        "activation": _activation(llm, mt), "positional": _positional(llm, mt),
        "context_window": context_bucket(ctx),
    }
    return {
        "model_type": mt or None, "choices": {k: v for k, v in choices.items() if v != "unknown"},
        "attention_heads": heads, "kv_heads": kv, "experts": experts, "active_experts": active,
        "context_length": ctx,
        "rope_scaling": (rope.get("rope_type") or rope.get("type")) if rope else None,
        "rope_scaling_factor": rope.get("factor") if rope else None,
        "tied_embeddings": llm.get("tie_word_embeddings"),
        "dtype": _first(llm, "torch_dtype", "dtype"), "modality": modality,
    }


def _load_json(data: bytes, where: str) -> dict[str, Any]:
    if len(data) > MAX_CONFIG_BYTES:
        raise ConfigError("config larger than 4 MiB", where=where)
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise ConfigError("file is UTF-16 encoded; save it as UTF-8", where=where)
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ConfigError("not UTF-8 text", where=where) from None
    depth = _depth(text)
    if depth > MAX_DEPTH:
        raise ConfigError(f"JSON nested {depth} levels deep (at most {MAX_DEPTH})", where=where)
    try:
        cfg = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ConfigError(f"not valid JSON: {exc.msg}",
                          where=f"{where}:{exc.lineno}:{exc.colno}") from None
    except RecursionError:
        raise ConfigError("JSON nested too deeply", where=where) from None
    if not isinstance(cfg, dict):
        raise ConfigError("top level must be a JSON object", where=where)
    return cfg


def _depth(text: str) -> int:
    """Deepest bracket nesting outside strings (measured before parsing, which recurses)."""
    depth = best = 0
    in_str = escape = False
    for ch in text:
        if in_str:
            if escape:
                escape = False
            elif ch == "\\":
                escape = True
            elif ch == '"':
                in_str = False
        elif ch == '"':
            in_str = True
        elif ch in "[{":
            depth += 1
            best = max(best, depth)
        elif ch in "]}":
            depth -= 1
    return best


def _model_name(path: Path, cfg: dict[str, Any], root: Path) -> str:
    """Model id: a config's `_name_or_path` when it is an id, else from the file's location."""
    given = INVISIBLE_RE.sub("", str(cfg.get("_name_or_path") or "")).strip()
    if given and not given.startswith(("/", ".", "~")) and given.count("/") <= 1:
        return given
    base = path.parent if path.name == "config.json" else path.with_suffix("")
    rel = base.relative_to(root) if base != root and root in base.parents else Path(base.name)
    return str(rel).replace("__", "/").replace("\\", "/")


def _collect_local(inp: Input) -> list[tuple[str, bytes, Path]]:
    root = inp.path
    if root.is_dir():
        files = sorted(p for p in root.rglob("*.json") if p.is_file())
        if not files:
            raise ConvergentError("no .json files in the folder", where=str(root))
        return [(str(p.relative_to(root)), _read(p), p) for p in files]
    return [(inp.name, _read(root), root)]


def _read(path: Path) -> bytes:
    """One config file: a regular file no larger than MAX_CONFIG_BYTES."""
    from convergent.userfiles import read_bytes

    return read_bytes(path, "config file", max_bytes=MAX_CONFIG_BYTES)


def ingest_hf_config(store: Store, path_or_url: str, skip_bad_rows: bool, *,
                     snapshot: dt.date | None = None, models: list[str]) -> IngestReport:
    """Parse every config first; write all models in one transaction (or nothing)."""
    items: list[tuple[str, bytes, str]] = []
    if is_url(path_or_url) and ("{model}" in path_or_url
                                or not path_or_url.lower().endswith(".json")):
        if not models:
            raise ConvergentError("a base URL needs model ids (--model ORG/NAME)",
                                  where=path_or_url)
        pattern = path_or_url if "{model}" in path_or_url else HUB_PATTERN.replace(
            "{base}", path_or_url.rstrip("/"))
        snap = snapshot
        for m in models:
            data, day = fetch(pattern.replace("{model}", m), max_bytes=MAX_CONFIG_BYTES)
            snap = snap or day
            items.append((m, data, m))
        inp = Input(Path("."), redact(path_or_url), redact(path_or_url),
                    snap or dt.date.today())
        cleanup = None
    else:
        inp = open_input(path_or_url, snapshot)
        cleanup = inp
        root = inp.path if inp.path.is_dir() else inp.path.parent
        items = []
        for label, data, p in _collect_local(inp):
            try:
                cfg_name = _model_name(p, _load_json(data, label), root)
            except ConvergentError:
                cfg_name = label
            items.append((label, data, cfg_name))
        if models:
            items = [it for it in items if it[2] in models]
    try:
        return ingest_hf_items(store, items, inp, skip_bad_rows)
    finally:
        if cleanup is not None:
            cleanup.cleanup()


def ingest_hf_items(store: Store, items: list[tuple[str, bytes, str]], inp: Input,
                    skip_bad_rows: bool, dates: dict[str, dt.date] | None = None
                    ) -> IngestReport:
    """Parse (label, config bytes, model id) items; write every model in one transaction.

    `dates` gives release dates by model id where the caller knows them (the Hub's
    creation date of the repository); configs themselves carry none."""
    dates = dates or {}
    src = source_row(inp, "hf-config", ORIGIN)
    report = IngestReport("hf-config", inp.url, ORIGIN, src["source_id"],
                          inp.snapshot.isoformat())
    report.rows_read = len(items)
    records: list[Record] = []
    for i, (label, data, name) in enumerate(items, start=1):
        try:
            cfg = _load_json(data, label)
            facts = parse_config(cfg, label)
        except ConvergentError as exc:
            if not skip_bad_rows:
                raise ConvergentError(f"{exc}; nothing was ingested") from None
            report.skipped += 1
            report.skipped_rows.append(str(exc))
            continue
        org = name.split("/", 1)[0] if "/" in name else None
        choices = {a: [o] for a, o in facts["choices"].items()}
        ctx = facts["context_length"]
        records.append(Record(
            row=i, name=name, organization=org, date=dates.get(name),
            entity={"modality": facts["modality"], "context_length":
                    float(ctx) if ctx else None, "open_weights": True},
            choices=choices, segments={"modality": facts["modality"], "openness": "open"},
            raw_hash=row_hash([json.dumps(cfg, sort_keys=True)])))
        report.notes.append(json.dumps({"model": name, **{k: v for k, v in facts.items()
                                                          if k != "choices"},
                                        **facts["choices"]}, default=str))
    write_records(store, ORIGIN, src, records, report)
    return report
