"""TEMPORARY on branch i12-evidence: replaced by the i12-report branch's module at merge.

The evidence pack (:mod:`survey_app.services.evidence`) takes the report PDF as bytes;
the CLI command and the staff download import :func:`report_pdf` from here. Until the
survey report (Báo cáo kết quả khảo sát) is merged, this renders a one-page PDF with the
view's overall index so that the pack can be built and tested end to end. Do not extend
it: the lead keeps the i12-report version of this file.
"""

from __future__ import annotations

from html import escape

from survey_app.services.analysis import View, view_tree


def report_pdf(view: View) -> bytes:
    """A minimal PDF (WeasyPrint) naming the campaign, period and overall index with its
    interval; replaced by the real survey report at merge."""
    from weasyprint import HTML  # heavy import, only when a PDF is asked for

    tree = view_tree(view)
    scope = "Tất cả cơ quan" if view.agency_codes is None else ", ".join(sorted(view.agency_codes))
    html = f"""<!doctype html><html lang="vi"><head><meta charset="utf-8">
<style>body {{ font-family: 'Liberation Serif', serif; font-size: 13pt; }}</style></head>
<body><h1>BÁO CÁO KẾT QUẢ KHẢO SÁT</h1>
<p>{escape(view.campaign.name)} ({escape(view.campaign.code)}); {escape(view.period.label)}</p>
<p>Phạm vi: {escape(scope)}; số phiếu: {view.n}</p>
<p>{escape(tree.label)}: {tree.pct():.2f}% (KTC {tree.pct("ci_low"):.2f}% –
{tree.pct("ci_high"):.2f}%)</p>
<p>{escape(view.settings_text)}</p></body></html>"""
    return bytes(HTML(string=html).write_pdf())
