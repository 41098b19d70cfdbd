"""Loading: a campaign's submissions read out of the database into typed frames.

Single choices become float columns (NaN: not answered), free texts a frame of
comments. On PostgreSQL the database writes CSV text that pandas parses, in
concurrent parts for a large campaign; elsewhere plain rows are read.
"""

from __future__ import annotations

import datetime as dt
import io
import itertools
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from flask import current_app
from sqlalchemy import BigInteger, Row, Select, create_engine, func, null, or_, select
from sqlalchemy.orm import InstrumentedAttribute
from sqlalchemy.pool import NullPool
from sqlalchemy.sql.elements import ColumnElement

from scoring.questionnaire import Questionnaire
from survey_app import localtime
from survey_app.extensions import db
from survey_app.models import Agency, Campaign, Desk, Submission
from survey_app.questions import kind_of
from survey_app.services.questionnaires import definition

# Columns of the analysis frame besides the item and respondent codes.
META_COLUMNS = ("submission_id", "desk", "agency", "route", "submitted_at")

#: (newest id, count, newest uid) of a campaign's submissions: what a cached frame is of.
Version = tuple[int, int, str]


def choice_columns(questionnaire: Questionnaire) -> list[str]:
    """Item and respondent codes whose answers are single choices (index and domain inputs)."""
    codes = [item.code for item in questionnaire.items if kind_of(item).analysed]
    codes += [item.code for item in questionnaire.respondent if kind_of(item).analysed]
    return list(dict.fromkeys(codes))


@dataclass
class Responses:
    """A campaign's responses: the wide frame and its free-text answers."""

    frame: pd.DataFrame  # one row per submission (META_COLUMNS + choice item codes)
    comments: pd.DataFrame  # submission_id, text


# On PostgreSQL a load of more rows than this is read in LOAD_PARTS concurrent parts.
PARALLEL_LOAD_ROWS = 20_000
LOAD_PARTS = 4


def _read_postgresql(
    campaign_id: int, codes: list[str], text_codes: list[str], after_id: int, until_id: int
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Single choices and free texts of the submissions with ids in (after_id, until_id].

    The database writes each part as one CSV text (``string_agg`` of
    ``concat_ws``), with the part's free texts beside it as one JSON array, in
    one pass over the part's rows: its cores extract ``answers ->> code`` in
    parallel, and Python receives a few large strings for pandas to parse, not
    200,000 rows. The CSV values are integers and route codes: no quoting needed.
    Each column is read with its own dtype, and the submission time as whole
    microseconds since 1970 (the stored UTC instant): the text PostgreSQL writes
    for a timestamp drops a zero fraction ("17:00:00" beside "11:13:09.292294"),
    and pandas, inferring one format from the first value, failed on the other.
    """
    answers = Submission.answers
    line = func.concat_ws(
        ",",
        Submission.id,
        Submission.desk_id,
        Submission.route,
        _epoch_microseconds(Submission.submitted_at),
        *[func.coalesce(answers[code].as_string(), "") for code in codes],
    )
    texts = [answers[code].as_string() for code in text_codes]
    text_rows = (
        func.json_agg(func.json_build_array(Submission.id, *texts)).filter(
            or_(*[t.is_not(None) for t in texts])
        )
        if texts
        else null()
    )
    parts = LOAD_PARTS if until_id - after_id > PARALLEL_LOAD_ROWS else 1
    bounds = [after_id + (until_id - after_id) * k // parts for k in range(parts + 1)]
    queries = [
        select(func.string_agg(line, "\n"), text_rows).where(
            Submission.campaign_id == campaign_id, Submission.id > low, Submission.id <= high
        )
        for low, high in itertools.pairwise(bounds)
    ]
    if parts == 1:
        results = [db.session.execute(queries[0]).one()]
    else:
        # Connections of their own, outside the request pool: requests holding one pooled
        # connection each and waiting for four more could otherwise wait for each other.
        engine = current_app.extensions.get("analysis_load_engine")
        if engine is None:
            engine = create_engine(db.engine.url, poolclass=NullPool)
            current_app.extensions["analysis_load_engine"] = engine

        def read(query: Select[Any, Any]) -> Row[Any, Any]:
            with engine.connect() as connection:
                return connection.execute(query).one()

        with ThreadPoolExecutor(parts) as pool:
            results = list(pool.map(read, queries))
    text = "\n".join(csv for csv, _ in results if csv)
    dtypes = {
        "submission_id": "int64",
        "desk_id": "int64",
        "route": "object",
        "submitted_at": "int64",
        **dict.fromkeys(codes, "float64"),
    }
    wide = pd.read_csv(
        io.StringIO(text),
        header=None,
        names=list(dtypes),
        keep_default_na=False,
        na_values=[""],
        dtype=dtypes,
    )
    wide["submitted_at"] = pd.to_datetime(wide["submitted_at"], unit="us")
    comments = [
        (row[0], value)
        for _, rows in results
        for row in rows or ()
        for value in row[1:]
        if value is not None
    ]
    return wide, _comment_frame(comments)


def _epoch_microseconds(column: InstrumentedAttribute[dt.datetime]) -> ColumnElement[int]:
    """A stored instant (naive UTC) as whole microseconds since 1970, in SQL."""
    return func.round(func.extract("epoch", column) * 1_000_000).cast(BigInteger)


def _read(
    campaign_id: int, codes: list[str], text_codes: list[str], after_id: int, until_id: int
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """As :func:`_read_postgresql`, through plain rows (SQLite and others)."""
    answers = Submission.answers
    in_range = (
        Submission.campaign_id == campaign_id,
        Submission.id > after_id,
        Submission.id <= until_id,
    )
    rows = db.session.execute(
        select(
            Submission.id,
            Submission.desk_id,
            Submission.route,
            Submission.submitted_at,
            *[answers[code].as_integer() for code in codes],
        ).where(*in_range)
    ).all()
    comments: list[tuple[int, str]] = []
    for code in text_codes:
        text = answers[code].as_string()
        comments += [
            (sid, value)
            for sid, value in db.session.execute(
                select(Submission.id, text).where(*in_range, text.is_not(None))
            )
        ]
    wide = pd.DataFrame(
        {
            "submission_id": pd.Series([r[0] for r in rows], dtype="int64"),
            "desk_id": pd.Series([r[1] for r in rows], dtype="int64"),
            "route": pd.Series([r[2] for r in rows], dtype="object"),
            # datetime objects, converted by SQLAlchemy's DateTime type: nothing to parse.
            "submitted_at": pd.Series([r[3] for r in rows], dtype="datetime64[us]"),
            **{
                code: pd.Series([r[4 + k] for r in rows], dtype="float64")
                for k, code in enumerate(codes)
            },
        }
    )
    return wide, _comment_frame(comments)


def _comment_frame(comments: list[tuple[int, str]]) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "submission_id": pd.Series([sid for sid, _ in comments], dtype=np.int64),
            "text": pd.Series([text for _, text in comments], dtype=object),
        }
    )


def load_responses(campaign: Campaign, after_id: int = 0, until_id: int | None = None) -> Responses:
    """One row per submission: desk, agency, route, submitted_at and a column per choice item.

    Single choices are read out of the answers documents by the database
    (``answers ->> code``), one row per submission, in id order; item columns
    are floats with NaN for "not answered". Only submissions with ids in
    (``after_id``, ``until_id``] are read (the cache's increments; ``until_id``
    None: all).
    """
    questionnaire = definition(campaign.questionnaire_version)
    codes = choice_columns(questionnaire)
    text_codes = [i.code for i in questionnaire.items if kind_of(i).comment]
    if until_id is None:
        until_id = (
            db.session.scalar(
                select(func.max(Submission.id)).where(Submission.campaign_id == campaign.id)
            )
            or 0
        )
    read = _read_postgresql if db.engine.dialect.name == "postgresql" else _read
    wide, comments = read(campaign.id, codes, text_codes, after_id, until_id)
    wide = wide.sort_values("submission_id", ignore_index=True)
    desks = {
        desk_id: (desk, agency)
        for desk_id, desk, agency in db.session.execute(
            select(Desk.id, Desk.code, Agency.code).join(Agency, Agency.id == Desk.agency_id)
        )
    }
    desk_ids = wide["desk_id"].astype(np.int64)
    frame = pd.DataFrame(
        {
            "submission_id": wide["submission_id"].to_numpy(dtype=np.int64),
            "desk": desk_ids.map({d: desk for d, (desk, _) in desks.items()}).astype(object),
            "agency": desk_ids.map({d: agency for d, (_, agency) in desks.items()}).astype(object),
            "route": wide["route"].astype(object),
            "submitted_at": localtime.local_series(wide["submitted_at"]),
        }
    )
    values = wide[codes].to_numpy(dtype=np.float64, na_value=np.nan)
    frame = pd.concat([frame, pd.DataFrame(values, columns=codes)], axis=1)
    return Responses(frame, comments)


def data_version(campaign: Campaign) -> Version:
    """(newest id, count, newest uid) of the campaign's submissions: the cache key.

    The random uid of the newest submission tells a rebuilt database from the
    one a cached frame came from, even when ids and counts happen to agree.
    """
    latest, count = db.session.execute(
        select(func.max(Submission.id), func.count(Submission.id)).where(
            Submission.campaign_id == campaign.id
        )
    ).one()
    uid = ""
    if latest is not None:
        uid = (
            db.session.scalar(
                select(Submission.uid).where(
                    Submission.campaign_id == campaign.id, Submission.id == latest
                )
            )
            or ""
        )
    return int(latest or 0), int(count or 0), uid
