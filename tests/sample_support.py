"""A campaign with a probability sample of dossiers, built in the app's database.

The selected dossiers, their answers and the frame come from the R simulation of
``tests/scoring/r/make_sampling_fixture.R`` (``tests/scoring/fixtures/sampling_sample.csv``
and ``sampling_frame.csv``): agencies A-D of province P, one desk each, procedure fields
F1-F3, a Poisson sample with unequal probabilities within agency x field strata. Every
tenth nonrespondent's code was never delivered, one in ten is of unknown eligibility and
one in ten ineligible (withdrawn). Respondents answer through their dossier code; walk-in
answers (QR poster, and a dossier code outside the sample) are the respondents' answers
one level happier, so the walk-in index is biased upwards.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import uuid
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import sqlalchemy as sa
from flask import Flask

from survey_app.extensions import db
from survey_app.models import (
    Campaign,
    Desk,
    FrameCell,
    SampledDossier,
    SamplingDesign,
)
from survey_app.services import accounts, analysis, organisation, questionnaires
from survey_app.services.sampling import stratum_label
from survey_app.services.submissions import insert_rows
from tests.dashboard_setup import PASSWORD

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "tests" / "scoring" / "fixtures"
CAMPAIGN = "MAU-2026"
AGENCIES = ("A", "B", "C", "D")
RAKING = {
    "strata": ["agency", "procedure_field"],
    "nonresponse_classes": ["agency", "channel"],
    "calibration": {
        "formula": "~agency + procedure_field + channel",
        "calfun": "raking",
        "bounds": [0.5, 2],
    },
    "trim": [0.2, 2.0],
}
LINEAR = {
    "strata": ["agency", "procedure_field"],
    "nonresponse_classes": [],
    "calibration": {"formula": "~agency + procedure_field", "calfun": "linear", "bounds": None},
    "trim": None,
}


def dossier_hash(row: int) -> str:
    return hashlib.sha256(f"ho-so-{row}".encode()).hexdigest()


def province(app: Flask, design: dict[str, Any] | None = None, walk_in: int = 300) -> None:
    """Province P with agencies A-D, users, and the campaign's sample (``design``: RAKING)."""
    analysis.clear_caches()
    with app.app_context():
        questionnaires.load_file(ROOT / "questionnaires" / "sipas-2023.yaml")
        organisation.add_agency("P", "Tỉnh P", "province")
        for code in AGENCIES:
            organisation.add_agency(code, f"Sở {code}", "department", "P")
            organisation.add_desk(f"{code}-01", f"Quầy {code}", code)
        organisation.add_campaign(
            CAMPAIGN,
            "Khảo sát mẫu hồ sơ 2026",
            "P",
            "sipas-2023",
            "2023.1",
            dt.date(2026, 1, 1),
            dt.date(2026, 12, 31),
            [f"{code}-01" for code in AGENCIES],
        )
        accounts.create_user("admin", PASSWORD, "admin")
        accounts.create_user("analyst", PASSWORD, "analyst")
        accounts.create_user("officer", PASSWORD, "officer", "A")
        accounts.create_user("viewer", PASSWORD, "viewer", "P")
        db.session.commit()
        fill(campaign(), design or RAKING, walk_in)


def campaign() -> Campaign:
    return db.session.scalars(sa.select(Campaign).filter_by(code=CAMPAIGN)).one()


def set_design(target: Campaign, design: dict[str, Any]) -> SamplingDesign:
    """The campaign's sampling design, created or changed."""
    row = db.session.scalar(sa.select(SamplingDesign).filter_by(campaign_id=target.id))
    if row is None:
        row = SamplingDesign(
            campaign_id=target.id,
            probabilities={},
            default_probability=0.1,
            method="poisson",
            seed="mau-2026",
        )
        db.session.add(row)
    row.strata = list(design["strata"])
    row.nonresponse_classes = list(design["nonresponse_classes"])
    row.calibration = design["calibration"]
    row.trim = design["trim"]
    row.updated_at = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    db.session.commit()
    return row


def add_design(code: str) -> None:
    """A sampling design for a campaign that has selected no dossier yet."""
    target = db.session.scalars(sa.select(Campaign).filter_by(code=code)).one()
    set_design(target, RAKING)


def fill(target: Campaign, design: dict[str, Any], walk_in: int) -> None:
    """The sample, its answers, the frame and ``walk_in`` walk-in answers."""
    sample = pd.read_csv(FIXTURES / "sampling_sample.csv")
    frame = pd.read_csv(FIXTURES / "sampling_frame.csv")
    desks = {d.agency.code: d for d in db.session.scalars(sa.select(Desk))}
    items = [c for c in sample.columns if c[:2] in ("I.", "II")]
    set_design(target, design)
    dossiers, answers = [], []
    nonrespondent = 0
    for row, record in enumerate(sample.to_dict("records")):
        disposition = None
        if not record["responded"]:
            disposition = (None, "not_delivered", "unknown", "ineligible", *[None] * 6)[
                nonrespondent % 10
            ]
            nonrespondent += 1
        values = {"agency": record["agency"], "procedure_field": record["field"]}
        dossiers.append(
            {
                "campaign_id": target.id,
                "dossier_hash": dossier_hash(row),
                "desk_id": desks[record["agency"]].id,
                "procedure_field": record["field"],
                "channel": record["channel"],
                "on_time": not record["late"],
                "stratum": stratum_label(["agency", "procedure_field"], values),
                "probability": float(record["pi"]),
                "returned_on": dt.date(2026, 3, 2),
                "dossier_code_id": None,
                "disposition": disposition,
            }
        )
        if record["responded"]:
            given = {c: int(record[c]) for c in items if not pd.isna(record[c])}
            answers.append((row, desks[record["agency"]].id, given))
    db.session.execute(sa.insert(SampledDossier), dossiers)
    selected = sample.groupby(["agency", "field", "channel"]).size()
    db.session.execute(
        sa.insert(FrameCell),
        [
            {
                "campaign_id": target.id,
                "desk_id": desks[r["agency"]].id,
                "procedure_field": r["field"],
                "channel": r["channel"],
                "on_time": True,
                "returned": int(r["N"]),
                "selected": int(selected.get((r["agency"], r["field"], r["channel"]), 0)),
            }
            for r in frame.to_dict("records")
        ],
    )
    rng = np.random.default_rng(15)
    submissions = [
        _submission(target, desk, "dossier", dossier_hash(row), given)
        for row, desk, given in answers
    ]
    for k in range(walk_in):
        _, desk, given = answers[int(rng.integers(len(answers)))]
        happier = {c: (min(5, v + 1) if v <= 5 else v) for c, v in given.items()}
        route, code = ("dossier", f"ngoai-mau-{k}") if k % 10 == 0 else ("desk_qr", None)
        submissions.append(_submission(target, desk, route, code, happier))
    insert_rows(db.session.connection(), submissions)
    db.session.commit()


def _submission(
    target: Campaign, desk: int, route: str, code: str | None, answers: dict[str, int]
) -> dict[str, Any]:
    uid = str(uuid.uuid4())
    return {
        "uid": uid,
        "receipt": uid.replace("-", "")[:16],
        "campaign_id": target.id,
        "desk_id": desk,
        "questionnaire_version_id": target.questionnaire_version_id,
        "route": route,
        "dossier_code": code,
        "language": "vi",
        "answers": answers,
        "submitted_at": dt.datetime(2026, 3, 3, 2),
    }
