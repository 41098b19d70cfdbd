"""The weighting page (cài đặt trọng số) on the dashboard's blueprint: settings are checked,
their effect shown (indices and PAR points before and after), and saved only once the
analyst confirms; and a margins template to fill in.

A POST of the settings form saves nothing: it shows what the new settings would change
(:mod:`survey_app.services.weighting_preview`), with a button that confirms them. The
confirming POST carries the previewed settings as a signed token and saves them, unless
the settings in force changed meanwhile or the responses no longer fit the margins.
"""

from __future__ import annotations

from typing import Any

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext

from survey_app.access import ANALYSIS_ROLES, campaign_or_404, role_required
from survey_app.extensions import db
from survey_app.messages import texts
from survey_app.models import Campaign
from survey_app.questions import kind_of
from survey_app.request_limits import accepts_upload
from survey_app.services import analysis, questionnaires, weighting_preview, weighting_settings
from survey_app.services.weighting_settings import WeightingError, WeightingSettings
from survey_app.staff.dashboard import bp
from survey_app.staff.data import CSV_MIME, download

# A population margins CSV on the weighting page.
MAX_MARGINS_BYTES = 2_000_000


def _page(
    campaign: Campaign,
    *,
    error: str | None = None,
    preview: weighting_preview.WeightingPreview | None = None,
    token: str | None = None,
) -> tuple[str, int]:
    questionnaire = questionnaires.definition(campaign.questionnaire_version)
    settings = weighting_settings.current(campaign)
    respondent = [i for i in questionnaire.respondent if kind_of(i).analysed]
    in_margins = [v for m in settings.margins for v in m.variables]
    return render_template(
        "staff/dashboard_weighting.html",
        campaign=campaign,
        settings=settings,
        description=settings.describe(questionnaire),
        respondent=respondent,
        template_variables=in_margins or [i.code for i in respondent],
        error=error,
        preview=preview,
        token=token,
        form=request.form if request.method == "POST" else None,
        ci_methods=weighting_settings.CI_METHODS,
        levels=weighting_settings.LEVELS,
        calibrations=weighting_settings.CALIBRATION_LABELS,
        design_labels=weighting_settings.DESIGN_LABELS,
    ), (400 if error else 200)


def _margins_text() -> tuple[str | None, str | None]:
    """The uploaded margins CSV as text (None without a file) and its file name."""
    upload = request.files.get("margins")
    if upload is None or not upload.filename:
        return None, None
    # One byte more than allowed: a longer file is refused, never cut and used.
    raw = upload.read(MAX_MARGINS_BYTES + 1)
    if len(raw) > MAX_MARGINS_BYTES:
        raise WeightingError.of("weighting.margins_too_large", size=MAX_MARGINS_BYTES // 1_000_000)
    try:
        return raw.decode("utf-8"), upload.filename
    except UnicodeDecodeError:
        raise WeightingError.of("weighting.margins_not_utf8") from None


def _fits(campaign: Campaign, settings: WeightingSettings) -> None:
    """The responses as they are now can be weighted so (WeightingError, AnalysisError)."""
    frame = analysis.frames.get(campaign)
    if settings.calibration != "none":
        if frame.empty:
            raise WeightingError.of("weighting.no_answers")
        weighting_settings.check_against_sample(settings.margins, frame)
    analysis.build_design(frame, settings)


@bp.route("/staff/campaigns/<code>/weighting", methods=["GET", "POST"])
@accepts_upload(MAX_MARGINS_BYTES)
@role_required(*ANALYSIS_ROLES)
def weighting(code: str) -> Any:
    campaign = campaign_or_404(code)
    if request.method == "GET":
        return _page(campaign)
    token = request.form.get("confirm")
    try:
        if token:
            new = weighting_preview.unsign(campaign, token)
            _fits(campaign, new)
        else:
            questionnaire = questionnaires.definition(campaign.questionnaire_version)
            text, filename = _margins_text()
            new = weighting_settings.build_settings(
                request.form,
                text,
                filename,
                questionnaire,
                analysis.frames.get(campaign),
                weighting_settings.current(campaign),
            )
            _fits(campaign, new)
            # Nothing is saved yet: the analyst sees what changes, then confirms.
            return _page(
                campaign,
                preview=weighting_preview.preview(campaign, new),
                token=weighting_preview.sign(campaign, new),
            )
    except (WeightingError, analysis.AnalysisError) as exc:
        return _page(campaign, error="\n".join(texts(exc)))
    weighting_settings.save(campaign, new)
    db.session.commit()
    questionnaire = questionnaires.definition(campaign.questionnaire_version)
    flash(
        gettext("Đã lưu cài đặt. %(settings)s", settings=new.describe(questionnaire)),
        "success",
    )
    return redirect(url_for("dashboard.weighting", code=campaign.code))


@bp.get("/staff/campaigns/<code>/weighting/margins.csv")
@role_required(*ANALYSIS_ROLES)
def margins_template(code: str) -> Any:
    """Mẫu tệp số lượng tổng thể: the chosen variables' cells, counts known filled in."""
    campaign = campaign_or_404(code)
    questionnaire = questionnaires.definition(campaign.questionnaire_version)
    settings = weighting_settings.current(campaign)
    variables = request.args.getlist("variable") or [
        v for m in settings.margins for v in m.variables
    ]
    if not variables:
        variables = [i.code for i in questionnaire.respondent if kind_of(i).analysed]
    layout = request.args.get("layout") or (
        "wide" if settings.calibration == "poststratify" else "long"
    )
    body = weighting_settings.margins_template(
        questionnaire, list(dict.fromkeys(variables)), layout, settings
    )
    return download(body, CSV_MIME, f"bien-tong-the-{campaign.code}-{layout}.csv")
