"""Answer sums computed by the database: a campaign's groups of respondents without its rows.

Tổng hợp trạng thái trả lời trong cơ sở dữ liệu. The database turns each
submission into its *pattern*, one character per leaf of the index tree
(``'0'`` blank or not valid, ``'1'`` valid, ``'2'`` satisfied, from CASE
expressions on ``answers ->> code`` against the leaf's codes in the
questionnaire), and counts the submissions per key and pattern. Python reads
the counts of a group as one text (``<count><pattern>;`` per distinct pattern)
and builds :class:`scoring.answer_sums.AnswerSums` from each pattern's one-hot
states times its count: equal to :func:`scoring.answer_sums.sum_answers` of
the loaded frame (:func:`.loading.load_responses`).

The counting saves little where patterns hardly repeat, and with 30 leaves they
do not (bench/README.md: 900,000 patterns in 1,000,000 submissions); what it
saves is the frame in Python.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from functools import reduce

import numpy as np
import pandas as pd
from numpy.typing import NDArray
from sqlalchemy import String, case, cast, func, literal, select
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.sql.selectable import Subquery

from scoring.answer_states import TreeAlgebra
from scoring.answer_sums import AnswerSums
from scoring.design import FloatArray
from scoring.errors import DesignColumnError
from scoring.index_tree import index_structure
from scoring.questionnaire import Questionnaire
from survey_app import localtime
from survey_app.extensions import db
from survey_app.models import Agency, Campaign, Desk, Submission
from survey_app.questions import kind_of
from survey_app.services.questionnaires import definition

# Keys other than the respondent items: text columns of the analysis frame.
TEXT_KEYS = ("desk", "agency", "month")


def database_sums(campaign: Campaign, by: Sequence[str]) -> AnswerSums:
    """The answer sums of the campaign's submissions per group of equal ``by`` values.

    ``by`` holds ``desk``, ``agency`` (codes), ``month`` (``YYYY-MM`` of the
    submission in local time, :mod:`survey_app.localtime`) and respondent item
    codes (a float per answer code, NaN for no answer, as in the analysis
    frame). One query (the counts of :func:`pattern_counts`, a text per group);
    the keys are ordered as :func:`scoring.answer_sums.sum_answers` orders them.

    Raises
    ------
    DesignColumnError
        A column of ``by`` that is none of these.
    """
    tree = index_structure(definition(campaign.questionnaire_version))
    counted = _counted(campaign, by)
    keys = [counted.c[f"k{j}"] for j in range(len(by))]
    # A text per group: "<count><pattern>" per distinct pattern, ';' between them. A few
    # large strings cross to Python, not a row per pattern.
    entries = func.aggregate_strings(cast(counted.c.n, String) + counted.c.pattern, ";")
    query = select(*keys, entries)
    if keys:
        query = query.group_by(*keys)
    rows = db.session.execute(query).all()
    frame = pd.DataFrame.from_records(rows, columns=[*by, "entries"])
    return _sums(frame[frame["entries"].notna()], list(by), tree.leaves, tree.algebra)


def pattern_counts(campaign: Campaign, by: Sequence[str]) -> pd.DataFrame:
    """The campaign's submissions counted by the database per ``by`` values and pattern.

    A row per group and distinct pattern: the ``by`` columns as the database
    gives them, ``pattern`` (a character per leaf of the index tree: ``'0'``
    blank or not valid, ``'1'`` valid, ``'2'`` satisfied) and ``count``.

    Raises
    ------
    DesignColumnError
        As :func:`database_sums`.
    """
    counted = _counted(campaign, by)
    rows = db.session.execute(select(counted)).all()
    return pd.DataFrame.from_records(rows, columns=[*by, "pattern", "count"])


def _counted(campaign: Campaign, by: Sequence[str]) -> Subquery:
    """The submissions counted per ``by`` values (``k0``, ``k1``...) and ``pattern``: ``n``."""
    questionnaire = definition(campaign.questionnaire_version)
    tree = index_structure(questionnaire)
    respondent = {i.code for i in questionnaire.respondent if kind_of(i).analysed}
    unknown = [c for c in by if c not in TEXT_KEYS and c not in respondent]
    if unknown:
        raise DesignColumnError(f"grouping columns {unknown} are not in the data")
    leaf_states = [_leaf_state(questionnaire, item, satisfied) for item, satisfied in tree.leaves]
    pattern = reduce(lambda a, b: a + b, leaf_states).label("pattern")
    keys = [_key(campaign, column).label(f"k{j}") for j, column in enumerate(by)]
    per_submission = select(*keys, pattern).where(Submission.campaign_id == campaign.id)
    if "desk" in by or "agency" in by:
        per_submission = per_submission.join(Desk, Desk.id == Submission.desk_id)
    if "agency" in by:
        per_submission = per_submission.join(Agency, Agency.id == Desk.agency_id)
    # Grouped outside: GROUP BY repeats no expression with bound parameters of its own.
    inner = per_submission.subquery()
    grouped = [inner.c[f"k{j}"] for j in range(len(by))] + [inner.c.pattern]
    return select(*grouped, func.count().label("n")).group_by(*grouped).subquery()


def _answer(code: str) -> ColumnElement[str]:
    """An answer code as text (``answers ->> code``; SQLite's JSON1 gives numbers, cast)."""
    return cast(Submission.answers[code].as_string(), String)


def _leaf_state(
    questionnaire: Questionnaire, item: str, satisfied: frozenset[int]
) -> ColumnElement[str]:
    """The leaf's answer state as one character, as :func:`scoring.index_tree.answer_states`."""
    valid = questionnaire.item(item).valid_codes
    answer = _answer(item)
    whens = [
        (answer.in_(sorted(str(c) for c in codes)), state)
        for codes, state in ((valid & satisfied, "2"), (valid - satisfied, "1"))
        if codes
    ]
    if not whens:  # no valid code: every answer is state 0
        return literal("0", String)
    return case(*whens, else_=literal("0", String))


def _key(campaign: Campaign, column: str) -> ColumnElement[str]:
    if column == "desk":
        return Desk.code.expression
    if column == "agency":
        return Agency.code.expression
    if column == "month":
        return _local_month(campaign)
    return _answer(column)


def _local_month(campaign: Campaign) -> ColumnElement[str]:
    """``YYYY-MM`` of the stored instant (naive UTC) in the surveys' zone.

    PostgreSQL converts with the zone's rules (``timezone``). SQLite has no zone
    database: it adds the zone's offset at the campaign's start, which is the
    zone's rule where it has no daylight saving time (Vietnam's since 1975).
    """
    zone = localtime.zone()
    if db.engine.dialect.name == "postgresql":
        local = func.timezone(zone.key, func.timezone("UTC", Submission.submitted_at))
        return func.to_char(local, "YYYY-MM")
    start = dt.datetime.combine(campaign.starts_on, dt.time())
    offset = zone.utcoffset(start) or dt.timedelta(0)
    # Whole seconds ('YYYY-MM-DD HH:MM:SS' of the stored text): SQLite rounds a time to the
    # millisecond, and 16:59:59.9999 would be 17:00, the next local day.
    seconds = func.substr(Submission.submitted_at, 1, 19)
    return func.strftime("%Y-%m", seconds, f"{int(offset.total_seconds()):+d} seconds")


def _sums(
    frame: pd.DataFrame,
    by: list[str],
    leaves: tuple[tuple[str, frozenset[int]], ...],
    algebra: TreeAlgebra,
) -> AnswerSums:
    """AnswerSums from a row per group: its keys and its ``entries`` (see database_sums)."""
    k, width = len(leaves), 2 * len(leaves)
    keys = frame[by].reset_index(drop=True)  # typed as the analysis frame's columns
    for column in by:
        if column in TEXT_KEYS:
            keys[column] = keys[column].astype(object)
        else:
            keys[column] = pd.to_numeric(keys[column], errors="coerce").astype(np.float64)
    texts = frame["entries"].tolist()
    n_groups = len(texts)
    count, state = _parse_entries(";".join(texts) + ";" if texts else "", k)
    # Entries of group g: start[g]:start[g + 1].
    start = np.zeros(n_groups + 1, dtype=np.intp)
    np.cumsum([t.count(";") + 1 for t in texts], out=start[1:])
    onehot = np.concatenate([state == 1, state == 2], axis=1)
    reached = algebra.reached(state)
    rows = np.add.reduceat(count, start[:-1]) if n_groups else np.zeros(0)
    states = np.zeros((n_groups, width))
    reach = np.zeros((n_groups, algebra.reach.shape[1]))
    gram = np.zeros((n_groups, width, width))
    for g in range(n_groups):
        c = count[start[g] : start[g + 1]]
        o = onehot[start[g] : start[g + 1]].astype(np.float64)
        states[g] = c @ o
        reach[g] = c @ reached[start[g] : start[g + 1]]
        gram[g] = o.T @ (o * c[:, None])
    # Groups in sum_answers' order (sorted keys, a missing value last).
    if by and n_groups:
        order = np.argsort(keys.groupby(by, dropna=False, sort=True).ngroup().to_numpy(np.intp))
    else:
        order = np.arange(n_groups)
    return AnswerSums(
        keys=keys.iloc[order].reset_index(drop=True),
        leaves=leaves,
        rows=rows[order],
        states=states[order],
        reached=reach[order],
        gram=gram[order],
    )


def _parse_entries(text: str, k: int) -> tuple[FloatArray, NDArray[np.int8]]:
    """Counts (m,) and states (m, k) of ``m`` entries ``<count><pattern>;``, vectorised."""
    b = np.frombuffer(text.encode("ascii"), dtype=np.uint8)
    end = np.flatnonzero(b == ord(";"))
    begin = np.concatenate([[0], end[:-1] + 1])
    digits = end - k - begin  # of each entry's count
    state = (b[(end - k)[:, None] + np.arange(k)] - ord("0")).astype(np.int8)
    count = np.zeros(len(end))
    for d in range(int(digits.max()) if len(end) else 0):
        more = digits > d
        count[more] = count[more] * 10 + (b[begin[more] + d] - ord("0"))
    return count, state
