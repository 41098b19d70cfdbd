"""How much one request may send: body bytes, form fields and file parts.

A form body is parsed whole before any view runs (flask-wtf's CSRF check reads it), so the
limits must hold while reading, not in the views:

- every request: at most ``MAX_CONTENT_LENGTH`` bytes. A ``Content-Length`` above it is
  refused before anything is read; a body without one (chunked) is read through a stream
  that stops at the limit (Werkzeug's ``LimitedStream``, since gunicorn and Werkzeug's
  server set ``wsgi.input_terminated``);
- every form: at most ``MAX_FORM_PARTS`` fields, url-encoded as well as multipart (Werkzeug
  counts multipart parts only), and multipart text fields of at most
  ``MAX_FORM_MEMORY_SIZE`` bytes each;
- file parts only on the views marked ``@accepts_upload(max_file_bytes)``: one file each,
  and a body limit of the file's plus ``UPLOAD_OVERHEAD``. Anywhere else the first file
  part is refused before its content is read.

Over any limit the request answers 413 with the Vietnamese page of ``errors``; nothing has
been stored, since no view ran.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from typing import IO, Any, TypeVar

from flask import Flask, Request, current_app, request
from werkzeug.exceptions import RequestEntityTooLarge
from werkzeug.formparser import FormDataParser

from survey_app.settings import settings

F = TypeVar("F", bound=Callable[..., Any])

# The multipart headers and the upload form's other fields beside the file.
UPLOAD_OVERHEAD = 64_000
_UPLOAD_ATTRIBUTE = "max_upload_bytes"


def accepts_upload(max_file_bytes: int) -> Callable[[F], F]:
    """Let a view receive one file part of up to ``max_file_bytes`` (put under the route)."""

    def mark(view: F) -> F:
        setattr(view, _UPLOAD_ATTRIBUTE, max_file_bytes + UPLOAD_OVERHEAD)
        return view

    return mark


def _read_whole(stream: IO[bytes]) -> bytes:
    """A body read whole, refused if it does not end within the limit.

    Werkzeug's ``read()`` of a stream limited to ``max_content_length`` (a body without a
    Content-Length) stops at the limit without a word, and the truncated body would be
    parsed as if whole: the next read raises 413 once the limit is reached (so a chunked
    body must be shorter than the limit), and returns nothing otherwise.
    """
    body = stream.read()
    stream.read(1)
    return body


class FieldCountingParser(FormDataParser):
    """Werkzeug's form parser, with ``max_form_parts`` applied to url-encoded bodies too."""

    def _parse_urlencoded(
        self,
        stream: IO[bytes],
        mimetype: str,
        content_length: int | None,
        options: dict[str, str],
    ) -> Any:
        body = _read_whole(stream)
        # Counting separators before parsing: 100,000 empty fields cost nothing to refuse.
        if self.max_form_parts is not None and body.count(b"&") >= self.max_form_parts:
            raise RequestEntityTooLarge()
        return super()._parse_urlencoded(io.BytesIO(body), mimetype, content_length, options)


class LimitedRequest(Request):
    """Flask's request with the body limit of the matched view and no stray file parts."""

    form_data_parser_class = FieldCountingParser
    _file_stream: IO[bytes] | None = None

    @property
    def upload_limit(self) -> int | None:
        """The body limit of an upload view; None on every other view (no file parts)."""
        view = current_app.view_functions.get(self.endpoint or "")
        return getattr(view, _UPLOAD_ATTRIBUTE, None)

    @property
    def max_content_length(self) -> int | None:
        if self._max_content_length is not None:
            return self._max_content_length
        upload = self.upload_limit
        return upload if upload is not None else settings().max_content_length

    @max_content_length.setter
    def max_content_length(self, value: int | None) -> None:
        self._max_content_length = value

    def get_data(  # type: ignore[override]
        self, cache: bool = True, as_text: bool = False, parse_form_data: bool = False
    ) -> bytes | str:
        """The body (JSON of the API), refused like a form when it does not end in the limit."""
        data: bytes | str
        if as_text:
            data = super().get_data(cache=cache, as_text=True, parse_form_data=parse_form_data)
        else:
            data = super().get_data(cache=cache, as_text=False, parse_form_data=parse_form_data)
        self.stream.read(1)
        return data

    def _get_file_stream(
        self,
        total_content_length: int | None,
        content_type: str | None,
        filename: str | None = None,
        content_length: int | None = None,
    ) -> IO[bytes]:
        # Called when a file part starts, before any of its content is read.
        if self.upload_limit is None or self._file_stream is not None:
            if self._file_stream is not None:
                self._file_stream.close()  # the parser drops it when this raises
            raise RequestEntityTooLarge()
        self._file_stream = super()._get_file_stream(
            total_content_length, content_type, filename, content_length
        )
        return self._file_stream


def _refuse_declared_oversize() -> None:
    """A Content-Length over the limit is refused even where no view would read the body."""
    limit = request.max_content_length
    if request.content_length is not None and limit is not None and request.content_length > limit:
        raise RequestEntityTooLarge()


def init_app(app: Flask) -> None:
    """Before CSRFProtect's hook, which is the first to read a form."""
    app.request_class = LimitedRequest
    app.before_request(_refuse_declared_oversize)
