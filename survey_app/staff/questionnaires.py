"""Questionnaire pages (phiếu khảo sát): the loaded versions, and uploads of YAML files.

Every role may read the list (an officer or viewer sees the answer counts of the own
subtree); administrators upload. The loader validates a file fully; it is stored only if
all of it is valid, and a version that already has answers is never changed.
"""

from __future__ import annotations

from collections.abc import Sequence

from flask import flash, redirect, render_template, url_for
from flask_babel import gettext, lazy_gettext
from flask_login import current_user
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from werkzeug.utils import secure_filename
from werkzeug.wrappers import Response

from scoring.questionnaire import QuestionnaireError
from survey_app import access
from survey_app.access import ADMIN_ROLES, READ_ROLES, role_required
from survey_app.extensions import db
from survey_app.request_limits import accepts_upload
from survey_app.services import audit, questionnaires
from survey_app.staff import bp
from survey_app.staff.setup import commit_setup_change, form_errors

MAX_YAML_BYTES = 1_000_000


class QuestionnaireUploadForm(FlaskForm):
    file = FileField(
        lazy_gettext("Tệp YAML của phiếu khảo sát"),
        validators=[FileRequired(lazy_gettext("Vui lòng chọn tệp .yaml."))],
    )


def _questionnaires_page(
    form: QuestionnaireUploadForm,
    *,
    problems: Sequence[str] = (),
    conflict: questionnaires.VersionConflict | None = None,
    filename: str = "",
    status: int = 200,
) -> tuple[str, int]:
    visible = access.visible_agency_ids(current_user)
    return render_template(
        "staff/questionnaires.html",
        form=form,
        versions=questionnaires.all_versions(),
        counts=questionnaires.answer_counts(visible),
        scoped=visible is not None,
        problems=problems,
        conflict=conflict,
        filename=filename,
        max_kb=MAX_YAML_BYTES // 1000,
        nav_active="questionnaires",
    ), status


@bp.get("/questionnaires")
@role_required(*READ_ROLES)
def questionnaire_list() -> tuple[str, int]:
    """Phiếu khảo sát: the loaded versions and their answers."""
    return _questionnaires_page(QuestionnaireUploadForm())


@bp.post("/questionnaires")
@accepts_upload(MAX_YAML_BYTES)
@role_required(*ADMIN_ROLES)
def questionnaire_upload() -> Response | tuple[str, int]:
    """Nạp phiếu khảo sát: validated fully by the loader; stored only if all is valid."""
    form = QuestionnaireUploadForm()
    if not form.validate_on_submit():
        return _questionnaires_page(
            form, problems=[m for ms in form_errors(form).values() for m in ms], status=422
        )
    upload = form.file.data
    filename = secure_filename(upload.filename or "") or "questionnaire.yaml"
    data = upload.read(MAX_YAML_BYTES + 1)
    if len(data) > MAX_YAML_BYTES:
        return _questionnaires_page(
            form,
            problems=[
                gettext(
                    "%(file)s: tệp lớn hơn %(size)s KB.",
                    file=filename,
                    size=MAX_YAML_BYTES // 1000,
                )
            ],
            filename=filename,
            status=413,
        )
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        return _questionnaires_page(
            form,
            problems=[
                gettext(
                    "%(file)s:1: tệp không phải văn bản UTF-8 (%(reason)s).",
                    file=filename,
                    reason=exc.reason,
                )
            ],
            filename=filename,
            status=422,
        )
    try:
        row, what = questionnaires.load_text(text, filename)
    except QuestionnaireError as error:
        db.session.rollback()
        audit.record("questionnaire.rejected", filename, problems=len(error.problems))
        db.session.commit()
        return _questionnaires_page(form, problems=error.problems, filename=filename, status=422)
    except questionnaires.VersionConflict as conflict:
        db.session.rollback()
        audit.record(
            "questionnaire.rejected",
            filename,
            reason="version_has_answers",
            version=f"{conflict.questionnaire_id} {conflict.version}",
        )
        db.session.commit()
        return _questionnaires_page(form, conflict=conflict, filename=filename, status=409)
    if what == "unchanged":
        flash(
            gettext(
                "%(file)s: nội dung trùng với %(questionnaire)s phiên bản %(version)s đã nạp; "
                "không có gì thay đổi.",
                file=filename,
                questionnaire=row.questionnaire_id,
                version=row.version,
            ),
            "info",
        )
        return redirect(url_for("staff.questionnaire_list"))
    commit_setup_change()
    if what == "loaded":
        flash(
            gettext(
                "Đã nạp %(questionnaire)s phiên bản %(version)s từ tệp %(file)s.",
                questionnaire=row.questionnaire_id,
                version=row.version,
                file=filename,
            ),
            "success",
        )
    else:
        flash(
            gettext(
                "Đã thay nội dung của %(questionnaire)s phiên bản %(version)s (phiên bản "
                "này chưa có phiếu trả lời).",
                questionnaire=row.questionnaire_id,
                version=row.version,
            ),
            "success",
        )
    return redirect(url_for("staff.questionnaire_list"))
