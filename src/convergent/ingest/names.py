"""Name keys: normalised model and organisation names for matching rows to entities."""

from __future__ import annotations

import re

from convergent.registry import norm_key
from convergent.schema import UNKNOWN

_ORG_SYNONYMS = {
    "googledeepmind": "google", "deepmind": "google", "googlebrain": "google",
    "googleresearch": "google", "google": "google", "alphabet": "google",
    "facebook": "meta", "facebookai": "meta", "facebookairesearch": "meta", "fair": "meta",
    "metaai": "meta", "meta": "meta", "metallama": "meta", "metaplatforms": "meta",
    "microsoftresearch": "microsoft", "microsoft": "microsoft",
    "mistral": "mistral", "mistralai": "mistral", "zhipuai": "zhipu", "zai": "zhipu",
    "zhipu": "zhipu", "thudm": "zhipu", "alibaba": "alibaba", "qwen": "alibaba",
    "alibabacloud": "alibaba", "alibabagroup": "alibaba", "deepseek": "deepseek",
    "deepseekai": "deepseek", "tiiuae": "tii", "tii": "tii",
    "technologyinnovationinstitute": "tii", "eleutherai": "eleutherai", "bigscience": "bigscience",
    "huggingface": "huggingface", "xai": "xai", "openai": "openai", "anthropic": "anthropic",
    "beijingacademyofartificialintelligence": "baai", "baai": "baai",
    "shanghaiailab": "shanghaiai", "shanghaiailaboratory": "shanghaiai",
    "shanghaiartificialintelligencelaboratory": "shanghaiai",
    "allenai": "ai2", "alleninstituteforai": "ai2", "ai2": "ai2",
    "alleninstituteforartificialintelligence": "ai2",
    "ai21": "ai21", "ai21labs": "ai21", "baichuan": "baichuan", "baichuanintelligence": "baichuan",
    "baichuaninc": "baichuan", "nvidia": "nvidia", "moonshot": "moonshot", "moonshotai": "moonshot",
    "minimax": "minimax", "minimaxai": "minimax", "01ai": "01ai", "yi": "01ai",
}
_ORG_NOISE = re.compile(r"\b(inc|ltd|llc|corp|corporation|co|company|labs?|research|ai|the)\b")


def org_keys(text: str | None) -> set[str]:
    """Normalised keys of an organisation cell listing one or more organisations (separated by
    commas as in Epoch's data, or semicolons as in the catalog), synonyms merged."""
    if not text:
        return set()
    keys = set()
    for part in re.split(r"[,;]", str(text)):
        part = re.sub(r"\([^)]*\)", " ", part.lower()).strip()
        if not part:
            continue
        full = norm_key(part)
        keys.add(_ORG_SYNONYMS.get(full, full))
        short = norm_key(_ORG_NOISE.sub(" ", part))
        if short:
            keys.add(_ORG_SYNONYMS.get(short, short))
    keys.discard("")
    return keys


def org_names(text: str | None) -> list[str]:
    """One canonical key per organisation listed in a cell (commas or semicolons), synonyms
    merged: what counting distinct organisations needs (org_keys also adds short forms)."""
    out: list[str] = []
    for part in re.split(r"[,;]", str(text or "")):
        part = re.sub(r"\([^)]*\)", " ", part.lower()).strip()
        full = norm_key(part)
        if not full or full == UNKNOWN:
            continue
        short = norm_key(_ORG_NOISE.sub(" ", part))
        key = _ORG_SYNONYMS.get(full) or _ORG_SYNONYMS.get(short) or full
        if key not in out:
            out.append(key)
    return out


def org_overlap(a: str | None, b: str | None) -> float:
    """How far two organisation cells name the same labs: Jaccard similarity of their keys
    (0 when either is empty or they share none)."""
    ka, kb = org_keys(a), org_keys(b)
    if not ka or not kb:
        return 0.0
    return len(ka & kb) / len(ka | kb)


def model_key(name: str) -> str:
    """Like `norm_key`, but a dot between digits stays ('opt-1.3b' is not 'opt-13b')."""
    text = re.sub(r"(?<=\d)\.(?=\d)", "\x01", name.strip().lower())
    return re.sub(r"[\s_\-./]+", "", text).replace("\x01", ".")


def sql_model_key(expr: str) -> str:
    """DuckDB SQL computing `model_key` of a text expression."""
    marked = f"regexp_replace(lower(trim({expr})), '(\\d)\\.(\\d)', '\\1' || chr(1) || '\\2', 'g')"
    return f"replace(regexp_replace({marked}, '[\\s_\\-./]+', '', 'g'), chr(1), '.')"


def name_keys(name: str) -> list[str]:
    """Normalised lookup keys of a model name: as given, without (…) and without an org/ prefix."""
    out = [model_key(name)]
    bare = re.sub(r"\s*\([^)]*\)", "", name).strip()
    if bare and model_key(bare) not in out:
        out.append(model_key(bare))
    if "/" in name:
        tail = name.rsplit("/", 1)[1]
        for k in (model_key(tail), model_key(re.sub(r"[-_](hf|base)$", "", tail, flags=re.I))):
            if k and k not in out:
                out.append(k)
    return [k for k in out if k]
