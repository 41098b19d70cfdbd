"""The sampling design page of a campaign (thiết kế chọn mẫu): strata, inclusion
probabilities, method, seed, nonresponse classes, calibration and trimming, with the frame
of returned dossiers per stratum and how many were selected so far.

``/staff/campaigns/<code>/sampling``, for analysts and administrators (the design decides
which citizens are invited; services/sampling.py validates and audits it). The table of
probabilities lists the strata of the attributes chosen: after changing the strata, the
first submit redraws the table ("table" action) and stores nothing.
"""

from __future__ import annotations

from typing import Any

from babel.numbers import format_decimal
from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext, lazy_gettext
from flask_login import current_user
from sqlalchemy import select

from survey_app.access import ANALYSIS_ROLES, campaign_or_404, role_required
from survey_app.extensions import db
from survey_app.i18n import current_language
from survey_app.models import CHANNELS, FRAME_ATTRIBUTES, Agency, Desk
from survey_app.services import sampling
from survey_app.staff import bp
from survey_app.staff.problems import Errors, field_errors

ATTRIBUTE_LABELS = {
    "agency": lazy_gettext("Cơ quan của quầy"),
    "desk": lazy_gettext("Quầy"),
    "procedure_field": lazy_gettext("Lĩnh vực thủ tục"),
    "channel": lazy_gettext("Kênh nộp"),
    "on_time": lazy_gettext("Đúng hạn"),
}
CHANNEL_LABELS = {"online": lazy_gettext("Trực tuyến"), "desk": lazy_gettext("Tại quầy")}
METHOD_LABELS = {
    "poisson": lazy_gettext("Poisson: mỗi hồ sơ được chọn độc lập với xác suất của tầng"),
    "systematic": lazy_gettext(
        "Hệ thống: trong mỗi tầng, chọn đều đặn theo thứ tự trả kết quả, từ một điểm xuất "
        "phát ngẫu nhiên"
    ),
}
FIELDS = (
    "strata",
    "probabilities",
    "default_probability",
    "method",
    "seed",
    "nonresponse_classes",
    "calibration_formula",
    "calibration_calfun",
    "calibration_bounds",
    "trim",
)
assert set(CHANNEL_LABELS) == set(CHANNELS)


def _shown(attribute: str, value: str, names: dict[str, str]) -> str:
    """A stratum's value as the page shows it: a name beside the code, a channel's label."""
    if attribute == "channel":
        return str(CHANNEL_LABELS.get(value, value))
    if attribute in ("agency", "desk") and value in names:
        return f"{names[value]} ({value})"
    return value


def _probability_text(value: float | str | None) -> str:
    """A stored number as the inputs show it, in the locale's way (0,05 in Vietnamese)."""
    if value is None or value == "":
        return ""
    return format_decimal(value, format="0.##########", locale=current_language())


def _names() -> dict[str, str]:
    agencies = db.session.execute(select(Agency.code, Agency.name)).all()
    desks = db.session.execute(select(Desk.code, Desk.name)).all()
    return {code: name for code, name in (*agencies, *desks)}


@bp.route("/campaigns/<code>/sampling", methods=["GET", "POST"])
@role_required(*ANALYSIS_ROLES)
def sampling_design(code: str) -> Any:
    campaign = campaign_or_404(code)
    row = sampling.design_row(campaign)
    design = None if row is None else sampling.Design.of(row)
    errors: Errors = {}
    form: dict[str, Any] | None = None
    strata = list(design.strata) if design is not None else []
    if request.method == "POST":
        form = request.form.to_dict()
        lists = {name: request.form.getlist(name) for name in ("strata", "nonresponse_classes")}
        strata = [a for a in FRAME_ATTRIBUTES if a in lists["strata"]]
        drawn_for = [a for a in request.form.get("table_strata", "").split(",") if a]
        if request.form.get("action") == "table" or drawn_for != strata:
            # The table was drawn for other strata: its probabilities name other labels.
            for name in [n for n in form if n.startswith(sampling.PROBABILITY_PREFIX)]:
                del form[name]
            if drawn_for != strata:
                flash(
                    gettext(
                        "Bảng xác suất đã được vẽ lại theo cách phân tầng mới: hãy điền xác "
                        "suất của các tầng rồi lưu."
                    ),
                    "info",
                )
        else:
            try:
                new = sampling.check_design(sampling.form_data(request.form, lists))
            except sampling.SamplingError as error:
                field_errors(error, FIELDS, errors)
            else:
                if sampling.save_design(campaign, new, current_user):
                    db.session.commit()
                    flash(gettext("Đã lưu thiết kế chọn mẫu."), "success")
                else:
                    flash(gettext("Thiết kế chọn mẫu không thay đổi."), "info")
                return redirect(url_for("staff.sampling_design", code=campaign.code))
    table_design = design if design is not None and list(design.strata) == strata else None
    names = _names()
    rows = [
        (
            stratum,
            [_shown(a, stratum.values.get(a, ""), names) for a in FRAME_ATTRIBUTES if a in strata],
        )
        for stratum in sampling.frame(campaign, strata, table_design)
    ]
    return render_template(
        "staff/sampling.html",
        campaign=campaign,
        design=design,
        form=form,
        errors=errors,
        strata=strata,
        rows=rows,
        seed=design.seed if design is not None else sampling.new_seed(),
        attributes=FRAME_ATTRIBUTES,
        class_attributes=sampling.CLASS_ATTRIBUTES,
        attribute_labels=ATTRIBUTE_LABELS,
        method_labels=METHOD_LABELS,
        calfuns=sampling.CALFUNS,
        prefix=sampling.PROBABILITY_PREFIX,
        probability_text=_probability_text,
        updated_at=None if row is None else row.updated_at,
    ), (400 if errors else 200)
