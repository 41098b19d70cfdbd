"""Raw-response export and paper-survey import for a campaign."""

from __future__ import annotations

from flask import (
    Response,
    abort,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_babel import format_decimal, gettext, lazy_gettext
from flask_login import current_user
from flask_wtf import FlaskForm
from flask_wtf.file import FileAllowed, FileField, FileRequired
from werkzeug.utils import secure_filename

from survey_app import access
from survey_app.access import DATA_ROLES, role_required
from survey_app.extensions import db
from survey_app.models import Campaign
from survey_app.request_limits import accepts_upload
from survey_app.services import audit, comments, paper_batches, raw_export
from survey_app.services import paper_import as paper_import_service
from survey_app.services.questionnaires import definition
from survey_app.settings import settings
from survey_app.staff import bp
from survey_app.staff.problems import flash_problems

CSV_MIME = "text/csv; charset=utf-8"
XLSX_MIME = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
MAX_UPLOAD_BYTES = 10_000_000


def download(body: bytes, mimetype: str, filename: str) -> Response:
    response = Response(body, mimetype=mimetype)
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    # Microdata must not linger in shared or browser caches.
    response.headers["Cache-Control"] = "no-store"
    return response


def _desk_ids(campaign: Campaign) -> set[int] | None:
    """The desks whose rows the user may export (None: all of them)."""
    if access.visible_agency_ids(current_user) is None:
        return None
    return {d.id for d in access.visible_desks(current_user, campaign)}


def _desk_codes(campaign: Campaign) -> str:
    ids = _desk_ids(campaign)
    return "all" if ids is None else ",".join(sorted(d.code for d in campaign.desks if d.id in ids))


@bp.get("/campaigns/<code>/responses.<fmt>")
@role_required(*DATA_ROLES)
def responses_file(code: str, fmt: str) -> Response:
    """Anonymised raw responses as CSV or XLSX (audited)."""
    campaign = access.campaign_or_404(code)
    # An officer reads the texts as on the comments page: a desk and a moment never together.
    masked = not comments.sees_moments(current_user)
    if fmt == "csv":
        body = raw_export.responses_csv(campaign, _desk_ids(campaign), masked=masked)
        mimetype = CSV_MIME
    elif fmt == "xlsx":
        body = raw_export.responses_xlsx(campaign, _desk_ids(campaign), masked=masked)
        mimetype = XLSX_MIME
    else:
        abort(404)
    audit.record("export.responses", campaign.code, format=fmt, desks=_desk_codes(campaign))
    db.session.commit()
    return download(body, mimetype, f"{campaign.code}-responses.{fmt}")


@bp.get("/campaigns/<code>/codebook.csv")
@role_required(*DATA_ROLES)
def codebook_csv(code: str) -> Response:
    campaign = access.campaign_or_404(code)
    return download(raw_export.codebook_csv(campaign), CSV_MIME, f"{campaign.code}-codebook.csv")


class PaperImportForm(FlaskForm):
    file = FileField(
        lazy_gettext("Tệp phiếu giấy (.xlsx hoặc .csv)"),
        validators=[
            FileRequired(lazy_gettext("Vui lòng chọn tệp.")),
            FileAllowed(["xlsx", "csv"], lazy_gettext("Chỉ nhận tệp .xlsx hoặc .csv.")),
        ],
    )


def _import_page(
    campaign: Campaign, form: PaperImportForm, errors: list[str] | None = None, status: int = 200
) -> tuple[str, int]:
    # Officers and viewers see their own agencies' imports only (file names, counts, times).
    batches = paper_import_service.visible_batches(
        campaign, access.visible_agency_ids(current_user)
    )
    return render_template(
        "staff/import.html",
        campaign=campaign,
        form=form,
        errors=errors or [],
        batches=batches,
        max_mb=MAX_UPLOAD_BYTES // 1_000_000,
        max_rows=format_decimal(settings().paper_budgets.rows),  # 20.000 / 20,000
        max_columns=settings().paper_budgets.columns,
        can_undo=current_user.role in UNDO_ROLES,
    ), status


@bp.route("/campaigns/<code>/import", methods=["GET", "POST"])
@accepts_upload(MAX_UPLOAD_BYTES)
@role_required(*DATA_ROLES)
def paper_import(code: str) -> ResponseReturnValue:
    """Nhập phiếu giấy: all rows of a file, or none."""
    campaign = access.campaign_or_404(code)
    form = PaperImportForm()
    if not form.validate_on_submit():
        for messages in form.errors.values():
            for message in messages:
                flash(str(message), "error")
        return _import_page(campaign, form, status=422 if request.method == "POST" else 200)
    upload = form.file.data
    filename = secure_filename(upload.filename or "") or "phieu-giay"
    data = upload.read(MAX_UPLOAD_BYTES + 1)
    if len(data) > MAX_UPLOAD_BYTES:
        flash(
            gettext(
                "Tệp lớn hơn %(size)s MB; hãy chia thành nhiều tệp.",
                size=MAX_UPLOAD_BYTES // 1_000_000,
            ),
            "error",
        )
        return _import_page(campaign, form, status=413)
    try:
        result = paper_import_service.import_file(
            campaign,
            filename,
            data,
            user=current_user._get_current_object(),
            visible_agency_ids=access.visible_agency_ids(current_user),
        )
    except (paper_import_service.DuplicateImport, paper_import_service.DuplicateForms) as duplicate:
        db.session.rollback()
        flash_problems(duplicate)
        return _import_page(campaign, form, status=duplicate.status)
    except paper_import_service.ImportRejected as rejected:
        db.session.rollback()
        audit.record(
            "import.paper.rejected", campaign.code, filename=filename, errors=len(rejected.errors)
        )
        db.session.commit()
        # A file that cannot be read as a table at all, or exceeds a budget, is a bad request.
        unreadable = isinstance(rejected, paper_import_service.UnreadableFile)
        return _import_page(
            campaign, form, errors=rejected.errors, status=400 if unreadable else 422
        )
    db.session.commit()
    flash(
        gettext("Đã nhập %(count)s phiếu giấy từ tệp %(file)s.", count=result.rows, file=filename),
        "success",
    )
    return redirect(url_for("staff.campaign", code=campaign.code))


# Who may undo an import: an administrator, or the officer of the batch's agency (an
# analyst of the province reads every agency's data but does not undo an agency's import).
UNDO_ROLES = ("admin", "officer")


class UndoImportForm(FlaskForm):
    """The confirming POST of an undo (CSRF only)."""


@bp.route("/campaigns/<code>/import/batches/<int:batch_id>/undo", methods=["GET", "POST"])
@role_required(*UNDO_ROLES)
def paper_import_undo(code: str, batch_id: int) -> ResponseReturnValue:
    """Hoàn tác một lần nhập: the batch's submissions and form numbers deleted, after the
    page has said what will go and the official confirmed. 404 for a batch the user may
    not see whole (another agency's desks among its forms)."""
    campaign = access.campaign_or_404(code)
    visible = access.visible_agency_ids(current_user)
    contents = paper_batches.batch_contents(campaign, batch_id, visible)
    form = UndoImportForm()
    if request.method == "POST":
        if not form.validate_on_submit():
            flash(gettext("Phiên làm việc đã hết hạn, vui lòng thử lại."), "error")
        else:
            done = paper_batches.undo_batch(campaign, batch_id, visible)
            db.session.commit()
            flash(
                gettext(
                    "Đã hoàn tác lần nhập tệp %(file)s: đã xoá %(count)s phiếu giấy.",
                    file=done.batch.filename,
                    count=done.submissions,
                ),
                "success",
            )
            return redirect(url_for("staff.paper_import", code=campaign.code), 303)
    return render_template(
        "staff/import_undo.html", campaign=campaign, contents=contents, form=form
    )


@bp.get("/campaigns/<code>/import/template.<any(csv, xlsx):fmt>")
@role_required(*DATA_ROLES)
def paper_template(code: str, fmt: str) -> Response:
    """Mẫu nhập phiếu giấy for the campaign's questionnaire version."""
    campaign = access.campaign_or_404(code)
    questionnaire = definition(campaign.questionnaire_version)
    name = f"mau-phieu-giay-{questionnaire.id}-{questionnaire.version}"
    if fmt == "csv":
        return download(paper_import_service.template_csv(questionnaire), CSV_MIME, f"{name}.csv")
    desks = sorted((d.code, d.name) for d in access.visible_desks(current_user, campaign))
    body = paper_import_service.template_xlsx(questionnaire, desks)
    return download(body, XLSX_MIME, f"{name}.xlsx")


@bp.get("/campaigns/<code>/import/guide.csv")
@role_required(*DATA_ROLES)
def paper_guide(code: str) -> Response:
    """The codebook of the paper template as CSV (the XLSX template has it as a sheet)."""
    campaign = access.campaign_or_404(code)
    questionnaire = definition(campaign.questionnaire_version)
    body = paper_import_service.guide_csv(questionnaire)
    return download(body, CSV_MIME, f"huong-dan-{questionnaire.id}-{questionnaire.version}.csv")
