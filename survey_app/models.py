"""Database models. Invariants live here as named constraints."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from flask_login import UserMixin
from sqlalchemy import (
    JSON,
    CheckConstraint,
    Column,
    Connection,
    Date,
    DateTime,
    ForeignKey,
    ForeignKeyConstraint,
    Numeric,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
    UniqueConstraint,
    event,
    false,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column, relationship

from survey_app.extensions import Model

ROUTES = ("desk_qr", "dossier", "paper")
# jsonb on PostgreSQL: stored parsed, so analysis reads single answers without parsing text.
ANSWERS_JSON = JSON().with_variant(JSONB(), "postgresql")
ROLES = ("admin", "analyst", "officer", "viewer")


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


class Agency(Model):
    """A node of the administrative tree: province > department or commune > ...

    Cơ quan: the tree has no fixed depth (districts were abolished in 2025).
    """

    __tablename__ = "agencies"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(255))
    kind: Mapped[str] = mapped_column(String(32))
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("agencies.id"), index=True)

    parent: Mapped[Agency | None] = relationship(remote_side=[id], back_populates="children")
    children: Mapped[list[Agency]] = relationship(back_populates="parent")
    desks: Mapped[list[Desk]] = relationship(back_populates="agency")


class Desk(Model):
    """A one-stop desk (bộ phận một cửa) where citizens scan the QR poster."""

    __tablename__ = "desks"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(255))
    agency_id: Mapped[int] = mapped_column(ForeignKey("agencies.id"), index=True)
    # Random, so survey URLs of other desks cannot be guessed from codes.
    public_id: Mapped[str] = mapped_column(String(32), unique=True)
    active: Mapped[bool] = mapped_column(default=True)

    agency: Mapped[Agency] = relationship(back_populates="desks")


class QuestionnaireVersion(Model):
    """One loaded version of a questionnaire YAML; never changed once answered."""

    __tablename__ = "questionnaire_versions"
    __table_args__ = (
        UniqueConstraint("questionnaire_id", "version", name="questionnaire_version"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    questionnaire_id: Mapped[str] = mapped_column(String(64))
    version: Mapped[str] = mapped_column(String(32))
    title: Mapped[str] = mapped_column(String(255))
    content_hash: Mapped[str] = mapped_column(String(64))
    # The YAML text is read once per content hash (services.questionnaires.definition):
    # deferred, so the submit path does not fetch ~20 kB per request.
    source: Mapped[str] = mapped_column(Text, deferred=True)
    loaded_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)


campaign_desks = Table(
    "campaign_desks",
    Model.metadata,
    Column("campaign_id", ForeignKey("campaigns.id", ondelete="CASCADE"), primary_key=True),
    Column("desk_id", ForeignKey("desks.id"), primary_key=True),
)


class Campaign(Model):
    """Đợt khảo sát: one questionnaire version at a set of desks for a period."""

    __tablename__ = "campaigns"
    __table_args__ = (CheckConstraint("ends_on >= starts_on", name="period_order"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(255))
    agency_id: Mapped[int] = mapped_column(ForeignKey("agencies.id"), index=True)
    questionnaire_version_id: Mapped[int] = mapped_column(ForeignKey("questionnaire_versions.id"))
    starts_on: Mapped[dt.date] = mapped_column(Date)
    ends_on: Mapped[dt.date] = mapped_column(Date)
    # Weighting and CI choices of the analysts (design, margins, method, level).
    settings: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)

    agency: Mapped[Agency] = relationship()
    questionnaire_version: Mapped[QuestionnaireVersion] = relationship()
    desks: Mapped[list[Desk]] = relationship(secondary=campaign_desks)


class ImportBatch(Model):
    """A paper-survey file imported by staff; the file hash detects re-imports."""

    __tablename__ = "import_batches"
    __table_args__ = (UniqueConstraint("campaign_id", "file_sha256", name="campaign_file"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id"))
    file_sha256: Mapped[str] = mapped_column(String(64))
    filename: Mapped[str] = mapped_column(String(255))
    row_count: Mapped[int]
    imported_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id"))
    imported_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)


class PaperForm(Model):
    """A paper form (phiếu giấy) imported, by the number written on it (số phiếu).

    The number is unique per desk within a campaign: the same forms re-saved or re-typed
    in another file are refused by content, not only by the file's bytes. Per desk, not per
    campaign: agencies of a province-wide campaign number their own forms, each from 1.
    """

    __tablename__ = "paper_forms"
    __table_args__ = (
        UniqueConstraint("campaign_id", "desk_id", "form_id", name="campaign_desk_form"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id"))
    desk_id: Mapped[int] = mapped_column(ForeignKey("desks.id"))
    form_id: Mapped[str] = mapped_column(String(64))
    import_batch_id: Mapped[int] = mapped_column(ForeignKey("import_batches.id"), index=True)


class DossierCode(Model):
    """A short dossier code issued (mã đánh giá theo hồ sơ), stored by keyed hashes only.

    ``code_hash`` is a keyed hash of the code, so whoever reads the database cannot answer
    with the codes; ``dossier_hash`` is the keyed hash of the dossier that a submission
    through any of its codes stores in ``Submission.dossier_code`` (one dossier, one
    answer). Neither reveals the dossier number (services/dossier_codes.py).
    """

    __tablename__ = "dossier_codes"

    id: Mapped[int] = mapped_column(primary_key=True)
    code_hash: Mapped[str] = mapped_column(String(64), unique=True)
    desk_id: Mapped[int] = mapped_column(ForeignKey("desks.id"), index=True)
    dossier_hash: Mapped[str] = mapped_column(String(64))
    issued_at: Mapped[dt.datetime] = mapped_column(DateTime)
    expires_at: Mapped[dt.datetime] = mapped_column(DateTime)
    # The dossier's probability of selection, for a code issued to a sampled dossier.
    inclusion_probability: Mapped[float | None]


class Submission(Model):
    """One citizen's completed questionnaire (phiếu khảo sát), stored exactly once.

    The answers are checked against the questionnaire version before they are
    stored (``services.submissions.validate_answers``), so every code is on its
    item's scale and every shown required item is answered.

    On PostgreSQL the table is partitioned by campaign (``PARTITION BY LIST
    (campaign_id)``): a partition ``submissions_c<campaign id>`` made with the campaign
    (:func:`create_submission_partition`), and ``submissions_default`` for a campaign
    without one, so an INSERT never fails for want of a partition. PostgreSQL wants the
    partition key in every unique constraint of a partitioned table, so the primary key is
    (campaign_id, id) and the keys that must be unique in the whole database (``uid``,
    ``receipt``, ``dossier_code``) are claimed in :class:`SubmissionKey`, an unpartitioned
    table written by the same statement (see ``services.submissions.record_submission``).
    The columns here are copies of the claim's, for the readers of a campaign's rows.
    SQLite keeps a plain table with the same keys and the same claims table.

    A submission is deleted by deleting its claim: ON DELETE CASCADE takes the row and its
    comment review with it (``services.paper_batches.undo_batch`` deletes all three
    itself, as SQLite enforces no foreign key).
    """

    __tablename__ = "submissions"
    __table_args__ = (
        # Also the index of a campaign's newest id and its count (the analysis cache's
        # version, read on every dashboard request), and of every per-campaign scan: the
        # former ix_submissions_campaign_id had these very columns.
        PrimaryKeyConstraint("campaign_id", "id", name="pk_submissions"),
        # With the campaign, so that deleting a claim finds its row by the primary key in
        # the campaign's partition, and a row cannot sit in another campaign than its claim.
        ForeignKeyConstraint(
            ["campaign_id", "id"],
            ["submission_keys.campaign_id", "submission_keys.id"],
            ondelete="CASCADE",
            name="fk_submissions_claim",
        ),
        CheckConstraint("route IN ('desk_qr', 'dossier', 'paper')", name="route_known"),
        CheckConstraint(
            "(route = 'dossier') = (dossier_code IS NOT NULL)", name="dossier_code_iff_route"
        ),
        CheckConstraint("jsonb_typeof(answers) = 'object'", name="answers_object").ddl_if(
            dialect="postgresql"
        ),
        CheckConstraint("json_type(answers) = 'object'", name="answers_object").ddl_if(
            dialect="sqlite"
        ),
        {"postgresql_partition_by": "LIST (campaign_id)"},
    )

    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id"))
    # The claim's id (SubmissionKey.id allocates it): no row without its claim, and deleting
    # the claim deletes the row (fk_submissions_claim above).
    id: Mapped[int] = mapped_column(autoincrement=False)
    # The id carried by the rendered form: a retry with the same id stores nothing new.
    uid: Mapped[str] = mapped_column(String(36))
    receipt: Mapped[str] = mapped_column(String(16))
    desk_id: Mapped[int] = mapped_column(ForeignKey("desks.id"), index=True)
    questionnaire_version_id: Mapped[int] = mapped_column(ForeignKey("questionnaire_versions.id"))
    route: Mapped[str] = mapped_column(String(16))
    # The dossier's keyed hash; spent by SubmissionKey.dossier_code, in the same statement.
    dossier_code: Mapped[str | None] = mapped_column(String(64))
    language: Mapped[str] = mapped_column(String(8))
    # The validated answers, item code -> choice code, sorted list of codes (multiple
    # choice), number as a decimal string, or text: one document per submission, written
    # with it in one statement (services.submissions.stored_answers gives the form).
    answers: Mapped[dict[str, Any]] = mapped_column(ANSWERS_JSON)
    client_hash: Mapped[str | None] = mapped_column(String(32))
    import_batch_id: Mapped[int | None] = mapped_column(ForeignKey("import_batches.id"))
    submitted_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)

    campaign: Mapped[Campaign] = relationship()
    desk: Mapped[Desk] = relationship()
    questionnaire_version: Mapped[QuestionnaireVersion] = relationship()


class SubmissionKey(Model):
    """The claim of a submission's keys, unique in the whole database (khóa của phiếu).

    One row per submission, unpartitioned, so its UNIQUE constraints hold across campaigns
    (a retry may arrive after the desk's campaign changed; receipts are looked up without a
    campaign): ``uid`` (the form's id), ``receipt`` and ``dossier_code`` (the dossier's
    keyed hash: a dossier is answered once). ``id`` is the submission's id: the claim
    allocates it, and ``INSERT ... ON CONFLICT DO NOTHING`` on this table decides
    exactly-once; the submission row is written by the same statement on PostgreSQL (a
    data-modifying CTE), in the same transaction on SQLite. The row refers to its claim
    ((campaign_id, id), ON DELETE CASCADE), not the claim to its row: PostgreSQL checks a
    key that refers to a plain table on its fast path, while one that refers to the
    partitioned table cost about 150 µs per submission; deleting the claim deletes the
    submission and frees its keys, as deleting the row did before partitioning.
    """

    __tablename__ = "submission_keys"
    # What the submission's row refers to.
    __table_args__ = (UniqueConstraint("campaign_id", "id", name="campaign_submission"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int]
    uid: Mapped[str] = mapped_column(String(36), unique=True)
    receipt: Mapped[str] = mapped_column(String(16), unique=True)
    dossier_code: Mapped[str | None] = mapped_column(String(64), unique=True)


def submission_partition(campaign_id: int) -> str:
    """The name of a campaign's partition of ``submissions`` on PostgreSQL."""
    return f"submissions_c{int(campaign_id)}"


def create_submission_partition(connection: Connection, campaign_id: int) -> None:
    """Give a campaign its own partition of ``submissions`` (PostgreSQL; nothing on SQLite).

    Runs when a campaign is inserted (the ORM event below: services, command line, demo).
    Takes an ACCESS EXCLUSIVE lock on ``submissions`` until the transaction ends, which is
    short: campaigns are created rarely, by staff. Refused by PostgreSQL while the default
    partition holds rows of the campaign (which the foreign key to campaigns keeps from
    happening for a campaign being created).
    """
    if connection.dialect.name != "postgresql":
        return
    name = submission_partition(campaign_id)
    if connection.scalar(text("SELECT to_regclass(:name)"), {"name": name}) is not None:
        return
    connection.execute(
        text(f"CREATE TABLE {name} PARTITION OF submissions FOR VALUES IN ({int(campaign_id)})")
    )


@event.listens_for(Campaign, "after_insert")
def _campaign_partition(_mapper: object, connection: Connection, campaign: Campaign) -> None:
    create_submission_partition(connection, campaign.id)


# The default partition comes with the partitioned table (create_all, as in the tests;
# migration 0013 for databases made before).
@event.listens_for(Submission.__table__, "after_create")
def _default_partition(_table: Table, connection: Connection, **_kw: object) -> None:
    if connection.dialect.name == "postgresql":
        connection.execute(
            text("CREATE TABLE submissions_default PARTITION OF submissions DEFAULT")
        )


class StaffUser(UserMixin, Model):
    """An official's account; agency officers see their own agency's subtree only."""

    __tablename__ = "staff_users"
    __table_args__ = (
        CheckConstraint("role IN ('admin', 'analyst', 'officer', 'viewer')", name="role_known"),
        CheckConstraint("role != 'officer' OR agency_id IS NOT NULL", name="officer_has_agency"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(16))
    agency_id: Mapped[int | None] = mapped_column(ForeignKey("agencies.id"))
    active: Mapped[bool] = mapped_column(default=True)
    # Set when an administrator resets the password: the next sign-in must choose a new one.
    must_change_password: Mapped[bool] = mapped_column(default=False, server_default=false())
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)

    agency: Mapped[Agency | None] = relationship()

    @property
    def is_active(self) -> bool:
        return self.active


class StaffSession(Model):
    """Phiên đăng nhập: one signed-in browser of an official, so that it can be ended.

    The session cookie carries a random token; only its sha256 is stored. A session is
    valid until ``ended_at``; ``services.staff_sessions`` says when it ends.
    """

    __tablename__ = "staff_sessions"
    __table_args__ = (
        CheckConstraint("(ended_at IS NULL) = (end_reason IS NULL)", name="ended_with_reason"),
        CheckConstraint(
            "end_reason IN ('logout', 'password', 'disabled', 'idle', 'lifetime')",
            name="end_reason_known",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("staff_users.id"), index=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime)
    # Written at most once a minute (services.staff_sessions.TOUCH_INTERVAL).
    last_seen_at: Mapped[dt.datetime] = mapped_column(DateTime)
    ended_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    end_reason: Mapped[str | None] = mapped_column(String(16))

    user: Mapped[StaffUser] = relationship()


class AuditEvent(Model):
    """Nhật ký: logins, exports, imports and every change to the survey set-up."""

    __tablename__ = "audit_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow, index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id"))
    username: Mapped[str | None] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(64))
    target: Mapped[str | None] = mapped_column(String(255))
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


PLAN_STATUSES = ("todo", "doing", "done")


class RemediationPlan(Model):
    """Kế hoạch khắc phục: one campaign's plan for one agency's subtree (the campaign's own
    agency: the whole campaign, e.g. the province), from the weak criteria of ``period``."""

    __tablename__ = "remediation_plans"
    __table_args__ = (UniqueConstraint("campaign_id", "agency_id", name="campaign_scope"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"))
    agency_id: Mapped[int] = mapped_column(ForeignKey("agencies.id"), index=True)
    # The period whose indices the rows start from (the dashboard's code: all, 2026-Q1...).
    period: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)

    campaign: Mapped[Campaign] = relationship()
    agency: Mapped[Agency] = relationship()
    rows: Mapped[list[PlanRow]] = relationship(
        back_populates="plan", cascade="all, delete-orphan", order_by="PlanRow.id"
    )


class PlanRow(Model):
    """One weak criterion of a plan: where it stood, the target and what will be done.

    The criterion's index, interval and n when the row was added are kept as they were
    (the plan's starting point); the verification reads the indices afresh.
    """

    __tablename__ = "remediation_plan_rows"
    __table_args__ = (
        UniqueConstraint("plan_id", "criterion", name="plan_criterion"),
        CheckConstraint("target >= 0 AND target <= 100", name="target_percent"),
        CheckConstraint("status IN ('todo', 'doing', 'done')", name="status_known"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[int] = mapped_column(
        ForeignKey("remediation_plans.id", ondelete="CASCADE"), index=True
    )
    criterion: Mapped[str] = mapped_column(String(64))
    criterion_label: Mapped[str] = mapped_column(String(500))
    group_code: Mapped[str] = mapped_column(String(64))
    group_label: Mapped[str] = mapped_column(String(500))
    # Shares in [0, 1] as the analysis computes them; None when the criterion had no answers.
    baseline_estimate: Mapped[float | None]
    baseline_ci_low: Mapped[float | None]
    baseline_ci_high: Mapped[float | None]
    baseline_n: Mapped[int] = mapped_column(default=0)
    target: Mapped[Decimal | None] = mapped_column(Numeric(5, 2))  # index %, 0-100
    tasks: Mapped[str] = mapped_column(Text, default="")
    lead_agency_id: Mapped[int] = mapped_column(ForeignKey("agencies.id"), index=True)
    cooperating: Mapped[str] = mapped_column(Text, default="")
    deadline: Mapped[dt.date | None] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(16), default="todo")
    notes: Mapped[str] = mapped_column(Text, default="")
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)

    plan: Mapped[RemediationPlan] = relationship(back_populates="rows")
    lead_agency: Mapped[Agency] = relationship()


SAMPLING_METHODS = ("poisson", "systematic")
FRAME_ATTRIBUTES = ("agency", "desk", "procedure_field", "channel")
CHANNELS = ("online", "desk")
# Final dispositions of a selected dossier that the data cannot tell (scoring/response_rates.py);
# null: delivered or pending, and answered when a submission spends its dossier hash.
SAMPLE_DISPOSITIONS = ("not_delivered", "ineligible", "unknown")


class SamplingDesign(Model):
    """Thiết kế chọn mẫu: how a campaign selects returned dossiers to invite.

    ``strata`` are frame attributes (FRAME_ATTRIBUTES); ``probabilities`` maps a stratum's
    label (services/sampling.py ``stratum_label``) to its inclusion probability, and
    ``default_probability`` serves strata not listed. ``calibration`` is
    ``{"formula": "~agency + procedure_field", "calfun": "linear" | "raking", "bounds":
    [lo, hi] | null}`` or null; ``trim`` bounds the final weights relative to their mean.
    """

    __tablename__ = "sampling_designs"
    __table_args__ = (
        CheckConstraint("method IN ('poisson', 'systematic')", name="method_known"),
        CheckConstraint(
            "default_probability > 0 AND default_probability <= 1", name="probability_range"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(
        ForeignKey("campaigns.id", ondelete="CASCADE"), unique=True
    )
    strata: Mapped[list[str]] = mapped_column(JSON, default=list)
    probabilities: Mapped[dict[str, float]] = mapped_column(JSON, default=dict)
    default_probability: Mapped[float]
    method: Mapped[str] = mapped_column(String(16))
    seed: Mapped[str] = mapped_column(String(64))
    nonresponse_classes: Mapped[list[str]] = mapped_column(JSON, default=list)
    calibration: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    trim: Mapped[list[float] | None] = mapped_column(JSON)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id"))
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)

    campaign: Mapped[Campaign] = relationship()


class FrameCell(Model):
    """Khung mẫu: how many dossiers a desk returned in a campaign, per procedure field,
    channel and timeliness, and how many of them were selected. Calibration totals come
    from these counts (the agency through the desk)."""

    __tablename__ = "sampling_frame_cells"
    __table_args__ = (
        UniqueConstraint(
            "campaign_id", "desk_id", "procedure_field", "channel", "on_time", name="frame_cell"
        ),
        CheckConstraint("channel IN ('online', 'desk')", name="channel_known"),
        CheckConstraint("selected >= 0 AND selected <= returned", name="selected_of_returned"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"))
    desk_id: Mapped[int] = mapped_column(ForeignKey("desks.id"), index=True)
    procedure_field: Mapped[str] = mapped_column(String(255))
    channel: Mapped[str] = mapped_column(String(8))
    on_time: Mapped[bool]
    returned: Mapped[int] = mapped_column(default=0)
    selected: Mapped[int] = mapped_column(default=0)

    desk: Mapped[Desk] = relationship()


class SampledDossier(Model):
    """Hồ sơ được chọn: a returned dossier selected (invited) for the survey, with its
    stratum and inclusion probability. It answered when a submission's ``dossier_code``
    equals its ``dossier_hash``."""

    __tablename__ = "sampled_dossiers"
    __table_args__ = (
        UniqueConstraint("campaign_id", "dossier_hash", name="campaign_dossier"),
        CheckConstraint("channel IN ('online', 'desk')", name="channel_known"),
        CheckConstraint("probability > 0 AND probability <= 1", name="probability_range"),
        CheckConstraint(
            "disposition IN ('not_delivered', 'ineligible', 'unknown')",
            name="disposition_known",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"))
    dossier_hash: Mapped[str] = mapped_column(String(64))
    desk_id: Mapped[int] = mapped_column(ForeignKey("desks.id"), index=True)
    procedure_field: Mapped[str] = mapped_column(String(255))
    channel: Mapped[str] = mapped_column(String(8))
    on_time: Mapped[bool]
    stratum: Mapped[str] = mapped_column(String(255))
    probability: Mapped[float]
    returned_on: Mapped[dt.date] = mapped_column(Date)
    dossier_code_id: Mapped[int | None] = mapped_column(ForeignKey("dossier_codes.id"))
    disposition: Mapped[str | None] = mapped_column(String(16))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)

    desk: Mapped[Desk] = relationship()


class DossierEvent(Model):
    """A dossier received or returned, as the one-stop software reported it.

    ``event_key`` (a keyed hash of the dossier number and the kind) makes a retried event
    store nothing new; the dossier number itself is kept only as ``dossier_hash``.
    """

    __tablename__ = "dossier_events"
    __table_args__ = (
        CheckConstraint("kind IN ('received', 'returned')", name="kind_known"),
        CheckConstraint("channel IN ('online', 'desk')", name="channel_known"),
        CheckConstraint(
            "(kind = 'returned') = (returned_on IS NOT NULL AND on_time IS NOT NULL)",
            name="returned_fields",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    event_key: Mapped[str] = mapped_column(String(64), unique=True)
    kind: Mapped[str] = mapped_column(String(16))
    # The running campaign whose frame a returned event counted in (null: none ran there).
    campaign_id: Mapped[int | None] = mapped_column(
        ForeignKey("campaigns.id", ondelete="CASCADE"), index=True
    )
    dossier_hash: Mapped[str] = mapped_column(String(64), index=True)
    desk_id: Mapped[int] = mapped_column(ForeignKey("desks.id"), index=True)
    procedure_field: Mapped[str] = mapped_column(String(255))
    channel: Mapped[str] = mapped_column(String(8))
    received_on: Mapped[dt.date] = mapped_column(Date)
    returned_on: Mapped[dt.date | None] = mapped_column(Date)
    on_time: Mapped[bool | None]
    recorded_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)


class CommentReview(Model):
    """Xử lý góp ý: whether a respondent's comment has been handled, and the note of the
    official who last marked (or un-marked) it. One row per submission that was ever
    marked; the audit log keeps every change."""

    __tablename__ = "comment_reviews"

    id: Mapped[int] = mapped_column(primary_key=True)
    # To the submission's claim, whose id is the submission's and unique in the whole
    # database: deleting the submission deletes its claim, and with it this row.
    submission_id: Mapped[int] = mapped_column(
        ForeignKey("submission_keys.id", ondelete="CASCADE"), unique=True
    )
    handled: Mapped[bool]
    note: Mapped[str] = mapped_column(Text)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id"))
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)

    user: Mapped[StaffUser | None] = relationship()
