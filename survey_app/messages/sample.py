"""The probability sample of dossiers (mẫu xác suất hồ sơ): estimates, rates and plans."""

from flask_babel import lazy_gettext

MESSAGES = {
    "sample.no_design": lazy_gettext(
        "Đợt khảo sát %(campaign)s chưa có thiết kế chọn mẫu hồ sơ: chưa có mẫu xác suất."
    ),
    "sample.no_dossiers": lazy_gettext(
        "Chưa có hồ sơ đủ điều kiện nào được chọn vào mẫu: chưa ước lượng được."
    ),
    "sample.no_respondents": lazy_gettext(
        "Đã chọn %(selected)s hồ sơ nhưng chưa người dân nào trả lời: chưa ước lượng được."
    ),
    "sample.empty_class": lazy_gettext(
        "Lớp điều chỉnh không trả lời “%(cell)s” có %(selected)s hồ sơ được chọn nhưng không "
        "có người trả lời: gộp lớp này với một lớp gần nó trong thiết kế chọn mẫu (bớt một "
        "thuộc tính của lớp) rồi tính lại."
    ),
    "sample.cell_without_respondents": lazy_gettext(
        "Khung mẫu có %(total)s hồ sơ ở ô “%(cell)s” nhưng mẫu không có người trả lời nào ở ô "
        "này: không hiệu chỉnh được theo công thức hiện tại. Bỏ bớt biến hoặc gộp ô trong "
        "công thức hiệu chỉnh."
    ),
    "sample.cell_without_frame": lazy_gettext(
        "Mẫu có người trả lời ở ô “%(cell)s” nhưng khung mẫu không có hồ sơ nào ở ô này: "
        "kiểm tra số liệu khung mẫu từ phần mềm một cửa."
    ),
    "sample.calibration_failed": lazy_gettext(
        "Hiệu chỉnh trọng số không hội tụ trong giới hạn đã đặt: ô “%(cell)s” chỉ đạt tổng "
        "%(reached)s so với %(total)s hồ sơ của khung mẫu. Nới rộng giới hạn hoặc gộp ô."
    ),
    "sample.negative_weights": lazy_gettext(
        "Hiệu chỉnh tuyến tính cho trọng số âm hoặc bằng 0 ở ô “%(cell)s”: đặt giới hạn cho "
        "hệ số hiệu chỉnh hoặc dùng phương pháp raking."
    ),
    "sample.bad_formula": lazy_gettext(
        "Công thức hiệu chỉnh “%(formula)s” không hợp lệ: chỉ dùng tên biến nối bằng + "
        "(ví dụ ~agency + procedure_field)."
    ),
    "sample.formula_factor": lazy_gettext(
        "Công thức hiệu chỉnh dùng “%(factor)s”, không phải thuộc tính của khung mẫu "
        "(%(attributes)s)."
    ),
    "sample.no_frame": lazy_gettext(
        "Chưa có số liệu khung mẫu (hồ sơ đã trả kết quả) để hiệu chỉnh trọng số."
    ),
    "sample.failed": lazy_gettext("Không ước lượng được từ mẫu hồ sơ: %(detail)s"),
    "sample.plan_no_frame": lazy_gettext(
        "Chưa có số liệu khung mẫu (hồ sơ đã trả kết quả) để lập kế hoạch chọn mẫu."
    ),
    "sample.plan_failed": lazy_gettext("Không lập được kế hoạch chọn mẫu: %(detail)s"),
    "sample.bad_target": lazy_gettext(
        "Sai số mục tiêu phải là một số lớn hơn 0 và không quá 50 điểm phần trăm "
        "(ví dụ 3), không phải “%(value)s”."
    ),
    "sample.bad_rate": lazy_gettext(
        "Tỷ lệ trả lời dự kiến phải là một số từ 1 đến 100 (phần trăm), không phải “%(value)s”."
    ),
    "sample.no_previous": lazy_gettext(
        "Chưa có đợt khảo sát kỳ trước cùng cơ quan và bộ câu hỏi: các cơ quan được lập kế "
        "hoạch với chỉ số 50% và hệ số thiết kế 1 (thận trọng nhất)."
    ),
    "sample.bad_source": lazy_gettext("Nguồn ước lượng “%(value)s” không hợp lệ."),
    "sample.unknown_agency": lazy_gettext(
        "Không có cơ quan mã “%(code)s” trong phạm vi bạn được xem."
    ),
}
