"""Answers as one JSON document per submission instead of one row per answer.

A submission is written by one INSERT (about 38 answer rows, each with its foreign-key
check and index entries, were the submit path's main cost) and the dashboard reads one
row per submission instead of millions of answer rows. The document holds what the
answer rows held: item code -> choice code, sorted list of codes (multiple choice),
number as a plain decimal string, or text. ``answers_digest`` (a hash of the same
canonical answers) goes: a retry is now told from a conflicting reuse of its id by
comparing the documents themselves.

Which items are multiple choice comes from each questionnaire version's stored YAML
(a multiple choice with one code chosen has one answer row, like a single choice).

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-30
"""

import hashlib
import json
from collections import defaultdict
from decimal import Decimal

import sqlalchemy as sa
import yaml
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

ANSWERS_JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
BATCH = 2000

submissions = sa.table(
    "submissions",
    sa.column("id", sa.Integer),
    sa.column("questionnaire_version_id", sa.Integer),
    sa.column("answers", ANSWERS_JSON),
    sa.column("answers_digest", sa.String),
)
answers = sa.table(
    "answers",
    sa.column("submission_id", sa.Integer),
    sa.column("item_code", sa.String),
    sa.column("choice", sa.Integer),
    sa.column("number", sa.Numeric(18, 6)),
    sa.column("text", sa.Text),
)
versions = sa.table(
    "questionnaire_versions", sa.column("id", sa.Integer), sa.column("source", sa.Text)
)


def _item_types(connection: sa.Connection) -> dict[int, dict[str, str]]:
    """Item code -> type (single, multiple, number, text) of every questionnaire version."""
    out: dict[int, dict[str, str]] = {}
    for version_id, source in connection.execute(sa.select(versions.c.id, versions.c.source)):
        data = yaml.safe_load(source) or {}
        items = [i for s in data.get("sections") or [] for i in s.get("items") or []]
        items += data.get("respondent") or []
        out[version_id] = {str(i["code"]): str(i.get("type")) for i in items}
    return out


def _submission_batches(connection: sa.Connection) -> list[list[tuple[int, int]]]:
    rows = connection.execute(
        sa.select(submissions.c.id, submissions.c.questionnaire_version_id).order_by(
            submissions.c.id
        )
    ).all()
    return [[tuple(r) for r in rows[i : i + BATCH]] for i in range(0, len(rows), BATCH)]


Row = tuple[str, int | None, Decimal | None, str | None]


def _document(rows: list[Row], types: dict[str, str]) -> dict[str, object]:
    """The answers document of one submission's answer rows."""
    doc: dict[str, object] = {}
    for code, choice, number, text in rows:
        if types.get(code) == "multiple":
            doc[code] = sorted([*doc.get(code, []), choice])  # type: ignore[misc]
        elif choice is not None:
            doc[code] = choice
        elif number is not None:
            doc[code] = format(Decimal(number).normalize(), "f")
        else:
            doc[code] = text
    return doc


def _rows(sid: int, doc: dict[str, object], types: dict[str, str]) -> list[dict[str, object]]:
    """The answer rows of one answers document."""
    out = []
    for code, value in doc.items():
        row: dict[str, object] = {
            "submission_id": sid, "item_code": code, "choice": None, "number": None, "text": None
        }
        kind = types.get(code)
        if isinstance(value, list):
            out.extend({**row, "choice": c} for c in value)
        elif kind == "number":
            out.append({**row, "number": Decimal(str(value))})
        elif kind == "text":
            out.append({**row, "text": value})
        else:
            out.append({**row, "choice": value})
    return out


def upgrade() -> None:
    op.add_column("submissions", sa.Column("answers", ANSWERS_JSON, nullable=True))
    connection = op.get_bind()
    types = _item_types(connection)
    for batch in _submission_batches(connection):
        ids = [sid for sid, _ in batch]
        rows: dict[int, list[Row]] = defaultdict(list)
        for sid, *answer in connection.execute(
            sa.select(answers.c.submission_id, answers.c.item_code, answers.c.choice,
                      answers.c.number, answers.c.text)
            .where(answers.c.submission_id.in_(ids))
        ):
            rows[sid].append(tuple(answer))  # type: ignore[arg-type]
        connection.execute(
            submissions.update().where(submissions.c.id == sa.bindparam("sid")),
            [{"sid": sid, "answers": _document(rows[sid], types.get(vid, {}))}
             for sid, vid in batch],
        )
    check = {
        "postgresql": "jsonb_typeof(answers) = 'object'",
        "sqlite": "json_type(answers) = 'object'",
    }.get(connection.dialect.name)
    with op.batch_alter_table("submissions") as batch_op:
        batch_op.alter_column("answers", existing_type=ANSWERS_JSON, nullable=False)
        batch_op.drop_column("answers_digest")
        if check is not None:
            batch_op.create_check_constraint(op.f("ck_submissions_answers_object"), check)
    op.drop_table("answers")


def downgrade() -> None:
    op.create_table(
        "answers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("submission_id", sa.Integer(), nullable=False),
        sa.Column("item_code", sa.String(length=64), nullable=False),
        sa.Column("choice", sa.Integer(), nullable=True),
        sa.Column("number", sa.Numeric(precision=18, scale=6), nullable=True),
        sa.Column("text", sa.Text(), nullable=True),
        sa.CheckConstraint(
            "(CASE WHEN choice IS NULL THEN 0 ELSE 1 END) + (CASE WHEN number IS NULL THEN 0"
            " ELSE 1 END) + (CASE WHEN text IS NULL THEN 0 ELSE 1 END) = 1",
            name=op.f("ck_answers_one_value"),
        ),
        sa.CheckConstraint(
            "choice >= 0 AND choice <= 999", name=op.f("ck_answers_choice_code_range")
        ),
        sa.ForeignKeyConstraint(
            ["submission_id"], ["submissions.id"],
            name=op.f("fk_answers_submission_id_submissions"), ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_answers")),
        sa.UniqueConstraint("submission_id", "item_code", "choice", name="submission_item_choice"),
    )
    op.add_column("submissions", sa.Column("answers_digest", sa.String(length=64), nullable=True))
    connection = op.get_bind()
    types = _item_types(connection)
    for batch in _submission_batches(connection):
        ids = [sid for sid, _ in batch]
        docs = dict(connection.execute(
            sa.select(submissions.c.id, submissions.c.answers).where(submissions.c.id.in_(ids))
        ).all())
        answer_rows = []
        digests = []
        for sid, vid in batch:
            # The digest the answers_digest column held: sha256 of the canonical document.
            canonical = json.dumps(
                docs[sid], ensure_ascii=False, sort_keys=True, separators=(",", ":")
            )
            digests.append(
                {"sid": sid, "answers_digest": hashlib.sha256(canonical.encode()).hexdigest()}
            )
            answer_rows.extend(_rows(sid, docs[sid], types.get(vid, {})))
        if answer_rows:
            connection.execute(answers.insert(), answer_rows)
        connection.execute(
            submissions.update().where(submissions.c.id == sa.bindparam("sid")), digests
        )
    with op.batch_alter_table("submissions") as batch_op:
        if connection.dialect.name in ("postgresql", "sqlite"):
            batch_op.drop_constraint(op.f("ck_submissions_answers_object"), type_="check")
        batch_op.alter_column("answers_digest", existing_type=sa.String(length=64), nullable=False)
        batch_op.drop_column("answers")
