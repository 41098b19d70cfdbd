"""Set-up pages (thiết lập khảo sát): agencies, desks and campaigns (questionnaire
uploads: ``staff.questionnaires``).

Views parse the form and authorise per record; ``services.organisation`` and
``services.questionnaires`` check the rules, change and audit; the view commits
once. Who may do what:

- desks and campaigns: admin and analyst anywhere, an officer within the own
  agency subtree (another agency's desk or campaign answers 404; a
  province-wide campaign the officer sees through own desks answers 403);
- agencies and questionnaire uploads: administrators;
- every role may read the agency tree and the questionnaire list (an officer
  or viewer sees the own subtree and its answer counts).

A change to a desk or campaign empties this process's cache of where QR
posters land (``desk_surveys.forget_surveys``) after the commit; other server
processes follow within ``SURVEY_CACHE_SECONDS``, which the pages say.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext, lazy_gettext
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlalchemy import func, select
from werkzeug.wrappers import Response
from wtforms import DateField, SelectChoice, SelectField, SelectMultipleField, StringField
from wtforms.validators import InputRequired, Length, ValidationError
from wtforms.widgets import CheckboxInput, ListWidget

from survey_app import access, localtime
from survey_app.access import ADMIN_ROLES, READ_ROLES, SETUP_ROLES, role_required
from survey_app.extensions import db
from survey_app.i18n import day
from survey_app.models import Agency, Campaign, Desk, QuestionnaireVersion
from survey_app.services import organisation, questionnaires
from survey_app.services.desk_surveys import forget_surveys
from survey_app.services.errors import ServiceError
from survey_app.services.organisation import SetupError
from survey_app.services.posters import desk_url
from survey_app.settings import settings
from survey_app.staff import bp
from survey_app.staff.problems import Errors, field_errors
from survey_app.text_input import checks_own_text

REQUIRED = lazy_gettext("Vui lòng điền mục này.")
NOT_A_CHOICE = lazy_gettext("Lựa chọn không hợp lệ, vui lòng chọn lại.")


class DayField(DateField):
    """A date as the browser's date input sends it (or dd/mm/yyyy); blank is no date."""

    data: dt.date | None

    def __init__(self, label: str, **kwargs: Any) -> None:
        super().__init__(
            label,
            format=["%Y-%m-%d", "%d/%m/%Y"],
            invalid_value_message=lazy_gettext(
                "Ngày không hợp lệ; hãy nhập theo dạng ngày/tháng/năm."
            ),
            validators=[InputRequired(REQUIRED)],
            **kwargs,
        )

    def process_formdata(self, valuelist: list[Any]) -> None:
        if valuelist and not str(valuelist[0]).strip():
            self.data = None
            return
        super().process_formdata(valuelist)


def _code_field(label: str) -> StringField:
    return StringField(
        label,
        validators=[
            InputRequired(REQUIRED),
            Length(max=64, message=lazy_gettext("Mã dài tối đa 64 ký tự.")),
        ],
    )


def _name_field(label: str) -> StringField:
    return StringField(
        label,
        validators=[
            InputRequired(REQUIRED),
            Length(max=255, message=lazy_gettext("Tên dài tối đa 255 ký tự.")),
        ],
    )


def form_errors(form: FlaskForm, refused: ServiceError | None = None) -> Errors:
    """Form and service messages by field; ``""`` collects those of no field of the form."""
    errors: Errors = {}
    for name, messages in form.errors.items():
        if name == "csrf_token":
            errors.setdefault("", []).append(
                gettext("Phiên làm việc đã hết hạn, vui lòng gửi lại.")
            )
            continue
        errors.setdefault(str(name), []).extend(str(m) for m in messages)
    if refused is not None:
        field_errors(refused, {*form._fields, "period"}, errors)
    return errors


def commit_setup_change() -> None:
    db.session.commit()
    forget_surveys()


def _cache_seconds() -> int:
    return settings().survey_cache_seconds


def _visible_agencies() -> list[tuple[Agency, int]]:
    """The agencies the user may see, in tree order with their depth."""
    visible = access.visible_agency_ids(current_user)
    if visible is None:
        return organisation.agency_tree()
    return organisation.agency_tree([current_user.agency_id] if current_user.agency_id else [])


def _agency_choices(tree: list[tuple[Agency, int]]) -> list[SelectChoice]:
    return [SelectChoice(a.code, f"{'· ' * depth}{a.code} – {a.name}") for a, depth in tree]


# --------------------------------------------------------------------------- agencies


class AgencyForm(FlaskForm):
    code = _code_field(lazy_gettext("Mã cơ quan"))
    name = _name_field(lazy_gettext("Tên cơ quan"))
    kind = SelectField(
        lazy_gettext("Loại"),
        choices=[SelectChoice(k, v) for k, v in organisation.KIND_LABELS.items()],
        default="department",
        invalid_choice_message=NOT_A_CHOICE,
    )
    parent = SelectField(
        lazy_gettext("Cơ quan cấp trên"), choices=[], invalid_choice_message=NOT_A_CHOICE
    )


def _agencies_page(
    form: AgencyForm, errors: Errors | None = None, status: int = 200
) -> tuple[str, int]:
    tree = _visible_agencies()
    counts: dict[int, dict[bool, int]] = {}
    for agency_id, active, count in db.session.execute(
        select(Desk.agency_id, Desk.active, func.count(Desk.id)).group_by(
            Desk.agency_id, Desk.active
        )
    ):
        counts.setdefault(agency_id, {})[bool(active)] = int(count)
    return render_template(
        "staff/agencies.html",
        tree=tree,
        counts=counts,
        form=form,
        errors=errors or {},
        kind_labels=organisation.KIND_LABELS,
        nav_active="agencies",
    ), status


def _agency_form() -> AgencyForm:
    form = AgencyForm()
    form.parent.choices = [SelectChoice("", gettext("— Không (cấp cao nhất) —"))] + _agency_choices(
        organisation.agency_tree()
    )
    return form


@bp.get("/agencies")
@role_required(*READ_ROLES)
def agencies() -> tuple[str, int]:
    """Cơ quan: the agency tree (the own subtree for officers and viewers)."""
    form = _agency_form()
    if not form.is_submitted():
        form.parent.data = request.args.get("parent", "")
    return _agencies_page(form)


@bp.post("/agencies")
@checks_own_text("code", "name")
@role_required(*ADMIN_ROLES)
def agency_new() -> Response | tuple[str, int]:
    form = _agency_form()
    if not form.validate_on_submit():
        return _agencies_page(form, form_errors(form), 422)
    try:
        agency = organisation.add_agency(
            form.code.data or "",
            form.name.data or "",
            form.kind.data or "",
            form.parent.data or None,
        )
    except SetupError as error:
        db.session.rollback()
        return _agencies_page(form, form_errors(form, error), 422)
    db.session.commit()
    flash(
        gettext("Đã thêm cơ quan %(code)s – %(name)s.", code=agency.code, name=agency.name),
        "success",
    )
    return redirect(url_for("staff.agencies"))


# --------------------------------------------------------------------------- desks


class DeskForm(FlaskForm):
    code = _code_field(lazy_gettext("Mã bộ phận một cửa (không đổi được sau khi tạo)"))
    name = _name_field(lazy_gettext("Tên bộ phận một cửa"))
    agency = SelectField(
        lazy_gettext("Thuộc cơ quan"),
        choices=[],
        invalid_choice_message=NOT_A_CHOICE,
        validators=[InputRequired(lazy_gettext("Vui lòng chọn cơ quan."))],
    )


class DeskRenameForm(FlaskForm):
    name = _name_field(lazy_gettext("Tên mới"))


class ConfirmForm(FlaskForm):
    """A CSRF-protected confirmation button."""


@bp.route("/desks/new", methods=["GET", "POST"])
@checks_own_text("code", "name")
@role_required(*SETUP_ROLES)
def desk_new() -> Response | tuple[str, int]:
    """Thêm bộ phận một cửa under an agency the user may manage."""
    form = DeskForm()
    form.agency.choices = [SelectChoice("", gettext("— Chọn cơ quan —"))] + _agency_choices(
        _visible_agencies()
    )
    if not form.is_submitted():
        form.agency.data = request.args.get("agency", "")
    elif request.form.get("agency"):
        access.agency_or_404(request.form["agency"])  # another agency's: as if it did not exist
    errors: Errors = {}
    if form.validate_on_submit():
        try:
            desk = organisation.add_desk(
                form.code.data or "", form.name.data or "", form.agency.data or ""
            )
        except SetupError as error:
            db.session.rollback()
            errors = form_errors(form, error)
        else:
            db.session.commit()
            flash(
                gettext(
                    "Đã thêm bộ phận một cửa %(code)s. In áp phích mã QR để dán tại quầy.",
                    code=desk.code,
                ),
                "success",
            )
            return redirect(url_for("staff.desk", code=desk.code))
    elif form.is_submitted():
        errors = form_errors(form)
    return render_template("staff/desk_new.html", form=form, errors=errors), (
        422 if errors else 200
    )


@bp.route("/desks/<code>/edit", methods=["GET", "POST"])
@checks_own_text("name")
@role_required(*SETUP_ROLES)
def desk_edit(code: str) -> Response | tuple[str, int]:
    """Đổi tên bộ phận một cửa; the code and the poster's URL stay."""
    desk = access.desk_or_404(code)
    form = DeskRenameForm()
    if not form.is_submitted():
        form.name.data = desk.name
    errors: Errors = {}
    if form.validate_on_submit():
        try:
            _desk, changed = organisation.rename_desk(desk.code, form.name.data or "")
        except SetupError as error:
            db.session.rollback()
            errors = form_errors(form, error)
        else:
            if changed:
                commit_setup_change()
                flash(gettext("Đã đổi tên thành “%(name)s”.", name=desk.name), "success")
            else:
                flash(gettext("Tên không thay đổi."), "info")
            return redirect(url_for("staff.desk", code=desk.code))
    elif form.is_submitted():
        errors = form_errors(form)
    return render_template(
        "staff/desk_edit.html",
        desk=desk,
        form=form,
        errors=errors,
    ), 422 if errors else 200


@bp.route("/desks/<code>/<any(deactivate, activate):action>", methods=["GET", "POST"])
@role_required(*SETUP_ROLES)
def desk_set_active(code: str, action: str) -> Response | str:
    """Ngừng / mở lại một quầy, after a confirmation page that says what it does."""
    desk = access.desk_or_404(code)
    active = action == "activate"
    form = ConfirmForm()
    if form.validate_on_submit():
        _desk, changed = organisation.set_desk_active(desk.code, active)
        if changed:
            commit_setup_change()
            if active:
                flash(
                    gettext(
                        "Quầy đã hoạt động trở lại: áp phích mã QR lại nhận phiếu khi có đợt "
                        "khảo sát đang diễn ra."
                    ),
                    "success",
                )
            else:
                flash(
                    gettext(
                        "Đã ngừng hoạt động quầy: áp phích mã QR và mã khảo sát theo hồ sơ của "
                        "quầy không còn nhận phiếu."
                    ),
                    "success",
                )
        else:
            flash(gettext("Quầy đã ở trạng thái này, không có gì thay đổi."), "info")
        return redirect(url_for("staff.desk", code=desk.code))
    today = localtime.today()
    return render_template(
        "staff/desk_active.html",
        desk=desk,
        action=action,
        form=form,
        survey_url=str(desk_url(desk)),
        answers=organisation.desk_answer_count(desk),
        running=[
            c for c in organisation.campaigns_at_desk(desk) if c.starts_on <= today <= c.ends_on
        ],
        cache_seconds=_cache_seconds(),
    )


# --------------------------------------------------------------------------- campaigns


class CampaignForm(FlaskForm):
    code = _code_field(lazy_gettext("Mã đợt khảo sát (không đổi được sau khi tạo)"))
    name = _name_field(lazy_gettext("Tên đợt khảo sát"))
    questionnaire = SelectField(
        lazy_gettext("Phiếu khảo sát (phiên bản)"),
        choices=[],
        invalid_choice_message=NOT_A_CHOICE,
    )
    starts_on = DayField(lazy_gettext("Từ ngày"))
    ends_on = DayField(lazy_gettext("Đến ngày"))
    desks = SelectMultipleField(
        lazy_gettext("Bộ phận một cửa"),
        choices=[],
        widget=ListWidget(prefix_label=False),
        option_widget=CheckboxInput(),
        invalid_choice_message=lazy_gettext(
            "Có bộ phận một cửa không thuộc cơ quan của đợt khảo sát."
        ),
    )

    def validate_ends_on(self, field: DayField) -> None:
        # Also checked by the service; here so that it shows with the form's other errors.
        start = self.starts_on.data
        if start is not None and field.data is not None and field.data < start:
            raise ValidationError(
                gettext(
                    "Ngày kết thúc (%(end)s) phải từ ngày bắt đầu (%(start)s) trở đi.",
                    end=day(field.data),
                    start=day(start),
                )
            )


def _questionnaire_choices() -> list[SelectChoice]:
    return [
        SelectChoice(str(v.id), f"{v.questionnaire_id} {v.version} – {v.title}")
        for v in questionnaires.all_versions()
    ]


def _desk_choices(agency: Agency, keep: Sequence[Desk] = ()) -> list[Desk]:
    """Active desks of the agency's subtree, and those the campaign has already."""
    ids = organisation.subtree_ids(agency.id)
    desks = db.session.scalars(
        select(Desk).where(Desk.agency_id.in_(ids)).order_by(Desk.code)
    ).all()
    kept = {d.id for d in keep}
    return [d for d in desks if d.active or d.id in kept]


def _version(form: CampaignForm) -> QuestionnaireVersion | None:
    try:
        return db.session.get(QuestionnaireVersion, int(form.questionnaire.data or ""))
    except ValueError:
        return None


def _campaign_page(
    form: CampaignForm,
    *,
    agency: Agency,
    campaign: Campaign | None,
    desks: list[Desk],
    errors: Errors,
) -> tuple[str, int]:
    answers: Mapping[int, int] = {}
    span: tuple[int, dt.date | None, dt.date | None] = (0, None, None)
    if campaign is not None:
        answers = organisation.answer_counts_by_desk(campaign)
        span = organisation.answer_span(campaign)
    return render_template(
        "staff/campaign_form.html",
        form=form,
        agency=agency,
        campaign=campaign,
        desks=desks,
        answers=answers,
        span=span,
        errors=errors,
        cache_seconds=_cache_seconds(),
    ), 422 if errors else 200


@bp.route("/campaigns/new", methods=["GET", "POST"])
@checks_own_text("code", "name")
@role_required(*SETUP_ROLES)
def campaign_new() -> Response | tuple[str, int]:
    """Tạo đợt khảo sát: first the agency (its subtree gives the desks), then the rest."""
    if not request.args.get("agency"):
        if request.method == "POST":
            abort(404)
        return render_template(
            "staff/campaign_agency.html",
            agencies=_visible_agencies(),
        ), 200
    agency = access.agency_or_404(request.args["agency"])
    desks = _desk_choices(agency)
    form = CampaignForm()
    form.questionnaire.choices = _questionnaire_choices()
    form.desks.choices = [SelectChoice(d.code, d.code) for d in desks]
    errors: Errors = {}
    if form.validate_on_submit():
        version = _version(form)
        assert version is not None  # a valid choice
        assert form.starts_on.data is not None and form.ends_on.data is not None
        try:
            campaign = organisation.add_campaign(
                form.code.data or "",
                form.name.data or "",
                agency.code,
                version.questionnaire_id,
                version.version,
                form.starts_on.data,
                form.ends_on.data,
                form.desks.data or [],
            )
        except SetupError as error:
            db.session.rollback()
            errors = form_errors(form, error)
        else:
            commit_setup_change()
            flash(gettext("Đã tạo đợt khảo sát %(code)s.", code=campaign.code), "success")
            return redirect(url_for("staff.campaign", code=campaign.code))
    elif form.is_submitted():
        errors = form_errors(form)
    return _campaign_page(form, agency=agency, campaign=None, desks=desks, errors=errors)


@bp.route("/campaigns/<code>/edit", methods=["GET", "POST"])
@checks_own_text("name")
@role_required(*SETUP_ROLES)
def campaign_edit(code: str) -> Response | tuple[str, int]:
    """Sửa đợt khảo sát: name, period, desks, and the questionnaire until it has answers."""
    campaign = access.managed_campaign_or_404(code)
    desks = _desk_choices(campaign.agency, campaign.desks)
    form = CampaignForm()
    del form.code
    form.questionnaire.choices = _questionnaire_choices()
    form.desks.choices = [SelectChoice(d.code, d.code) for d in desks]
    if not form.is_submitted():
        form.name.data = campaign.name
        form.questionnaire.data = str(campaign.questionnaire_version_id)
        form.starts_on.data = campaign.starts_on
        form.ends_on.data = campaign.ends_on
        form.desks.data = [d.code for d in campaign.desks]
    errors: Errors = {}
    if form.validate_on_submit():
        version = _version(form)
        assert version is not None
        try:
            _campaign, changes = organisation.edit_campaign(
                campaign.code,
                name=form.name.data or "",
                questionnaire=(version.questionnaire_id, version.version),
                starts_on=form.starts_on.data,
                ends_on=form.ends_on.data,
                desk_codes=form.desks.data or [],
            )
        except SetupError as error:
            db.session.rollback()
            errors = form_errors(form, error)
        else:
            if changes:
                commit_setup_change()
                flash(gettext("Đã lưu thay đổi của đợt khảo sát."), "success")
            else:
                flash(gettext("Không có thay đổi nào."), "info")
            return redirect(url_for("staff.campaign", code=campaign.code))
    elif form.is_submitted():
        errors = form_errors(form)
    return _campaign_page(
        form, agency=campaign.agency, campaign=campaign, desks=desks, errors=errors
    )
