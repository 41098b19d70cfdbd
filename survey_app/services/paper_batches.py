"""Import batches after the fact (lần nhập phiếu giấy): what one stored, and undoing it.

A batch wrongly imported (the wrong campaign, a file typed twice under other numbers, a
sheet of test rows) is undone as a whole: its submissions, its paper form numbers and the
batch go in one transaction, audited with the counts, and the same file may be imported
again once corrected. Only who may see the whole batch may undo it: an administrator, or an
agency's officer whose subtree holds every desk of the batch (``visible_batches``); the
view decides which roles may ask at all.

The analysis caches notice: a campaign's cached responses are checked against the
newest submission id, the count and the newest uid on every use
(``analysis.cache.FrameCache``), and fewer rows than cached means a reload.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import delete, func, select

from survey_app.extensions import db
from survey_app.models import (
    Campaign,
    CommentReview,
    Desk,
    ImportBatch,
    PaperForm,
    Submission,
    SubmissionKey,
)
from survey_app.services import audit
from survey_app.services.errors import NotFound
from survey_app.services.paper_import import PaperImportError, visible_batches


class BatchUnknown(PaperImportError, NotFound):
    """No batch of this number in the campaign that the user may see."""


@dataclass(frozen=True)
class BatchContents:
    """What an import batch stored: its submissions and paper form numbers, by desk."""

    batch: ImportBatch
    submissions: int
    forms: int
    desks: list[tuple[str, str, int]]  # (desk code, desk name, submissions)


def batch_contents(
    campaign: Campaign, batch_id: int, visible_agency_ids: set[int] | None
) -> BatchContents:
    """A batch of the campaign the user may see (``PaperImportError`` ``paper.batch_unknown``,
    404, otherwise: another agency's batch is not named)."""
    visible = {b.id: b for b in visible_batches(campaign, visible_agency_ids)}
    batch = visible.get(batch_id)
    if batch is None:
        raise BatchUnknown.of("paper.batch_unknown", batch=batch_id)
    desks = db.session.execute(
        select(Desk.code, Desk.name, func.count(Submission.id))
        .join(Submission, Submission.desk_id == Desk.id)
        .where(Submission.import_batch_id == batch.id)
        .group_by(Desk.code, Desk.name)
        .order_by(Desk.code)
    ).all()
    forms = db.session.scalar(
        select(func.count(PaperForm.id)).where(PaperForm.import_batch_id == batch.id)
    )
    return BatchContents(
        batch=batch,
        submissions=sum(int(n) for _, _, n in desks),
        forms=int(forms or 0),
        desks=[(str(code), str(name), int(n)) for code, name, n in desks],
    )


def undo_batch(
    campaign: Campaign, batch_id: int, visible_agency_ids: set[int] | None
) -> BatchContents:
    """Hoàn tác một lần nhập: delete the batch's submissions, its paper form numbers and the
    batch itself, in the caller's transaction (flushed, not committed); audited
    (``import.paper.undo``) with the counts. The same file, or its forms, may then be
    imported again. ``visible_agency_ids`` as for :func:`visible_batches`: a batch with a
    form at a desk outside them is not found."""
    contents = batch_contents(campaign, batch_id, visible_agency_ids)
    batch = contents.batch
    # Handled marks of the batch's comments go with them (SQLite enforces no ON DELETE, and
    # a reused id must not inherit a mark).
    batch_submissions = select(Submission.id).where(
        Submission.campaign_id == campaign.id, Submission.import_batch_id == batch.id
    )
    db.session.execute(
        delete(CommentReview).where(CommentReview.submission_id.in_(batch_submissions))
    )
    # A submission goes with its claim, which frees the form's uid and receipt: PostgreSQL
    # deletes the rows with their claims (ON DELETE CASCADE); SQLite enforces no foreign
    # key, so the rows left are deleted after.
    submissions = db.session.execute(
        delete(SubmissionKey).where(
            SubmissionKey.campaign_id == campaign.id, SubmissionKey.id.in_(batch_submissions)
        )
    )
    db.session.execute(
        delete(Submission).where(
            Submission.campaign_id == campaign.id, Submission.import_batch_id == batch.id
        )
    )
    forms = db.session.execute(delete(PaperForm).where(PaperForm.import_batch_id == batch.id))
    db.session.execute(delete(ImportBatch).where(ImportBatch.id == batch.id))
    deleted_submissions = int(submissions.rowcount)  # type: ignore[attr-defined]
    deleted_forms = int(forms.rowcount)  # type: ignore[attr-defined]
    audit.record(
        "import.paper.undo",
        campaign.code,
        batch=batch.id,
        filename=batch.filename,
        sha256=batch.file_sha256,
        submissions=deleted_submissions,
        forms=deleted_forms,
        desks=",".join(code for code, _, _ in contents.desks),
    )
    db.session.expunge(batch)
    return BatchContents(batch, deleted_submissions, deleted_forms, contents.desks)
