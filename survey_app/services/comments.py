"""Citizens' comments for the officials who act on them (góp ý của người dân): filters,
the handled mark, and the privacy rule of each role.

A comment is a respondent's free text (the texts of one submission, if the questionnaire
asks more than once, read together); it is marked handled, or un-marked, with a note, and
every change is audited. Who sees what (:func:`sees_moments`):

- administrators and province analysts, who work at no desk, see the date, the time
  (Vietnam's) and the desk, and the text with the person masked (e-mail and web addresses,
  phone, ID card and dossier numbers, a name after a form of address);
- agency officers and viewers, who run or watch the desks, see the date and the desk but
  never the time; the text is masked as the survey report masks it (also dates, clock
  times, desk numbers and names), and comments of one day are listed in an order that
  says nothing of the time. So a desk and a minute are never shown together.

The criterion filter keeps respondents who gave *at least one* item of the criterion (of
any index node: group, criterion or item) a valid answer whose code, the score on the
item's scale, is at most ``max_score``; "no opinion" answers never count.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import math
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd
from flask import current_app
from flask_babel import lazy_gettext
from sqlalchemy import select

from scoring.questionnaire import IndexNode, Questionnaire
from scoring.text import TextError, clean_text
from survey_app.access import can_see_agency, visible_desks
from survey_app.extensions import db
from survey_app.models import (
    Agency,
    Campaign,
    CommentReview,
    Desk,
    StaffUser,
    Submission,
    SubmissionKey,
    utcnow,
)
from survey_app.questions import kind_of
from survey_app.services import audit
from survey_app.services.analysis import (
    Period,
    View,
    campaign_periods,
    find_period,
    make_view,
    names,
    subtree_codes,
    visible_agency_codes,
)
from survey_app.services.analysis.cache import memo
from survey_app.services.analysis.views import RESULTS_KEPT, cached
from survey_app.services.errors import NotFound, Problem, ServiceError
from survey_app.services.questionnaires import definition
from survey_app.services.report.comments import mask
from survey_app.text_input import refused

PAGE_SIZE = 20
MAX_SEARCH = 200
MAX_NOTE = 2000
HANDLED = {"yes": True, "no": False}
NOTE = lazy_gettext("Ghi chú")
# Roles that see the time of a comment beside its desk (see the module).
MOMENT_ROLES = ("admin", "analyst")


class CommentError(ServiceError):
    """Filters or a note the comments page cannot use (codes ``comments.*``)."""


def sees_moments(user: StaffUser) -> bool:
    """Whether ``user`` sees a comment's time beside its desk (see the module)."""
    return user.role in MOMENT_ROLES


def folded(text: str) -> str:
    """``text`` for search: lower case, without diacritics (``Đúng hẹn`` -> ``dung hen``)."""
    text = unicodedata.normalize("NFD", text.casefold()).replace("đ", "d")
    return "".join(c for c in text if not unicodedata.combining(c))


@dataclass(frozen=True)
class Filters:
    """What the comments are filtered by; ``None`` or empty: not filtered."""

    criterion: str | None = None
    max_score: int | None = None
    agency: str | None = None  # an agency's code: its subtree's desks
    desk: str | None = None
    q: str = ""
    handled: bool | None = None

    def args(self) -> dict[str, str]:
        """The filters as query parameters (for links and the export)."""
        out: dict[str, str] = {}
        if self.criterion is not None and self.max_score is not None:
            out |= {"criterion": self.criterion, "max_score": str(self.max_score)}
        if self.agency:
            out["agency"] = self.agency
        if self.desk:
            out["desk"] = self.desk
        if self.q:
            out["q"] = self.q
        if self.handled is not None:
            out["handled"] = "yes" if self.handled else "no"
        return out


def index_nodes(questionnaire: Questionnaire) -> list[IndexNode]:
    """The nodes below the index root (groups, criteria, items) one can filter by."""
    if questionnaire.index is None:
        return []
    return [n for n in questionnaire.index.walk() if n is not questionnaire.index]


def valid_scores(questionnaire: Questionnaire, node: IndexNode) -> list[int]:
    """The valid answer codes (scores) of the node's items, lowest first."""
    codes: set[int] = set()
    for code in node.item_codes():
        codes |= questionnaire.item(code).valid_codes
    return sorted(codes)


def parse_filters(
    campaign: Campaign, user: StaffUser, args: Mapping[str, str]
) -> tuple[Period, Filters]:
    """The period and filters of a query string; every bad value is a problem of its field."""
    problems: list[Problem] = []
    questionnaire = definition(campaign.questionnaire_version)
    period = find_period(campaign, args.get("period") or None)
    if period is None:
        problems.append(
            Problem(
                "comments.period_unknown",
                {
                    "period": args.get("period", ""),
                    "periods": ", ".join(p.code for p in campaign_periods(campaign)),
                },
                "period",
            )
        )
    criterion = (args.get("criterion") or "").strip() or None
    raw_score = (args.get("max_score") or "").strip()
    max_score = None
    if criterion is not None:
        node = next((n for n in index_nodes(questionnaire) if n.code == criterion), None)
        if node is None:
            problems.append(Problem("comments.criterion_unknown", {"code": criterion}, "criterion"))
        else:
            scores = valid_scores(questionnaire, node)
            allowed = ", ".join(map(str, scores))
            try:
                max_score = int(raw_score)
            except ValueError:
                max_score = None
            if max_score is None or max_score not in scores:
                code = "comments.score_missing" if not raw_score else "comments.score_invalid"
                problems.append(Problem(code, {"score": raw_score, "scores": allowed}, "max_score"))
    elif raw_score:
        problems.append(Problem("comments.score_without_criterion", {}, "criterion"))
    agency = (args.get("agency") or "").strip() or None
    visible = visible_agency_codes(user)
    if agency is not None and (
        (visible is not None and agency not in visible)
        or db.session.scalar(select(Agency.id).filter_by(code=agency)) is None
    ):
        problems.append(Problem("comments.agency_unknown", {"code": agency}, "agency"))
    desk = (args.get("desk") or "").strip() or None
    if desk is not None and desk not in {d.code for d in visible_desks(user, campaign)}:
        problems.append(Problem("comments.desk_unknown", {"code": desk}, "desk"))
    q = " ".join((args.get("q") or "").split())
    if len(q) > MAX_SEARCH:
        problems.append(Problem("comments.search_too_long", {"limit": MAX_SEARCH}, "q"))
    handled_arg = (args.get("handled") or "").strip()
    if handled_arg and handled_arg not in HANDLED:
        problems.append(Problem("comments.handled_invalid", {"value": handled_arg}, "handled"))
    if problems:
        raise CommentError(*problems)
    assert period is not None
    return period, Filters(
        criterion=criterion if max_score is not None else None,
        max_score=max_score,
        agency=agency,
        desk=desk,
        q=q,
        handled=HANDLED.get(handled_arg),
    )


@dataclass
class CommentRow:
    """One respondent's comment as the reader may see it."""

    submission_id: int
    uid: str
    day: dt.date
    time: str | None  # "17:58" (Vietnam's time), only for roles that see it
    desk_code: str
    desk: str
    agency: str
    text: str
    review: CommentReview | None = None

    @property
    def handled(self) -> bool:
        return self.review is not None and self.review.handled


@dataclass
class Comments:
    """The comments of a view under filters: ``rows`` of the page asked for (all of them
    for an export), how many in all, and the page numbers."""

    view: View
    filters: Filters
    with_time: bool
    rows: list[CommentRow]
    total: int
    page: int = 1
    pages: int = 1


def _texts(view: View, with_time: bool) -> pd.DataFrame:
    """The view's comments, one row per submission (its texts joined), masked for the role:
    columns submission_id, desk, agency, submitted_at, text, folded."""

    def compute() -> pd.DataFrame:
        inside = view.frame.loc[view.mask, ["submission_id", "desk", "agency", "submitted_at"]]
        columns = ["submission_id", "desk", "agency", "submitted_at", "text", "folded"]
        if view.comments.empty or inside.empty:
            return inside.iloc[0:0].assign(text="", folded="")
        found = view.comments[view.comments["submission_id"].isin(inside["submission_id"])]
        found = found[found["text"].fillna("").str.strip() != ""]
        joined = found.groupby("submission_id", sort=False)["text"].agg(
            lambda texts: "\n".join(str(t).strip() for t in texts)
        )
        out = inside.merge(joined.rename("text").reset_index(), on="submission_id")
        desk_words = [*out["desk"].unique()]
        desk_words += names(Desk, desk_words).values()
        out["text"] = [
            "\n".join(
                mask(line, desk_words, moments=not with_time, limit=None)
                for line in text.split("\n")
            )
            for text in out["text"]
        ]
        out["folded"] = [folded(t) for t in out["text"]]
        return out[columns]

    return cached(memo("comment_texts", RESULTS_KEPT), view.key("comments", with_time), compute)


def _low_scores(view: View, filters: Filters) -> pd.Series:
    """Submission ids of the respondents who scored an item of the criterion <= max_score."""
    assert filters.criterion is not None and filters.max_score is not None
    questionnaire = view.questionnaire
    node = next(n for n in index_nodes(questionnaire) if n.code == filters.criterion)
    frame = view.frame.loc[view.mask]
    low = np.zeros(len(frame), dtype=bool)
    for code in node.item_codes():
        if code not in frame:
            continue
        values = frame[code].to_numpy()
        valid = np.isin(values, sorted(questionnaire.item(code).valid_codes))
        low |= valid & (values <= filters.max_score)
    return frame.loc[low, "submission_id"]


def _reviews(campaign: Campaign) -> dict[int, CommentReview]:
    rows = db.session.scalars(
        select(CommentReview)
        .join(SubmissionKey, SubmissionKey.id == CommentReview.submission_id)
        .where(SubmissionKey.campaign_id == campaign.id)
    )
    return {r.submission_id: r for r in rows}


def order_in_day(submission_id: int) -> str:
    """A sort key of a submission within its day that says nothing of its submission order
    (or time): keyed, so nobody without the app's secret can undo it."""
    key = str(current_app.secret_key or "").encode()
    return hmac.new(key, str(submission_id).encode(), hashlib.sha256).hexdigest()


def find_comments(
    campaign: Campaign,
    user: StaffUser,
    period: Period,
    filters: Filters,
    page: int | None = 1,
    size: int = PAGE_SIZE,
) -> Comments:
    """The comments ``user`` may see in ``period`` under ``filters``; ``page`` None: all."""
    view = make_view(campaign, user, period)
    with_time = sees_moments(user)
    found = _texts(view, with_time)
    if filters.criterion is not None:
        found = found[found["submission_id"].isin(_low_scores(view, filters))]
    if filters.agency:
        agency = db.session.scalar(select(Agency).filter_by(code=filters.agency))
        assert agency is not None  # parse_filters refused an unknown code
        found = found[found["agency"].isin(subtree_codes(agency))]
    if filters.desk:
        found = found[found["desk"] == filters.desk]
    if filters.q:
        found = found[found["folded"].str.contains(folded(filters.q), regex=False)]
    reviews = _reviews(campaign)
    if filters.handled is not None:
        handled = {sid for sid, r in reviews.items() if r.handled}
        found = found[found["submission_id"].isin(handled) == filters.handled]
    if with_time:
        found = found.sort_values(["submitted_at", "submission_id"], ascending=False)
    else:
        found = found.assign(
            day=found["submitted_at"].dt.date,
            order=[order_in_day(int(s)) for s in found["submission_id"]],
        ).sort_values(["day", "order"], ascending=[False, True])
    total = len(found)
    if page is None:
        rows, page, pages = found, 1, 1
    else:
        pages = max(1, math.ceil(total / size))
        page = min(max(1, page), pages)
        rows = found.iloc[(page - 1) * size : page * size]
    return Comments(
        view=view,
        filters=filters,
        with_time=with_time,
        rows=_rows(rows, reviews, with_time),
        total=total,
        page=page,
        pages=pages,
    )


def _rows(
    found: pd.DataFrame, reviews: dict[int, CommentReview], with_time: bool
) -> list[CommentRow]:
    ids = [int(s) for s in found["submission_id"]]
    uids: dict[int, str] = {
        sid: uid
        for sid, uid in db.session.execute(
            select(SubmissionKey.id, SubmissionKey.uid).where(SubmissionKey.id.in_(ids))
        )
    }
    desk_names = names(Desk, found["desk"].unique())
    agency_names = names(Agency, found["agency"].unique())
    out = []
    for sid, desk, agency, at, text in zip(
        ids, found["desk"], found["agency"], found["submitted_at"], found["text"], strict=True
    ):
        moment = pd.Timestamp(at).to_pydatetime()
        out.append(
            CommentRow(
                submission_id=sid,
                uid=uids[sid],
                day=moment.date(),
                time=moment.strftime("%H:%M") if with_time else None,
                desk_code=str(desk),
                desk=desk_names.get(desk, str(desk)),
                agency=agency_names.get(agency, str(agency)),
                text=str(text),
                review=reviews.get(sid),
            )
        )
    return out


# ------------------------------------------------------------------ the handled mark
def _comment_codes(campaign: Campaign) -> list[str]:
    questionnaire = definition(campaign.questionnaire_version)
    return [i.code for i in questionnaire.items if kind_of(i).comment]


def set_handled(
    campaign: Campaign, user: StaffUser, uid: str, handled: bool, note: str
) -> CommentReview:
    """Mark a comment handled (or not) with a note; audited. A comment of another campaign,
    outside the user's agencies, or a submission without a comment: :class:`NotFound`."""
    submission = db.session.scalar(
        select(Submission)
        .join(
            SubmissionKey,
            (SubmissionKey.campaign_id == Submission.campaign_id)
            & (SubmissionKey.id == Submission.id),
        )
        .where(SubmissionKey.uid == uid, SubmissionKey.campaign_id == campaign.id)
    )
    if (
        submission is None
        or not can_see_agency(user, submission.desk.agency_id)
        or not any(
            str(submission.answers.get(code) or "").strip() for code in _comment_codes(campaign)
        )
    ):
        raise NotFound.of("comments.unknown")
    try:
        note = clean_text(note, multiline=True).strip()
    except TextError as error:
        raise CommentError(refused(error, NOTE, "note")) from None
    if not note:
        raise CommentError.of("comments.note_missing", field="note")
    if len(note) > MAX_NOTE:
        raise CommentError.of("comments.note_too_long", field="note", limit=MAX_NOTE)
    review = db.session.scalar(
        select(CommentReview).where(CommentReview.submission_id == submission.id)
    )
    if review is None:
        review = CommentReview(submission_id=submission.id)
        db.session.add(review)
    review.handled = handled
    review.note = note
    review.user_id = user.id
    review.updated_at = utcnow()
    db.session.flush()
    audit.record(
        "comment.handled" if handled else "comment.unhandled",
        campaign.code,
        submission=submission.id,
        desk=submission.desk.code,
        note=note,
    )
    return review
