"""The demo province loaded by `make run`."""

from __future__ import annotations

import datetime as dt
import random
import uuid
from pathlib import Path

from sqlalchemy import select

from scoring.questionnaire import Questionnaire
from scoring.yaml_source import load_plain
from survey_app import localtime
from survey_app.extensions import db
from survey_app.models import Agency, Campaign, Desk, Submission
from survey_app.questions import kind_of
from survey_app.services import organisation, submissions
from survey_app.services.questionnaires import definition

DEMO_FILE = Path(__file__).with_name("demo_province.yaml")


def load_demo() -> list[str]:
    """Create whatever of the demo set-up is missing; return what was created."""
    spec = load_plain(DEMO_FILE.read_text(encoding="utf-8"), DEMO_FILE.name)
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
                c["code"],
                c["name"],
                c["agency"],
                c["questionnaire"],
                c["version"],
                _date(c["from"]),
                _date(c["to"]),
                c["desks"],
            )
            created.append(f"campaign {c['code']}")
    return created


def _date(value: object) -> dt.date:
    return value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value))


# --------------------------------------------------------------------------- demo responses

# Demo effects on a 1-5 satisfaction scale, chosen to look like provincial reports: building
# and land dossiers rate lower, officials' courtesy higher, feedback handling lowest.
DESK_EFFECT = {
    "HT-STP-01": 0.15,
    "HT-SXD-01": -0.3,
    "HT-SCT-01": 0.05,
    "HT-TS-01": 0.1,
    "HT-TH-01": -0.1,
}
CRITERION_EFFECT = {
    "I.1": -0.2,
    "I.2": -0.3,
    "I.3": -0.05,
    "I.4": -0.1,
    "II.0": 0.0,
    "II.1": 0.05,
    "II.2": 0.2,
    "II.3": 0.1,
    "II.4": -0.3,
}
# A later campaign of the same desks scores a little higher (last year's plans at work).
YEAR_EFFECT = {"SIPAS-2025": -0.12, "SIPAS-2026": 0.0}
RESPONDENT_WEIGHTS = {
    "gender": {1: 48, 2: 52},
    "age_group": {1: 14, 2: 28, 3: 26, 4: 22, 5: 10},
    "ethnicity": {1: 88, 2: 12},
    "education": {1: 8, 2: 18, 3: 30, 4: 18, 5: 22, 6: 4},
    "occupation": {1: 22, 2: 14, 3: 12, 4: 26, 5: 4, 6: 14, 7: 8},
}
DESK_FIELDS = {
    "HT-STP-01": {2: 80, 99: 20},
    "HT-SXD-01": {3: 85, 99: 15},
    "HT-SCT-01": {4: 85, 99: 15},
    "HT-TS-01": {1: 40, 2: 40, 5: 10, 99: 10},
    "HT-TH-01": {1: 50, 2: 30, 5: 10, 99: 10},
}
COMMENTS = (
    "Cán bộ hướng dẫn tận tình, thủ tục nhanh gọn.",
    "Thời gian chờ còn lâu, đề nghị bố trí thêm ghế ngồi.",
    "Mong được trả kết quả qua bưu điện.",
    "Hướng dẫn hồ sơ cần rõ ràng hơn để không phải đi lại nhiều lần.",
    "Rất hài lòng với thái độ phục vụ.",
)


def _weighted(rng: random.Random, weights: dict[int, int]) -> int:
    return rng.choices(list(weights), weights=list(weights.values()))[0]


def _demo_raw(
    rng: random.Random, q: Questionnaire, desk_code: str, year: float
) -> dict[str, list[str]]:
    """One respondent's raw answers: profile first, as it shifts the ratings."""
    raw: dict[str, list[str]] = {}
    for item in q.respondent:
        weights = RESPONDENT_WEIGHTS.get(item.code) or DESK_FIELDS.get(desk_code) or {}
        weights = {c: w for c, w in weights.items() if c in item.codes} or {
            c: 1 for c in sorted(item.codes)
        }
        raw[item.code] = [str(_weighted(rng, weights))]
    age = int(raw.get("age_group", ["3"])[0])
    education = int(raw.get("education", ["3"])[0])
    # Older respondents rate higher, university graduates a little lower.
    person = rng.gauss(0, 0.45) + 0.08 * (age - 3) - 0.1 * max(education - 3, 0)
    base = 4.3 + DESK_EFFECT.get(desk_code, 0.0) + year + person
    for section in q.sections:
        criterion = CRITERION_EFFECT.get(section.code, 0.0)
        for item in section.items:
            valid = sorted(item.valid_codes)
            kind = kind_of(item)
            if kind.comment:
                if rng.random() < 0.12:
                    raw[item.code] = [rng.choice(COMMENTS)]
            elif kind.analysed and valid == [1, 2]:  # yes/no, e.g. "filed feedback?"
                raw[item.code] = ["1" if rng.random() < 0.15 else "2"]
            elif kind.analysed and len(valid) >= 3:
                no_opinion = 0.06 if section.code.startswith("I.") else 0.02
                if item.invalid_codes and rng.random() < no_opinion:
                    raw[item.code] = [str(min(item.invalid_codes))]
                else:
                    score = round(base + criterion + rng.gauss(0, 0.55))
                    raw[item.code] = [str(min(max(score, valid[0]), valid[-1]))]
            elif item.options:
                raw[item.code] = [str(rng.choice(valid))]
    return raw


def _demo_time(rng: random.Random, campaign: Campaign, today: dt.date) -> dt.datetime:
    """A weekday during office hours within the campaign period, not in the future."""
    last = min(campaign.ends_on, today - dt.timedelta(days=1))
    days = max((last - campaign.starts_on).days, 0)
    for _ in range(20):
        day = campaign.starts_on + dt.timedelta(days=rng.randint(0, days))
        if day.weekday() < 5:
            break
    minutes = rng.randint(7 * 60 + 30, 16 * 60 + 45)
    return localtime.to_utc(
        dt.datetime.combine(day, dt.time(minutes // 60, minutes % 60, rng.randint(0, 59)))
    )


def load_demo_responses(per_campaign: int = 300, seed: int = 2026) -> list[str]:
    """Demo citizen responses for each demo campaign that has none yet; fixed seed."""
    spec = load_plain(DEMO_FILE.read_text(encoding="utf-8"), DEMO_FILE.name)
    today = localtime.today()
    created: list[str] = []
    for c in spec["campaigns"]:
        campaign = db.session.scalar(select(Campaign).filter_by(code=c["code"]))
        if campaign is None or campaign.starts_on > today or per_campaign <= 0:
            continue
        if db.session.scalar(select(Submission.id).filter_by(campaign_id=campaign.id).limit(1)):
            continue
        q = definition(campaign.questionnaire_version)
        rng = random.Random(f"{seed}:{campaign.code}")
        desks = sorted(campaign.desks, key=lambda d: d.code)
        year = YEAR_EFFECT.get(campaign.code, 0.0)
        for _ in range(per_campaign):
            desk = rng.choice(desks)
            raw = _demo_raw(rng, q, desk.code, year)
            try:
                answers = submissions.validate_answers(q, raw)
            except submissions.AnswersRefused as refused:
                problems = [p.code for p in refused.problems]
                raise ValueError(
                    f"demo answers do not fit {q.id} {q.version}: {problems}"
                ) from None
            submissions.record_submission(
                db.session.connection(),
                uid=str(uuid.UUID(int=rng.getrandbits(128), version=4)),
                campaign=campaign,
                desk=desk,
                route="desk_qr",
                answers=answers,
                language="en" if rng.random() < 0.03 and "en" in q.languages else "vi",
                submitted_at=_demo_time(rng, campaign, today),
            )
        created.append(f"{per_campaign} demo responses for {campaign.code}")
    return created
