"""The staff workspace (khu vực cán bộ) under ``/staff/``.

The blueprint ``staff``, split into modules by feature, and two older ones:

- ``auth``: login/logout and the access decorators other modules use
  (``role_required``; see its docstring);
- ``views``: home, desk and campaign pages, dossier code form;
- ``slips``: slips of dossier codes as a PDF (a day's list, or one slip again);
- ``admin``: user management and the audit log (administrators only);
- ``data``: paper-survey import and raw-response export;
- ``setup``: agencies, desks and campaigns; ``questionnaires``: the list and YAML uploads;
  ``preview``: a questionnaire version as a citizen sees it, storing nothing;
- ``plans``: remediation plans (editor, verification, DOCX / XLSX);
- ``sampling``: a campaign's sampling design of dossiers and its frame;
- ``language``: the switch between the Vietnamese and English interface;
- ``problems``: how the pages show a service's refusal;
- ``posters``: a desk's QR poster (blueprint ``posters``, endpoint names kept);
- ``dashboard``: indices, exports and the JSON indices API
  (blueprint ``dashboard``, also serving ``/api/v1/``); ``reports``: the survey report's
  downloads, ``evidence``: the evidence pack download, ``weighting``: the weighting
  settings, previewed before they are saved, ``sample``: the probability sample's
  estimates, rates, walk-in comparison and planner; ``comments``: citizens' comments, their
  handled mark and exports (all on the dashboard's blueprint).

The CLI is in :mod:`survey_app.cli`.

Templates extend ``templates/base_staff.html`` (blocks ``title`` and
``content``; ``nav_active`` names the current menu entry).
"""

from __future__ import annotations

from flask import Blueprint, Flask
from flask_babel import lazy_gettext

bp = Blueprint("staff", __name__, url_prefix="/staff")


def init_app(app: Flask) -> None:
    """Register the staff blueprints and point flask-login at their login page."""
    from survey_app.extensions import login_manager

    # Importing the modules puts their routes (and problems' error handler) on bp.
    from survey_app.staff import (  # noqa: F401
        admin,
        auth,
        comments,
        dashboard,
        data,
        evidence,
        language,
        plans,
        posters,
        preview,
        problems,
        questionnaires,
        reports,
        sample,
        sampling,
        setup,
        slips,
        views,
        weighting,
    )

    login_manager.login_view = "staff.login"
    login_manager.login_message = lazy_gettext("Vui lòng đăng nhập để tiếp tục.")
    login_manager.localize_callback = str  # flashed into the session: a plain string
    login_manager.login_message_category = "info"
    app.register_blueprint(bp)
    app.register_blueprint(posters.bp)
    dashboard.init_app(app)
