"""The baseline of the submit benchmark: a bare Flask endpoint that does one INSERT.

It reads the same form body as the real endpoint and stores it as one row, in one
transaction, through the same driver (psycopg 3 via SQLAlchemy's pool). Whatever the real
endpoint costs beyond this is the price of validation, the ORM and the answer rows.

Run by bench/submit_bench.py under gunicorn: ``gunicorn bench.bare_app:app``.
"""

from __future__ import annotations

import json
import os

from flask import Flask, request
from sqlalchemy import create_engine, text

from survey_app.config import load_config

# The application's own database settings (DATABASE_URL), connection pool included.
_config = load_config(os.path.join(os.path.dirname(__file__), "..", "instance"))
engine = create_engine(
    str(_config["SQLALCHEMY_DATABASE_URI"]),
    **_config["SQLALCHEMY_ENGINE_OPTIONS"],  # type: ignore[arg-type]
)
app = Flask(__name__)

CREATE = """
CREATE TABLE IF NOT EXISTS bare_submissions (
    id BIGSERIAL PRIMARY KEY,
    uid VARCHAR(36) NOT NULL UNIQUE,
    body TEXT NOT NULL,
    submitted_at TIMESTAMP NOT NULL DEFAULT now()
)
"""
INSERT = text("INSERT INTO bare_submissions (uid, body) VALUES (:uid, :body)")


@app.post("/bare/submit")
def submit() -> tuple[str, int, dict[str, str]]:
    form = request.form
    body = json.dumps({k: form.getlist(k) for k in form}, ensure_ascii=False)
    with engine.begin() as connection:
        connection.execute(INSERT, {"uid": form["uid"], "body": body})
    # The real endpoint answers 303 to the receipt page: same shape of response.
    return "", 303, {"Location": "/bare/done"}
