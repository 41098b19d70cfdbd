"""Screenshots of the staff pages for README.md: the demo province as `make run` loads it.

Usage::

    .venv/bin/python bench/screenshots.py [--out docs/screenshots]

Loads the questionnaires and the demo province with its demo responses into a scratch
SQLite file, serves the application on a loopback port, signs in as an administrator in
Debian's chromium (Playwright) and writes, at 1366x768 (``-laptop``) and 360x740
(``-phone``), PNGs of the SIPAS-2026 dashboard, the page of its lowest criterion (the first
link of the dashboard's weak-criteria list) and its comments page
(``/staff/campaigns/<code>/comments``). A page is
cut at ``MAX_HEIGHT`` pixels and saved with a 256-colour palette to keep the files small.
"""

from __future__ import annotations

import argparse
import io
import logging
import sys
import tempfile
from pathlib import Path

from PIL import Image

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from survey_app import create_app  # noqa: E402
from survey_app.demo import load_demo, load_demo_responses  # noqa: E402
from survey_app.extensions import db  # noqa: E402
from survey_app.services import accounts, questionnaires  # noqa: E402
from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS, serve  # noqa: E402

CAMPAIGN = "SIPAS-2026"
PASSWORD = "anh-chup-man-hinh-2026"
VIEWPORTS = {"laptop": {"width": 1366, "height": 768}, "phone": {"width": 360, "height": 740}}
MAX_HEIGHT = {"laptop": 2000, "phone": 3200}


def demo_app(folder: Path):  # type: ignore[no-untyped-def]
    """The application on a scratch SQLite file with the demo province and an admin."""
    app = create_app(
        {
            "SECRET_KEY": "screenshots",
            "CLIENT_HASH_SALT": "screenshots",
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{folder / 'demo.sqlite3'}",
            "RATELIMIT_ENABLED": False,
        }
    )
    with app.app_context():
        db.create_all()
        for path in sorted((ROOT / "questionnaires").glob("*.yaml")):
            questionnaires.load_file(path)
        load_demo()
        db.session.commit()
        load_demo_responses()
        accounts.create_user("admin", PASSWORD, "admin")
        db.session.commit()
    return app


def save(png: bytes, path: Path, height: int) -> None:
    image = Image.open(io.BytesIO(png)).convert("RGB")
    image = image.crop((0, 0, image.width, min(image.height, height)))
    image.quantize(colors=256, method=Image.Quantize.MEDIANCUT).save(path, optimize=True)
    print(f"{path.relative_to(ROOT) if path.is_relative_to(ROOT) else path}: {image.size}")


def shoot(base_url: str, out: Path) -> None:
    from playwright.sync_api import sync_playwright

    if CHROMIUM is None:
        raise SystemExit("Debian chromium is not installed (`make debian`)")
    out.mkdir(parents=True, exist_ok=True)
    campaign = f"{base_url}/staff/campaigns/{CAMPAIGN}"
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        for size, viewport in VIEWPORTS.items():
            context = browser.new_context(viewport=viewport, locale="vi-VN")
            page = context.new_page()
            page.goto(f"{base_url}/staff/login")
            page.fill("input[name=username]", "admin")
            page.fill("input[name=password]", PASSWORD)
            page.click("main button[type=submit]")
            page.wait_for_url("**/staff/")
            page.goto(f"{campaign}/dashboard")
            weakest = page.locator("#weak-h ~ table a").first.get_attribute("href")
            pages = {
                "dashboard": f"{campaign}/dashboard",
                "criterion": f"{base_url}{weakest}",
                "comments": f"{campaign}/comments",
            }
            for name, url in pages.items():
                response = page.goto(url)
                if response is None or response.status == 404:
                    print(f"{name}: {url} answers 404, left out")
                    continue
                page.wait_for_load_state("load")
                png = page.screenshot(full_page=True)
                save(png, out / f"{name}-{size}.png", MAX_HEIGHT[size])
            context.close()
        browser.close()


def main() -> None:
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # no line per request
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "screenshots")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        app = demo_app(Path(folder))
        with serve(app) as url:
            shoot(url, args.out.resolve())


if __name__ == "__main__":
    main()
