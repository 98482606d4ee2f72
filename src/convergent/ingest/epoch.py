"""Epoch AI's model database CSV (Notable, Large-scale or All models) into the store."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from convergent.errors import ConvergentError
from convergent.ingest.csvread import CsvStream, oversized_error, oversized_sql, qi
from convergent.ingest.fetch import Input
from convergent.ingest.names import sql_model_key
from convergent.ingest.problems import IngestReport, Problems
from convergent.ingest.resolve import Existing, existing_entities, resolve
from convergent.ingest.values import PLAUSIBLE
from convergent.ingest.write import as_row_set, commit, frame, stored_rows
from convergent.registry import canonical_option, registry
from convergent.schema import UNKNOWN

if TYPE_CHECKING:
    import duckdb
    import pandas as pd

    from convergent.store import Store

ORIGIN = "epoch"
REQUIRED = ("Model", "Organization", "Publication date", "Domain")
OPTIONAL = {
    "params": ("Parameters",),
    "notes": ("Parameters notes",),
    "compute": ("Training compute (FLOP)",),
    "dataset": ("Training dataset size (gradients)", "Training dataset size (datapoints)",
                "Training dataset size (total)"),
    "cost": ("Training compute cost (2023 USD)", "Training compute cost (2025 USD)",
             "Training compute cost (2024 USD)", "Training compute cost (2020 USD)"),
    "hardware": ("Training hardware",),
    "precision": ("Numerical format",),
    "access": ("Model accessibility",),
    "country": ("Country (of organization)",),
    "frontier": ("Frontier model",),
}
NUMERIC = {"params": "positive", "compute": "positive", "dataset": "nonneg", "cost": "nonneg"}
RANGE = {"params": "params", "compute": "compute", "dataset": "tokens", "cost": "cost"}
MATCH_DAYS = 60

_COUNTRIES = {
    "united states of america": "United States", "usa": "United States", "us": "United States",
    "united kingdom of great britain and northern ireland": "United Kingdom",
    "uk": "United Kingdom", "korea (republic of)": "South Korea", "republic of korea":
    "South Korea", "iran (islamic republic of)": "Iran", "russian federation": "Russia",
    "taiwan, province of china": "Taiwan", "viet nam": "Vietnam", "czech republic": "Czechia",
}
_SCIENCE = {"biology", "medicine", "earth science", "materials science", "chemistry", "physics"}
_DOMAIN_SEG = (("mathematics", "math"), ("games", "games"), ("robotics", "robotics"),
               ("driving", "driving"), ("recommendation", "recommendation"),
               ("search", "search"), ("3d modeling", "3d"), ("speech", "speech"),
               ("audio", "audio"))
_UNIT = {"k": 1e3, "m": 1e6, "b": 1e9, "t": 1e12}
_NUM = r"(\d+(?:\.\d+)?)\s*([KMBTkmbt])(?:\s*(?:illion|n))?\b"
_ACTIVE = (
    re.compile(r"(?:of which|with)\s+~?" + _NUM + r"[^.;]{0,40}?\b(?:are\s+)?activ(?:e|ated)\b"),
    re.compile(_NUM + r"\s*(?:parameters?\s+|params?\s+)?(?:are\s+)?activ(?:e|ated)\b"),
)
_ACTIVE_PCT = re.compile(r"(\d+(?:\.\d+)?)\s*%\s+of\s+the\s+(?:weights|parameters)\s+"
                         r"(?:are\s+)?activ(?:e|ated)")
_MOE = re.compile(r"mixture[- ]of[- ]experts|\bmoe\b|sparsely[- ]gated|\b\d+\s+experts\b|"
                  r"\bexperts?\b[^.]{0,60}\bactiv", re.I)


def country_name(text: str) -> str:
    """Common short spelling of an Epoch country name."""
    t = text.strip()
    return _COUNTRIES.get(t.lower(), t)


def modality_of(domain: str | None) -> tuple[str, str]:
    """(modality, domain segment) of an Epoch `Domain` cell, which may list several domains."""
    parts = {p.strip().lower() for p in (domain or "").split(",") if p.strip()}
    media = parts & {"image generation", "video", "speech", "audio"}
    if "multimodal" in parts or ("language" in parts and media):
        modality = "multimodal"
    elif "language" in parts and "vision" in parts:
        modality = "vision-language"
    elif "language" in parts:
        modality = "language"
    elif "image generation" in parts:
        modality = "image"
    elif "video" in parts:
        modality = "video"
    elif parts & {"speech", "audio"}:
        modality = "audio"
    elif "vision" in parts:
        modality = "vision"
    else:
        modality = "other"
    if parts & _SCIENCE:
        seg = "science"
    else:
        seg = next((s for key, s in _DOMAIN_SEG if key in parts), "general")
    return modality, seg


def openness_of(access: str | None) -> str:
    """open / closed / unknown from Epoch's `Model accessibility`."""
    a = (access or "").strip().lower()
    if a.startswith("open weights"):
        return "open"
    if a.startswith(("unreleased", "api access", "hosted access")):
        return "closed"
    return UNKNOWN


def vendor_of(hardware: str) -> str:
    """Accelerator vendor family of one Epoch hardware name."""
    h = hardware.strip().lower()
    for prefixes, vendor in (
        (("nvidia", "geforce", "tesla", "quadro"), "NVIDIA"),
        (("google tpu", "tpu"), "Google TPU"),
        (("amd", "radeon"), "AMD"),
        (("huawei", "ascend"), "Huawei Ascend"),
        (("amazon trainium", "aws trainium", "trainium", "amazon inferentia"), "AWS Trainium"),
        (("intel", "habana", "gaudi"), "Intel"),
    ):
        if h.startswith(prefixes):
            return vendor
    return "other"


def moe_of(notes: str | None, model: str | None = None) -> tuple[bool, float | None, float | None]:
    """(is MoE, active parameters, active fraction) read from `Parameters notes` and the name."""
    text = re.sub(r"'[^']*'", " ", notes or "")
    absolute = None
    for pat in _ACTIVE:
        m = pat.search(text)
        if m:
            absolute = float(m.group(1)) * _UNIT[m.group(2).lower()]
            break
    frac = None
    m = _ACTIVE_PCT.search(text)
    if absolute is None and m:
        frac = float(m.group(1)) / 100.0
    moe = (bool(_MOE.search(text)) or bool(model and re.search(r"\bMoE\b", model))
           or absolute is not None or frac is not None)
    return moe, absolute, frac


def _columns(header: list[str]) -> dict[str, str | None]:
    cols: dict[str, str | None] = {}
    have = set(header)
    for key, names in OPTIONAL.items():
        cols[key] = next((n for n in names if n in have), None)
    if cols["cost"] is None:
        cols["cost"] = next((h for h in header if re.fullmatch(
            r"Training compute cost \(\d{4} USD\)", h)), None)
    return cols


def _col(cols: dict[str, str | None], key: str) -> str:
    c = cols[key]
    return "r." + qi(c) if c else "NULL::VARCHAR"


def _number_sql(expr: str) -> tuple[str, str]:
    """SQL for the largest of comma-separated numbers (a thousands-grouped number such as
    '175,000,000,000' is one number), and for 'some part is not a number'."""
    parts = f"string_split({expr}, ',')"
    one = f"TRY_CAST(trim({expr}) AS DOUBLE)"
    grouped = f"regexp_full_match(trim({expr}), '[+-]?\\d{{1,3}}(,\\d{{3}})+(\\.\\d+)?')"
    joined = f"TRY_CAST(replace(trim({expr}), ',', '') AS DOUBLE)"
    value = (f"CASE WHEN {expr} IS NULL OR trim({expr}) = '' THEN NULL "
             f"WHEN NOT contains({expr}, ',') THEN {one} WHEN {grouped} THEN {joined} ELSE "
             f"list_max(list_transform({parts}, lambda v: TRY_CAST(trim(v) AS DOUBLE))) END")
    bad = (f"({expr} IS NOT NULL AND trim({expr}) <> '' AND CASE "
           f"WHEN NOT contains({expr}, ',') THEN {one} IS NULL WHEN {grouped} THEN FALSE ELSE "
           f"len(list_filter({parts}, lambda v: TRY_CAST(trim(v) AS DOUBLE) IS NULL)) > 0 END)")
    return value, bad


def _register(con: duckdb.DuckDBPyConnection, name: str, rows: list[dict[str, Any]],
              columns: list[str]) -> None:
    import pandas as pd

    con.register(name + "_df", pd.DataFrame(rows, columns=columns))
    con.execute(f"CREATE OR REPLACE TEMP TABLE {name} AS SELECT * FROM {name}_df")
    con.unregister(name + "_df")


def _load_rows(con: duckdb.DuckDBPyConnection, stream: CsvStream,
               cols: dict[str, str | None]) -> None:
    """Parse the file in one streamed pass into typed temp table _ep_t; raise on bad structure.

    Column `big` names the first cell of a row above the size limit; the whole raw table is
    never held in memory.
    """
    nums = {k: _number_sql(_col(cols, k)) for k in NUMERIC}
    try:
        con.execute(f"""
            CREATE OR REPLACE TEMP TABLE _ep_t AS SELECT
              r._row AS row, trim(r."Model") AS name, trim(r."Organization") AS org,
              r."Publication date" AS date_raw,
              CASE WHEN regexp_full_match(trim(r."Publication date"), '\\d{{4}}-\\d{{2}}-\\d{{2}}')
                   THEN TRY_CAST(trim(r."Publication date") AS DATE) END AS date,
              r."Domain" AS domain,
              {", ".join(f"{v} AS {k}, {b} AS {k}_bad, {_col(cols, k)} AS {k}_raw"
                         for k, (v, b) in nums.items())},
              {_col(cols, "notes")} AS notes, {_col(cols, "hardware")} AS hardware,
              trim({_col(cols, "precision")}) AS precision_raw,
              trim({_col(cols, "access")}) AS access, {_col(cols, "country")} AS country_raw,
              lower(trim(coalesce({_col(cols, "frontier")}, ''))) AS frontier_raw,
              md5(concat_ws(chr(31), {", ".join(
                  f"coalesce({qi(c)}, chr(0))" for c in stream.header)})) AS row_hash,
              {oversized_sql(stream.header, "r.")} AS big
            FROM _ep_raw r""")
    finally:
        stream.finish()
    big = con.execute("SELECT row, big FROM _ep_t WHERE big IS NOT NULL ORDER BY row LIMIT 1"
                      ).fetchone()
    if big is not None:
        raise oversized_error(stream.name, int(big[0]), big[1])


def _stage(con: duckdb.DuckDBPyConnection, cols: dict[str, str | None],
           problems: Problems, allow_any_date: bool = False) -> None:
    """Record each bad cell of _ep_t with its row and column."""
    from convergent.dates import EARLIEST, latest_plausible

    first, last = EARLIEST.isoformat(), latest_plausible().isoformat()
    checks: list[tuple[str, str, str]] = [
        ("name IS NULL OR name = ''", "Model", "'empty model name'"),
        ("date_raw IS NULL OR trim(date_raw) = ''", "Publication date", "'empty date'"),
        ("date_raw IS NOT NULL AND trim(date_raw) <> '' AND date IS NULL", "Publication date",
         "'invalid date ' || to_json(date_raw) || ' (expected YYYY-MM-DD)'"),
        ("frontier_raw NOT IN ('', 'true', 'false', 'yes', 'no', '1', '0')",
         cols["frontier"] or "", "'expected True or False, got ' || to_json(frontier_raw)"),
    ]
    if not allow_any_date:
        checks.append((f"date < DATE '{first}' OR date > DATE '{last}'", "Publication date",
                       f"'implausible date ' || CAST(date AS VARCHAR) || ' (expected {first} to "
                       f"{last}; --allow-any-date keeps it)'"))
    for k, kind in NUMERIC.items():
        if not cols[k]:
            continue
        label = cols[k] or k
        checks.append((f"{k}_bad", label, f"'not a number: ' || to_json(left({k}_raw, 60))"))
        checks.append((f"NOT {k}_bad AND {k} IS NOT NULL AND NOT isfinite({k})", label,
                       f"'not a finite number: ' || to_json(left({k}_raw, 60))"))
        cmp = "<= 0" if kind == "positive" else "< 0"
        word = "positive" if kind == "positive" else "zero or more"
        checks.append((f"NOT {k}_bad AND isfinite({k}) AND {k} {cmp}", label,
                       f"'must be {word}, got ' || to_json({k}_raw)"))
        lo, hi = PLAUSIBLE[RANGE[k]]
        checks.append((f"NOT {k}_bad AND isfinite({k}) AND NOT ({k} {cmp}) AND "
                       f"({k} < {lo!r} OR {k} > {hi!r})", label,
                       f"'implausible value ' || to_json({k}_raw) || ' (expected {lo:g} to "
                       f"{hi:g})'"))
    union = " UNION ALL ".join(
        f"SELECT row, '{c.replace(chr(39), chr(39) * 2)}' AS col, {msg} AS msg "
        f"FROM _ep_t WHERE {cond}" for cond, c, msg in checks)
    for row, col, msg in con.execute(f"SELECT * FROM ({union}) ORDER BY row, col").fetchall():
        problems.add(int(row), col or None, msg)
    dups = con.execute(f"""
        WITH keyed AS (
          SELECT row, name, {sql_model_key("name")} AS k
          FROM _ep_t WHERE name IS NOT NULL AND name <> ''),
        first AS (
          SELECT k, min(row) AS first_row FROM keyed WHERE k <> ''
          GROUP BY k HAVING count(*) > 1)
        SELECT keyed.row, first.first_row, keyed.name FROM keyed JOIN first USING (k)
        WHERE keyed.row <> first.first_row ORDER BY keyed.row""").fetchall()
    for row, first, model in dups:
        problems.add(int(row), "Model", f"duplicate model {model!r} (first at row {first})")


def _mappings(con: duckdb.DuckDBPyConnection, report: IngestReport) -> None:
    """Map distinct cell values through Python rules into small temp tables for joins."""
    domains = [r[0] for r in con.execute("SELECT DISTINCT domain FROM _ep_v").fetchall()]
    _register(con, "_m_domain", [
        {"domain": d, "modality": m, "dseg": s}
        for d in domains for m, s in [modality_of(d)]], ["domain", "modality", "dseg"])
    access = [r[0] for r in con.execute("SELECT DISTINCT access FROM _ep_v").fetchall()]
    _register(con, "_m_access", [{"access": a, "openness": openness_of(a)} for a in access],
              ["access", "openness"])
    prec_rows = []
    for (p,) in con.execute("SELECT DISTINCT precision_raw FROM _ep_v").fetchall():
        try:
            opt = canonical_option("precision", p or "")
        except ConvergentError:
            opt = UNKNOWN
            report.notes.append(f"numerical format {p!r} is not a known precision; "
                                "recorded as unknown")
        prec_rows.append({"precision_raw": p, "precision": opt})
    _register(con, "_m_prec", prec_rows, ["precision_raw", "precision"])
    countries = [r[0] for r in con.execute("SELECT DISTINCT country_raw FROM _ep_v").fetchall()]
    _register(con, "_m_country", [
        {"country_raw": c, "country": next(
            (country_name(x) for x in (c or "").split(",") if x.strip()), UNKNOWN)}
        for c in countries], ["country_raw", "country"])
    notes = con.execute("SELECT DISTINCT notes, name ILIKE '%moe%' FROM _ep_v").fetchall()
    moe_rows = {}
    for n, name_moe in notes:
        moe, absolute, frac = moe_of(n, "MoE" if name_moe else None)
        moe_rows[(n, bool(name_moe))] = {"notes": n, "name_moe": bool(name_moe), "moe": moe,
                                         "active_abs": absolute, "active_frac": frac}
    _register(con, "_m_notes", list(moe_rows.values()),
              ["notes", "name_moe", "moe", "active_abs", "active_frac"])
    hws = con.execute("SELECT DISTINCT trim(h) FROM (SELECT unnest(string_split(hardware, ',')) "
                      "AS h FROM _ep_v WHERE hardware IS NOT NULL) WHERE trim(h) <> ''").fetchall()
    _register(con, "_m_hw", [{"hw": h, "vendor": vendor_of(h)} for (h,) in hws], ["hw", "vendor"])
    orgs = [r[0] for r in con.execute("SELECT DISTINCT org FROM _ep_v").fetchall()]
    org_rows = []
    for o in orgs:
        first = next((x.strip() for x in (o or "").split(",") if x.strip()), UNKNOWN)
        org_rows.append({"org": o, "org1": first,
                         "frontier_opt": canonical_option("frontier_developer", first)})
    _register(con, "_m_org", org_rows, ["org", "org1", "frontier_opt"])


def _typed(con: duckdb.DuckDBPyConnection, bad: set[int]) -> None:
    """Rows that passed validation (view _ep_v over _ep_t, so the rows are not copied)."""
    import pandas as pd

    con.register("_bad_df", pd.DataFrame({"row": sorted(bad)}, dtype="int64"))
    con.execute("CREATE OR REPLACE TEMP TABLE _ep_bad AS SELECT row FROM _bad_df")
    con.unregister("_bad_df")
    con.execute("CREATE OR REPLACE TEMP VIEW _ep_v AS SELECT * FROM _ep_t "
                "WHERE row NOT IN (SELECT row FROM _ep_bad)")


def _finish(con: duckdb.DuckDBPyConnection) -> None:
    """View _ep: valid rows with mapped values, computed once when _ep_own is built."""
    con.execute("""
        CREATE OR REPLACE TEMP VIEW _ep AS SELECT
          v.row, v.name, v.org, o.org1, o.frontier_opt, c.country, v.date, d.modality, d.dseg,
          a.openness, CASE a.openness WHEN 'open' THEN TRUE WHEN 'closed' THEN FALSE END
            AS open_weights,
          v.frontier_raw IN ('true', 'yes', '1') AS frontier, v.params,
          CASE WHEN n.moe THEN coalesce(n.active_abs, n.active_frac * v.params) END AS active,
          coalesce(n.moe, FALSE) AS moe, v.compute, v.cost, v.dataset, p.precision, v.hardware,
          v.row_hash,
          CASE WHEN v.slug0 = '' THEN 'e-' || left(sha1(v.name), 10) ELSE v.slug0 END AS slug
        FROM (SELECT *, trim(regexp_replace(lower(name), '[^a-z0-9]+', '-', 'g'), '-') AS slug0
              FROM _ep_v) v
        JOIN _m_org o ON o.org IS NOT DISTINCT FROM v.org
        JOIN _m_country c ON c.country_raw IS NOT DISTINCT FROM v.country_raw
        JOIN _m_domain d ON d.domain IS NOT DISTINCT FROM v.domain
        JOIN _m_access a ON a.access IS NOT DISTINCT FROM v.access
        JOIN _m_prec p ON p.precision_raw IS NOT DISTINCT FROM v.precision_raw
        JOIN _m_notes n ON n.notes IS NOT DISTINCT FROM v.notes
          AND n.name_moe = (v.name ILIKE '%moe%')""")


def _resolve(con: duckdb.DuckDBPyConnection, ex: Existing) -> dict[int, str]:
    """Rows that describe an entity already in the store (catalog or another origin)."""
    import pandas as pd

    keys = pd.DataFrame({"k": list(ex.by_key)}, dtype="object")
    con.register("_exkeys", keys)
    bare = "regexp_replace(name, '\\s*\\([^)]*\\)', '', 'g')"
    cand = con.execute(f"""
        SELECT row, name, org, date FROM _ep_v WHERE
          {sql_model_key("name")} IN (SELECT k FROM _exkeys)
          OR {sql_model_key(bare)} IN (SELECT k FROM _exkeys)
        ORDER BY row""").fetchall()
    con.unregister("_exkeys")
    best: dict[str, tuple[int, int]] = {}
    for row, name, org, date in cand:
        eid = resolve(ex, name, org, date, MATCH_DAYS)
        if eid is None:
            continue
        their = ex.info[eid]["date"]
        gap = abs((their - date).days) if their is not None else 0
        if eid not in best or gap < best[eid][1]:
            best[eid] = (int(row), gap)
    return {row: eid for eid, (row, _) in best.items()}


def _area_table(con: duckdb.DuckDBPyConnection) -> None:
    rows = []
    for a in registry().areas.values():
        if a.kind != "share" or a.derived_from == "organization":
            continue
        rows.extend({"area_id": a.area_id, "modality": m} for m in a.applies_to)
    _register(con, "_areas", rows, ["area_id", "modality"])


def ingest_epoch(store: Store, inp: Input, src: dict[str, Any], skip_bad_rows: bool,
                 report: IngestReport, allow_any_date: bool = False) -> None:
    """Validate the whole file, resolve entities, then write every change in one transaction."""
    import pandas as pd

    con = store.con.con
    stream = CsvStream(con, inp.path, inp.name, "_ep_raw", REQUIRED)
    cols = _columns(stream.header)
    _load_rows(con, stream, cols)
    report.rows_read = con.execute("SELECT count(*) FROM _ep_t").fetchone()[0]
    if report.rows_read == 0:
        raise ConvergentError("the file has a header but no data rows", where=inp.name)
    problems = Problems(inp.name)
    _stage(con, cols, problems, allow_any_date)
    bad = problems.resolve(skip_bad_rows, report)
    _typed(con, bad)
    _mappings(con, report)
    _finish(con)
    _area_table(con)
    ex = existing_entities(store, ORIGIN)
    matched = _resolve(con, ex)
    report.matched = len(matched)
    sid = src["source_id"]
    con.register("_match_df", pd.DataFrame(
        {"row": list(matched), "match": list(matched.values())},
        columns=["row", "match"]).astype({"row": "int64", "match": "object"}))
    foreign = pd.DataFrame({"eid": list(ex.info)}, dtype="object")
    con.register("_foreign_df", foreign)
    con.execute("""
        CREATE OR REPLACE TEMP TABLE _ep_own AS SELECT *, eid0 AS eid FROM (
          SELECT e.*, CASE WHEN e.slug IN (SELECT eid FROM _foreign_df)
                   THEN e.slug || '-epoch' ELSE e.slug END AS eid0
          FROM _ep e WHERE e.row NOT IN (SELECT row FROM _match_df))""")
    con.execute("""
        UPDATE _ep_own SET eid = eid0 || '-' || left(md5(name), 6) WHERE row IN (
          SELECT row FROM (
            SELECT row, row_number() OVER (PARTITION BY eid0 ORDER BY length(name), name)
              AS rank
            FROM _ep_own WHERE eid0 IN (
              SELECT eid0 FROM _ep_own GROUP BY eid0 HAVING count(*) > 1))
          WHERE rank > 1)""")
    con.unregister("_foreign_df")
    dup = con.execute("""SELECT a.row, b.row, a.name FROM _ep_own a JOIN _ep_own b
        ON a.eid = b.eid AND a.row > b.row ORDER BY a.row LIMIT 1""").fetchone()
    if dup:
        raise ConvergentError(
            f"row {dup[0]}: model {dup[2]!r} gets the same id as row {dup[1]}; "
            "rename one of them; nothing was ingested", where=f"{inp.name}:{dup[0]}:Model")
    con.execute("""CREATE OR REPLACE TEMP TABLE _ep_state AS SELECT o.row, o.eid,
          CASE WHEN s.entity_id IS NULL THEN 'added'
               WHEN s.row_hash = o.row_hash AND s.source_ids = ? THEN 'unchanged'
               ELSE 'updated' END AS state
        FROM _ep_own o LEFT JOIN (SELECT entity_id, row_hash, source_ids FROM entities
          WHERE origin = ?) s ON s.entity_id = o.eid""", [sid, ORIGIN])
    counts = dict(con.execute("SELECT state, count(*) FROM _ep_state GROUP BY state").fetchall())
    report.added += counts.get("added", 0)
    report.updated += counts.get("updated", 0)
    report.unchanged += counts.get("unchanged", 0)
    frames, foreign_ids, stale = _matched_rows(con, store, ex, matched, sid, report)
    con.unregister("_match_df")
    for view in ("_ep", "_ep_v"):
        con.execute(f"DROP VIEW IF EXISTS {view}")
    con.execute("DROP TABLE IF EXISTS _ep_t")
    if counts.get("unchanged", 0):
        con.execute("DELETE FROM _ep_own WHERE row IN "
                    "(SELECT row FROM _ep_state WHERE state = 'unchanged')")
    commit(store, ORIGIN, src, stale, foreign_ids, frames, bulk=lambda: _write_own(con, sid))
    for t in ("_ep_bad", "_ep_own", "_ep_state", "_areas", "_m_domain",
              "_m_access", "_m_prec", "_m_country", "_m_notes", "_m_hw", "_m_org"):
        con.execute(f"DROP TABLE IF EXISTS {t}")


def _base_values(con: duckdb.DuckDBPyConnection,
                 eids: list[str]) -> dict[str, dict[str, float | None]]:
    """Numeric fields of existing entities as their own origin states them.

    A value equal to the fact this origin stored for that field is a fill from an earlier
    ingest of Epoch data, so it counts as unknown: re-ingesting then writes the same facts.
    """
    import pandas as pd

    from convergent.store import FACT_FIELDS

    con.register("_base_ids", pd.DataFrame({"eid": eids}, dtype="object"))
    sel = ", ".join(qi(f) for f in FACT_FIELDS)
    try:
        rows = con.execute(f"SELECT entity_id, {sel} FROM entities WHERE entity_id IN "
                           "(SELECT eid FROM _base_ids) AND origin IS DISTINCT FROM ?",
                           [ORIGIN]).fetchall()
        mine = {(e, f): v for e, f, v in con.execute(
            "SELECT entity_id, field, value FROM entity_facts WHERE origin = ? AND entity_id IN "
            "(SELECT eid FROM _base_ids)", [ORIGIN]).fetchall()}
    finally:
        con.unregister("_base_ids")
    out: dict[str, dict[str, float | None]] = {}
    for eid, *values in rows:
        out[eid] = {f: None if v is not None and mine.get((eid, f)) == v else v
                    for f, v in zip(FACT_FIELDS, values, strict=True)}
    return out


def _fact_rows(rec: dict[str, Any], base: dict[str, float | None], eid: str,
               sid: str) -> list[dict[str, Any]]:
    """One `entity_facts` row per numeric field the entity leaves unknown and Epoch states."""
    import math

    theirs = {"params_total": rec["params"], "params_active": rec["active"],
              "training_compute_flop": rec["compute"], "training_cost_usd": rec["cost"],
              "dataset_tokens": rec["dataset"]}
    fill = {f: float(v) for f, v in theirs.items()
            if base.get(f) is None and v is not None and math.isfinite(v)}
    total = base.get("params_total") or fill.get("params_total")
    active = base.get("params_active") or fill.get("params_active")
    if total is not None and active is not None and active > total:
        fill.pop("params_active", None)
        fill.pop("params_total", None)
    return [{"entity_id": eid, "field": f, "value": v, "source_id": sid, "origin": ORIGIN}
            for f, v in fill.items()]


def _matched_rows(con: duckdb.DuckDBPyConnection, store: Store, ex: Existing,
                  matched: dict[int, str], sid: str,
                  report: IngestReport) -> tuple[dict[str, pd.DataFrame], list[str], list[str]]:
    """Facts for entities that already exist: added only where unknown, conflicts reported.

    Returns the adoption and entity-fact frames to write, the entities whose Epoch rows
    change, and Epoch-owned entities that now resolve to an existing one.
    """
    if not matched:
        return {"adoptions": frame("adoptions", []),
                "entity_facts": frame("entity_facts", [])}, [], []
    base = _base_values(con, sorted(set(matched.values())))
    cur = con.execute("SELECT e.*, m.match FROM _ep e JOIN _match_df m USING (row) "
                      "ORDER BY e.row")
    names = [d[0] for d in cur.description]
    records = [dict(zip(names, r, strict=True)) for r in cur.fetchall()]
    hw = dict(con.execute("SELECT hw, vendor FROM _m_hw").fetchall())
    out: list[dict[str, Any]] = []
    out_facts: list[dict[str, Any]] = []
    changed: list[str] = []
    stale: list[str] = []
    for rec in records:
        eid = rec["match"]
        info = ex.info[eid]
        date = info["date"] or rec["date"]
        mine: list[dict[str, Any]] = []
        facts: dict[str, list[str]] = {}
        vendors = sorted({hw[h.strip()] for h in (rec["hardware"] or "").split(",")
                          if h.strip() in hw})
        if vendors:
            facts["accelerator_vendor"] = vendors
        if rec["precision"] and rec["precision"] != UNKNOWN:
            facts["precision"] = [rec["precision"]]
        if rec["moe"]:
            facts["ffn"] = ["MoE"]
        for area, options in facts.items():
            theirs = ex.known.get((eid, area))
            if theirs:
                if set(theirs) != set(options):
                    report.conflicts.append({
                        "entity_id": eid, "row": int(rec["row"]), "field": area,
                        "existing": sorted(theirs), "ingested": options,
                        "kept": sorted(theirs)})
                continue
            mine.extend({"entity_id": eid, "area_id": area, "option": o,
                         "weight": 1.0 / len(options), "date": date, "source_id": sid,
                         "origin": ORIGIN} for o in options)
        own = base.get(eid, {})
        _field_conflicts(rec, {**info, **own}, eid, report)
        facts_rows = _fact_rows(rec, own, eid, sid)
        had = {t: stored_rows(store, t, ORIGIN, eid) for t in ("adoptions", "entity_facts")}
        if (as_row_set(frame("adoptions", mine), "adoptions") == had["adoptions"]
                and as_row_set(frame("entity_facts", facts_rows), "entity_facts")
                == had["entity_facts"]):
            report.unchanged += 1
        else:
            existed = bool(had["adoptions"] or had["entity_facts"])
            report.updated += int(existed)
            report.added += int(not existed)
            changed.append(eid)
            out.extend(mine)
            out_facts.extend(facts_rows)
        slug = rec["slug"]
        stale.extend(s for s in (slug, slug + "-epoch") if s not in ex.info)
    if stale:
        import pandas as pd

        con.register("_stale_df", pd.DataFrame({"eid": stale}, dtype="object"))
        stale = [r[0] for r in con.execute(
            "SELECT entity_id FROM entities WHERE origin = ? AND entity_id IN "
            "(SELECT eid FROM _stale_df)", [ORIGIN]).fetchall()]
        con.unregister("_stale_df")
    frames = {"adoptions": frame("adoptions", out),
              "entity_facts": frame("entity_facts", out_facts)}
    return frames, changed, stale


def _field_conflicts(rec: dict[str, Any], info: dict[str, Any], eid: str,
                     report: IngestReport) -> None:
    """Report entity facts where the existing entity and the Epoch row disagree."""
    import math

    def differs(a: Any, b: Any) -> bool:
        return (a is not None and b is not None and not math.isnan(b)
                and abs(a - b) > 0.02 * max(abs(a), abs(b)))

    for fld, mine in (("params_total", rec["params"]), ("training_compute_flop", rec["compute"])):
        if differs(info.get(fld), mine):
            report.conflicts.append({"entity_id": eid, "row": int(rec["row"]), "field": fld,
                                     "existing": info[fld], "ingested": mine,
                                     "kept": info[fld]})
    if info.get("date") is not None and rec["date"] is not None and info["date"] != rec["date"]:
        report.conflicts.append({"entity_id": eid, "row": int(rec["row"]), "field": "date",
                                 "existing": info["date"], "ingested": rec["date"],
                                 "kept": info["date"]})
    ow = info.get("open_weights")
    mine_ow = rec["open_weights"]
    if ow is not None and mine_ow is not None and bool(ow) != bool(mine_ow):
        report.conflicts.append({"entity_id": eid, "row": int(rec["row"]), "field":
                                 "open_weights", "existing": ow, "ingested": bool(mine_ow),
                                 "kept": ow})
    tier = "frontier" if rec["frontier"] else "notable"
    if info.get("tier") and info["tier"] != tier and rec["frontier"]:
        report.conflicts.append({"entity_id": eid, "row": int(rec["row"]), "field": "tier",
                                 "existing": info["tier"], "ingested": tier, "kept": info["tier"]})


def _write_own(con: duckdb.DuckDBPyConnection, sid: str) -> None:
    """Replace changed Epoch-owned entities (the rows left in _ep_own) and their rows, in SQL."""
    con.execute("DELETE FROM entities WHERE origin = ? AND entity_id IN (SELECT eid FROM _ep_own)",
                [ORIGIN])
    for t in ("aliases", "segments"):
        con.execute(f"DELETE FROM {t} WHERE entity_id IN (SELECT eid FROM _ep_own)")
    con.execute("DELETE FROM adoptions WHERE origin = ? AND entity_id IN (SELECT eid FROM _ep_own)",
                [ORIGIN])
    con.execute("""INSERT INTO entities (entity_id, name, kind, organization, country, date,
          modality, params_total, params_active, open_weights, context_length,
          training_compute_flop, training_cost_usd, dataset_tokens, tier, origin, source_ids,
          row_hash)
        SELECT eid, name, 'model', org1, country, date, modality, params, active, open_weights,
          NULL, compute, cost, dataset, CASE WHEN frontier THEN 'frontier' ELSE 'notable' END,
          ?, ?, row_hash FROM _ep_own""", [ORIGIN, sid])
    con.execute("INSERT INTO aliases SELECT name, eid FROM _ep_own")
    con.execute("""INSERT INTO segments SELECT eid, dim, value FROM (
          SELECT row, eid, 1 AS k, 'modality' AS dim, modality AS value FROM _ep_own
          UNION ALL SELECT row, eid, 2, 'domain', dseg FROM _ep_own
          UNION ALL SELECT row, eid, 3, 'openness', openness FROM _ep_own
          UNION ALL SELECT row, eid, 4, 'country', country FROM _ep_own
          UNION ALL SELECT row, eid, 5, 'tier',
            CASE WHEN frontier THEN 'frontier' ELSE 'notable' END FROM _ep_own)""")
    con.execute("""CREATE OR REPLACE TEMP TABLE _vend AS
        SELECT row, eid, date, vendor, 1.0 / count(*) OVER (PARTITION BY row) AS weight FROM (
          SELECT DISTINCT c.row, c.eid, c.date, m.vendor FROM (
            SELECT row, eid, date, trim(unnest(string_split(hardware, ','))) AS hw FROM _ep_own
            WHERE hardware IS NOT NULL) c JOIN _m_hw m ON m.hw = c.hw)""")
    con.execute("""INSERT INTO adoptions (entity_id, area_id, option, weight, date, source_id,
          origin)
        SELECT eid, area_id, option, weight, date, ?, ? FROM (
          SELECT c.row, c.eid, a.area_id, CASE
              WHEN a.area_id = 'precision' THEN c.precision
              WHEN a.area_id = 'ffn' AND c.moe THEN 'MoE'
              ELSE 'unknown' END AS option, 1.0 AS weight, c.date
          FROM _ep_own c JOIN _areas a ON a.modality = c.modality
          WHERE NOT (a.area_id = 'accelerator_vendor' AND c.row IN (SELECT row FROM _vend))
          UNION ALL SELECT row, eid, 'accelerator_vendor', vendor, weight, date FROM _vend
          UNION ALL SELECT c.row, c.eid, 'precision', c.precision, 1.0, c.date FROM _ep_own c
            WHERE c.modality NOT IN (SELECT modality FROM _areas WHERE area_id = 'precision')
            AND c.precision <> 'unknown'
          UNION ALL SELECT c.row, c.eid, 'ffn', 'MoE', 1.0, c.date FROM _ep_own c
            WHERE c.moe AND c.modality NOT IN (SELECT modality FROM _areas WHERE area_id = 'ffn')
          UNION ALL SELECT row, eid, 'frontier_developer', frontier_opt, 1.0, date FROM _ep_own
            WHERE frontier)""", [sid, ORIGIN])
    con.execute("DROP TABLE IF EXISTS _vend")
