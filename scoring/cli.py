"""Command line of the scoring engine: ``python -m scoring index|shares|par``.

Every command reads CSV, TSV, XLSX or JSON and writes CSV, XLSX or JSON (by the output's
extension or ``--format``). Bad input gives one clear message on stderr naming the column,
stratum, item or domain, and exit status 2; never a traceback.
"""

from __future__ import annotations

import argparse
import fnmatch
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import cast

import pandas as pd

from scoring import margins as margins_format
from scoring.ci import SHARE_METHODS, ShareMethod
from scoring.design import LONELY_PSU_POLICIES, Calibrate, DesignSpec, LonelyPSU, SurveyDesign
from scoring.errors import DesignColumnError, MarginsError, ScoringError
from scoring.estimators import DeffKind, estimate_shares
from scoring.index_tree import compute_index_tree
from scoring.io import (
    EXPORT_META_COLUMNS,
    MULTI_SEPARATOR,
    InputFileError,
    output_format,
    read_table,
    write_table,
)
from scoring.margins import COUNT_COLUMNS, Margin
from scoring.par import ParInputError, ParMappingError, load_par_mapping, par_points
from scoring.questionnaire import QuestionnaireError, load_questionnaire

__all__ = [
    "INDEX_COLUMNS",
    "SHARES_COLUMNS",
    "build_design",
    "design_spec",
    "index_table",
    "main",
    "read_margins",
    "shares_table",
]

PROG = "python -m scoring"
SHARES_COLUMNS: tuple[str, ...] = (
    "item",
    "n",
    "estimate",
    "se",
    "ci_low",
    "ci_high",
    "df",
    "deff",
)

_ERRORS = (
    ScoringError,
    ParMappingError,
    ParInputError,
    QuestionnaireError,
    InputFileError,
)


class CommandError(ScoringError):
    """A command line that names something the data do not have."""


# --------------------------------------------------------------------------- parser


def _design_options(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("survey design (R svydesign)")
    g.add_argument("--weights", metavar="COL", help="sampling weight column (default: all 1)")
    g.add_argument(
        "--probs",
        metavar="COL",
        nargs="+",
        help="inclusion probability column(s), one per stage; weights 1/product (R probs=)",
    )
    g.add_argument(
        "--strata",
        metavar="COL",
        nargs="+",
        help="stratum column (default: one stratum); one per stage for stratified later stages",
    )
    g.add_argument(
        "--psu",
        metavar="COL",
        nargs="+",
        help="cluster column of each stage, e.g. --psu district commune (R ids=~district+commune)",
    )
    g.add_argument(
        "--fpc",
        metavar="COL",
        nargs="+",
        help="finite population correction of each stage: population count or sampling "
        "fraction, e.g. --fpc N1 N2; with several stages every stage's variance counts",
    )
    g.add_argument(
        "--nest", action="store_true", help="PSU labels repeat across strata (R nest=TRUE)"
    )
    g.add_argument(
        "--lonely-psu",
        choices=LONELY_PSU_POLICIES,
        default="fail",
        help="a stratum with one sampled unit, at any stage: R's survey.lonely.psu (default: fail)",
    )
    g.add_argument(
        "--domain",
        metavar="COL",
        nargs="+",
        action="extend",
        default=[],
        help="estimate for every value of these columns (crossed when several), e.g. agency",
    )
    c = p.add_mutually_exclusive_group()
    c.add_argument(
        "--poststratify",
        "--postratify",
        metavar="MARGINS",
        help="post-stratify to population counts: columns of the data and a count "
        f"column ({', '.join(COUNT_COLUMNS[:4])})",
    )
    c.add_argument(
        "--rake",
        metavar="MARGINS",
        action="append",
        help="rake to this margins file: one margin table, or variable,value,count rows "
        "for several (repeat for more files)",
    )
    o = p.add_argument_group("estimates")
    o.add_argument(
        "--ci-method",
        choices=SHARE_METHODS,
        default="logit",
        help="confidence interval of a share (default logit, as R svyciprop)",
    )
    o.add_argument("--level", type=float, default=0.95, help="confidence level (default 0.95)")
    o.add_argument(
        "--deff",
        choices=("replace", "srswor"),
        default="replace",
        help="design effect against simple random sampling with replacement (default, R "
        "deff='replace') or without (R deff=TRUE, which includes 1 - n/sum(weights))",
    )
    o.add_argument("--sheet", help="XLSX input sheet (default: 'Dữ liệu' if present, else first)")


def _output_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("-o", "--output", required=True, metavar="OUT", help="OUT.csv|xlsx|json")
    p.add_argument("--format", choices=("csv", "xlsx", "json"), help="overrides the extension")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=PROG,
        description="Satisfaction indices with design-based confidence intervals (SIPAS, "
        "PAPI) and their PAR INDEX points.",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser(
        "index",
        help="the questionnaire's whole index tree per domain",
        description="Every node of the questionnaire's index tree (item > criterion > group > "
        "overall) with estimate, se, ci_low, ci_high, n, df and deff per domain.",
    )
    p.add_argument("questionnaire", metavar="QUESTIONNAIRE.yaml")
    p.add_argument("responses", metavar="RESPONSES", help="CSV, TSV, XLSX or JSON")
    p.add_argument(
        "--overall",
        action="store_true",
        help="with --domain: also the whole sample (domain columns empty)",
    )
    _design_options(p)
    _output_options(p)

    p = sub.add_parser(
        "shares",
        help="share of satisfied answers among valid answers, per item column",
        description="Share of satisfied answers among valid answers for each item column and "
        "domain (R svyciprop on subset(design, valid)).",
    )
    p.add_argument("responses", metavar="RESPONSES", help="CSV, TSV, XLSX or JSON")
    items = p.add_mutually_exclusive_group(required=True)
    items.add_argument("--items", nargs="+", metavar="CODE", help="item columns")
    items.add_argument(
        "--items-like",
        metavar="PATTERN",
        help="item columns matching a shell pattern, e.g. 'II.*'",
    )
    p.add_argument(
        "--satisfied",
        nargs="+",
        type=int,
        default=[4, 5],
        metavar="CODE",
        help="codes counted as satisfied (default 4 5)",
    )
    p.add_argument(
        "--invalid",
        nargs="+",
        type=int,
        default=[],
        metavar="CODE",
        help="answer codes outside the denominator, e.g. 9 'Không có ý kiến' "
        "(default: every answer given is valid)",
    )
    _design_options(p)
    _output_options(p)

    p = sub.add_parser(
        "par",
        help="PAR INDEX points per agency from index estimates",
        description="PAR points per agency and criterion: index percent x max points / 100, "
        "rounded as the mapping says.",
    )
    p.add_argument("mapping", metavar="MAPPING.yaml")
    p.add_argument(
        "indices",
        metavar="INDICES",
        help="index table (csv|xlsx|json): agency, questionnaire, node, estimate (share 0..1)",
    )
    p.add_argument("--agency", default="agency", metavar="COL", help="agency column")
    _output_options(p)
    return parser


# --------------------------------------------------------------------------- design


def _design_columns(args: argparse.Namespace) -> list[str]:
    stages = [*(args.probs or []), *(args.strata or []), *(args.psu or []), *(args.fpc or [])]
    return [c for c in [args.weights, *stages, *args.domain] if c]


def read_margins(path: str, data: pd.DataFrame) -> tuple[list[str], pd.Series]:
    """One margin table of a file (scoring's margins format), its columns checked against
    the data: the calibration column(s) and the population count per cell, cells as text."""
    margins = _read_margins(path)
    if len(margins) != 1:
        raise CommandError(f"{Path(path).name}: {len(margins)} margins where one table is needed")
    (margin,) = margins
    _check_columns(path, margin, data)
    labels = list(margin.population())
    index = pd.Index(labels, tupleize_cols=False)
    return list(margin.variables), pd.Series(list(margin.cells.values()), index=index, dtype=float)


def _check_columns(path: str, margin: Margin, data: pd.DataFrame) -> None:
    absent = [c for c in margin.variables if c not in data.columns]
    if absent:
        raise CommandError(
            f"{Path(path).name}: margin column {absent[0]!r} is not a column of the responses"
        )


def _margin_files(args: argparse.Namespace) -> list[tuple[str, tuple[Margin, ...]]]:
    paths = [args.poststratify] if args.poststratify else list(args.rake or [])
    return [(path, _read_margins(path)) for path in paths]


def _read_margins(path: str) -> tuple[Margin, ...]:
    """scoring's margins reader, its faults reported as what the command line was given."""
    try:
        return margins_format.read_margins(path)
    except MarginsError as error:
        raise CommandError(str(error), code=error.code, **error.params) from None


def design_spec(
    args: argparse.Namespace, files: list[tuple[str, tuple[Margin, ...]]] | None = None
) -> DesignSpec:
    """The design the options describe, with the margins files read (one format for all)."""
    files = _margin_files(args) if files is None else files
    calibration: Calibrate = "none"
    if args.poststratify:
        calibration = "poststratify"
    elif args.rake:
        calibration = "rake"
    margins = tuple(m for _, read in files for m in read)
    return DesignSpec(
        weights=args.weights,
        probs=args.probs,
        strata=args.strata,
        psu=args.psu,
        fpc=args.fpc,
        lonely_psu=cast(LonelyPSU, args.lonely_psu),
        nest=args.nest,
        calibration=calibration,
        margins=margins,
    )


def _text(v: object) -> str:
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return str(v)


def _as_key_text(data: pd.DataFrame, columns: Sequence[str]) -> pd.DataFrame:
    """Calibration columns as text copies, so they match the margins file's cells."""
    out = data.copy(deep=False)
    for c in columns:
        out[c] = out[c].map(lambda v: v if pd.isna(v) else _text(v))
    return out


def build_design(data: pd.DataFrame, args: argparse.Namespace) -> SurveyDesign:
    """The design the options describe, calibrated if asked (R svydesign, postStratify, rake).

    Cell values of the margins are matched as text, so ``1`` in a file matches ``1`` or
    ``1.0`` in the data.
    """
    files = _margin_files(args)
    for path, read in files:
        for margin in read:
            _check_columns(path, margin, data)
    spec = design_spec(args, files)
    key_columns = sorted({v for m in spec.margins for v in m.variables})
    if key_columns:
        data = _as_key_text(data, key_columns)
    return spec.build(data)


def _domain_spec(domains: Sequence[str]) -> str | list[str] | None:
    """The estimators' domain argument: one column, or several crossed (labels are tuples)."""
    if not domains:
        return None
    return domains[0] if len(domains) == 1 else list(domains)


def _domain_columns(frame: pd.DataFrame, domains: Sequence[str]) -> pd.DataFrame:
    """Replace the estimators' ``domain``/``level`` columns by one column per domain variable."""
    if not domains:
        return frame.drop(columns=["domain", "level"])
    out = frame.drop(columns=["domain"])
    if len(domains) == 1:
        return out.rename(columns={"level": domains[0]})
    for i, col in enumerate(domains):
        out[col] = [t[i] for t in out["level"]]
    return out.drop(columns=["level"])


# --------------------------------------------------------------------------- commands


def _read_responses(args: argparse.Namespace) -> pd.DataFrame:
    text = [*(args.strata or []), *(args.psu or []), *args.domain]
    return read_table(args.responses, text_columns=text, sheet=args.sheet)


def _select_items(args: argparse.Namespace, data: pd.DataFrame) -> list[str]:
    if args.items:
        absent = [c for c in args.items if c not in data.columns]
        if absent:
            raise DesignColumnError(f"item column {absent[0]!r} is not in the data")
        return list(dict.fromkeys(args.items))
    skip = set(_design_columns(args)) | set(EXPORT_META_COLUMNS) | {"id"}
    items = [
        c
        for c in data.columns
        if fnmatch.fnmatchcase(c, args.items_like) and c not in skip and MULTI_SEPARATOR not in c
    ]
    if not items:
        raise CommandError(f"no item column matches {args.items_like!r}")
    return items


def shares_table(args: argparse.Namespace, data: pd.DataFrame) -> pd.DataFrame:
    """The ``shares`` command on a DataFrame: exactly the documented columns."""
    items = _select_items(args, data)
    if args.invalid:
        data = data.copy(deep=False)
        for item in items:
            column = pd.to_numeric(data[item], errors="coerce")
            data[item] = column.mask(column.isin(args.invalid))
    design = build_design(data, args)
    by = _domain_spec(args.domain)
    table = estimate_shares(
        design,
        items,
        satisfied=args.satisfied,
        by=by,
        level=args.level,
        method=cast(ShareMethod, args.ci_method),
        deff=cast(DeffKind, args.deff),
    )
    table = _domain_columns(table.rename(columns={"name": "item"}), args.domain)
    return table[[*args.domain, *SHARES_COLUMNS]].reset_index(drop=True)


def _cmd_shares(args: argparse.Namespace) -> int:
    table = shares_table(args, _read_responses(args))
    write_table(table, args.output, format=args.format)
    return 0


INDEX_COLUMNS: tuple[str, ...] = (
    "questionnaire",
    "node",
    "label",
    "parent",
    "depth",
    "aggregate",
    "n",
    "estimate",
    "se",
    "ci_low",
    "ci_high",
    "df",
    "deff",
    "n_eff",
    "note",
)


def index_table(args: argparse.Namespace, data: pd.DataFrame) -> pd.DataFrame:
    """The ``index`` command on a DataFrame: the index tree per domain, shares 0..1."""
    questionnaire = load_questionnaire(args.questionnaire)
    if questionnaire.index is None:
        raise CommandError(f"{questionnaire.filename}: the questionnaire has no index tree")
    design = build_design(data, args)
    by = _domain_spec(args.domain)
    domains: list[str | list[str] | None] = [None] if by is None or args.overall else []
    if by is not None:
        domains.append(by)
    table = compute_index_tree(
        questionnaire,
        design,
        domains,
        level=args.level,
        method=cast(ShareMethod, args.ci_method),
        deff=cast(DeffKind, args.deff),
    )
    lang = questionnaire.default_language
    labels_by_code = {n.code: n.label.get(lang, "") for n in questionnaire.index.walk()}
    table.insert(0, "questionnaire", questionnaire.id)
    table.insert(2, "label", table["node"].map(labels_by_code))
    overall = (table["domain"] == "overall").to_numpy()
    parts = []
    if overall.any():
        whole = table.loc[overall].drop(columns=["domain", "level"])
        for col in args.domain:
            whole[col] = pd.Series(pd.NA, index=whole.index, dtype=object)
        parts.append(whole)
    if (~overall).any():
        parts.append(_domain_columns(table.loc[~overall], args.domain))
    out = pd.concat(parts, ignore_index=True) if len(parts) > 1 else parts[0]
    return out[[*args.domain, *INDEX_COLUMNS]].reset_index(drop=True)


def _cmd_index(args: argparse.Namespace) -> int:
    table = index_table(args, _read_responses(args))
    write_table(table, args.output, format=args.format)
    return 0


def _cmd_par(args: argparse.Namespace) -> int:
    mapping = load_par_mapping(args.mapping)
    indices = read_table(args.indices, text_columns=[args.agency, "questionnaire", "node"])
    table = par_points(mapping, indices, agency_column=args.agency)
    write_table(table, args.output, format=args.format)
    return 0


_COMMANDS = {"index": _cmd_index, "shares": _cmd_shares, "par": _cmd_par}


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status (0, or 2 for bad input)."""
    args = _parser().parse_args(argv)
    try:
        output_format(args.output, args.format)  # fail before a long computation
        return _COMMANDS[args.command](args)
    except (*_ERRORS, ValueError) as exc:
        # ValueError too: pandas and numpy report unreadable values with it.
        message = str(exc).strip()
        print(f"{PROG} {args.command}: error: {message}", file=sys.stderr)
        return 2
    except OSError as exc:
        name = exc.filename if exc.filename is not None else ""
        print(f"{PROG} {args.command}: error: {name}: {exc.strerror}", file=sys.stderr)
        return 2
