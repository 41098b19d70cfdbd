"""Demo responses for `make run`: plausible, within the campaign, loaded only once."""

from __future__ import annotations

import datetime as dt

from flask import Flask
from sqlalchemy import func, select

from survey_app.demo import load_demo, load_demo_responses
from survey_app.extensions import db
from survey_app.models import Campaign, Submission
from survey_app.services import questionnaires
from tests.citizen_support import SIPAS_2023


def test_demo_responses_fill_each_campaign_once_within_its_period(app: Flask) -> None:
    with app.app_context():
        questionnaires.load_file(SIPAS_2023)
        load_demo()
        created = load_demo_responses(per_campaign=40)
        db.session.commit()
        assert load_demo_responses(per_campaign=40) == []  # campaigns with answers are left

        counts = dict(
            db.session.execute(
                select(Campaign.code, func.count(Submission.id))
                .join(Submission, Submission.campaign_id == Campaign.id)
                .group_by(Campaign.code)
            ).all()
        )
        assert counts == {"SIPAS-2025": 40, "SIPAS-2026": 40}
        assert len(created) == 2
        for submission in db.session.scalars(select(Submission)):
            campaign = submission.campaign
            assert campaign.starts_on <= submission.submitted_at.date() <= campaign.ends_on
            assert submission.submitted_at.date() < dt.date.today()
        # Skip logic holds in demo data too: II.4.1 only after "yes" to II.4.0.
        documents = db.session.scalars(select(Submission.answers)).all()
        yes = sum(1 for d in documents if d.get("II.4.0") == 1)
        rated = sum(1 for d in documents if "II.4.1" in d)
        assert 0 < yes == rated
