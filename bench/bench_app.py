"""The real application as the submit benchmark serves it: ``gunicorn bench.bench_app:app``.

Two settings differ from production, for the benchmark only:
- WTF_CSRF_ENABLED False: the load generator posts a complete final step without first
  fetching a page for a CSRF token (the token check is a constant-time HMAC comparison;
  leaving it out does not flatter the database path being measured);
- RATELIMIT_ENABLED False: 100 submitters from one address would otherwise be throttled,
  which is the limiter working, not the submit path.
"""

from __future__ import annotations

from survey_app import create_app

app = create_app({"WTF_CSRF_ENABLED": False, "RATELIMIT_ENABLED": False})
