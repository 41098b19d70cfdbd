"""Remediation plans (kế hoạch khắc phục)."""

from flask_babel import lazy_gettext

MESSAGES = {
    "plan.not_allowed": lazy_gettext(
        "Tài khoản này không được lập hoặc sửa kế hoạch khắc phục của %(agency)s."
    ),
    "plan.row_not_yours": lazy_gettext(
        "Chỉ đơn vị chủ trì (%(lead)s), cơ quan cấp trên của đơn vị đó hoặc chuyên viên phân "
        "tích được sửa dòng “%(criterion)s”."
    ),
    "plan.missing": lazy_gettext(
        "Chưa có kế hoạch khắc phục của %(agency)s cho đợt khảo sát %(campaign)s."
    ),
    "plan.agency_outside_campaign": lazy_gettext(
        "%(agency)s không có quầy nào trong đợt khảo sát %(campaign)s."
    ),
    "plan.period_unknown": lazy_gettext(
        "Kỳ “%(period)s” không có trong đợt khảo sát; dùng all, một năm (2026), một quý "
        "(2026-Q2) hoặc một tháng (2026-05)."
    ),
    "plan.no_criteria": lazy_gettext("Vui lòng chọn ít nhất một tiêu chí."),
    "plan.criterion_unknown": lazy_gettext("Bộ câu hỏi không có tiêu chí mã %(criterion)s."),
    "plan.criterion_present": lazy_gettext("Tiêu chí %(criterion)s đã có trong kế hoạch."),
    "plan.target_invalid": lazy_gettext(
        "Mục tiêu phải là một số từ 0 đến 100 (chỉ số %%, tối đa 2 chữ số thập phân), "
        "ví dụ 85 hoặc 85,5."
    ),
    "plan.deadline_invalid": lazy_gettext(
        "Thời hạn phải là một ngày theo dạng ngày/tháng/năm, ví dụ 30/06/2027."
    ),
    "plan.lead_missing": lazy_gettext("Vui lòng chọn đơn vị chủ trì thực hiện."),
    "plan.lead_unknown": lazy_gettext("Không có cơ quan mã %(code)r."),
    "plan.lead_outside_scope": lazy_gettext(
        "Đơn vị chủ trì phải là %(agency)s hoặc một đơn vị trực thuộc; %(lead)s không thuộc "
        "phạm vi kế hoạch."
    ),
    "plan.lead_not_yours": lazy_gettext(
        "Chỉ được giao chủ trì cho cơ quan của tài khoản hoặc đơn vị trực thuộc; %(lead)s "
        "nằm ngoài phạm vi đó."
    ),
    "plan.status_invalid": lazy_gettext(
        "Trạng thái phải là: chưa thực hiện, đang thực hiện hoặc hoàn thành."
    ),
    "plan.changed_meanwhile": lazy_gettext(
        "Kế hoạch vừa được thay đổi ở một phiên làm việc khác; không có gì được lưu. Vui lòng "
        "tải lại trang và thử lại."
    ),
    "plan.text_too_long": lazy_gettext("%(what)s dài quá %(maximum)s ký tự."),
}
