"""The probability sample's pages: estimates, response rates, walk-in against sampled and
the planner, with the access rules of the dashboard (tests/sample_support.py's campaign)."""

from __future__ import annotations

import pytest
from flask import Flask
from flask.testing import FlaskClient

from tests.dashboard_setup import login
from tests.sample_support import CAMPAIGN, province

BASE = f"/staff/campaigns/{CAMPAIGN}"


@pytest.fixture
def sampled(app: Flask) -> Flask:
    province(app)
    return app


def test_the_sample_page_shows_rates_and_estimates(sampled: Flask, client: FlaskClient) -> None:
    login(client, "analyst")
    page = client.get(f"{BASE}/sample")
    assert page.status_code == 200, page.text
    print(page.text[:3000])
