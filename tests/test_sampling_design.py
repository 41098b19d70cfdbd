"""The sampling design of a campaign: validated the same way from the staff page and a
YAML file, audited with old and new values, set by analysts and administrators only."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient, FlaskCliRunner
from sqlalchemy import select

from survey_app.extensions import db
from survey_app.models import AuditEvent, SamplingDesign
from survey_app.services import organisation, sampling
from tests.english_support import data_values, vietnamese_left, visible_text
from tests.sampling_support import API_SECRET, event, post_ok, seed_sampling, set_design
from tests.staff_support import add_user, csrf_token, sign_in

PAGE = "/staff/campaigns/C/sampling"
VALID: dict[str, Any] = {
    "strata": ["procedure_field", "agency"],
    "probabilities": {"P-TP | Hộ tịch": 0.2, " P-XD|Xây  dựng ": "0,05"},
    "default_probability": 0.1,
    "method": "systematic",
    "seed": "abc-123",
    "nonresponse_classes": ["on_time", "agency"],
    "calibration": {"formula": "~agency+procedure_field", "calfun": "raking", "bounds": [0.5, 2]},
    "trim": [0.3, 3.5],
}


@pytest.fixture
def seeded(make_app) -> Flask:  # type: ignore[no-untyped-def]
    app = make_app(ONESTOP_API_SECRET=API_SECRET)
    with app.app_context():
        db.create_all()
    seed_sampling(app)
    with app.app_context():
        add_user("analyst", "analyst")
        add_user("admin", "admin")
        add_user("officer", "officer", "P")
        add_user("viewer", "viewer", "P")
    return app


def _design(app: Flask) -> sampling.Design | None:
    with app.app_context():
        return sampling.current(organisation.campaign_by_code("C"))


# --------------------------------------------------------------------------- validation


def test_a_valid_design_is_read_in_canonical_form() -> None:
    design = sampling.check_design(VALID)
    assert design.strata == ("agency", "procedure_field")  # the attributes' own order
    assert dict(design.probabilities) == {"P-TP | Hộ tịch": 0.2, "P-XD | Xây dựng": 0.05}
    assert design.probability("P-TP | Hộ tịch") == 0.2
    assert design.probability("P-TP | Chứng thực") == 0.1
    assert design.nonresponse_classes == ("agency", "on_time")
    assert dict(design.calibration or {}) == {
        "formula": "~agency + procedure_field",
        "calfun": "raking",
        "bounds": [0.5, 2.0],
    }
    assert design.trim == (0.3, 3.5)


@pytest.mark.parametrize(
    ("change", "field", "code"),
    [
        ({"strata": ["agency", "colour"]}, "strata", "sampling.attribute_unknown"),
        ({"strata": "agency"}, "strata", "sampling.attributes_not_list"),
        ({"probabilities": {"P-TP": 0.2}}, "probabilities", "sampling.stratum_malformed"),
        ({"probabilities": {"P-TP | Hộ tịch": 0}}, "probabilities", "sampling.probability_invalid"),
        (
            {"probabilities": {"P-TP | Hộ tịch": 1.5}},
            "probabilities",
            "sampling.probability_invalid",
        ),
        ({"probabilities": [0.1]}, "probabilities", "sampling.probabilities_not_table"),
        ({"default_probability": "nhiều"}, "default_probability", "sampling.default_invalid"),
        ({"default_probability": float("nan")}, "default_probability", "sampling.default_invalid"),
        ({"method": "quota"}, "method", "sampling.method_unknown"),
        ({"seed": "hạt giống"}, "seed", "sampling.seed_invalid"),
        ({"nonresponse_classes": ["age"]}, "nonresponse_classes", "sampling.attribute_unknown"),
        (
            {"calibration": {"formula": "agency", "calfun": "linear"}},
            "calibration_formula",
            "sampling.formula_invalid",
        ),
        (
            {"calibration": {"formula": "~age", "calfun": "linear"}},
            "calibration_formula",
            "sampling.attribute_unknown",
        ),
        (
            {"calibration": {"formula": "~desk", "calfun": "logit"}},
            "calibration_calfun",
            "sampling.calfun_unknown",
        ),
        (
            {"calibration": {"formula": "~desk", "calfun": "linear", "bounds": [2, 3]}},
            "calibration_bounds",
            "sampling.bounds_invalid",
        ),
        ({"trim": [1.5]}, "trim", "sampling.trim_invalid"),
        ({"colour": "red"}, "", "sampling.field_unknown"),
    ],
)
def test_a_bad_field_is_refused_with_its_reason(
    app: Flask, change: dict[str, Any], field: str, code: str
) -> None:
    with pytest.raises(sampling.SamplingError) as refused:
        sampling.check_design({**VALID, **change})
    assert [(p.field, p.code) for p in refused.value.problems] == [(field, code)]
    with app.test_request_context():
        assert str(refused.value)  # worded in the catalogue


def test_without_strata_the_one_stratum_is_all() -> None:
    design = sampling.check_design(
        {
            "method": "poisson",
            "seed": "s",
            "default_probability": 0.3,
            "probabilities": {"all": 0.4},
        }
    )
    assert (
        sampling.stratum_label(design.strata, sampling.frame_values("A", "D", "F", "desk")) == "all"
    )
    assert design.probability("all") == 0.4


def test_saving_audits_the_changed_fields_with_old_and_new_values(seeded: Flask) -> None:
    set_design(seeded, default_probability=0.5)
    set_design(seeded, default_probability=0.25, method="systematic")
    set_design(seeded, default_probability=0.25, method="systematic")  # no change, no event
    with seeded.app_context():
        events = db.session.scalars(
            select(AuditEvent).filter_by(action="sampling.design").order_by(AuditEvent.id)
        ).all()
        assert [e.target for e in events] == ["C", "C"]
        assert events[0].detail["old"] is None and events[0].detail["new"]["seed"] == "s1"
        assert events[1].detail == {
            "changed": ["default_probability", "method"],
            "old": {"default_probability": 0.5, "method": "poisson"},
            "new": {"default_probability": 0.25, "method": "systematic"},
        }
        assert events[1].username == "cli"


# --------------------------------------------------------------------------- the page


def _post(client: FlaskClient, data: dict[str, Any]):  # type: ignore[no-untyped-def]
    return client.post(PAGE, data={**data, "csrf_token": csrf_token(client, PAGE)})


def test_an_analyst_sees_the_frame_draws_the_table_and_saves_a_design(
    seeded: Flask, client: FlaskClient
) -> None:
    client_api = seeded.test_client()
    post_ok(
        client_api,
        [event("HS-1"), event("HS-2", desk="TP-2"), event("HS-3", desk="XD-1", field="Xây dựng")],
    )
    sign_in(client, "analyst")
    page = client.get(PAGE).get_data(as_text=True)
    assert "Thiết kế chọn mẫu hồ sơ" in page and "chưa có thiết kế chọn mẫu" in page
    assert 'name="p:all"' in page  # no strata yet: the whole frame, 3 dossiers
    drawn = _post(client, {"strata": ["agency"], "table_strata": "", "action": "table"})
    text = drawn.get_data(as_text=True)
    assert 'name="p:P-TP"' in text and 'name="p:P-XD"' in text
    assert "Sở Tư pháp (P-TP)" in text
    saved = _post(
        client,
        {
            "strata": ["agency"],
            "table_strata": "agency",
            "p:P-TP": "0,5",
            "p:P-XD": "",
            "default_probability": "0,1",
            "method": "poisson",
            "seed": "hat-giong-1",
            "nonresponse_classes": ["channel"],
            "calibration_formula": "~agency",
            "calibration_calfun": "linear",
            "bounds_low": "",
            "bounds_high": "",
            "trim_low": "0,5",
            "trim_high": "4",
            "action": "save",
        },
    )
    assert saved.status_code == 302
    design = _design(seeded)
    assert design is not None
    assert design.to_json() == {
        "strata": ["agency"],
        "probabilities": {"P-TP": 0.5},
        "default_probability": 0.1,
        "method": "poisson",
        "seed": "hat-giong-1",
        "nonresponse_classes": ["channel"],
        "calibration": {"formula": "~agency", "calfun": "linear", "bounds": None},
        "trim": [0.5, 4.0],
    }
    shown = client.get(PAGE).get_data(as_text=True)
    assert "Đã lưu thiết kế chọn mẫu." in shown
    assert 'value="0,5"' in shown and 'value="hat-giong-1"' in shown
    with seeded.app_context():
        audit = db.session.scalars(select(AuditEvent).filter_by(action="sampling.design")).one()
        assert audit.username == "analyst"
        row = db.session.scalars(select(SamplingDesign)).one()
        assert row.updated_by_id is not None


def test_changing_the_strata_redraws_the_table_and_stores_nothing(
    seeded: Flask, client: FlaskClient
) -> None:
    set_design(seeded, strata=["agency"], probabilities={"P-TP": 0.5})
    sign_in(client, "admin")
    response = _post(
        client,
        {
            "strata": ["desk"],
            "table_strata": "agency",
            "p:P-TP": "0.5",
            "default_probability": "0.5",
            "method": "poisson",
            "seed": "s1",
            "action": "save",
        },
    )
    assert response.status_code == 200
    assert "Bảng xác suất đã được vẽ lại" in response.get_data(as_text=True)
    design = _design(seeded)
    assert design is not None and design.strata == ("agency",)


def test_a_bad_design_is_refused_in_vietnamese_next_to_its_fields(
    seeded: Flask, client: FlaskClient
) -> None:
    sign_in(client, "analyst")
    response = _post(
        client,
        {
            "table_strata": "",
            "p:all": "2",
            "default_probability": "0",
            "method": "poisson",
            "seed": "có dấu",
            "trim_low": "2",
            "trim_high": "",
            "action": "save",
        },
    )
    assert response.status_code == 400
    text = response.get_data(as_text=True)
    assert "Chưa lưu: vui lòng sửa 4 lỗi dưới đây" in text
    assert "Xác suất chọn của tầng “all” phải là một số lớn hơn 0 và không quá 1" in text
    assert "Hạt giống (seed) gồm 1 đến 64 ký tự" in text
    assert 'value="có dấu"' in text  # what was typed stays
    assert _design(seeded) is None


@pytest.mark.parametrize("username", ["officer", "viewer"])
def test_officers_and_viewers_cannot_see_or_set_the_design(
    seeded: Flask, client: FlaskClient, username: str
) -> None:
    sign_in(client, username)
    assert client.get(PAGE).status_code == 403
    token = csrf_token(client, "/staff/")
    response = client.post(
        PAGE,
        data={
            "method": "poisson",
            "seed": "s",
            "default_probability": "1",
            "action": "save",
            "table_strata": "",
            "csrf_token": token,
        },
    )
    assert response.status_code == 403 and _design(seeded) is None
    assert "Thiết kế chọn mẫu" not in client.get("/staff/campaigns/C").get_data(as_text=True)


def test_the_design_page_reads_english(seeded: Flask, client: FlaskClient) -> None:
    post_ok(seeded.test_client(), [event("HS-1"), event("HS-2", channel="online")])
    set_design(
        seeded,
        strata=["channel", "procedure_field"],
        probabilities={"Hộ tịch | online": 0.5},
        calibration={"formula": "~channel", "calfun": "raking", "bounds": [0.5, 2]},
        trim=[0.5, 3],
    )
    sign_in(client, "analyst")
    assert (
        client.post(
            "/staff/language/en", data={"csrf_token": csrf_token(client, "/staff/")}
        ).status_code
        == 302
    )
    with seeded.app_context():
        values = data_values() + ["Hộ tịch"]
    page = client.get(PAGE).get_data(as_text=True)
    assert vietnamese_left(visible_text(page), values) == []
    assert "Sampling design of dossiers" in page and "Online" in page
    refused = _post(
        client,
        {
            "strata": ["procedure_field", "channel"],
            "table_strata": "procedure_field,channel",
            "default_probability": "x",
            "method": "poisson",
            "seed": "s",
            "action": "save",
        },
    )
    assert "The default inclusion probability must be a number above 0" in refused.get_data(
        as_text=True
    )
    assert vietnamese_left(visible_text(refused.get_data(as_text=True)), values) == []


# --------------------------------------------------------------------------- the CLI


def test_the_cli_sets_and_shows_a_design_from_yaml(seeded: Flask, tmp_path: Path) -> None:
    runner: FlaskCliRunner = seeded.test_cli_runner()
    path = tmp_path / "design.yaml"
    path.write_text(
        "strata: [agency]\n"
        "probabilities:\n  P-TP: 0.5\n"
        "default_probability: 0.2\n"
        "method: systematic\n"
        "nonresponse_classes: [desk]\n"
        "calibration: {formula: '~agency', calfun: linear, bounds: [0.5, 2]}\n"
        "trim: null\n",
        encoding="utf-8",
    )
    result = runner.invoke(args=["sampling", "set", "C", str(path)])
    assert result.exit_code == 0, result.output
    assert "C: đã lưu thiết kế chọn mẫu." in result.output
    design = _design(seeded)
    assert design is not None and design.method == "systematic"
    assert sampling.SEED_PATTERN.fullmatch(design.seed)  # drawn, since the file has none
    again = runner.invoke(args=["sampling", "set", "C", str(path)])
    assert "không thay đổi" in again.output  # the seed is kept
    post_ok(seeded.test_client(), [event("HS-1"), event("HS-2")])
    shown = runner.invoke(args=["sampling", "show", "C"])
    assert shown.exit_code == 0, shown.output
    assert f"seed: {design.seed}" in shown.output and "method: systematic" in shown.output
    assert "# P-TP: 2 trả kết quả, 1 được chọn, xác suất 0.5" in shown.output
    with seeded.app_context():
        audit = db.session.scalars(select(AuditEvent).filter_by(action="sampling.design")).one()
        assert audit.username == "cli" and audit.detail["new"]["method"] == "systematic"


def test_the_cli_refuses_a_bad_file_and_stores_nothing(seeded: Flask, tmp_path: Path) -> None:
    runner = seeded.test_cli_runner()
    path = tmp_path / "design.yaml"
    path.write_text("method: quota\ndefault_probability: 2\n", encoding="utf-8")
    result = runner.invoke(args=["sampling", "set", "C", str(path)])
    assert result.exit_code == 1
    assert "Phương pháp chọn “quota” không có" in result.output
    assert "Xác suất chọn mặc định phải là một số" in result.output
    path.write_text("method: [\n", encoding="utf-8")
    assert (
        "Tệp YAML không đọc được" in runner.invoke(args=["sampling", "set", "C", str(path)]).output
    )
    assert runner.invoke(args=["sampling", "show", "C"]).exit_code == 1
    assert _design(seeded) is None


def test_the_audit_log_shows_the_old_and_new_values(seeded: Flask, client: FlaskClient) -> None:
    set_design(seeded, default_probability=0.5)
    set_design(seeded, default_probability=0.25, strata=["channel"])
    sign_in(client, "admin")
    page = client.get("/staff/audit?action=sampling.design").get_data(as_text=True)
    assert "changed=default_probability, strata" in page
    assert "old={default_probability: 0.5, strata: []}" in page
    assert "new={default_probability: 0.25, strata: [&#39;channel&#39;]}" in page
