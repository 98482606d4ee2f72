"""Name keys: normalised model and organisation names for matching rows to entities."""

from __future__ import annotations

import re

from convergent.registry import norm_key

_ORG_SYNONYMS = {
    "googledeepmind": "google", "deepmind": "google", "googlebrain": "google",
    "googleresearch": "google", "google": "google", "alphabet": "google",
    "facebook": "meta", "facebookai": "meta", "facebookairesearch": "meta", "fair": "meta",
    "metaai": "meta", "meta": "meta", "metallama": "meta", "metaplatforms": "meta",
    "microsoftresearch": "microsoft", "microsoft": "microsoft",
    "mistral": "mistral", "mistralai": "mistral", "zhipuai": "zhipu", "zai": "zhipu",
    "thudm": "zhipu", "alibaba": "alibaba", "qwen": "alibaba", "alibabacloud": "alibaba",
    "deepseek": "deepseek", "deepseekai": "deepseek", "tiiuae": "tii",
    "technologyinnovationinstitute": "tii", "eleutherai": "eleutherai", "bigscience": "bigscience",
    "huggingface": "huggingface", "xai": "xai", "openai": "openai", "anthropic": "anthropic",
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
