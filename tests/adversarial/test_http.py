"""Hostile HTTP requests: oversized bodies, too many fields, stray file parts.

Every POST rule of ``app.url_map`` is tried, anonymous and signed in, on SQLite and
PostgreSQL; each refusal must be the Vietnamese 413 page (JSON on /api/) with no row of
any table changed. A gunicorn worker is also sent 200 MB bodies, and its peak memory read.
"""

from __future__ import annotations

import datetime as dt
import io
import os
import re
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from werkzeug.datastructures import MultiDict
from werkzeug.test import TestResponse, encode_multipart

from survey_app import localtime
from survey_app.extensions import db
from survey_app.services import organisation, questionnaires
from survey_app.services.questionnaires import definition
from tests.citizen_support import read_form
from tests.http_support import Route, every_route, province_records, row_counts
from tests.staff_support import add_user, login

ROOT = Path(__file__).resolve().parents[2]
MB = 1_000_000
API_SECRET = "khoa-bi-mat-cua-phan-mem-mot-cua-0123456789"
URLENCODED = "application/x-www-form-urlencoded"


class Body(io.RawIOBase):
    """A request body of ``size`` bytes, made as it is read; counts what the server read."""

    def __init__(self, size: int) -> None:
        self.size = size
        self.position = 0
        self.read_bytes = 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True  # the test client measures the length by seeking; nothing is read

    def seek(self, offset: int, whence: int = 0) -> int:
        self.position = {0: offset, 1: self.position + offset, 2: self.size + offset}[whence]
        return self.position

    def tell(self) -> int:
        return self.position

    def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]
        n = max(0, min(len(buffer), self.size - self.position))
        buffer[:n] = b"a" * n
        self.position += n
        self.read_bytes += n
        return n


@pytest.fixture
def province(make_app: Callable[..., Flask]) -> tuple[Flask, dict[str, str]]:
    app = make_app(ONESTOP_API_SECRET=API_SECRET)
    with app.app_context():
        db.create_all()
    records = province_records(app)
    with app.app_context():
        add_user("quantri", "admin")
    return app, records


def _clients(app: Flask) -> list[tuple[str, FlaskClient]]:
    admin = app.test_client()
    assert login(admin, "quantri").status_code == 302
    return [("anonymous", app.test_client()), ("admin", admin)]


def _post_routes(app: Flask, records: dict[str, str]) -> list[Route]:
    routes = [r for r in every_route(app, records) if r.method == "POST"]
    must = {"staff.login", "citizen.desk_submit", "citizen.dossier_submit", "staff.paper_import"}
    assert must <= {r.endpoint for r in routes} and "onestop_api.issue_dossier_code" in str(routes)
    return routes


def _refused(route: Route, response: TestResponse) -> str | None:
    """What is wrong with a refusal (None when it is the right 413 page)."""
    if response.status_code != 413:
        return f"{route}: {response.status_code}, expected 413"
    text = response.get_data(as_text=True)
    if route.rule.startswith("/api/"):
        ok = "vượt quá giới hạn" in (response.get_json(silent=True) or {}).get("error", "")
    elif route.rule.startswith("/staff"):
        ok = "Dữ liệu gửi lên quá lớn" in text
    else:
        ok = "Phiếu gửi lên không hợp lệ" in text
    return None if ok else f"{route}: 413 without the Vietnamese page"


def _each_post(
    province: tuple[Flask, dict[str, str]],
    send: Callable[[FlaskClient, Route], TestResponse | None],
) -> list[str]:
    """Send one hostile request to every POST route as every client; list what went wrong."""
    app, records = province
    clients = _clients(app)
    with app.app_context():
        before = row_counts()
    problems = []
    for who, client in clients:
        for route in _post_routes(app, records):
            response = send(client, route)
            if response is not None and (problem := _refused(route, response)):
                problems.append(f"{who} {problem}")
    with app.app_context():
        assert row_counts() == before
    return problems


def _limit(app: Flask, route: Route) -> int:
    with app.test_request_context(route.url, method="POST"):
        from flask import request

        return int(request.max_content_length or 0)


def test_a_200_mb_body_with_its_content_length_is_refused_before_a_byte_is_read(
    province: tuple[Flask, dict[str, str]],
) -> None:
    bodies: list[Body] = []

    def send(client: FlaskClient, route: Route) -> TestResponse:
        body = Body(200 * MB)
        bodies.append(body)
        return client.post(route.url, input_stream=body, content_type=URLENCODED)

    assert _each_post(province, send) == []
    assert [b.read_bytes for b in bodies] == [0] * len(bodies)


def test_a_200_mb_chunked_body_is_read_no_further_than_the_limit(
    province: tuple[Flask, dict[str, str]],
) -> None:
    app, _ = province
    overrun: list[str] = []

    def send(client: FlaskClient, route: Route) -> TestResponse:
        body = Body(200 * MB)
        response = client.post(
            route.url,
            input_stream=body,
            content_type=URLENCODED,
            # A timestamp and a (wrong) signature, so the API reads the body to check it.
            headers={
                "Transfer-Encoding": "chunked",
                "X-Timestamp": str(int(time.time())),
                "X-Signature": "0" * 64,
            },
            environ_overrides={"wsgi.input_terminated": True},
        )
        if body.read_bytes > _limit(app, route) + 64 * 1024:
            overrun.append(f"{route}: read {body.read_bytes} bytes")
        return response

    assert _each_post(province, send) == []
    assert overrun == []


def test_100000_url_encoded_fields_are_refused_on_every_form(
    province: tuple[Flask, dict[str, str]],
) -> None:
    body = "&".join(f"f{i}=1" for i in range(100_000)).encode()  # under 1 MB

    def send(client: FlaskClient, route: Route) -> TestResponse | None:
        response = client.post(route.url, data=body, content_type=URLENCODED)
        if route.rule.startswith("/api/"):
            # The API reads JSON, never a form: its signature check refuses this.
            assert response.status_code == 401 and response.is_json
            return None
        return response

    assert _each_post(province, send) == []


def test_too_many_multipart_fields_are_refused_on_every_form(
    province: tuple[Flask, dict[str, str]],
) -> None:
    boundary, body = encode_multipart({f"f{i}": "1" for i in range(1001)})

    def send(client: FlaskClient, route: Route) -> TestResponse | None:
        response = client.post(
            route.url, data=body, content_type=f'multipart/form-data; boundary="{boundary}"'
        )
        if route.rule.startswith("/api/"):
            assert response.status_code == 401 and response.is_json
            return None
        return response

    assert _each_post(province, send) == []


UPLOAD_ROUTES = {
    "staff.paper_import",
    "staff.questionnaire_upload",
    "dashboard.weighting",
    "staff.desk_slips",
}


def test_file_parts_are_refused_before_their_content_outside_the_upload_pages(
    province: tuple[Flask, dict[str, str]],
) -> None:
    """One file part anywhere but the four upload pages; a second one on those."""
    app, _ = province
    read_too_far: list[str] = []

    def send(client: FlaskClient, route: Route) -> TestResponse | None:
        files = 2 if route.endpoint in UPLOAD_ROUTES else 1
        head = b"".join(
            b'--B\r\nContent-Disposition: form-data; name="f%d"; filename="a.csv"\r\n'
            b"Content-Type: text/csv\r\n\r\n"
            % n
            + (b"x" * 1000 + b"\r\n" if n < files - 1 else b"")
            for n in range(files)
        )
        size = min(900_000, _limit(app, route) - len(head) - 100)
        body = Body(size)
        stream = io.BufferedReader(_Concat(head, body, b"\r\n--B--\r\n"))
        response = client.post(
            route.url, input_stream=stream, content_type='multipart/form-data; boundary="B"'
        )
        if body.read_bytes > 128 * 1024:
            read_too_far.append(f"{route}: read {body.read_bytes} bytes of the file")
        if route.rule.startswith("/api/"):
            assert response.status_code == 401 and response.is_json
            return None
        return response

    assert _each_post(province, send) == []
    assert read_too_far == []


class _Concat(io.RawIOBase):
    """head + body + tail as one seekable stream (the file part's content is ``body``)."""

    def __init__(self, head: bytes, body: Body, tail: bytes) -> None:
        self.parts: list[io.RawIOBase] = [io.BytesIO(head), body, io.BytesIO(tail)]
        self.size = len(head) + body.size + len(tail)
        self.position = 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def seek(self, offset: int, whence: int = 0) -> int:
        target = {0: offset, 1: self.position + offset, 2: self.size + offset}[whence]
        if target != self.position and self.position != 0 and target != 0:
            raise io.UnsupportedOperation("only measured, never re-read")
        self.position = target
        return target

    def tell(self) -> int:
        return self.position

    def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]
        while self.parts:
            n = self.parts[0].readinto(buffer)  # type: ignore[arg-type]
            if n:
                self.position += n
                return int(n)
            self.parts.pop(0)
        return 0


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    fields=st.integers(1, 40),
    value_bytes=st.integers(0, 400),
    multipart=st.booleans(),
)
def test_a_form_is_refused_exactly_when_it_passes_a_limit(
    make_app: Callable[..., Flask], fields: int, value_bytes: int, multipart: bool
) -> None:
    app = make_app(MAX_CONTENT_LENGTH=6000, MAX_FORM_PARTS=20)
    values = {f"f{i}": "v" * value_bytes for i in range(fields)}
    if multipart:
        boundary, body = encode_multipart(values)
        content_type = f'multipart/form-data; boundary="{boundary}"'
    else:
        body = "&".join(f"{k}={v}" for k, v in values.items()).encode()
        content_type = URLENCODED
    over = len(body) > 6000 or fields > 20
    response = app.test_client().post("/staff/login", data=body, content_type=content_type)
    assert (response.status_code == 413) == over, (len(body), response.status_code)


# --------------------------------------------------------------------------- gunicorn


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _peak_rss_kb(pid: int) -> int:
    status = Path(f"/proc/{pid}/status").read_text()
    return int(re.search(r"VmHWM:\s+(\d+) kB", status).group(1))  # type: ignore[union-attr]


def _worker_pid(master: int) -> int:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        children = Path(f"/proc/{master}/task/{master}/children").read_text().split()
        if children:
            return int(children[0])
        time.sleep(0.1)
    raise AssertionError("gunicorn started no worker")


def _send_200_mb(port: int, chunked: bool) -> str:
    """POST 200 MB to /staff/login, as fast as the server takes it; its status line."""
    sock = socket.create_connection(("127.0.0.1", port))
    head = "POST /staff/login HTTP/1.1\r\nHost: x\r\nContent-Type: " + URLENCODED + "\r\n"
    head += (
        "Transfer-Encoding: chunked\r\n\r\n" if chunked else f"Content-Length: {200 * MB}\r\n\r\n"
    )
    chunk = b"a" * 65536
    frame = b"%x\r\n%s\r\n" % (len(chunk), chunk) if chunked else chunk

    def pour() -> None:
        try:
            sock.sendall(head.encode())
            for _ in range(200 * MB // len(chunk)):
                sock.sendall(frame)
        except OSError:
            pass  # the server answered and closed: it read no further

    sender = threading.Thread(target=pour, daemon=True)
    sender.start()
    sock.settimeout(60)
    status = b""
    try:
        with sock.makefile("rb") as reader:
            status = reader.readline()
        sock.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass  # the server closed first: it answered and read no further
    finally:
        sock.close()
    sender.join(timeout=60)
    return status.decode().strip()


def test_a_gunicorn_worker_never_holds_a_200_mb_body(tmp_path: Path) -> None:
    port = _free_port()
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{tmp_path / 'g.sqlite3'}",
        "SECRET_KEY": "s" * 48,
        "CLIENT_HASH_SALT": "c" * 48,
        "ANALYSIS_CACHE_DIR": "",
    }
    gunicorn = Path(sys.executable).with_name("gunicorn")
    master = subprocess.Popen(
        [str(gunicorn), "-w", "1", "--threads", "4", "-b", f"127.0.0.1:{port}"]
        + ["--log-level", "warning", "survey_app:create_app()"],
        cwd=ROOT,
        env=env,
    )
    try:
        worker = _worker_pid(master.pid)
        deadline = time.monotonic() + 60
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                assert time.monotonic() < deadline, "gunicorn did not listen"
                time.sleep(0.2)
        baseline = _peak_rss_kb(worker)
        statuses = [_send_200_mb(port, chunked) for chunked in (False, True)]
        growth_mb = (_peak_rss_kb(worker) - baseline) / 1000
        print(f"worker peak RSS {baseline / 1000:.0f} MB, grew by {growth_mb:.1f} MB")
    finally:
        master.terminate()
        try:
            master.wait(timeout=30)
        except subprocess.TimeoutExpired:
            master.kill()
            master.wait()
    assert [s.split()[1] for s in statuses] == ["413", "413"], statuses
    # The body is 200 MB; reading it whole took >500 MB. A generous bound, never a timing.
    assert growth_mb < 50, f"worker peak memory grew by {growth_mb:.0f} MB"


# --------------------------------------------------------------------------- citizen form


def test_the_citizen_form_takes_its_largest_possible_post_and_not_one_field_more(
    app: Flask,
) -> None:
    """Every bundled questionnaire: all answered, every option ticked, passes the limit;
    one field more (a stray one, or a second value of a single choice) is refused."""
    with app.app_context():
        today = localtime.today()  # the surveys' date, not the machine's
        organisation.add_agency("P", "Tỉnh Thử", "province")
        public_ids = {}
        for n, path in enumerate(sorted((ROOT / "questionnaires").glob("*.yaml"))):
            version, _ = questionnaires.load_file(path)
            desk = organisation.add_desk(f"D{n}", f"Quầy {n}", "P")
            organisation.add_campaign(
                f"C{n}",
                path.stem,
                "P",
                version.questionnaire_id,
                version.version,
                today - dt.timedelta(days=1),
                today + dt.timedelta(days=1),
                [desk.code],
            )
            public_ids[path.stem] = (desk.public_id, definition(version))
        db.session.commit()
    client = app.test_client()
    for name, (public_id, q) in public_ids.items():
        page = read_form(client.get(f"/s/{public_id}"))
        fields = list(page.hidden) + [("review", "1"), ("action", "submit")]  # from the review
        for item in q.items:
            if item.type == "multiple":
                fields += [(f"a_{item.code}", str(o.code)) for o in item.options]
            elif item.type == "single":
                fields.append((f"a_{item.code}", str(item.options[0].code)))
            else:
                fields.append((f"a_{item.code}", "1"))
        url = f"/s/{public_id}/submit"
        largest = client.post(url, data=MultiDict(fields))
        assert largest.status_code in (303, 422), (name, largest.status_code)
        with app.app_context():
            before = row_counts()
        single = next(f for f in fields if f[0].startswith("a_"))
        for extra in (("a_khong-co", "1"), ("x", "1"), single):
            refused = client.post(url, data=MultiDict(fields + [extra]))
            assert refused.status_code == 413, (name, extra)
            assert "Phiếu gửi lên không hợp lệ" in refused.get_data(as_text=True)
        with app.app_context():
            assert row_counts() == before


@pytest.mark.parametrize("length", ["-5", "1" + "0" * 30, "1e9", "abc", " 12", "0x10", ""])
def test_a_malformed_content_length_is_a_clean_refusal(
    province: tuple[Flask, dict[str, str]], length: str
) -> None:
    app, records = province
    with app.app_context():
        before = row_counts()
    for url in ("/staff/login", f"/s/{records['public_id']}/submit"):
        response = app.test_client().post(
            url,
            input_stream=io.BytesIO(b"a_comment=x&uid=y"),
            content_type=URLENCODED,
            environ_overrides={"CONTENT_LENGTH": length},
        )
        assert response.status_code in (400, 413), (url, length, response.status_code)
    with app.app_context():
        assert row_counts() == before
