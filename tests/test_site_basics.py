"""Small things every visitor meets: the site icon, HEAD on form links, `make run`."""

from __future__ import annotations

import subprocess
from pathlib import Path

from flask import Flask
from flask.testing import FlaskClient

from survey_app.extensions import db
from survey_app.services import dossier_codes
from tests.citizen_support import running_survey

ROOT = Path(__file__).resolve().parents[1]


def test_the_icon_is_served_cached_and_linked_from_both_base_templates(
    client: FlaskClient,
) -> None:
    icon = client.get("/favicon.ico")
    assert icon.status_code == 200 and icon.mimetype == "image/vnd.microsoft.icon"
    assert icon.data[:4] == b"\x00\x00\x01\x00" and len(icon.data) < 2048  # an ICO file
    assert icon.headers["Cache-Control"] == "public, max-age=604800"
    link = '<link rel="icon" href="/favicon.ico"'
    assert link in client.get("/").get_data(as_text=True)
    assert link in client.get("/staff/login").get_data(as_text=True)
    assert client.head("/favicon.ico").status_code == 200


def test_head_on_form_links_answers_like_get_and_stores_nothing(app: Flask) -> None:
    survey = running_survey(app)
    with app.app_context():
        token = dossier_codes.issue(survey.desk_code, "000.00.23.H23-251201-0001")
        db.session.commit()
    client = app.test_client()
    for url in (f"/s/{survey.public_id}", f"/c/{token}"):
        head = client.head(url)
        assert head.status_code == 200, url
        assert head.mimetype == "text/html" and head.data == b""
    # The dossier code is still answerable: HEAD spent nothing.
    assert client.get(f"/c/{token}").status_code == 200


def test_make_run_points_posters_at_its_own_port_unless_public_base_url_is_set() -> None:
    def dry_run(port: str, **env: str) -> str:
        return subprocess.run(
            ["make", "-n", "run", f"PORT={port}"],
            cwd=ROOT,
            env={"PATH": "/usr/bin:/bin", **env},
            capture_output=True,
            text=True,
            check=True,
        ).stdout

    plain = dry_run("8124")
    assert "QR posters and dossier links point at http://127.0.0.1:8124" in plain
    assert "survey-app run --host 127.0.0.1 --port 8124" in plain
    assert "survey-app user create-admin quantri" in plain
    chosen = dry_run("8124", PUBLIC_BASE_URL="https://khaosat.example.gov.vn")
    assert "point at https://khaosat.example.gov.vn " in chosen
