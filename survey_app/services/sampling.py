"""The sampling design of a campaign (thiết kế chọn mẫu) and its frame of returned dossiers.

An analyst chooses, per campaign, the strata (frame attributes among agency, desk,
procedure field and channel), an inclusion probability per stratum and a default for the
strata not listed, the method (Poisson or systematic), the seed that makes the selection
reproducible, the nonresponse adjustment classes, the calibration to the frame's totals
and the trimming of the final weights. :func:`check_design` validates these fields the
same way from the staff page and from a YAML file (``survey-app sampling set``), and
:func:`save_design` stores them and audits the old and new values.

A stratum is named by its label: the values of the design's strata attributes in the
order of ``FRAME_ATTRIBUTES``, joined by `` | `` (agency and desk by their codes, e.g.
``HT-STP | Hộ tịch | online``); a design without strata has one stratum, ``all``. The
selection itself is in ``services/dossier_events.py``.
"""

from __future__ import annotations

import math
import re
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

import yaml
from sqlalchemy import func, select

from scoring.text import find_refused
from survey_app.extensions import db
from survey_app.models import (
    FRAME_ATTRIBUTES,
    SAMPLING_METHODS,
    Agency,
    Campaign,
    Desk,
    FrameCell,
    SamplingDesign,
    StaffUser,
    utcnow,
)
from survey_app.services import audit
from survey_app.services.errors import Problem, ServiceError

SEPARATOR = " | "
WHOLE_FRAME = "all"  # the one stratum of a design without strata
# Attributes known for every returned dossier, and so for every selected one: the frame
# attributes and whether it was returned on time.
CLASS_ATTRIBUTES = (*FRAME_ATTRIBUTES, "on_time")
CALFUNS = ("linear", "raking")
SEED_PATTERN = re.compile(r"[A-Za-z0-9_-]{1,64}")
_TERM = re.compile(r"[a-z_]+(?::[a-z_]+)*")
DESIGN_FIELDS = (
    "strata",
    "probabilities",
    "default_probability",
    "method",
    "seed",
    "nonresponse_classes",
    "calibration",
    "trim",
)


class SamplingError(ServiceError):
    """A design that cannot be used (codes ``sampling.*``, texts in
    ``survey_app.messages.sampling``)."""


@dataclass(frozen=True)
class Design:
    """A validated sampling design, as stored in ``SamplingDesign``."""

    strata: tuple[str, ...]
    probabilities: Mapping[str, float]
    default_probability: float
    method: str
    seed: str
    nonresponse_classes: tuple[str, ...] = ()
    calibration: Mapping[str, Any] | None = None
    trim: tuple[float, float] | None = None

    def to_json(self) -> dict[str, Any]:
        """The design's fields as stored and written to YAML."""
        return {
            "strata": list(self.strata),
            "probabilities": dict(self.probabilities),
            "default_probability": self.default_probability,
            "method": self.method,
            "seed": self.seed,
            "nonresponse_classes": list(self.nonresponse_classes),
            "calibration": None if self.calibration is None else dict(self.calibration),
            "trim": None if self.trim is None else list(self.trim),
        }

    def probability(self, label: str) -> float:
        """The inclusion probability of a stratum."""
        return self.probabilities.get(label, self.default_probability)

    @classmethod
    def of(cls, row: SamplingDesign) -> Design:
        return cls(
            strata=tuple(row.strata),
            probabilities=MappingProxyType(dict(row.probabilities)),
            default_probability=row.default_probability,
            method=row.method,
            seed=row.seed,
            nonresponse_classes=tuple(row.nonresponse_classes),
            calibration=None if row.calibration is None else MappingProxyType(row.calibration),
            trim=None if row.trim is None else (row.trim[0], row.trim[1]),
        )


def new_seed() -> str:
    """A fresh seed for a new design: 16 hexadecimal digits, shown to the analyst."""
    return secrets.token_hex(8)


def stratum_label(strata: Sequence[str], values: Mapping[str, str]) -> str:
    """The label of the stratum whose attributes have ``values`` (attribute -> value)."""
    ordered = [a for a in FRAME_ATTRIBUTES if a in strata]
    if not ordered:
        return WHOLE_FRAME
    return SEPARATOR.join(values[a] for a in ordered)


def frame_values(agency: str, desk: str, procedure_field: str, channel: str) -> dict[str, str]:
    """A dossier's frame attributes as stratum labels write them (agency and desk by code)."""
    return {"agency": agency, "desk": desk, "procedure_field": procedure_field, "channel": channel}


# --------------------------------------------------------------------------- validation


@dataclass
class _Problems:
    found: list[Problem] = field(default_factory=list)

    def add(self, field_name: str, code: str, **params: Any) -> None:
        self.found.append(Problem(code, MappingProxyType(params), field_name))


def _number(value: Any) -> float | None:
    """A number typed or read from YAML (decimal comma allowed), or None if it is none."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        number = float(value)
    elif isinstance(value, str):
        try:
            number = float(value.strip().replace(",", "."))
        except ValueError:
            return None
    else:
        return None
    return number if math.isfinite(number) else None


def _probability(problems: _Problems, field_name: str, value: Any, stratum: str) -> float | None:
    number = _number(value)
    if number is None or not 0 < number <= 1:
        problems.add(field_name, "sampling.probability_invalid", stratum=stratum, value=value)
        return None
    return number


def _attributes(
    problems: _Problems, field_name: str, value: Any, allowed: Sequence[str]
) -> tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, list | tuple) or not all(isinstance(v, str) for v in value):
        problems.add(field_name, "sampling.attributes_not_list", allowed=", ".join(allowed))
        return ()
    unknown = [v for v in value if v not in allowed]
    if unknown:
        problems.add(
            field_name,
            "sampling.attribute_unknown",
            names=", ".join(unknown),
            allowed=", ".join(allowed),
        )
        return ()
    return tuple(a for a in allowed if a in value)


def _probabilities(problems: _Problems, value: Any, strata: tuple[str, ...]) -> dict[str, float]:
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        problems.add("probabilities", "sampling.probabilities_not_table")
        return {}
    found: dict[str, float] = {}
    parts = len(strata) or 1
    for label, given in value.items():
        # As the API stores values: spaces collapsed, so a label typed loosely still matches.
        values = [" ".join(part.split()) for part in str(label).split(SEPARATOR.strip())]
        label = SEPARATOR.join(values)
        if (
            not all(values)
            or find_refused(label, multiline=False) is not None
            or (not strata and label != WHOLE_FRAME)
            or len(values) != parts
        ):
            problems.add("probabilities", "sampling.stratum_malformed", stratum=label, parts=parts)
            continue
        number = _probability(problems, "probabilities", given, label)
        if number is not None:
            found[label] = number
    return found


def _bounds(
    problems: _Problems, field_name: str, value: Any, code: str
) -> tuple[float, float] | None:
    """Bounds [lo, hi] with 0 <= lo <= 1 <= hi, lo < hi, or None (none given)."""
    if value is None or value == "" or value == []:
        return None
    if isinstance(value, list | tuple) and len(value) == 2:
        lo, hi = _number(value[0]), _number(value[1])
        if lo is not None and hi is not None and 0 <= lo <= 1 <= hi and lo < hi:
            return (lo, hi)
    problems.add(field_name, code)
    return None


def _calibration(problems: _Problems, value: Any) -> dict[str, Any] | None:
    if value is None:
        return None
    if not isinstance(value, Mapping):
        problems.add("calibration", "sampling.calibration_not_table")
        return None
    formula = value.get("formula")
    terms: list[str] = []
    if isinstance(formula, str):
        body = formula.strip()
        body = body[1:] if body.startswith("~") else ""
        terms = [t.strip() for t in body.split("+")]
    if not terms or not all(_TERM.fullmatch(t) for t in terms):
        problems.add("calibration_formula", "sampling.formula_invalid", formula=formula)
        return None
    unknown = sorted({n for t in terms for n in t.split(":")} - set(CLASS_ATTRIBUTES))
    if unknown:
        problems.add(
            "calibration_formula",
            "sampling.attribute_unknown",
            names=", ".join(unknown),
            allowed=", ".join(CLASS_ATTRIBUTES),
        )
        return None
    calfun = value.get("calfun")
    if calfun not in CALFUNS:
        problems.add("calibration_calfun", "sampling.calfun_unknown", calfun=calfun)
        return None
    bounds = _bounds(problems, "calibration_bounds", value.get("bounds"), "sampling.bounds_invalid")
    return {
        "formula": "~" + " + ".join(terms),
        "calfun": calfun,
        "bounds": None if bounds is None else list(bounds),
    }


def check_design(data: Mapping[str, Any]) -> Design:
    """The design that ``data`` (the fields of DESIGN_FIELDS) describes, or SamplingError
    naming every problem."""
    problems = _Problems()
    unknown = sorted(set(data) - set(DESIGN_FIELDS))
    if unknown:
        problems.add("", "sampling.field_unknown", names=", ".join(unknown))
    before = len(problems.found)
    strata = _attributes(problems, "strata", data.get("strata"), FRAME_ATTRIBUTES)
    probabilities: dict[str, float] = {}
    if len(problems.found) == before:  # labels are checked against valid strata only
        probabilities = _probabilities(problems, data.get("probabilities"), strata)
    default = _number(data.get("default_probability"))
    if default is None or not 0 < default <= 1:
        problems.add(
            "default_probability",
            "sampling.default_invalid",
            value=data.get("default_probability"),
        )
    method = data.get("method")
    if method not in SAMPLING_METHODS:
        problems.add("method", "sampling.method_unknown", method=method)
    seed = data.get("seed")
    if not isinstance(seed, str) or not SEED_PATTERN.fullmatch(seed.strip()):
        problems.add("seed", "sampling.seed_invalid")
    classes = _attributes(
        problems, "nonresponse_classes", data.get("nonresponse_classes"), CLASS_ATTRIBUTES
    )
    calibration = _calibration(problems, data.get("calibration"))
    trim = _bounds(problems, "trim", data.get("trim"), "sampling.trim_invalid")
    if problems.found:
        raise SamplingError(*problems.found)
    assert default is not None and isinstance(seed, str) and isinstance(method, str)
    return Design(
        strata=strata,
        probabilities=MappingProxyType(probabilities),
        default_probability=default,
        method=method,
        seed=seed.strip(),
        nonresponse_classes=classes,
        calibration=None if calibration is None else MappingProxyType(calibration),
        trim=trim,
    )


# --------------------------------------------------------------------------- storage


def design_row(campaign: Campaign) -> SamplingDesign | None:
    return db.session.scalar(select(SamplingDesign).filter_by(campaign_id=campaign.id))


def current(campaign: Campaign) -> Design | None:
    """The campaign's sampling design, or None when it samples no dossiers."""
    row = design_row(campaign)
    return None if row is None else Design.of(row)


def save_design(campaign: Campaign, design: Design, user: StaffUser | None = None) -> bool:
    """Store the design of a campaign and audit the change (old and new values); False
    when it is the design already stored. The caller commits."""
    row = design_row(campaign)
    old = None if row is None else Design.of(row).to_json()
    new = design.to_json()
    if old == new:
        return False
    if row is None:
        row = SamplingDesign(campaign_id=campaign.id)
        db.session.add(row)
    for name, value in new.items():
        setattr(row, name, value)
    row.updated_by_id = None if user is None else user.id
    row.updated_at = utcnow()
    db.session.flush()
    changed = sorted(n for n in new if old is None or old[n] != new[n])
    audit.record(
        "sampling.design",
        campaign.code,
        actor=user,
        changed=changed,
        old=None if old is None else {n: old[n] for n in changed},
        new={n: new[n] for n in changed},
    )
    return True


# --------------------------------------------------------------------------- the frame


@dataclass(frozen=True)
class FrameStratum:
    """One stratum of the frame: its label and attribute values, the dossiers returned
    and selected so far, and its inclusion probability under the design (if any)."""

    label: str
    values: Mapping[str, str]
    returned: int
    selected: int
    probability: float | None

    @property
    def rate(self) -> float | None:
        """The share of its returned dossiers selected so far."""
        return self.selected / self.returned if self.returned else None


def frame(campaign: Campaign, strata: Sequence[str], design: Design | None) -> list[FrameStratum]:
    """The returned and selected dossiers of a campaign per stratum of ``strata``, with the
    strata that ``design`` lists but the frame has not seen yet (counts 0)."""
    rows = db.session.execute(
        select(
            Agency.code,
            Desk.code,
            FrameCell.procedure_field,
            FrameCell.channel,
            func.sum(FrameCell.returned),
            func.sum(FrameCell.selected),
        )
        .join(Desk, FrameCell.desk_id == Desk.id)
        .join(Agency, Desk.agency_id == Agency.id)
        .where(FrameCell.campaign_id == campaign.id)
        .group_by(Agency.code, Desk.code, FrameCell.procedure_field, FrameCell.channel)
    ).all()
    totals: dict[str, list[int]] = {}
    values_of: dict[str, dict[str, str]] = {}
    for agency, desk, procedure_field, channel, returned, selected in rows:
        values = frame_values(agency, desk, procedure_field, channel)
        label = stratum_label(strata, values)
        values_of.setdefault(label, {a: values[a] for a in FRAME_ATTRIBUTES if a in strata})
        counts = totals.setdefault(label, [0, 0])
        counts[0] += int(returned)
        counts[1] += int(selected)
    if design is not None and tuple(design.strata) == tuple(strata):
        for label in design.probabilities:
            if label not in totals:
                totals[label] = [0, 0]
                ordered = [a for a in FRAME_ATTRIBUTES if a in strata]
                values_of[label] = dict(zip(ordered, label.split(SEPARATOR), strict=False))
    return [
        FrameStratum(
            label=label,
            values=MappingProxyType(values_of[label]),
            returned=counts[0],
            selected=counts[1],
            probability=None if design is None else design.probability(label),
        )
        for label, counts in sorted(totals.items())
    ]


# --------------------------------------------------------------------------- forms and files

PROBABILITY_PREFIX = "p:"


def _pair(low: str, high: str) -> list[str] | None:
    """Two bounds typed in a form, or None when both are empty."""
    low, high = low.strip(), high.strip()
    return None if not low and not high else [low, high]


def form_data(form: Mapping[str, str], lists: Mapping[str, list[str]]) -> dict[str, Any]:
    """The design's fields as the staff page posts them (``lists``: the checkbox groups),
    for :func:`check_design`. An empty probability leaves its stratum at the default; an
    empty calibration formula means no calibration."""
    formula = form.get("calibration_formula", "").strip()
    calibration = None
    if formula:
        calibration = {
            "formula": formula,
            "calfun": form.get("calibration_calfun", ""),
            "bounds": _pair(form.get("bounds_low", ""), form.get("bounds_high", "")),
        }
    return {
        "strata": lists.get("strata", []),
        "probabilities": {
            name.removeprefix(PROBABILITY_PREFIX): value
            for name, value in form.items()
            if name.startswith(PROBABILITY_PREFIX) and value.strip()
        },
        "default_probability": form.get("default_probability", ""),
        "method": form.get("method", ""),
        "seed": form.get("seed", ""),
        "nonresponse_classes": lists.get("nonresponse_classes", []),
        "calibration": calibration,
        "trim": _pair(form.get("trim_low", ""), form.get("trim_high", "")),
    }


def read_yaml(text: str, campaign: Campaign) -> Design:
    """The design a YAML file describes (the fields of DESIGN_FIELDS); without ``seed``,
    the campaign's current seed, or a new one."""
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as error:
        raise SamplingError.of("sampling.file_unreadable", detail=str(error)) from None
    if not isinstance(data, dict):
        raise SamplingError.of("sampling.file_unreadable", detail="not a mapping of fields")
    if data.get("seed") is None:
        existing = current(campaign)
        data["seed"] = new_seed() if existing is None else existing.seed
    if isinstance(data.get("seed"), int):
        data["seed"] = str(data["seed"])
    return check_design(data)


def to_yaml(design: Design) -> str:
    return yaml.safe_dump(design.to_json(), allow_unicode=True, sort_keys=False)
