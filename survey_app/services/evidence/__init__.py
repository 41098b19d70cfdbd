"""Evidence pack (tài liệu kiểm chứng): one ZIP per campaign, period and scope.

The pack holds what a PAR appraiser needs to check every figure of the survey report:
the report PDF, the PAR points table, the answers with their codebook, the questionnaire
YAML with its content hash, the weighting settings and margins, the PAR mapping, the app's
figures, and ``reproduce.R``, which recomputes the figures with R's ``survey`` package
and says whether they agree to 1e-8. ``SHA256SUMS`` (``sha256sum -c``) covers every file;
``README.txt`` says in Vietnamese what each file is and how to check it.

The report is given as bytes (:func:`evidence_pack`), so this module does not depend on
how the report is made.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import zipfile
from io import BytesIO

from sqlalchemy import select

from survey_app.extensions import db
from survey_app.models import Agency
from survey_app.services import audit
from survey_app.services.analysis import View, names
from survey_app.services.errors import ServiceError
from survey_app.services.evidence import files
from survey_app.services.evidence.readme import readme_text
from survey_app.services.index_export import par_table, par_xlsx

MANIFEST = "SHA256SUMS"
README = "README.txt"
ALL_AGENCIES = "tat-ca-co-quan"


class EvidenceError(ServiceError):
    """A pack that cannot be built (codes ``evidence.*``, texts in
    ``survey_app.messages.evidence``)."""

    status = 409


def scope_name(view: View) -> str:
    """The scope in a file name: the root agency of the subtree, or every agency."""
    if view.agency_codes is None:
        return ALL_AGENCIES
    agencies = db.session.scalars(select(Agency).where(Agency.code.in_(view.agency_codes))).all()
    roots = sorted(
        a.code for a in agencies if a.parent is None or a.parent.code not in view.agency_codes
    )
    return roots[0] if len(roots) == 1 else "+".join(roots)


def folder_name(view: View) -> str:
    """The pack's folder (and ZIP) name: letters, digits, '.', '_' and '-' only."""
    raw = f"kiem-chung-{view.campaign.code}-{view.period.code}-{scope_name(view)}"
    return re.sub(r"[^A-Za-z0-9._-]+", "_", raw)[:120]


def manifest(contents: dict[str, bytes]) -> bytes:
    """``sha256sum`` lines (hash, two spaces, name) of every file, in name order."""
    lines = [
        f"{hashlib.sha256(body).hexdigest()}  {name}\n" for name, body in sorted(contents.items())
    ]
    return "".join(lines).encode("ascii")


def pack_contents(view: View, report_pdf: bytes) -> dict[str, bytes]:
    """Every file of the pack by its path inside the pack folder, manifest last."""
    if view.n == 0:
        raise EvidenceError.of("evidence.no_answers", period=view.period.label)
    q = view.questionnaire
    uses = files.par_uses(view)
    agencies = view.frame.loc[view.mask, "agency"].unique()
    margins = files.margin_files(view)
    contents: dict[str, bytes] = {
        "bao_cao.pdf": report_pdf,
        "diem_cchc.xlsx": par_xlsx(view, par_table(view, names(Agency, agencies))),
        "du_lieu.csv": files.data_csv(view),
        "ma_hoa.csv": files.codebook_csv(view),
        "bo_cau_hoi.yaml": q.source.encode("utf-8"),
        "bo_cau_hoi.content_hash.txt": f"{q.content_hash}  {q.id} {q.version}\n".encode(),
        "cai_dat_trong_so.json": files.settings_json(view, scope_name(view)),
        **margins,
        "cay_chi_so.csv": files.tree_csv(view),
        "anh_xa_cchc.csv": files.par_csv(uses),
        **{
            f"anh_xa_cchc/{path.name}": path.read_bytes()
            for path in dict.fromkeys(u.path for u in uses)
        },
        "ket_qua_ung_dung.csv": files.figures_csv(view, uses),
        "reproduce.R": files.reproduce_r(view, list(margins)),
    }
    contents[README] = readme_text(view, list(contents), scope_name(view)).encode("utf-8")
    contents[MANIFEST] = manifest(contents)
    return contents


def evidence_pack(view: View, report_pdf: bytes) -> bytes:
    """The evidence pack of ``view`` as a ZIP, every file under one relative folder.

    Records an ``export.evidence`` audit event (the caller commits it).
    """
    contents = pack_contents(view, report_pdf)
    folder = folder_name(view)
    stamp = dt.datetime.now().timetuple()[:6]
    out = BytesIO()
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, body in contents.items():
            info = zipfile.ZipInfo(f"{folder}/{name}", date_time=stamp)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            archive.writestr(info, body)
    audit.record(
        "export.evidence",
        view.campaign.code,
        period=view.period.code,
        settings=view.settings_text,
        agencies=None if view.agency_codes is None else sorted(view.agency_codes),
        sha256=hashlib.sha256(contents[MANIFEST]).hexdigest(),
    )
    return out.getvalue()


__all__ = ["EvidenceError", "evidence_pack", "folder_name", "manifest", "pack_contents"]
