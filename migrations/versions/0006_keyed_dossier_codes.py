"""Dossier codes: the values stored for codes issued before become keyed hashes.

Until now a submission through a dossier code stored sha256(nonce, desk code, dossier
number)[:32], not keyed: whoever read the database and knew a dossier number could find
its answers by trying the 48-bit nonces. Codes now carry and store keyed hashes of the
dossier (services/dossier_codes.py). Each value stored before becomes HMAC-SHA256 of
itself under a key derived from the instance's ``DOSSIER_CODE_KEY`` (64 hex characters,
told from the 32 of the old ones), exactly as ``dossier_codes.legacy_stored_hash``
computes it, so a code issued before the change and spent before it stays spent.

The key is the application's: run this with ``survey-app db upgrade`` (or ``alembic``
from the repository, whose env.py builds the application), with the instance's secrets.
The downgrade leaves the keyed values as they are: the old ones cannot be computed back,
and the code before this revision could not verify the new codes anyway.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02
"""

import hashlib
import hmac

import sqlalchemy as sa
from alembic import op
from flask import current_app

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

UNKEYED_LENGTH = 32

submissions = sa.table(
    "submissions",
    sa.column("id", sa.Integer),
    sa.column("dossier_code", sa.String),
)


def _keyed(unkeyed: str) -> str:
    # Must equal survey_app.services.dossier_codes.legacy_stored_hash, frozen here.
    secret = str(current_app.config["DOSSIER_CODE_KEY"]).encode()
    key = hmac.new(secret, b"dossier-code legacy", hashlib.sha256).digest()
    return hmac.new(key, unkeyed.encode("ascii"), hashlib.sha256).hexdigest()


def upgrade() -> None:
    connection = op.get_bind()
    rows = connection.execute(
        sa.select(submissions.c.id, submissions.c.dossier_code).where(
            sa.func.length(submissions.c.dossier_code) == UNKEYED_LENGTH
        )
    ).all()
    if rows:
        connection.execute(
            submissions.update()
            .where(submissions.c.id == sa.bindparam("row_id"))
            .values(dossier_code=sa.bindparam("keyed")),
            [{"row_id": row.id, "keyed": _keyed(row.dossier_code)} for row in rows],
        )


def downgrade() -> None:
    pass
