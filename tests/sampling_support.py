"""A province whose one-stop software reports dossier events, and a signed API client."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import time
from typing import Any
from zoneinfo import ZoneInfo

from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from survey_app import localtime
from survey_app.extensions import db
from survey_app.services import organisation, questionnaires, sampling
from tests.citizen_support import SMALL

API_SECRET = "onestop-test-secret"
EVENTS_PATH = "/api/v1/dossier-events"


def seed_sampling(app: Flask) -> None:
    """Province P with departments P-TP (desks TP-1, TP-2) and P-XD (desk XD-1), all in
    campaign C running from 30 days ago to 30 days ahead; desk OUT is in no campaign."""
    with app.app_context():
        questionnaires.load_text(SMALL, "small.yaml")
        organisation.add_agency("P", "Tỉnh Thử", "province")
        organisation.add_agency("P-TP", "Sở Tư pháp", "department", "P")
        organisation.add_agency("P-XD", "Sở Xây dựng", "department", "P")
        organisation.add_desk("TP-1", "Quầy Tư pháp 1", "P-TP")
        organisation.add_desk("TP-2", "Quầy Tư pháp 2", "P-TP")
        organisation.add_desk("XD-1", "Quầy Xây dựng", "P-XD")
        organisation.add_desk("OUT", "Quầy ngoài đợt", "P")
        today = localtime.today()
        organisation.add_campaign(
            "C",
            "Đợt thử",
            "P",
            "small",
            "1",
            today - dt.timedelta(days=30),
            today + dt.timedelta(days=30),
            ["TP-1", "TP-2", "XD-1"],
        )
        db.session.commit()


def set_design(app: Flask, **fields: Any) -> None:
    """Store campaign C's design: Poisson, seed "s1", default 0.5 unless ``fields`` say."""
    data: dict[str, Any] = {"method": "poisson", "seed": "s1", "default_probability": 0.5}
    data.update(fields)
    with app.app_context():
        campaign = organisation.campaign_by_code("C")
        sampling.save_design(campaign, sampling.check_design(data))
        db.session.commit()


def vietnam_today() -> dt.date:
    """Today where the test apps' surveys run (their default TIMEZONE), outside an app."""
    return dt.datetime.now(ZoneInfo("Asia/Ho_Chi_Minh")).date()


def event(
    dossier: str,
    kind: str = "returned",
    *,
    desk: str = "TP-1",
    field: str = "Hộ tịch",
    channel: str = "desk",
    on_time: bool = True,
    days_ago: int = 1,
    **extra: Any,
) -> dict[str, Any]:
    """One event as the one-stop software sends it (received 5 days before returned)."""
    returned = vietnam_today() - dt.timedelta(days=days_ago)
    body: dict[str, Any] = {
        "kind": kind,
        "dossier": dossier,
        "desk": desk,
        "procedure_field": field,
        "channel": channel,
        "received_on": (returned - dt.timedelta(days=5)).isoformat(),
    }
    if kind == "returned":
        body.update(returned_on=returned.isoformat(), on_time=on_time)
    body.update(extra)
    return body


def signed_post(
    client: FlaskClient,
    payload: Any,
    *,
    secret: str = API_SECRET,
    signature: str | None = None,
    raw: bytes | None = None,
    path: str = EVENTS_PATH,
) -> TestResponse:
    body = json.dumps(payload).encode() if raw is None else raw
    ts = str(int(time.time()))
    if signature is None:
        signature = hmac.new(
            secret.encode(), ts.encode() + b"\n" + body, hashlib.sha256
        ).hexdigest()
    return client.post(
        path,
        data=body,
        headers={"X-Timestamp": ts, "X-Signature": signature, "Content-Type": "application/json"},
    )


def post_ok(client: FlaskClient, payload: Any) -> Any:
    response = signed_post(client, payload)
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_json()
