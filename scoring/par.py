"""Conversion of satisfaction indices into PAR INDEX points (điểm Chỉ số CCHC).

A PAR mapping (YAML, ``questionnaires/par/*.yaml``) says which index node of which
questionnaire feeds which criterion (tiêu chí) of a PAR set, out of how many points, and how
the points are rounded. The official criterion codes and maxima differ between the national set
and each province's own set and are *unconfirmed*, so they live in the mapping, never in code.

Format::

    schema: 1
    id: par-province-2026
    title: {vi: Bộ chỉ số CCHC cấp sở, cấp xã, en: Provincial PAR set}
    criteria:
      - code: "8.1"              # PAR criterion code, a string
        label: {vi: Chỉ số hài lòng ... (SIPAS), en: SIPAS satisfaction index}
        questionnaire: sipas-2023  # matched against the index table's ``questionnaire`` column
        index: SIPAS               # an index tree node code, matched against ``node``
        max_points: 10
        decimals: 2                # default 2
        rounding: half_up          # half_up (default) | half_even | down
        percent_decimals: 2        # round the index percent first, as published (default 2;
                                   # null converts the unrounded index)
        index_max: 1               # the index value worth max_points (default 1: a share)

Units: index tables (:func:`scoring.index_tree` output, the ``index`` command) report
**shares in [0, 1]**; the percent is ``100 * share`` and

    points = percent x max_points / 100 = share x max_points.

A ratio criterion (seed 000: 2000 of 17281 dossiers x 0.5 points = 0.06) is the same formula
with the ratio as the share; give it as ``estimate`` or as ``numerator`` and ``denominator``
columns, which are divided exactly.

Arithmetic is decimal: a float share is read through its shortest representation
(``0.9117`` stays 0.9117, not 0.91169999...), so 91.17 % of 10 points is exactly 9.117 and
rounds half-up to 9.12, as the seed (Hà Tĩnh 2021) shows.
"""

from __future__ import annotations

import math
import os
import re
import unicodedata
from dataclasses import dataclass
from decimal import ROUND_DOWN, ROUND_HALF_EVEN, ROUND_HALF_UP, Decimal
from fractions import Fraction
from pathlib import Path
from typing import Any, Literal, cast

import pandas as pd

from scoring.errors import ScoringError
from scoring.questionnaire import Questionnaire
from scoring.yaml_source import (
    ProblemLog,
    YamlPath,
    YamlSyntaxError,
    compose,
    is_number,
    type_name,
)

__all__ = [
    "PAR_COLUMNS",
    "PAR_SCHEMA_VERSION",
    "ParCriterion",
    "ParMapping",
    "ParMappingError",
    "ParInputError",
    "check_mapping",
    "convert_points",
    "load_par_mapping",
    "par_points",
    "parse_par_mapping",
]

PAR_SCHEMA_VERSION = 1
PAR_COLUMNS: tuple[str, ...] = (
    "agency",
    "criterion",
    "label",
    "max_points",
    "index_percent",
    "points",
)

Rounding = Literal["half_up", "half_even", "down"]
_ROUNDING: dict[str, str] = {
    "half_up": ROUND_HALF_UP,
    "half_even": ROUND_HALF_EVEN,
    "down": ROUND_DOWN,
}
_ID_RE = re.compile(r"^[A-Za-z0-9_-]+$")
_MAX_DECIMALS = 6


class ParMappingError(ScoringError):
    """A PAR mapping file is invalid; ``problems`` lists every ``file:line path: message``."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = list(problems)
        count = len(self.problems)
        head = f"{count} problem{'s' if count != 1 else ''} in PAR mapping"
        super().__init__(head + ":\n" + "\n".join(self.problems))


class ParInputError(ScoringError):
    """An index table that cannot be converted (missing column, out-of-range estimate, ...)."""


@dataclass(frozen=True)
class ParCriterion:
    """One PAR criterion (tiêu chí) fed by one index node.

    Attributes
    ----------
    code : str
        PAR criterion code, e.g. ``"8.1"``.
    label : dict of str to str
        Text per language; ``vi`` is always there.
    questionnaire : str
        Questionnaire id (or the source name of a ratio) matched against ``questionnaire``.
    index : str
        Index node code matched against ``node``.
    max_points : Decimal
        Points earned by an index of ``index_max`` (100 %).
    decimals : int
        Decimals of the points.
    rounding : {'half_up', 'half_even', 'down'}
        Rounding of the points (and of the percent when ``percent_decimals`` is set).
    percent_decimals : int or None
        Decimals the index percent is rounded to before conversion (the published figure);
        ``None`` converts the unrounded index.
    index_max : Decimal
        Index value worth ``max_points``: 1 for shares.
    line : int
        Line of the criterion in its file, for messages.
    """

    code: str
    label: dict[str, str]
    questionnaire: str
    index: str
    max_points: Decimal
    decimals: int = 2
    rounding: Rounding = "half_up"
    percent_decimals: int | None = 2
    index_max: Decimal = Decimal(1)
    line: int = 0


@dataclass(frozen=True)
class ParMapping:
    """A validated PAR mapping: one PAR set's criteria fed by satisfaction indices."""

    schema: int
    id: str
    title: dict[str, str]
    criteria: tuple[ParCriterion, ...]
    filename: str = ""

    def criterion(self, code: str) -> ParCriterion:
        """The criterion with this code; KeyError naming the mapping if there is none."""
        for c in self.criteria:
            if c.code == code:
                return c
        raise KeyError(f"PAR mapping {self.id!r} has no criterion {code!r}")


# --------------------------------------------------------------------------- arithmetic


def _decimal(value: object) -> Decimal:
    """A number as a Decimal through its shortest text, so 0.9117 stays 0.9117."""
    if isinstance(value, Decimal):
        return value
    if isinstance(value, Fraction):
        return Decimal(value.numerator) / Decimal(value.denominator)
    if isinstance(value, int | float):
        return Decimal(repr(float(value))) if isinstance(value, float) else Decimal(value)
    return Decimal(str(value))


def _quantize(value: Decimal, decimals: int, rounding: str) -> Decimal:
    return value.quantize(Decimal(1).scaleb(-decimals), rounding=_ROUNDING[rounding])


def convert_points(
    share: float | Decimal | Fraction, criterion: ParCriterion
) -> tuple[Decimal, Decimal]:
    """The index percent and the PAR points of one index value.

    Parameters
    ----------
    share : float, Decimal or Fraction
        The index value on its own scale (a share in [0, 1] unless ``criterion.index_max``
        says otherwise). A Fraction (an exact ratio such as 2000/17281) is kept exact up to
        the rounding.
    criterion : ParCriterion
        The criterion, which gives ``max_points``, ``decimals`` and ``rounding``.

    Returns
    -------
    percent : Decimal
        ``100 * share / index_max``, rounded to ``percent_decimals`` if set.
    points : Decimal
        ``percent * max_points / 100`` rounded to ``decimals`` with ``rounding``.

    Notes
    -----
    Seeds: 91.17 % of 10 points = 9.117 -> 9.12 (half up); 2000/17281 x 0.5 = 0.0579 -> 0.06.
    """
    if isinstance(share, Fraction):
        # Decimal division of the exact fraction keeps 28 significant digits: far below any
        # rounding step a PAR set uses.
        percent = _decimal(share * 100 / Fraction(criterion.index_max))
    else:
        percent = _decimal(share) * 100 / criterion.index_max
    if criterion.percent_decimals is not None:
        percent = _quantize(percent, criterion.percent_decimals, criterion.rounding)
    points = _quantize(percent * criterion.max_points / 100, criterion.decimals, criterion.rounding)
    return percent, points


# --------------------------------------------------------------------------- loading


class _Checker(ProblemLog):
    def string(self, value: object, path: YamlPath) -> str:
        if isinstance(value, str) and value.strip():
            return value.strip()
        if is_number(value):
            self.err(path, f'expected a string, got {type_name(value)} (quote it: "{value}")')
            return str(value)
        self.err(path, f"expected a non-empty string, got {type_name(value)}")
        return ""

    def texts(self, value: object, path: YamlPath) -> dict[str, str]:
        if not isinstance(value, dict):
            self.err(
                path, f"expected a text per language {{vi: ..., en: ...}}, got {type_name(value)}"
            )
            return {}
        if "vi" not in value:
            self.err(path, "missing language 'vi' (official texts are Vietnamese)")
        out: dict[str, str] = {}
        for lang, text in value.items():
            if not isinstance(text, str) or not text.strip():
                self.err(path + (lang,), f"expected a non-empty text, got {type_name(text)}")
                continue
            out[str(lang)] = unicodedata.normalize("NFC", text.strip())
        return out

    def positive(self, value: object, path: YamlPath) -> Decimal | None:
        if not is_number(value) or cast(float, value) <= 0:
            self.err(path, f"expected a positive number, got {type_name(value)} {value!r}")
            return None
        return _decimal(value)

    def decimals(self, value: object, path: YamlPath) -> int | None:
        if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= _MAX_DECIMALS:
            self.err(
                path,
                f"expected a whole number of decimals 0..{_MAX_DECIMALS}, got "
                f"{type_name(value)} {value!r}",
            )
            return None
        return value

    def criterion(self, raw: object, path: YamlPath) -> ParCriterion | None:
        m = self.mapping(
            raw,
            path,
            ("code", "label", "questionnaire", "index", "max_points"),
            ("decimals", "rounding", "percent_decimals", "index_max"),
        )
        if m is None:
            return None
        code = self.string(m["code"], path + ("code",)) if "code" in m else ""
        label = self.texts(m["label"], path + ("label",)) if "label" in m else {}
        questionnaire = (
            self.string(m["questionnaire"], path + ("questionnaire",))
            if "questionnaire" in m
            else ""
        )
        if questionnaire and not _ID_RE.match(questionnaire):
            self.err(
                path + ("questionnaire",),
                f"invalid questionnaire id {questionnaire!r} (letters, digits, '-', '_')",
            )
        index = self.string(m["index"], path + ("index",)) if "index" in m else ""
        max_points = (
            self.positive(m["max_points"], path + ("max_points",)) if "max_points" in m else None
        )
        decimals = self.decimals(m.get("decimals", 2), path + ("decimals",))
        rounding = m.get("rounding", "half_up")
        if rounding not in _ROUNDING:
            self.err(
                path + ("rounding",),
                f"unknown rounding {rounding!r} (expected one of: {', '.join(_ROUNDING)})",
            )
            rounding = None
        percent_decimals: int | None = None
        if m.get("percent_decimals", 2) is not None:
            percent_decimals = self.decimals(
                m.get("percent_decimals", 2), path + ("percent_decimals",)
            )
        index_max: Decimal | None = Decimal(1)
        if "index_max" in m:
            index_max = self.positive(m["index_max"], path + ("index_max",))
        if (
            not code
            or not label
            or not questionnaire
            or not index
            or max_points is None
            or decimals is None
            or rounding is None
            or index_max is None
        ):
            return None
        return ParCriterion(
            code=code,
            label=label,
            questionnaire=questionnaire,
            index=index,
            max_points=max_points,
            decimals=decimals,
            rounding=cast(Rounding, rounding),
            percent_decimals=percent_decimals,
            index_max=index_max,
            line=self.lines.line(path),
        )


def parse_par_mapping(text: str, filename: str) -> ParMapping:
    """Validate PAR mapping YAML ``text``; ``filename`` names it in messages.

    Raises
    ------
    ParMappingError
        Listing every problem as ``file:line path: message``.
    """
    try:
        data, lines, compose_problems = compose(text, filename)
    except YamlSyntaxError as exc:
        raise ParMappingError([str(exc)]) from None

    c = _Checker(filename, lines)
    for path, message in compose_problems:
        c.err(path, message)
    if not isinstance(data, dict):
        c.err((), f"expected a PAR mapping, got {type_name(data)}")
        raise ParMappingError(c.messages())
    if data.get("schema") != PAR_SCHEMA_VERSION or isinstance(data.get("schema"), bool):
        found = "missing" if "schema" not in data else f"{data['schema']!r}"
        c.err(
            ("schema",),
            f"unknown schema version {found} (this program reads {PAR_SCHEMA_VERSION})",
        )
        raise ParMappingError(c.messages())
    m = c.mapping(data, (), ("schema", "id", "title", "criteria"), ("description",))
    assert m is not None
    mid = c.string(m["id"], ("id",)) if "id" in m else ""
    if mid and not _ID_RE.match(mid):
        c.err(("id",), f"invalid id {mid!r} (letters, digits, '-', '_')")
    title = c.texts(m["title"], ("title",)) if "title" in m else {}
    if "description" in m:
        c.texts(m["description"], ("description",))
    criteria: list[ParCriterion] = []
    raw_criteria = m.get("criteria")
    if "criteria" in m and (not isinstance(raw_criteria, list) or not raw_criteria):
        c.err(
            ("criteria",),
            f"expected a non-empty list of criteria, got {type_name(raw_criteria)}",
        )
    elif isinstance(raw_criteria, list):
        first: dict[str, int] = {}
        for i, raw in enumerate(raw_criteria):
            crit = c.criterion(raw, ("criteria", i))
            if crit is None:
                continue
            if crit.code in first:
                c.err(
                    ("criteria", i, "code"),
                    f"duplicate criterion code {crit.code!r} (first at line {first[crit.code]})",
                )
                continue
            first[crit.code] = lines.line(("criteria", i, "code"))
            criteria.append(crit)
    if c.problems:
        raise ParMappingError(c.messages())
    return ParMapping(
        schema=PAR_SCHEMA_VERSION,
        id=mid,
        title=title,
        criteria=tuple(criteria),
        filename=filename,
    )


def load_par_mapping(path: str | os.PathLike[str]) -> ParMapping:
    """Read and validate a PAR mapping file (UTF-8); messages name the file by its base name."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise ParMappingError([f"{p.name}:1: not UTF-8 text ({exc.reason})"]) from None
    except OSError as exc:
        raise ParMappingError([f"{p.name}: cannot read ({exc.strerror})"]) from None
    return parse_par_mapping(text, p.name)


def check_mapping(mapping: ParMapping, questionnaires: list[Questionnaire]) -> None:
    """Check that every criterion names a node of a known questionnaire's index tree.

    Criteria whose ``questionnaire`` is not among ``questionnaires`` are left alone (ratio
    criteria come from other sources).

    Raises
    ------
    ParMappingError
        Naming the file, the criterion's line and the unknown node.
    """
    by_id = {q.id: q for q in questionnaires}
    problems = []
    for crit in mapping.criteria:
        q = by_id.get(crit.questionnaire)
        if q is None:
            continue
        nodes = [n.code for n in q.index.walk()] if q.index is not None else []
        if crit.index not in nodes:
            known = ", ".join(n for n in nodes if "." not in n) or "none"
            problems.append(
                f"{mapping.filename}:{crit.line} criterion {crit.code!r}: questionnaire "
                f"{crit.questionnaire!r} has no index node {crit.index!r} (top nodes: {known})"
            )
    if problems:
        raise ParMappingError(problems)


# --------------------------------------------------------------------------- conversion


def _missing(value: object) -> bool:
    return bool(pd.isna(cast(Any, value)))


def _share_of(estimate: object, num: object, den: object, where: str) -> float | Fraction | None:
    """The row's share: a float estimate, or an exact Fraction numerator / denominator."""
    if not _missing(estimate):
        try:
            value = float(cast(Any, estimate))
        except (TypeError, ValueError):
            raise ParInputError(f"{where}: estimate {estimate!r} is not a number") from None
        if not math.isfinite(value):
            raise ParInputError(f"{where}: estimate {estimate!r} is not a number")
        return value
    if not _missing(num) and not _missing(den):
        try:
            n, d = Fraction(str(num)), Fraction(str(den))
        except (TypeError, ValueError):
            raise ParInputError(f"{where}: ratio {num!r}/{den!r} is not numeric") from None
        if d <= 0 or n < 0:
            raise ParInputError(
                f"{where}: ratio {num}/{den} needs a positive denominator "
                "and a non-negative numerator"
            )
        return n / d
    return None


def par_points(
    mapping: ParMapping,
    index_table: pd.DataFrame,
    *,
    agency_column: str = "agency",
    language: str = "vi",
) -> pd.DataFrame:
    """PAR points per agency and criterion (điểm tiêu chí CCHC).

    Parameters
    ----------
    mapping : ParMapping
        The PAR set's criteria (:func:`load_par_mapping`).
    index_table : DataFrame
        One row per agency and index node with columns ``agency`` (see ``agency_column``),
        ``questionnaire`` (questionnaire id), ``node`` (index node code) and ``estimate``, a
        **share in [0, 1]** as index tables report it (or ``numerator`` and ``denominator``
        for a ratio). Other columns (se, ci_low, ...) are ignored. Without an agency column
        the whole table is one unnamed agency.
    agency_column : str, default 'agency'
        The column naming the agency (domain) of each row.
    language : str, default 'vi'
        Language of the ``label`` column (falls back to Vietnamese).

    Returns
    -------
    DataFrame
        Columns ``agency, criterion, label, max_points, index_percent, points``: one row per
        agency (in order of first appearance) and criterion (in mapping order).
        ``index_percent`` is ``100 * share`` (rounded as the criterion says); a criterion with
        no row for the agency has NaN percent and points, so the gap shows.

    Raises
    ------
    ParInputError
        Missing columns, duplicate rows, or an estimate outside ``[0, index_max]`` (e.g. a
        percent given where a share is expected).

    Notes
    -----
    ``points = round(percent * max_points / 100)`` in decimal arithmetic, where
    ``percent = 100 * share / index_max``. Seeds: SIPAS 91.17 % of 10 points = 9.12 (Hà Tĩnh
    2021), ratio 2000/17281 of 0.5 points = 0.06 (seed 000).
    """
    missing = [c for c in ("questionnaire", "node") if c not in index_table.columns]
    has_estimate = "estimate" in index_table.columns
    has_ratio = {"numerator", "denominator"} <= set(index_table.columns)
    if not has_estimate and not has_ratio:
        missing.append("estimate")
    if missing:
        raise ParInputError(
            f"index table has no column {', '.join(repr(c) for c in missing)} "
            f"(columns: {', '.join(map(str, index_table.columns))})"
        )
    table = index_table.copy()
    if agency_column not in table.columns:
        table[agency_column] = ""
    table["questionnaire"] = table["questionnaire"].astype(str)
    table["node"] = table["node"].astype(str)
    key = [agency_column, "questionnaire", "node"]
    dup = table.duplicated(key, keep=False)
    if dup.any():
        first = table.loc[dup].iloc[0]
        raise ParInputError(
            f"index table has several rows for agency {first[agency_column]!r}, "
            f"questionnaire {first['questionnaire']!r}, node {first['node']!r}"
        )
    wanted = {(c.questionnaire, c.index) for c in mapping.criteria}
    shares: dict[tuple[object, str, str], float | Fraction] = {}
    numerators = table["numerator"] if has_ratio else pd.Series(math.nan, index=table.index)
    denominators = table["denominator"] if has_ratio else pd.Series(math.nan, index=table.index)
    estimates = table["estimate"] if has_estimate else pd.Series(math.nan, index=table.index)
    for agency, qid, node, estimate, num, den in zip(
        table[agency_column],
        table["questionnaire"],
        table["node"],
        estimates,
        numerators,
        denominators,
        strict=True,
    ):
        if (qid, node) not in wanted:
            continue
        share = _share_of(estimate, num, den, f"agency {agency!r} node {node!r}")
        if share is not None:
            shares[(agency, qid, node)] = share
    records = []
    agencies = list(dict.fromkeys(table[agency_column].tolist()))
    for agency in agencies:
        for crit in mapping.criteria:
            label = crit.label.get(language, crit.label["vi"])
            share = shares.get((agency, crit.questionnaire, crit.index))
            percent: float = math.nan
            points: float = math.nan
            if share is not None:
                value = share if isinstance(share, Fraction) else _decimal(share)
                if not 0 <= value <= crit.index_max:
                    raise ParInputError(
                        f"agency {agency!r} node {crit.index!r}: estimate {float(value):g} is "
                        f"outside [0, {crit.index_max}] (index tables give shares 0..1, not "
                        "percents)"
                    )
                p, pts = convert_points(cast(Any, share), crit)
                percent, points = float(p), float(pts)
            records.append(
                {
                    "agency": agency,
                    "criterion": crit.code,
                    "label": label,
                    "max_points": float(crit.max_points),
                    "index_percent": percent,
                    "points": points,
                }
            )
    return pd.DataFrame.from_records(records, columns=list(PAR_COLUMNS))
