"""Settings read at start-up: secrets too short to keep anything safe are refused."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from unittest import mock

import pytest
from hypothesis import given
from hypothesis import strategies as st

from survey_app import create_app
from survey_app.config import MIN_SECRET_BYTES, ConfigError, load_config

SECRETS = ("SECRET_KEY", "CLIENT_HASH_SALT", "DOSSIER_CODE_KEY")


@pytest.fixture(autouse=True)
def _clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in SECRETS:
        monkeypatch.delenv(name, raising=False)


@pytest.mark.parametrize("name", SECRETS)
@pytest.mark.parametrize("value", ["", " ", "test-secret", "x" * (MIN_SECRET_BYTES - 1)])
def test_a_short_secret_from_the_environment_is_refused_by_name(
    name: str, value: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(ConfigError, match=f"^{name} is {len(value.encode())} bytes long"):
        load_config(str(tmp_path))


@given(
    value=st.text(st.characters(exclude_categories=["Cs"], exclude_characters="\x00"), max_size=40)
)
def test_secrets_of_at_least_32_bytes_are_accepted_and_shorter_ones_refused(value: str) -> None:
    # Bytes, not characters: 11 Vietnamese letters can be 33 bytes.
    with tempfile.TemporaryDirectory() as instance, mock.patch.dict(os.environ, SECRET_KEY=value):
        if len(value.encode()) >= MIN_SECRET_BYTES:
            assert load_config(instance)["SECRET_KEY"] == value
        else:
            with pytest.raises(ConfigError):
                load_config(instance)


def test_without_the_environment_random_instance_secrets_are_made_and_kept(
    tmp_path: Path,
) -> None:
    first = load_config(str(tmp_path))
    again = load_config(str(tmp_path))
    for name in SECRETS:
        assert len(str(first[name]).encode()) >= MIN_SECRET_BYTES
        assert first[name] == again[name]
    assert len({first[name] for name in SECRETS}) == len(SECRETS)


def test_an_emptied_instance_secret_file_is_refused(tmp_path: Path) -> None:
    load_config(str(tmp_path))
    (tmp_path / "client_salt").write_text("\n")
    with pytest.raises(ConfigError, match="^CLIENT_HASH_SALT is 0 bytes long"):
        load_config(str(tmp_path))


def test_the_application_does_not_start_with_an_empty_secret_key(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("SECRET_KEY", "")
    with pytest.raises(ConfigError, match="SECRET_KEY is 0 bytes long"):
        create_app()
