"""Slips of dossier codes to print (phiếu mã đánh giá): a day's batch, or one slip again.

The desk page issues one code and shows its slip (views.issue_dossier_code); here a list
of the day's dossier numbers, pasted or uploaded, becomes one PDF of slips, eight to an
A4 page, and a slip shown on the desk page can be printed as a PDF without a new code.
"""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import lazy_gettext
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from werkzeug.wrappers import Response
from wtforms import HiddenField, TextAreaField

from survey_app import access, localtime
from survey_app.access import DATA_ROLES, role_required
from survey_app.extensions import db
from survey_app.models import Desk
from survey_app.request_limits import accepts_upload
from survey_app.services import audit, slips
from survey_app.services.errors import ServiceError
from survey_app.staff import bp
from survey_app.staff.data import download
from survey_app.staff.problems import flash_problems
from survey_app.text_input import checks_own_text

PDF_MIME = "application/pdf"


class SlipBatchForm(FlaskForm):
    dossiers = TextAreaField(lazy_gettext("Số hồ sơ, mỗi dòng một số"))
    list_file = FileField(lazy_gettext("Hoặc tệp danh sách (.txt, .csv: cột đầu là số hồ sơ)"))


class SlipReprintForm(FlaskForm):
    code = HiddenField()
    dossier_ref = HiddenField()


def _batch_page(desk: Desk, form: SlipBatchForm, status: int = 200) -> tuple[str, int]:
    return render_template(
        "staff/desk_slips.html",
        desk=desk,
        form=form,
        maximum=slips.MAX_BATCH,
        per_page=slips.SLIPS_PER_PAGE,
    ), status


@bp.route("/desks/<code>/slips", methods=["GET", "POST"])
@checks_own_text("dossiers")
@accepts_upload(slips.MAX_LIST_BYTES)
@role_required(*DATA_ROLES)
def desk_slips(code: str) -> ResponseReturnValue:
    """In phiếu mã đánh giá: a code and a slip for each dossier of a list, in one PDF."""
    desk = access.desk_or_404(code)
    form = SlipBatchForm()
    if request.method == "GET":
        return _batch_page(desk, form)
    if not form.validate_on_submit():
        for messages in form.errors.values():
            for message in messages:
                flash(str(message), "error")
        return _batch_page(desk, form, 400)
    try:
        texts = [form.dossiers.data or ""]
        upload = form.list_file.data
        if upload:  # a FileStorage is false without a file chosen
            texts.append(slips.decode_list(upload.read(slips.MAX_LIST_BYTES + 1)))
        printed = slips.issue_slips(desk.code, slips.read_list(*texts))
        pdf = slips.slips_pdf(printed)
    except ServiceError as error:
        db.session.rollback()
        flash_problems(error)
        return _batch_page(desk, form, error.status)
    # The dossier numbers are citizens' file numbers: log the desk and the count only.
    audit.record("dossier_code.issue_slips", desk.code, count=len(printed))
    db.session.commit()
    return download(pdf, PDF_MIME, slips.pdf_filename(desk.code, localtime.today()))


@bp.post("/desks/<code>/slip.pdf")
@checks_own_text("code", "dossier_ref")
@role_required(*DATA_ROLES)
def desk_slip_pdf(code: str) -> Response:
    """The slip of a code just issued on the desk page, as a PDF: no new code.

    Only a code of this desk, with the dossier number it was issued for, prints.
    """
    desk = access.desk_or_404(code)
    form = SlipReprintForm()
    if form.validate_on_submit():
        try:
            slip = slips.slip_of(desk.code, form.code.data or "", form.dossier_ref.data or "")
        except ServiceError as error:
            flash_problems(error)
        else:
            return download(slips.slips_pdf([slip]), PDF_MIME, f"phieu-ma-danh-gia-{slip.code}.pdf")
    else:
        flash(str(lazy_gettext("Không in được phiếu: vui lòng phát mã lại.")), "error")
    return redirect(url_for("staff.desk", code=desk.code), 303)
