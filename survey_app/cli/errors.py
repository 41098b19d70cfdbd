"""How a command stops on a refusal, in one place.

Every command group of ``survey-app`` that calls services is a :class:`ServiceGroup`: a
refusal raised by any of its commands (:class:`ServiceError`) rolls the session back and
prints ``Error: <the problems in words>`` (one line each), exit status 1. A command that
refuses on its own calls :func:`fail`, which ends it the same way; a command writing a
file writes it whole or not at all (:func:`write_file`).
"""

from __future__ import annotations

import functools
import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any, NoReturn

import click

from survey_app.extensions import db
from survey_app.messages import texts
from survey_app.services.errors import ServiceError


def fail(message: str) -> NoReturn:
    """Stop the command with ``message`` (exit status 1); nothing of it is stored."""
    db.session.rollback()
    raise click.ClickException(message)


def _refusing(callback: Callable[..., Any]) -> Callable[..., Any]:
    # Around the callback, inside the application context the command opened.
    @functools.wraps(callback)
    def run(*args: Any, **kwargs: Any) -> Any:
        try:
            return callback(*args, **kwargs)
        except ServiceError as error:
            fail("\n".join(texts(error)))

    return run


class ServiceGroup(click.Group):
    """A command group whose commands' :class:`ServiceError` ends the command cleanly."""

    def add_command(self, cmd: click.Command, name: str | None = None) -> None:
        if cmd.callback is not None:
            cmd.callback = _refusing(cmd.callback)
        super().add_command(cmd, name)


def write_file(path: Path, body: bytes) -> None:
    """Write the whole file or nothing: a temporary file beside it, then renamed."""
    directory = path.resolve().parent
    if not directory.is_dir():
        fail(f"Thư mục {directory} không tồn tại.")
    handle, temporary = tempfile.mkstemp(dir=directory, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(body)
        os.replace(temporary, path)
    except OSError as error:
        Path(temporary).unlink(missing_ok=True)
        fail(f"Không ghi được tệp {path}: {error.strerror}")
