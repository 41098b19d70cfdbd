"""README.txt of an evidence pack: what each file is and how to check it, in Vietnamese.

The pack is the province's record, so it is written in Vietnamese whatever the page
language (as the other exports).
"""

from __future__ import annotations

import textwrap

from survey_app.services.analysis import View
from survey_app.services.evidence import files

DESCRIPTIONS = {
    "bao_cao.pdf": "Báo cáo kết quả khảo sát (bản PDF) của kỳ và phạm vi này.",
    "diem_cchc.xlsx": "Bảng điểm Chỉ số CCHC quy đổi từ chỉ số hài lòng, theo từng cơ quan.",
    "du_lieu.csv": (
        "Dữ liệu thô đã ẩn danh: mỗi dòng một phiếu của đợt khảo sát (mã quầy, mã cơ quan, "
        "ngày gửi, cột in_domain, biến hiệu chỉnh trọng số nếu có, câu trả lời các câu hỏi "
        "tính chỉ số). Không có mã hồ sơ, mã biên nhận, giờ gửi hay ý kiến tự do. Phiếu "
        "ngoài kỳ hoặc ngoài phạm vi (in_domain = 0) không có câu trả lời: chúng cần cho sai "
        "số chuẩn vì thiết kế mẫu tính trên cả đợt; phiếu của cơ quan ngoài phạm vi chỉ giữ "
        "những gì thiết kế mẫu cần (xem mục PHIẾU CỦA CƠ QUAN NGOÀI PHẠM VI)."
    ),
    "ma_hoa.csv": "Bảng mã (codebook) của du_lieu.csv: cột, nội dung câu hỏi, loại, mã và nhãn.",
    "bo_cau_hoi.yaml": "Bộ câu hỏi (phiếu khảo sát) đúng như ứng dụng đã nạp, kể cả cây chỉ số.",
    "bo_cau_hoi.content_hash.txt": (
        "Mã băm nội dung (SHA-256 của nội dung đã kiểm tra) của bộ câu hỏi, như ứng dụng lưu "
        "và hiển thị; đổi bất kỳ câu chữ, mã hay quy tắc nào thì mã băm đổi."
    ),
    "cai_dat_trong_so.json": (
        "Cài đặt trọng số và khoảng tin cậy (tầng, cụm, hậu phân tầng hoặc raking, biên dân "
        "số, phương pháp và mức tin cậy), kỳ, phạm vi cơ quan."
    ),
    "cay_chi_so.csv": (
        "Cây chỉ số của bộ câu hỏi dạng bảng (nút, nút cha, cách tổng hợp, mã trả lời hợp lệ "
        "và mã được tính là hài lòng) mà reproduce.R đọc."
    ),
    "anh_xa_cchc.csv": (
        "Ánh xạ sang Chỉ số CCHC: tiêu chí, nút chỉ số, điểm tối đa, cách làm tròn."
    ),
    "ket_qua_ung_dung.csv": (
        "Số liệu do ứng dụng tính: mọi nút chỉ số của phạm vi (ước lượng, sai số chuẩn, "
        "khoảng tin cậy, bậc tự do, n) và điểm CCHC của từng cơ quan."
    ),
    "reproduce.R": (
        "Chương trình R tính lại toàn bộ số liệu bằng gói survey và so sánh với "
        "ket_qua_ung_dung.csv."
    ),
    "README.txt": "Tệp này.",
}


def describe(name: str) -> str:
    if name.startswith("bien_dan_so_"):
        return "Biên dân số (tổng thể) dùng để hiệu chỉnh trọng số: mã các biến và cột Freq."
    if name.startswith("anh_xa_cchc/"):
        return "Tệp ánh xạ Chỉ số CCHC (YAML) đúng như ứng dụng dùng."
    return DESCRIPTIONS.get(name, "")


def readme_text(view: View, names: list[str], scope: str) -> str:
    """The README: the pack's subject, each file, and how to verify hashes and figures."""
    q = view.questionnaire
    agencies = (
        "tất cả cơ quan" if view.agency_codes is None else ", ".join(sorted(view.agency_codes))
    )
    listed = [*names, "README.txt", "SHA256SUMS"]
    lines = [
        "TÀI LIỆU KIỂM CHỨNG KẾT QUẢ KHẢO SÁT",
        "",
        f"Đợt khảo sát: {view.campaign.name} ({view.campaign.code})",
        f"Kỳ: {view.period.label} ({view.period.start.isoformat()} đến "
        f"{view.period.end.isoformat()})",
        f"Phạm vi: {scope} ({agencies}); {view.n} phiếu trong phạm vi, "
        f"{len(view.frame)} phiếu của cả đợt",
        f"Bộ câu hỏi: {q.id} phiên bản {q.version}; mã băm nội dung {q.content_hash}",
        f"Cài đặt: {view.settings_text}",
        "",
        "CÁC TỆP",
        "",
    ]
    for name in listed:
        text = (
            describe(name)
            if name != "SHA256SUMS"
            else ("Mã băm SHA-256 của mọi tệp khác trong thư mục.")
        )
        lines.append(f"- {name}: {text}")
    lines += ["", *outside_scope(view)]
    lines += [
        "",
        "KIỂM TRA TÍNH TOÀN VẸN",
        "",
        "Trong thư mục đã giải nén, chạy:",
        "    sha256sum -c SHA256SUMS",
        "Mọi dòng phải báo OK. Trên Windows: certutil -hashfile TÊN_TỆP SHA256 rồi so với",
        "dòng tương ứng trong SHA256SUMS.",
        "",
        "TÍNH LẠI SỐ LIỆU",
        "",
        'Cần R (https://www.r-project.org) và gói survey: install.packages("survey").',
        "Trong thư mục đã giải nén, chạy:",
        "    Rscript reproduce.R",
        "Chương trình dựng lại thiết kế mẫu từ du_lieu.csv và cai_dat_trong_so.json (tầng,",
        "cụm, hiệu chỉnh trọng số theo bien_dan_so_*.csv), ước lượng phạm vi như một miền",
        "con của cả đợt (subset), tính lại ước lượng, sai số chuẩn, khoảng tin cậy, bậc tự do",
        "của mọi nút chỉ số và điểm CCHC, ghi ra ket_qua_R.csv rồi so với ket_qua_ung_dung.csv.",
        'Kết quả "KHỚP" nghĩa là mọi số liệu trùng nhau với sai lệch không quá 1e-8;',
        '"KHÔNG KHỚP" liệt kê số liệu lệch và chương trình kết thúc với mã lỗi 1.',
        "",
        "Chỉ số là tỷ lệ (0 đến 1); nhân 100 để có phần trăm như trong báo cáo.",
        "",
    ]
    return "\n".join(lines)


DESIGN_NAMES = {"desk": "quầy", "agency": "cơ quan"}


def outside_scope(view: View) -> list[str]:
    """What the rows of agencies outside the pack's scope carry in du_lieu.csv, and why."""
    lines = ["PHIẾU CỦA CƠ QUAN NGOÀI PHẠM VI", ""]
    hidden = int((~files.in_scope(view)).sum())
    if hidden == 0:
        return [*lines, "Bộ tài liệu này gồm mọi cơ quan của đợt: không có phiếu nào bị ẩn."]
    used = files.design_columns(view)
    carried = ["in_domain = 0"]
    labels = [
        f"{DESIGN_NAMES[c]} (nhãn ẩn danh {files.HIDDEN_PREFIXES[c]}NN)"
        for c in ("agency", "desk")
        if c in used
    ]
    if labels:
        carried.append(
            "tầng và cụm của thiết kế mẫu: "
            + ", ".join(labels)
            + ", mỗi cơ quan hoặc quầy một nhãn, giống nhau trong cả bộ tài liệu"
        )
    calibrated = files.calibration_variables(view)
    if calibrated:
        carried.append("biến hiệu chỉnh trọng số (" + ", ".join(calibrated) + ")")
    text = (
        f"{hidden} phiếu của cơ quan ngoài phạm vi chỉ giữ những gì thiết kế mẫu cần để "
        f"tính lại sai số chuẩn: {'; '.join(carried)}. Không có ngày gửi, mã hay tên quầy "
        "và cơ quan, không có câu trả lời. Chúng xếp sau các phiếu trong phạm vi, theo nhãn "
        "và biến hiệu chỉnh, nên thứ tự dòng không cho biết ngày gửi. Nhãn ẩn danh thay mã "
        "thật một đổi một, nên tầng, cụm và hiệu chỉnh trọng số (trên mọi phiếu của đợt) "
        "giống hệt của ứng dụng và reproduce.R cho cùng kết quả. Biên dân số chỉ dùng câu "
        "hỏi về người trả lời (mã số), không dùng quầy hay cơ quan, nên không cần mã thật "
        "của chúng."
    )
    return [*lines, *textwrap.wrap(text, width=88, break_on_hyphens=False)]
