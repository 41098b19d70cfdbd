"""Agencies, desks and campaigns (thiết lập khảo sát)."""

from flask_babel import lazy_gettext

MESSAGES = {
    "setup.code_invalid": lazy_gettext(
        "Mã %(thing)s chỉ gồm chữ cái không dấu, chữ số, '.', '_', '-' (1-64 ký tự, "
        "bắt đầu bằng chữ cái hoặc chữ số)."
    ),
    "setup.code_taken": lazy_gettext("Mã %(thing)s %(code)r đã được dùng."),
    "setup.name_missing": lazy_gettext("Vui lòng nhập tên %(thing)s."),
    "setup.name_too_long": lazy_gettext("Tên %(thing)s dài quá %(maximum)s ký tự."),
    "setup.kind_length": lazy_gettext("Loại cơ quan phải có từ 1 đến %(maximum)s ký tự."),
    "setup.agency_unknown": lazy_gettext("Không có cơ quan mã %(code)r."),
    "setup.parent_unknown": lazy_gettext("Không có cơ quan cấp trên mã %(code)r."),
    "setup.desk_unknown": lazy_gettext("Không có bộ phận một cửa mã %(code)r."),
    "setup.campaign_unknown": lazy_gettext("Không có đợt khảo sát mã %(code)r."),
    "setup.desk_outside_agency": lazy_gettext(
        "Bộ phận một cửa %(desk)s (%(name)s) không thuộc %(agency)s hoặc các đơn vị trực thuộc."
    ),
    "setup.desk_inactive": lazy_gettext("Bộ phận một cửa %(desk)s (%(name)s) đã ngừng hoạt động."),
    "setup.no_desk": lazy_gettext("Vui lòng chọn ít nhất một bộ phận một cửa."),
    "setup.period_reversed": lazy_gettext(
        "Ngày kết thúc (%(ends_on)s) phải từ ngày bắt đầu (%(starts_on)s) trở đi."
    ),
    "setup.questionnaire_not_loaded": lazy_gettext(
        "Phiếu khảo sát %(questionnaire)s phiên bản %(version)s chưa được nạp."
    ),
    "setup.questionnaire_answered": lazy_gettext(
        "Đợt khảo sát đã có %(count)s phiếu trả lời theo phiếu %(questionnaire)s phiên bản "
        "%(version)s, nên không thể đổi phiếu khảo sát."
    ),
    "setup.answers_outside_period": lazy_gettext(
        "Có %(count)s phiếu trả lời đã lưu nằm ngoài thời gian mới (%(starts_on)s – "
        "%(ends_on)s). Các phiếu của đợt này được gửi từ ngày %(first)s đến ngày %(last)s; "
        "thời gian của đợt phải bao gồm các ngày đó."
    ),
    "setup.desk_has_answers": lazy_gettext(
        "Không thể bỏ %(desk)s (%(name)s) khỏi đợt khảo sát: đã có %(count)s phiếu trả lời "
        "tại quầy này."
    ),
    "setup.campaign_overlap": lazy_gettext(
        "Trùng thời gian với đợt khảo sát %(other)s (%(other_name)s, %(other_starts)s – "
        "%(other_ends)s) tại %(desks)s: cả hai đợt cùng diễn ra từ ngày %(first)s đến ngày "
        "%(last)s. Mỗi quầy chỉ chạy một đợt khảo sát mỗi ngày (áp phích mã QR mở phiếu của "
        "đợt đó); vui lòng đổi thời gian hoặc bỏ quầy khỏi một trong hai đợt."
    ),
}

# The things set up (``thing`` above), and the names of their fields in a refusal.
THINGS = {
    "agency": lazy_gettext("cơ quan"),
    "desk": lazy_gettext("bộ phận một cửa"),
    "campaign": lazy_gettext("đợt khảo sát"),
}
CODE_OF = {
    "agency": lazy_gettext("Mã cơ quan"),
    "desk": lazy_gettext("Mã bộ phận một cửa"),
    "campaign": lazy_gettext("Mã đợt khảo sát"),
}
NAME_OF = {
    "agency": lazy_gettext("Tên cơ quan"),
    "desk": lazy_gettext("Tên bộ phận một cửa"),
    "campaign": lazy_gettext("Tên đợt khảo sát"),
}
