"""Synthetic responses for a campaign, inserted in bulk (dashboard benchmark and tests).

Answers follow the questionnaire: every single-choice item of the form
(respecting ``show_if``), the respondent block, and a comment now and then.
Each desk has its own satisfaction level, so desks differ. PostgreSQL gets
COPY; other databases SQLAlchemy Core executemany.

Routes and times are mixed as in production: online forms (QR poster, dossier
code) stored at any microsecond, a few at whole seconds (as demo rows are), and
paper forms imported at local midnight of the date on the form, in one import
batch. PostgreSQL writes a zero fraction as ``17:00:00`` beside
``11:13:09.292294``: readers of these data meet both.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import uuid
from collections.abc import Iterator

import numpy as np
import sqlalchemy as sa

from scoring.questionnaire import Questionnaire
from survey_app import localtime
from survey_app.extensions import db
from survey_app.models import Campaign, ImportBatch, Submission, SubmissionKey
from survey_app.services.questionnaires import definition

# Shares of the routes, and of online answers stored at a whole second.
ROUTE_SHARES = {"desk_qr": 0.7, "dossier": 0.15, "paper": 0.15}
WHOLE_SECOND_SHARE = 0.1
COMMENTS = (
    "Cán bộ hướng dẫn tận tình, chu đáo.",
    "Thời gian chờ đợi còn lâu, đề nghị bố trí thêm quầy.",
    "Nên niêm yết thủ tục rõ ràng hơn.",
    "Trang dịch vụ công trực tuyến hay bị lỗi.",
)


def _answers(q: Questionnaire, rng: np.random.Generator, satisfied_p: float) -> dict[str, object]:
    """One submission's answers document (as ``Submission.answers`` stores it)."""
    answers: dict[str, object] = {}
    respondent = {i.code for i in q.respondent}
    for item in q.items:
        if item.code in respondent or not item.is_shown(answers):
            continue
        if item.type == "single":
            codes = sorted(item.valid_codes)
            invalid = sorted(item.invalid_codes)
            if invalid and rng.random() < 0.04:
                code = invalid[0]
            elif codes == [1, 2, 3, 4, 5]:
                if rng.random() < satisfied_p:
                    code = int(rng.choice([4, 5], p=[0.6, 0.4]))
                else:
                    code = int(rng.choice([1, 2, 3], p=[0.1, 0.3, 0.6]))
            else:
                code = int(rng.choice(codes))
            answers[item.code] = code
        elif item.type == "text" and rng.random() < 0.05:
            answers[item.code] = str(rng.choice(COMMENTS))
    for item in q.respondent:
        if item.type == "single":
            answers[item.code] = int(rng.choice(sorted(item.valid_codes)))
    return answers


def rows(
    campaign: Campaign, n: int, seed: int = 1, first_id: int = 1, import_batch_id: int | None = None
) -> Iterator[dict[str, object]]:
    """Submission rows (as dicts), answers included; paper rows in ``import_batch_id``."""
    rng = np.random.default_rng(seed)
    # Routes and fractions of seconds from a stream of their own: the answers and days
    # drawn from ``rng`` stay those of earlier versions of these data.
    when = np.random.default_rng([seed, 1])
    routes, shares = list(ROUTE_SHARES), list(ROUTE_SHARES.values())
    q = definition(campaign.questionnaire_version)
    desks = sorted(campaign.desks, key=lambda d: d.code)
    levels = {d.id: 0.65 + 0.25 * (i / max(1, len(desks) - 1)) for i, d in enumerate(desks)}
    start = dt.datetime.combine(campaign.starts_on, dt.time(7))
    span = (campaign.ends_on - campaign.starts_on).days + 1
    for k in range(n):
        desk = desks[int(rng.integers(len(desks)))]
        sid = first_id + k
        day, minute = int(rng.integers(span)), int(rng.integers(600))
        route = routes[int(when.choice(len(routes), p=shares))]
        second, micro = int(when.integers(60)), int(when.integers(1, 1_000_000))
        if route == "paper":
            # A paper form is stored at local midnight of the date written on it.
            at = localtime.day_start(campaign.starts_on + dt.timedelta(days=day))
        else:
            if when.random() < WHOLE_SECOND_SHARE:
                micro = 0
            local = start + dt.timedelta(days=day, minutes=minute, seconds=second)
            at = localtime.to_utc(local + dt.timedelta(microseconds=micro))  # office hours
        yield {
            "id": sid,
            # The id in the high bits keeps uids unique across runs with the same seed.
            "uid": str(uuid.UUID(int=(sid << 64) | int(rng.integers(2**62)))),
            "receipt": f"B{sid:015d}",
            "campaign_id": campaign.id,
            "desk_id": desk.id,
            "questionnaire_version_id": campaign.questionnaire_version_id,
            "route": route,
            "dossier_code": f"bench-{sid:015d}" if route == "dossier" else None,
            "language": "vi",
            "answers": _answers(q, rng, levels[desk.id]),
            "client_hash": None,
            "import_batch_id": import_batch_id if route == "paper" else None,
            "submitted_at": at,
        }


def generate(campaign: Campaign, n: int, seed: int = 1, batch: int = 5000) -> int:
    """Insert ``n`` synthetic submissions into ``campaign``; commit; return the answer count."""
    first = (db.session.scalar(sa.select(sa.func.max(SubmissionKey.id))) or 0) + 1
    paper = ImportBatch(
        campaign_id=campaign.id,
        file_sha256=hashlib.sha256(f"bench {campaign.id} {seed} {first}".encode()).hexdigest(),
        filename="phieu-giay.xlsx",
        row_count=0,
    )
    db.session.add(paper)
    db.session.flush()
    total, papers = 0, 0
    if db.engine.dialect.name == "postgresql":
        db.session.commit()
        total, papers = _copy(campaign, n, seed, first, paper.id)
    else:
        subs: list[dict[str, object]] = []
        db.session.commit()
        with db.engine.begin() as conn:
            for sub in rows(campaign, n, seed, first, paper.id):
                subs.append(sub)
                total += len(sub["answers"])  # type: ignore[arg-type]
                papers += sub["route"] == "paper"
                if len(subs) >= batch:
                    _write(conn, subs)
                    subs.clear()
            if subs:
                _write(conn, subs)
    paper.row_count = papers
    db.session.commit()
    db.session.expire_all()
    return total


def _write(conn: sa.Connection, subs: list[dict[str, object]]) -> None:
    """Rows with ids of their own, each after its claim (the row refers to it)."""
    conn.execute(sa.insert(SubmissionKey.__table__), [{k: s[k] for k in CLAIMED} for s in subs])
    conn.execute(sa.insert(Submission.__table__), subs)


CLAIMED = ("id", "campaign_id", "uid", "receipt", "dossier_code")


def _copy(campaign: Campaign, n: int, seed: int, first: int, batch_id: int) -> tuple[int, int]:
    columns = [
        "id",
        "uid",
        "receipt",
        "campaign_id",
        "desk_id",
        "questionnaire_version_id",
        "route",
        "dossier_code",
        "language",
        "answers",
        "client_hash",
        "import_batch_id",
        "submitted_at",
    ]
    raw = db.engine.raw_connection()
    total, papers = 0, 0
    try:
        cur = raw.cursor()
        # The claims first (each row refers to its claim): the same rows, generated again.
        with cur.copy(f"COPY submission_keys ({', '.join(CLAIMED)}) FROM STDIN") as copy:
            for sub in rows(campaign, n, seed, first, batch_id):
                copy.write_row(tuple(sub[c] for c in CLAIMED))
        with cur.copy(f"COPY submissions ({', '.join(columns)}) FROM STDIN") as copy:
            for sub in rows(campaign, n, seed, first, batch_id):
                total += len(sub["answers"])  # type: ignore[arg-type]
                papers += sub["route"] == "paper"
                sub["answers"] = json.dumps(sub["answers"], ensure_ascii=False)
                copy.write_row(tuple(sub[c] for c in columns))
        cur.execute(
            "SELECT setval('submission_keys_id_seq', "
            "greatest(last_value, (SELECT max(id) FROM submission_keys))) "
            "FROM submission_keys_id_seq"
        )
        raw.commit()
        # As autovacuum would after a bulk load: statistics, and the visibility map that
        # lets a campaign's count be read from its index alone.
        raw.driver_connection.autocommit = True
        try:
            cur.execute("VACUUM ANALYZE submissions, submission_keys")
        finally:
            raw.driver_connection.autocommit = False
    finally:
        raw.close()
    return total, papers
