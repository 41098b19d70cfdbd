"""The demo province loaded by `make run`."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import yaml
from sqlalchemy import select

from survey_app.extensions import db
from survey_app.models import Agency, Campaign, Desk
from survey_app.services import organisation

DEMO_FILE = Path(__file__).with_name("demo_province.yaml")


def load_demo() -> list[str]:
    """Create whatever of the demo set-up is missing; return what was created."""
    spec = yaml.safe_load(DEMO_FILE.read_text(encoding="utf-8"))
    created: list[str] = []
    for a in spec["agencies"]:
        if db.session.scalar(select(Agency.id).filter_by(code=a["code"])) is None:
            organisation.add_agency(a["code"], a["name"], a["kind"], a.get("parent"))
            created.append(f"agency {a['code']}")
    for d in spec["desks"]:
        if db.session.scalar(select(Desk.id).filter_by(code=d["code"])) is None:
            organisation.add_desk(d["code"], d["name"], d["agency"])
            created.append(f"desk {d['code']}")
    for c in spec["campaigns"]:
        if db.session.scalar(select(Campaign.id).filter_by(code=c["code"])) is None:
            organisation.add_campaign(
                c["code"], c["name"], c["agency"], c["questionnaire"], c["version"],
                _date(c["from"]), _date(c["to"]), c["desks"],
            )
            created.append(f"campaign {c['code']}")
    return created


def _date(value: object) -> dt.date:
    return value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value))
