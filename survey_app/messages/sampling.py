"""Sampling designs (thiết kế chọn mẫu) and the dossier events they select from."""

from flask_babel import lazy_gettext

MESSAGES = {
    "sampling.field_unknown": lazy_gettext(
        "Thiết kế chọn mẫu có trường không biết: %(names)s. Các trường: strata, probabilities, "
        "default_probability, method, seed, nonresponse_classes, calibration, trim."
    ),
    "sampling.attributes_not_list": lazy_gettext(
        "Cần một danh sách thuộc tính, trong số: %(allowed)s."
    ),
    "sampling.attribute_unknown": lazy_gettext(
        "Thuộc tính không dùng được: %(names)s. Dùng một trong: %(allowed)s."
    ),
    "sampling.probabilities_not_table": lazy_gettext(
        "Xác suất chọn theo tầng phải là một bảng: tên tầng → xác suất."
    ),
    "sampling.stratum_malformed": lazy_gettext(
        "Tầng “%(stratum)s” không khớp với cách phân tầng đã chọn (cần %(parts)s giá trị "
        "ngăn cách bởi “ | ”; không phân tầng thì tầng duy nhất là “all”)."
    ),
    "sampling.probability_invalid": lazy_gettext(
        "Xác suất chọn của tầng “%(stratum)s” phải là một số lớn hơn 0 và không quá 1 "
        "(đang là “%(value)s”)."
    ),
    "sampling.default_invalid": lazy_gettext(
        "Xác suất chọn mặc định phải là một số lớn hơn 0 và không quá 1 (đang là “%(value)s”)."
    ),
    "sampling.method_unknown": lazy_gettext(
        "Phương pháp chọn “%(method)s” không có; dùng poisson hoặc systematic (hệ thống)."
    ),
    "sampling.seed_invalid": lazy_gettext(
        "Hạt giống (seed) gồm 1 đến 64 ký tự: chữ cái không dấu, chữ số, “-” hoặc “_”."
    ),
    "sampling.calibration_not_table": lazy_gettext(
        "Hiệu chỉnh (calibration) phải gồm formula, calfun và bounds, hoặc để trống."
    ),
    "sampling.formula_invalid": lazy_gettext(
        "Công thức hiệu chỉnh “%(formula)s” không đúng dạng; viết ví dụ ~agency + procedure_field."
    ),
    "sampling.calfun_unknown": lazy_gettext(
        "Hàm hiệu chỉnh “%(calfun)s” không có; dùng linear (GREG) hoặc raking."
    ),
    "sampling.bounds_invalid": lazy_gettext(
        "Giới hạn hiệu chỉnh phải là hai số [dưới, trên] với 0 ≤ dưới ≤ 1 ≤ trên và dưới < "
        "trên, hoặc để trống."
    ),
    "sampling.trim_invalid": lazy_gettext(
        "Giới hạn cắt trọng số phải là hai số [dưới, trên] (so với trọng số trung bình) với "
        "0 ≤ dưới ≤ 1 ≤ trên và dưới < trên, hoặc để trống."
    ),
    "sampling.file_unreadable": lazy_gettext("Tệp YAML không đọc được: %(detail)s"),
    "sampling.event_differs": lazy_gettext(
        "Sự kiện “%(kind)s” của hồ sơ này đã được ghi với thông tin khác."
    ),
    "sampling.dossier_not_selected": lazy_gettext(
        "Hồ sơ này không được chọn vào mẫu khảo sát của đợt nào."
    ),
    "sampling.dossier_answered": lazy_gettext(
        "Hồ sơ này đã có phiếu trả lời; kết quả mời của hồ sơ là đã trả lời."
    ),
}
