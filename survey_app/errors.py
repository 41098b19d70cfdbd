"""Error pages in Vietnamese for every path: staff pages, the JSON API, the citizen side.

Blueprint handlers that know more (the citizen form re-showing a step after a stale CSRF
token, the rate-limit pages) take precedence; these cover the rest, unmatched URLs too.
"""

from __future__ import annotations

from flask import Flask, Response, jsonify, render_template, request
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

# status -> (heading, message) for staff pages and the API.
STAFF_MESSAGES = {
    400: ("Yêu cầu không hợp lệ", "Yêu cầu gửi lên không đúng định dạng. Không có gì được lưu."),
    403: ("Không có quyền truy cập", "Vai trò của bạn không được phép thực hiện thao tác này."),
    404: (
        "Không tìm thấy",
        "Trang hoặc bản ghi này không tồn tại, hoặc nằm ngoài phạm vi cơ quan của bạn.",
    ),
    405: ("Thao tác không hợp lệ", "Trang này không nhận thao tác vừa gửi."),
    413: (
        "Dữ liệu gửi lên quá lớn",
        "Yêu cầu vượt quá giới hạn của trang này về dung lượng, số trường hoặc tệp đính kèm, "
        "nên không có gì được lưu. Nếu đang tải tệp lên, hãy xem giới hạn ghi trên trang tải "
        "lên hoặc chia tệp thành nhiều phần.",
    ),
    429: (
        "Quá nhiều yêu cầu",
        "Bạn đã gửi quá nhiều yêu cầu trong thời gian ngắn. Vui lòng đợi một phút rồi thử lại.",
    ),
    500: (
        "Lỗi hệ thống",
        "Hệ thống gặp lỗi khi xử lý yêu cầu và không lưu thay đổi nào. Vui lòng thử lại sau; "
        "nếu lỗi lặp lại, hãy báo quản trị hệ thống.",
    ),
}
CSRF_MESSAGE = (
    "Phiên làm việc đã hết hạn",
    "Biểu mẫu đã quá hạn hoặc thiếu mã bảo mật, nên không có gì được lưu. Vui lòng tải lại "
    "trang, nhập lại và gửi lần nữa.",
)
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
    if path.startswith("/api/"):
        heading, message = STAFF_MESSAGES.get(status, (error.name, error.description or ""))
        response = jsonify(error=message)
        response.status_code = status
        return response
    if path.startswith("/staff"):
        if isinstance(error, CSRFError):
            heading, message = CSRF_MESSAGE
        else:
            heading, message = STAFF_MESSAGES.get(status, (error.name, error.description or ""))
        return render_template("staff/error.html", heading=heading, message=message), status
    if status in PUBLIC_MESSAGES:
        title, body = PUBLIC_MESSAGES[status]
        return render_template(
            "citizen/message.html", title=title, body=body, desk=None, lang="vi"
        ), status
    return error
