"""Dossier events of the one-stop software (phần mềm một cửa), and the selection of returned
dossiers into a campaign's probability sample.

The software reports each dossier twice: when a desk receives it and when its result is
returned. An event is stored once (``DossierEvent.event_key``, a keyed hash of the dossier
number and the kind): a retried or duplicated event stores nothing new and gets the same
answer, also when two copies arrive at once (the UNIQUE key decides: INSERT ... ON
CONFLICT DO NOTHING).
The dossier number is kept only as the keyed hash a submission through its code stores.

A returned dossier at a desk of a running campaign is counted in the campaign's frame
(``FrameCell``: desk x procedure field x channel x on time). When the campaign has a
sampling design (services/sampling.py), the dossier's selection is decided then, because
group II.3 "Kết quả dịch vụ" can only be judged once the result is out:

- Poisson: selected iff ``u < pi``, where ``u`` in [0, 1) is read from HMAC-SHA256 keyed
  with the campaign's seed over the dossier's hash. Each dossier is selected independently
  with its stratum's probability, whatever the order in which dossiers arrive, and anyone
  with the seed and the stored hashes can redo the draw.
- Systematic: within each stratum, with a start ``s`` in [0, 1) read from the seed and the
  stratum's label, the k-th returned dossier is selected iff ``floor(s + k pi)`` exceeds
  ``floor(s + (k - 1) pi)``; after n dossiers exactly ``floor(s + n pi)`` are selected,
  within 1 of ``n pi``. ``k`` is the stratum's running count of returned dossiers in the
  frame, read and raised while the design's row is locked, so concurrent events count
  one after another.

A selected dossier gets a dossier code (derived from its hash, so a retry finds it again)
recording its inclusion probability, and a ``SampledDossier`` row.

What became of an invitation that the data cannot tell (:func:`record_disposition`): the
software reports a code it could not deliver (``not_delivered``), a dossier that turned
out not to belong to the survey's population (``ineligible``: withdrawn, filed by an
organisation, ...) or one whose eligibility it cannot establish (``unknown``); a later
report replaces an earlier one, ``delivered`` clears it. The response rates read it.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Table, func, select, update
from sqlalchemy.dialects import postgresql, sqlite

from survey_app.extensions import db
from survey_app.models import (
    SAMPLE_DISPOSITIONS,
    Agency,
    Campaign,
    Desk,
    DossierCode,
    DossierEvent,
    FrameCell,
    SampledDossier,
    SamplingDesign,
    SubmissionKey,
    utcnow,
)
from survey_app.services import audit, dossier_codes, organisation, sampling, slips
from survey_app.services.errors import Conflict, NotFound

EVENT_KINDS = ("received", "returned")
# What the software may report of an invitation: a final disposition, or "delivered"
# (the code reached the citizen: no disposition, the answer decides).
DISPOSITIONS = (*SAMPLE_DISPOSITIONS, "delivered")


@dataclass(frozen=True)
class EventIn:
    """One event as the one-stop software reports it (already checked for form)."""

    kind: str
    dossier_ref: str
    desk_code: str
    procedure_field: str
    channel: str
    received_on: dt.date
    returned_on: dt.date | None = None
    on_time: bool | None = None


@dataclass(frozen=True)
class EventAnswer:
    """What the software is told: the campaign whose frame counted a returned dossier,
    and for a selected one its stratum, inclusion probability and slip."""

    kind: str
    campaign: str | None
    selected: bool
    stratum: str | None = None
    probability: float | None = None
    slip: slips.Slip | None = None


def _event_key(dossier_ref: str, kind: str) -> str:
    return hmac.new(
        dossier_codes.dossier_id(dossier_ref), f"event {kind}".encode(), hashlib.sha256
    ).hexdigest()


def uniform(seed: str, text: str) -> float:
    """A number in [0, 1) drawn from the seed and a text: HMAC-SHA256(seed, text), its first
    8 bytes read as an unsigned integer over 2^64."""
    digest = hmac.new(seed.encode(), text.encode(), hashlib.sha256).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def poisson_selected(seed: str, dossier_hash: str, probability: float) -> bool:
    """Poisson sampling: the dossier is selected iff its uniform is below its probability."""
    return uniform(seed, dossier_hash) < probability


def systematic_selected(seed: str, stratum: str, count: int, probability: float) -> bool:
    """Systematic sampling: whether the ``count``-th dossier of a stratum (from 1) is
    selected, i.e. ``floor(s + k pi) > floor(s + (k - 1) pi)`` for the stratum's start s."""
    start = uniform(seed, f"systematic {stratum}")
    return math.floor(start + count * probability) > math.floor(start + (count - 1) * probability)


def record_all(events: Sequence[EventIn]) -> list[EventAnswer]:
    """Record events (see :func:`record`), answering in their order.

    They are stored in one order for every request, by frame cell and then dossier: two
    requests whose lists share cells take the cells' row locks in the same order, so on
    PostgreSQL one waits for the other instead of both waiting for each other.
    """
    answers: dict[int, EventAnswer] = {}
    order = sorted(
        range(len(events)),
        key=lambda i: (
            events[i].desk_code,
            events[i].procedure_field,
            events[i].channel,
            events[i].on_time is None,
            bool(events[i].on_time),
            events[i].dossier_ref,
            events[i].kind,
        ),
    )
    for index in order:
        answers[index] = record(events[index])
    return [answers[i] for i in range(len(events))]


def record(event: EventIn) -> EventAnswer:
    """Store an event (once) and, for a returned dossier, count it and decide its selection.

    Raises UnknownDesk for a desk that does not exist or is inactive, and Conflict when
    the dossier's event of this kind was stored before with other details. Adds to the
    session; the caller commits.
    """
    desk = dossier_codes.active_desk(event.desk_code)
    key = _event_key(event.dossier_ref, event.kind)
    stored = db.session.scalar(select(DossierEvent).filter_by(event_key=key))
    if stored is None:
        campaign = (
            organisation.current_campaign(desk, event.returned_on)
            if event.returned_on is not None
            else None
        )
        dossier_hash = dossier_codes.stored_hash(event.dossier_ref)
        new_id = _insert_new(
            DossierEvent,
            event_key=key,
            kind=event.kind,
            campaign_id=None if campaign is None else campaign.id,
            dossier_hash=dossier_hash,
            desk_id=desk.id,
            procedure_field=event.procedure_field,
            channel=event.channel,
            received_on=event.received_on,
            returned_on=event.returned_on,
            on_time=event.on_time,
            recorded_at=utcnow(),
        )
        if new_id is not None:
            if campaign is None:
                return EventAnswer(event.kind, None, False)
            return _count_and_select(campaign, desk, event, dossier_hash)
        # The same event was stored meanwhile by a concurrent request: answer as it did.
        stored = db.session.scalars(select(DossierEvent).filter_by(event_key=key)).one()
    _check_same(stored, desk, event)
    return _answer_again(stored, desk, event)


def _check_same(stored: DossierEvent, desk: Desk, event: EventIn) -> None:
    given = (
        desk.id,
        event.procedure_field,
        event.channel,
        event.received_on,
        event.returned_on,
        event.on_time,
    )
    before = (
        stored.desk_id,
        stored.procedure_field,
        stored.channel,
        stored.received_on,
        stored.returned_on,
        stored.on_time,
    )
    if given != before:
        raise Conflict.of("sampling.event_differs", kind=event.kind)


def _answer_again(stored: DossierEvent, desk: Desk, event: EventIn) -> EventAnswer:
    """The answer given when the event was stored, from what was stored."""
    if stored.campaign_id is None:
        return EventAnswer(event.kind, None, False)
    campaign = db.session.get_one(Campaign, stored.campaign_id)
    sampled = db.session.scalar(
        select(SampledDossier).filter_by(campaign_id=campaign.id, dossier_hash=stored.dossier_hash)
    )
    if sampled is None or sampled.dossier_code_id is None:
        return EventAnswer(event.kind, campaign.code, False)
    row = db.session.get_one(DossierCode, sampled.dossier_code_id)
    code = dossier_codes.sampled_code(row, event.dossier_ref)
    return EventAnswer(
        event.kind,
        campaign.code,
        True,
        sampled.stratum,
        sampled.probability,
        slips.slip(code, desk),
    )


def _frame_cell(campaign: Campaign, desk: Desk, event: EventIn) -> int:
    """The id of the frame cell of a returned dossier, created if new."""
    assert event.on_time is not None
    where = {
        "campaign_id": campaign.id,
        "desk_id": desk.id,
        "procedure_field": event.procedure_field,
        "channel": event.channel,
        "on_time": event.on_time,
    }
    found = db.session.scalar(select(FrameCell.id).filter_by(**where))
    if found is None:
        found = _insert_new(FrameCell, **where, returned=0, selected=0)
    if found is None:  # created meanwhile by a concurrent event
        found = db.session.scalars(select(FrameCell.id).filter_by(**where)).one()
    return found


def _insert_new(model: type[DossierEvent] | type[FrameCell], **values: Any) -> int | None:
    """INSERT ... ON CONFLICT DO NOTHING RETURNING id: the new row's id, or None when a row
    with one of its UNIQUE values exists (on PostgreSQL, once the request that wrote that
    row has committed). No savepoint: a refused row leaves the transaction usable."""
    table = model.__table__
    assert isinstance(table, Table)
    dialect = db.session.get_bind().dialect.name
    insert = (postgresql.insert if dialect == "postgresql" else sqlite.insert)(table)
    statement = insert.values(**values).on_conflict_do_nothing().returning(table.c.id)
    new_id: int | None = db.session.scalar(statement)
    return new_id


def _count_and_select(
    campaign: Campaign, desk: Desk, event: EventIn, dossier_hash: str
) -> EventAnswer:
    design_query = select(SamplingDesign).filter_by(campaign_id=campaign.id)
    design_row = db.session.scalar(design_query)
    if design_row is not None and design_row.method == "systematic":
        # Counts of a stratum are read and raised one event at a time.
        design_row = db.session.scalar(design_query.with_for_update())
    cell_id = _frame_cell(campaign, desk, event)
    db.session.execute(
        update(FrameCell).where(FrameCell.id == cell_id).values(returned=FrameCell.returned + 1)
    )
    if design_row is None:
        return EventAnswer(event.kind, campaign.code, False)
    design = sampling.Design.of(design_row)
    values = sampling.frame_values(
        desk.agency.code, desk.code, event.procedure_field, event.channel
    )
    stratum = sampling.stratum_label(design.strata, values)
    probability = design.probability(stratum)
    if design.method == "systematic":
        count = _stratum_count(campaign, design, values)
        selected = systematic_selected(design.seed, stratum, count, probability)
    else:
        selected = poisson_selected(design.seed, dossier_hash, probability)
    if not selected:
        return EventAnswer(event.kind, campaign.code, False)
    db.session.execute(
        update(FrameCell).where(FrameCell.id == cell_id).values(selected=FrameCell.selected + 1)
    )
    code, code_id = dossier_codes.issue_sampled(desk, event.dossier_ref, probability)
    assert event.returned_on is not None and event.on_time is not None
    db.session.add(
        SampledDossier(
            campaign_id=campaign.id,
            dossier_hash=dossier_hash,
            desk_id=desk.id,
            procedure_field=event.procedure_field,
            channel=event.channel,
            on_time=event.on_time,
            stratum=stratum,
            probability=probability,
            returned_on=event.returned_on,
            dossier_code_id=code_id,
        )
    )
    db.session.flush()
    return EventAnswer(
        event.kind, campaign.code, True, stratum, probability, slips.slip(code, desk)
    )


def _stratum_count(campaign: Campaign, design: sampling.Design, values: dict[str, str]) -> int:
    """The dossiers of the campaign's frame in the stratum of ``values`` (this one included)."""
    query = (
        select(func.coalesce(func.sum(FrameCell.returned), 0))
        .join(Desk, FrameCell.desk_id == Desk.id)
        .join(Agency, Desk.agency_id == Agency.id)
        .where(FrameCell.campaign_id == campaign.id)
    )
    columns = {
        "agency": Agency.code,
        "desk": Desk.code,
        "procedure_field": FrameCell.procedure_field,
        "channel": FrameCell.channel,
    }
    for attribute in design.strata:
        query = query.where(columns[attribute] == values[attribute])
    return int(db.session.scalar(query) or 0)


@dataclass(frozen=True)
class DispositionAnswer:
    """A selected dossier's campaign and its disposition as now stored."""

    campaign: str
    disposition: str


def record_disposition(dossier_ref: str, disposition: str) -> DispositionAnswer:
    """Store what became of a selected dossier's invitation (see the module); the caller
    commits. Sending the same again changes nothing.

    Raises NotFound for a dossier that was not selected, and Conflict for one whose
    survey was answered (its disposition is ``complete``, whatever is reported).
    """
    assert disposition in DISPOSITIONS
    dossier_hash = dossier_codes.stored_hash(dossier_ref)
    sampled = db.session.scalar(
        select(SampledDossier).filter_by(dossier_hash=dossier_hash).with_for_update()
    )
    if sampled is None:
        raise NotFound.of("sampling.dossier_not_selected")
    campaign = db.session.get_one(Campaign, sampled.campaign_id)
    answered = db.session.scalar(
        select(SubmissionKey.id).filter_by(campaign_id=campaign.id, dossier_code=dossier_hash)
    )
    if answered is not None:
        raise Conflict.of("sampling.dossier_answered")
    stored = None if disposition == "delivered" else disposition
    if sampled.disposition != stored:
        audit.record(
            "sampling.disposition",
            campaign.code,
            stratum=sampled.stratum,
            before=sampled.disposition or "delivered",
            after=disposition,
        )
        sampled.disposition = stored
        db.session.flush()
    return DispositionAnswer(campaign.code, disposition)
