"""A weighting change first shows what it changes and saves only when confirmed.

Before, a POST of the weighting form saved at once and silently moved the agencies' official
PAR points. Now the POST shows the indices and the PAR points under the settings in force
and under the new ones, stores nothing (settings, audit log, analysis caches), and a second
POST with the previewed settings' signed token saves them.
"""

from __future__ import annotations

import csv
import io
import re
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from survey_app.extensions import db
from survey_app.models import AuditEvent
from survey_app.services.analysis import cache
from tests.dashboard_setup import campaign, confirm_weighting, login, province

URL = "/staff/campaigns/SIPAS-2026"
MARGINS = "gender,count\n1,7000\n2,3000\n"


@pytest.fixture
def loaded(app: Flask, client: FlaskClient) -> FlaskClient:
    province(app, 400)
    login(client, "analyst")
    return client


def _csrf(client: FlaskClient) -> str:
    page = client.get(f"{URL}/weighting").text
    match = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert match
    return match.group(1)


def _preview(client: FlaskClient, margins: str = MARGINS, **fields: str) -> Any:
    data: dict[str, Any] = {
        "csrf_token": _csrf(client),
        "calibration": "poststratify",
        "ci_method": "logit",
        "level": "0.95",
        "margins": (io.BytesIO(margins.encode()), "dan-so.csv"),
    }
    data.update(fields)
    return client.post(f"{URL}/weighting", data=data, content_type="multipart/form-data")


def _par_points(client: FlaskClient) -> dict[tuple[str, str], str]:
    """(agency code, PAR criterion) -> points as the PAR export writes them."""
    text = client.get(f"{URL}/par.csv").data.decode("utf-8-sig")
    lines = [line for line in text.splitlines() if not line.startswith("#")]
    return {
        (row["Mã cơ quan"], row["Mã tiêu chí CCHC"]): row["Điểm đạt"]
        for row in csv.DictReader(lines)
    }


def _shown_points(page: str, agency: str) -> list[tuple[str, str, str]]:
    """The (criterion, before, after) rows the preview shows under an agency's name."""
    block = page[page.index("Điểm CCHC (chỉ số hài lòng) theo cơ quan") :]
    block = block[block.index(f'<tr class="total"><th scope="row">{agency}</th>') :]
    block = block[1:].split('<tr class="total">')[0].split("</tbody>")[0]
    return re.findall(
        r'<th scope="row" class="depth-1">(\S+) [^<]*</th><td class="num">([^<]+)</td>'
        r'<td class="num">([^<]+)</td>',
        block,
    )


def _memo_keys() -> list[str]:
    return [repr(key) for memo in list(cache._memos) for key in memo._entries]


def test_the_preview_shows_par_points_before_and_after_and_stores_nothing(
    app: Flask, loaded: FlaskClient
) -> None:
    before = _par_points(loaded)
    loaded.get(f"{URL}/dashboard")
    with app.app_context():
        events = db.session.scalar(select(db.func.count()).select_from(AuditEvent))
    memo_before = _memo_keys()

    response = _preview(loaded)
    assert response.status_code == 200
    page = response.text
    assert "Xem trước: cài đặt mới thay đổi gì (chưa lưu)" in page
    assert "Cài đặt mới: <strong>Trọng số: hậu phân tầng theo giới tính" in page
    assert 'name="confirm" value="' in page
    # Sở Xây dựng's PAR points: the export's figures in force, before the change.
    sxd = [(c, b, a) for c, b, a in _shown_points(page, "Sở Xây dựng")]
    assert sxd, page
    for criterion, shown_before, _ in sxd:
        assert shown_before.replace(",", ".") == before[("HT-SXD", criterion)]

    # Nothing stored: settings, audit log, and no cached result of the new settings.
    with app.app_context():
        assert "weighting" not in (campaign("SIPAS-2026").settings or {})
        assert db.session.scalar(select(db.func.count()).select_from(AuditEvent)) == events
    assert all("poststratify" not in key for key in _memo_keys())
    assert set(_memo_keys()) >= set(memo_before)
    assert "Trọng số: không (mỗi phiếu như nhau)" in loaded.get(f"{URL}/dashboard").text
    assert _par_points(loaded) == before

    # Confirmed, the PAR export gives exactly the "after" points the preview showed.
    saved = confirm_weighting(loaded, response)
    assert saved.status_code == 302
    after = _par_points(loaded)
    assert after != before
    for criterion, _, shown_after in sxd:
        assert shown_after.replace(",", ".") == after[("HT-SXD", criterion)]
    with app.app_context():
        assert campaign("SIPAS-2026").settings["weighting"]["calibration"] == "poststratify"
        event = db.session.scalars(select(AuditEvent).filter_by(action="weighting.change")).one()
        assert event.username == "analyst"


def test_the_preview_lists_overall_groups_and_agencies(loaded: FlaskClient) -> None:
    page = _preview(loaded).text
    table = page[page.index("Chỉ số hài lòng</h3>") :]
    assert '<th scope="row" class="depth-0">' in table
    assert table.count('class="depth-1"') >= 4
    agencies = page[page.index("Chỉ số chung theo cơ quan</h3>") :]
    for name in ("Sở Tư pháp", "Sở Xây dựng", "Phường Thành Sen"):
        assert f'<th scope="row">{name}</th>' in agencies


def test_a_confirmation_after_another_change_is_refused(app: Flask, loaded: FlaskClient) -> None:
    first = _preview(loaded)
    # Meanwhile another analyst saves other settings.
    other = _preview(
        loaded,
        "variable,value,count\ngender,1,5000\ngender,2,5000\n"
        "age_group,1,2000\nage_group,2,2000\nage_group,3,2000\nage_group,4,2000\n"
        "age_group,5,2000\n",
        calibration="rake",
    )
    assert confirm_weighting(loaded, other).status_code == 302
    stale = confirm_weighting(loaded, first)
    assert stale.status_code == 400
    assert "Cài đặt trọng số đã được thay đổi sau khi bạn xem trước: chưa lưu gì" in stale.text
    with app.app_context():
        assert campaign("SIPAS-2026").settings["weighting"]["calibration"] == "rake"


def test_an_altered_token_saves_nothing(app: Flask, loaded: FlaskClient) -> None:
    response = loaded.post(
        f"{URL}/weighting", data={"confirm": "eyJjYW1wYWlnbiI6MX0.x.y", "csrf_token": _csrf(loaded)}
    )
    assert response.status_code == 400
    assert "Bản xem trước đã quá một giờ hoặc không hợp lệ" in response.text
    with app.app_context():
        assert "weighting" not in (campaign("SIPAS-2026").settings or {})


def test_a_margins_template_has_the_upload_format_and_the_counts_known(
    loaded: FlaskClient,
) -> None:
    page = loaded.get(f"{URL}/weighting").text
    assert f"{URL}/weighting/margins.csv" in page
    long = loaded.get(f"{URL}/weighting/margins.csv?variable=gender&variable=age_group")
    assert long.status_code == 200 and long.mimetype == "text/csv"
    assert long.data.decode() == (
        "variable,value,count\ngender,1,\ngender,2,\n"
        + "".join(f"age_group,{a},\n" for a in range(1, 6))
    )
    wide = loaded.get(f"{URL}/weighting/margins.csv?variable=gender&variable=age_group&layout=wide")
    lines = wide.data.decode().splitlines()
    assert lines[0] == "gender,age_group,count" and len(lines) == 1 + 2 * 5
    assert lines[1:3] == ["1,1,", "1,2,"]
    # Filled in and uploaded, the template is what the page reads; the counts come back.
    filled = "\n".join(f"{line}{100 + n}" for n, line in enumerate(lines[1:]))
    saved = confirm_weighting(loaded, _preview(loaded, lines[0] + "\n" + filled + "\n"))
    assert saved.status_code == 302
    again = loaded.get(f"{URL}/weighting/margins.csv").data.decode().splitlines()
    assert again[0] == "gender,age_group,count" and again[1] == "1,1,100" and again[-1] == "2,5,109"
    unknown = loaded.get(f"{URL}/weighting/margins.csv?variable=income")
    assert unknown.status_code == 400 and "income" in unknown.text
