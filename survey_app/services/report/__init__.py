"""The parts of the survey report (báo cáo kết quả khảo sát); the entry points are in
:mod:`survey_app.services.survey_report`.

- :mod:`.content`: every figure and table of the report, from one view (no layout);
- :mod:`.comments`: which citizens' comments the report quotes, and what is masked in them;
- :mod:`.docx_writer`: the report as a Word document (python-docx).

The PDF is the Jinja template ``templates/reports/survey_report.html`` printed by WeasyPrint.
"""
