"""Dashboard benchmark: a campaign with 200,000 responses, dashboard request cold and warm.

Usage::

    .venv/bin/python bench/dashboard_bench.py [--n 200000] [--url postgresql://...] [--fresh]

Builds the data once in a PostgreSQL schema (``bench_dashboard``; ``--fresh``
rebuilds it): campaign BENCH (2026) and the previous one it is compared with,
BENCH-2025, each with ``--n`` responses. Then times, through the Flask test
client signed in as an administrator:

- the responses load alone (``analysis.load_responses``);
- the dashboard cold (every cache empty), warm (cached), after one new
  submission (the frame cache misses, the design and results are recomputed);
- an officer's dashboard (a domain of the same design) and the XLSX export warm.

Not a test: figures go to bench/README.md.
"""

from __future__ import annotations

import argparse
import datetime as dt
import shutil
import statistics
import sys
import time
from pathlib import Path

import sqlalchemy as sa

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.dashboard_data import generate  # noqa: E402
from survey_app import create_app  # noqa: E402
from survey_app.extensions import db  # noqa: E402
from survey_app.models import Campaign, StaffUser  # noqa: E402
from survey_app.services import (  # noqa: E402
    accounts,
    analysis,
    organisation,
    questionnaires,
    staff_sessions,
    weighting_settings,
)

SCHEMA = "bench_dashboard"
DEFAULT_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


def setup(url: str, n: int, fresh: bool) -> str:
    admin = sa.create_engine(url)
    with admin.begin() as conn:
        exists = conn.execute(
            sa.text("SELECT 1 FROM information_schema.schemata WHERE schema_name = :s"),
            {"s": SCHEMA},
        ).first()
        if exists and fresh:
            conn.execute(sa.text(f'DROP SCHEMA "{SCHEMA}" CASCADE'))
            exists = None
        if not exists:
            conn.execute(sa.text(f'CREATE SCHEMA "{SCHEMA}"'))
    admin.dispose()
    separator = "&" if "?" in url else "?"
    schema_url = f"{url}{separator}options=-csearch_path%3D{SCHEMA}"
    if exists:
        return schema_url
    app = make_app(schema_url)
    with app.app_context():
        db.create_all()
        questionnaires.load_file(ROOT / "questionnaires" / "sipas-2023.yaml")
        organisation.add_agency("HT", "Tỉnh Hà Tĩnh", "province")
        desks = []
        for a in range(1, 11):
            organisation.add_agency(f"HT-{a:02d}", f"Sở số {a}", "department", "HT")
            for d in range(1, 5):
                code = f"Q{a:02d}-{d}"
                organisation.add_desk(code, f"Quầy {a}.{d}", f"HT-{a:02d}")
                desks.append(code)
        # The dashboard compares a campaign with the previous one of the same questionnaire.
        for code, year in (("BENCH-2025", 2025), ("BENCH", 2026)):
            organisation.add_campaign(
                code,
                f"Khảo sát SIPAS năm {year}",
                "HT",
                "sipas-2023",
                "2023.1",
                dt.date(year, 1, 1),
                dt.date(year, 12, 31),
                desks,
            )
        accounts.create_user("admin", "mat-khau-rat-dai-2026", "admin")
        accounts.create_user("officer", "mat-khau-rat-dai-2026", "officer", "HT-03")
        db.session.commit()
        for code, seed in (("BENCH-2025", 2025), ("BENCH", 2026)):
            campaign = db.session.scalars(sa.select(Campaign).filter_by(code=code)).one()
            start = time.perf_counter()
            answers = generate(campaign, n, seed=seed)
            took = time.perf_counter() - start
            print(f"{code}: generated {n} submissions, {answers} answers in {took:.1f} s")
    return schema_url


CACHE_DIR = Path("/tmp/dashboard-bench-cache")


def make_app(url: str):  # type: ignore[no-untyped-def]
    return create_app(
        {
            "SQLALCHEMY_DATABASE_URI": url,
            "SECRET_KEY": "bench",
            "CLIENT_HASH_SALT": "bench",
            "RATELIMIT_ENABLED": False,
            "TESTING": True,
            "ANALYSIS_CACHE_DIR": str(CACHE_DIR),
        }
    )


def timed(label: str, fn, repeat: int = 1) -> float:  # type: ignore[no-untyped-def]
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    best = statistics.median(times)
    print(f"{label:<55} {best:7.3f} s" + (f" (median of {repeat})" if repeat > 1 else ""))
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=200_000)
    parser.add_argument("--url", default=DEFAULT_URL)
    parser.add_argument("--fresh", action="store_true", help="rebuild the data")
    parser.add_argument("--generate-only", action="store_true")
    parser.add_argument(
        "--design",
        choices=["none", "clustered", "poststratified"],
        default="none",
        help="none: every response its own PSU; clustered: strata agency, clusters desk; "
        "poststratified: none, post-stratified to gender x age group (10 census-like cells)",
    )
    args = parser.parse_args()
    url = setup(args.url, args.n, args.fresh)
    if args.generate_only:
        return
    app = make_app(url)
    with app.app_context():
        campaign = db.session.scalars(sa.select(Campaign).filter_by(code="BENCH")).one()
        settings = weighting_settings.WeightingSettings()
        if args.design == "clustered":
            settings = weighting_settings.WeightingSettings(strata="agency", cluster="desk")
        if args.design == "poststratified":
            # Hà Tĩnh-like adult population by gender x age group (not the sample's shares).
            counts = {1: 95_000, 2: 180_000, 3: 175_000, 4: 210_000, 5: 160_000}
            cells = {
                (g, a): count * (0.49 if g == 1 else 0.51)
                for g in (1, 2)
                for a, count in counts.items()
            }
            settings = weighting_settings.WeightingSettings(
                calibration="poststratify",
                margins=(weighting_settings.Margin(("gender", "age_group"), cells),),
            )
        campaign.settings = {"weighting": settings.to_json()}
        db.session.commit()
        print(f"settings: {settings.describe()}")
    client = app.test_client()

    def login(username: str) -> None:
        # A server-side session, as the login form starts one (its scrypt is not measured).
        with app.app_context():
            user = db.session.scalars(sa.select(StaffUser).filter_by(username=username)).one()
            token, uid = staff_sessions.start(user), str(user.id)
            db.session.commit()
        with client.session_transaction() as session:
            session.update({"_user_id": uid, "_fresh": True, "sid": token})

    def get(path: str) -> None:
        response = client.get(path)
        assert response.status_code == 200, (path, response.status_code, response.data[:300])

    with app.app_context():
        campaign = db.session.scalars(sa.select(Campaign).filter_by(code="BENCH")).one()
        count, answers = db.session.execute(
            sa.text(
                "SELECT count(*), sum((SELECT count(*) FROM jsonb_object_keys(answers))) "
                "FROM submissions WHERE campaign_id = :c"
            ),
            {"c": campaign.id},
        ).one()
        print(
            f"campaign BENCH: {count} submissions, {answers} answers; "
            "compared with BENCH-2025 (as many)"
        )
        timed(
            "responses loaded (answers ->> item, COPY)", lambda: analysis.load_responses(campaign)
        )

    login("admin")
    page = "/staff/campaigns/BENCH/dashboard"
    analysis.clear_caches()
    shutil.rmtree(CACHE_DIR, ignore_errors=True)
    timed("dashboard, admin, cold (both campaigns read from the database)", lambda: get(page))
    timed("dashboard, admin, warm", lambda: get(page), repeat=5)
    timed("dashboard, admin, quarter 2, first time", lambda: get(page + "?period=2026-Q2"))
    timed("index export XLSX, warm", lambda: get("/staff/campaigns/BENCH/indices.xlsx"))
    with app.app_context():
        campaign = db.session.scalars(sa.select(Campaign).filter_by(code="BENCH")).one()
        generate(campaign, 1, seed=99)
    timed("dashboard, admin, after one new submission", lambda: get(page))
    timed("dashboard, admin, warm again", lambda: get(page), repeat=5)
    login("officer")
    timed("dashboard, officer (domain of one agency), first time", lambda: get(page))
    timed("dashboard, officer, warm", lambda: get(page), repeat=5)
    login("admin")
    analysis.clear_caches()
    timed("dashboard, admin, after a restart (responses on disk)", lambda: get(page))


if __name__ == "__main__":
    main()
