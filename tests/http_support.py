"""Every rule of ``app.url_map`` as a concrete URL of the seeded province.

For tests that must hold on every route (request limits, security headers)::

    from tests.http_support import every_route, province_records

    records = province_records(app)          # inside nothing: it opens its own app context
    for route in every_route(app, records):  # one Route per rule and method
        client.open(route.url, method=route.method)

A rule with an argument this module does not know fails loudly (KeyError), so a new
route is not silently left out of those tests.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from flask import Flask
from sqlalchemy import func, select

from survey_app.extensions import db
from survey_app.models import Submission
from survey_app.services import dossier_codes, organisation
from tests.staff_support import add_answers, import_paper, seed_province

METHODS = ("GET", "POST")


@dataclass(frozen=True)
class Route:
    rule: str
    endpoint: str
    method: str
    url: str

    def __str__(self) -> str:
        return f"{self.method} {self.rule}"


def province_records(app: Flask) -> dict[str, str]:
    """Seed the province of ``tests.staff_support`` with one answer; name its records."""
    with app.app_context():
        seed_province()
        add_answers("STP-2026", "HT-STP-01", dt.datetime(2026, 3, 2, 9))
        return records("STP-2026", "HT-STP-01")


def records(campaign: str, desk: str, row_id: int = 1) -> dict[str, str]:
    """Name the records of a seeded province (inside an app context) for every route's
    arguments: ``campaign`` with at least one answer, ``desk`` (which gets a dossier code)
    a remediation plan row and a paper import batch."""
    receipt = db.session.scalar(select(func.min(Submission.receipt)))
    uid = db.session.scalar(select(func.min(Submission.uid)))
    token = dossier_codes.issue(desk, "000.00.23.H23-260302-0001")
    db.session.commit()
    batch = import_paper(campaign, [("1", desk)])
    return {
        "desk": desk,
        "campaign": campaign,
        "public_id": organisation.desk_by_code(desk).public_id,
        "token": token,
        "receipt": str(receipt),
        "node_code": "II.2",
        "username": "khac",
        "filename": "staff.css",
        "language": "en",
        "row_id": str(row_id),
        "uid": str(uid),
        "batch_id": str(batch),
        "version_id": "1",
    }


def _values(rule: str, arguments: set[str], records: dict[str, str]) -> dict[str, str]:
    values = {}
    for name in arguments:
        if name == "code":
            values[name] = records["desk" if "/desks/" in rule else "campaign"]
        elif name == "fmt":
            values[name] = "xlsx" if "/plan." in rule else "csv"
        elif name == "action":
            values[name] = "deactivate" if "/desks/" in rule else "disable"
        else:
            values[name] = records[name]
    return values


def every_route(app: Flask, records: dict[str, str]) -> list[Route]:
    adapter = app.url_map.bind("survey.test")
    routes = []
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
        for method in METHODS:
            if method in (rule.methods or ()):
                values = _values(rule.rule, set(rule.arguments), records)
                url = adapter.build(rule.endpoint, values, method=method)
                routes.append(Route(rule.rule, rule.endpoint, method, url))
    return routes


def row_counts() -> dict[str, int]:
    """Rows of every table (inside an app context): what a refused request must not change."""
    return {
        table.name: db.session.scalar(select(func.count()).select_from(table)) or 0
        for table in db.metadata.sorted_tables
    }
