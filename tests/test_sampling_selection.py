"""Selection of returned dossiers: Poisson draws that anyone with the seed can redo, in
any order of arrival; systematic counts exact to within one; realised rates close to the
inclusion probabilities; the probability recorded with the code."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import math
import random

import pytest
from flask import Flask
from sqlalchemy import select

from survey_app.extensions import db
from survey_app.models import DossierCode, FrameCell, SampledDossier
from survey_app.services import dossier_codes, dossier_events
from tests.sampling_support import API_SECRET, event, seed_sampling, set_design


def _uniform_by_hand(seed: str, text: str) -> float:
    """The draw written out: HMAC-SHA256 keyed with the seed, first 8 bytes over 2^64."""
    digest = hmac.new(seed.encode(), text.encode(), hashlib.sha256).digest()
    return int.from_bytes(digest[:8], "big") / 18446744073709551616


@pytest.fixture
def sampling_app(make_app) -> Flask:  # type: ignore[no-untyped-def]
    app = make_app(ONESTOP_API_SECRET=API_SECRET)
    with app.app_context():
        db.create_all()
    seed_sampling(app)
    return app


def _record(app: Flask, refs: list[str], **fields: object) -> None:
    """Each dossier returned at TP-1, in the order given, as the API records it."""
    with app.app_context():
        for ref in refs:
            body = event(ref, **fields)  # type: ignore[arg-type]
            dossier_events.record(
                dossier_events.EventIn(
                    kind="returned",
                    dossier_ref=ref,
                    desk_code=body["desk"],
                    procedure_field=body["procedure_field"],
                    channel=body["channel"],
                    received_on=_day(body["received_on"]),
                    returned_on=_day(body["returned_on"]),
                    on_time=body["on_time"],
                )
            )
        db.session.commit()


def _day(text: str) -> dt.date:
    return dt.date.fromisoformat(text)


def _selected(app: Flask) -> set[str]:
    with app.app_context():
        return set(db.session.scalars(select(SampledDossier.dossier_hash)))


def _hashes(app: Flask, refs: list[str]) -> dict[str, str]:
    with app.app_context():
        return {ref: dossier_codes.stored_hash(ref) for ref in refs}


REFS = [f"000.00.23.H23-260101-{n:04d}" for n in range(1, 121)]


def test_poisson_selection_is_the_seeded_draw_whatever_the_arrival_order(
    make_app,  # type: ignore[no-untyped-def]
) -> None:
    selections = []
    for order in (REFS, list(reversed(REFS)), random.Random(7).sample(REFS, len(REFS))):
        app = make_app(ONESTOP_API_SECRET=API_SECRET)
        with app.app_context():
            db.drop_all()
            db.create_all()
        seed_sampling(app)
        set_design(app, seed="graine-2026", default_probability=0.3)
        _record(app, order)
        selections.append(_selected(app))
    hashes = _hashes(app, REFS)
    by_hand = {h for h in hashes.values() if _uniform_by_hand("graine-2026", h) < 0.3}
    assert selections[0] == selections[1] == selections[2] == by_hand
    assert 20 <= len(by_hand) <= 52  # 120 x 0.3 = 36, sd 5


def test_another_seed_selects_other_dossiers(sampling_app: Flask) -> None:
    hashes = _hashes(sampling_app, REFS)
    first = {h for h in hashes.values() if dossier_events.poisson_selected("a", h, 0.3)}
    second = {h for h in hashes.values() if dossier_events.poisson_selected("b", h, 0.3)}
    assert first != second


@pytest.mark.parametrize("probability", [0.05, 0.1, 1 / 3, 0.5, 0.77, 1.0])
def test_systematic_selects_floor_of_start_plus_k_pi_after_every_dossier(
    probability: float,
) -> None:
    """After k dossiers of a stratum exactly floor(s + k pi) - floor(s) are selected, s the
    stratum's start: so |selected - k pi| < 1 at every k."""
    start = _uniform_by_hand("seed", "systematic P-TP")
    selected = 0
    for k in range(1, 2001):
        selected += dossier_events.systematic_selected("seed", "P-TP", k, probability)
        assert selected == math.floor(start + k * probability)
        assert abs(selected - k * probability) < 1


def test_systematic_counts_each_stratum_on_its_own(sampling_app: Flask) -> None:
    set_design(sampling_app, method="systematic", strata=["desk"], default_probability=0.25)
    _record(sampling_app, [f"TP1-{n}" for n in range(37)])
    _record(sampling_app, [f"TP2-{n}" for n in range(22)], desk="TP-2")
    with sampling_app.app_context():
        cells = {
            c.desk.code: (c.returned, c.selected) for c in db.session.scalars(select(FrameCell))
        }
        strata = dict(
            db.session.execute(
                select(SampledDossier.stratum, db.func.count()).group_by(SampledDossier.stratum)
            ).all()
        )
    for desk, n in (("TP-1", 37), ("TP-2", 22)):
        expected = math.floor(_uniform_by_hand("s1", f"systematic {desk}") + n * 0.25)
        assert cells[desk] == (n, expected)
        assert strata[desk] == expected


def test_realised_rate_is_close_to_the_inclusion_probability() -> None:
    """20,000 dossiers at pi = 0.1 with a fixed seed: 2,000 expected, sd 42.4; this seed
    selects 2,044, about 1 sd above (a deterministic check against 3 sd)."""
    hashes = [hashlib.sha256(f"hs-{n}".encode()).hexdigest() for n in range(20_000)]
    selected = sum(dossier_events.poisson_selected("fixed-seed", h, 0.1) for h in hashes)
    assert selected == 2044
    assert abs(selected - 2000) < 3 * math.sqrt(20_000 * 0.1 * 0.9)
    per_stratum = [
        sum(dossier_events.poisson_selected("fixed-seed", h, p) for h in hashes[:5000])
        for p in (0.02, 0.5, 0.9)
    ]
    for count, p in zip(per_stratum, (0.02, 0.5, 0.9), strict=True):
        assert abs(count - 5000 * p) < 3 * math.sqrt(5000 * p * (1 - p))


def test_the_inclusion_probability_is_recorded_with_the_code_of_each_stratum(
    sampling_app: Flask,
) -> None:
    set_design(
        sampling_app,
        strata=["channel"],
        probabilities={"online": 1.0, "desk": 0.999999},
        default_probability=0.5,
    )
    _record(sampling_app, ["HS-ON"], channel="online")
    _record(sampling_app, ["HS-DESK"])
    with sampling_app.app_context():
        rows = db.session.execute(
            select(SampledDossier.stratum, SampledDossier.probability, DossierCode)
            .join(DossierCode, SampledDossier.dossier_code_id == DossierCode.id)
            .order_by(SampledDossier.stratum)
        ).all()
    assert [(s, p, c.inclusion_probability) for s, p, c in rows] == [
        ("desk", 0.999999, 0.999999),
        ("online", 1.0, 1.0),
    ]
