"""Error pages for every path: staff pages, the JSON API, the citizen side.

Blueprint handlers that know more (the citizen form re-showing a step after a stale CSRF
token, the rate-limit pages) take precedence; these cover the rest, unmatched URLs too.
"""

from __future__ import annotations

from flask import Flask, Response, jsonify, render_template, request
from flask_babel import lazy_gettext
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from survey_app.text_input import RefusedInRequest

# status -> (heading, message) for staff pages and the API, in the official's language.
STAFF_MESSAGES = {
    400: (
        lazy_gettext("Yêu cầu không hợp lệ"),
        lazy_gettext("Yêu cầu gửi lên không đúng định dạng. Không có gì được lưu."),
    ),
    403: (
        lazy_gettext("Không có quyền truy cập"),
        lazy_gettext("Vai trò của bạn không được phép thực hiện thao tác này."),
    ),
    404: (
        lazy_gettext("Không tìm thấy"),
        lazy_gettext(
            "Trang hoặc bản ghi này không tồn tại, hoặc nằm ngoài phạm vi cơ quan của bạn."
        ),
    ),
    405: (
        lazy_gettext("Thao tác không hợp lệ"),
        lazy_gettext("Trang này không nhận thao tác vừa gửi."),
    ),
    413: (
        lazy_gettext("Dữ liệu gửi lên quá lớn"),
        lazy_gettext(
            "Yêu cầu vượt quá giới hạn của trang này về dung lượng, số trường hoặc tệp đính kèm, "
            "nên không có gì được lưu. Nếu đang tải tệp lên, hãy xem giới hạn ghi trên trang tải "
            "lên hoặc chia tệp thành nhiều phần."
        ),
    ),
    429: (
        lazy_gettext("Quá nhiều yêu cầu"),
        lazy_gettext(
            "Bạn đã gửi quá nhiều yêu cầu trong thời gian ngắn. Vui lòng đợi một phút rồi thử lại."
        ),
    ),
    500: (
        lazy_gettext("Lỗi hệ thống"),
        lazy_gettext(
            "Hệ thống gặp lỗi khi xử lý yêu cầu và không lưu thay đổi nào. Vui lòng thử lại sau; "
            "nếu lỗi lặp lại, hãy báo quản trị hệ thống."
        ),
    ),
}
CSRF_MESSAGE = (
    lazy_gettext("Phiên làm việc đã hết hạn"),
    lazy_gettext(
        "Biểu mẫu đã quá hạn hoặc thiếu mã bảo mật, nên không có gì được lưu. Vui lòng tải lại "
        "trang, nhập lại và gửi lần nữa."
    ),
)
REFUSED_TITLE = "Đường dẫn hoặc dữ liệu không hợp lệ"
PUBLIC_MESSAGES = {
    413: (
        "Phiếu gửi lên không hợp lệ",
        "Dữ liệu gửi lên vượt quá giới hạn của phiếu khảo sát nên chưa được ghi nhận. Vui lòng "
        "quét lại mã QR để mở phiếu mới.",
    ),
    404: (
        "Không tìm thấy trang",
        "Đường dẫn này không tồn tại. Để đánh giá, Ông/Bà vui lòng quét mã QR dán tại quầy "
        "tiếp nhận hồ sơ.",
    ),
    500: (
        "Hệ thống đang gặp sự cố",
        "Phiếu của Ông/Bà chưa được ghi nhận. Vui lòng thử lại sau ít phút.",
    ),
}


def init_app(app: Flask) -> None:
    # Every HTTP error, CSRFError included; an unhandled exception arrives here as a 500
    # (InternalServerError) once Flask has logged its traceback.
    app.register_error_handler(HTTPException, _page)


def _page(error: HTTPException) -> tuple[str, int] | Response | HTTPException:
    status = error.code or 500
    path = request.path
    # A refused character in the URL or a form field: the message names it.
    refused = error.message if isinstance(error, RefusedInRequest) else None
    if path.startswith("/api/"):
        heading, message = STAFF_MESSAGES.get(status, (error.name, error.description or ""))
        response = jsonify(error=refused or str(message))
        response.status_code = status
        return response
    if path.startswith("/staff"):
        if isinstance(error, CSRFError):
            heading, message = CSRF_MESSAGE
        else:
            heading, message = STAFF_MESSAGES.get(status, (error.name, error.description or ""))
        return render_template(
            "staff/error.html", heading=heading, message=refused or message
        ), status
    if refused is not None:
        return render_template(
            "citizen/message.html", title=REFUSED_TITLE, body=refused, desk=None, lang="vi"
        ), status
    if status in PUBLIC_MESSAGES:
        title, body = PUBLIC_MESSAGES[status]
        return render_template(
            "citizen/message.html", title=title, body=body, desk=None, lang="vi"
        ), status
    return error
