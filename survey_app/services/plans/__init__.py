"""Remediation plans (kế hoạch khắc phục): from the weak criteria to tasks, and whether
they worked at the next period.

- :mod:`.editing`: plans and rows, who may change them, validation and audit;
- :mod:`.verification`: the follow-up period and each row's verdict;
- :mod:`.documents`: the DOCX annex (docxtpl template) and the XLSX workbook;
- :mod:`.annex_template`: how the DOCX template was built (python-docx).
"""

from survey_app.services.plans.documents import plan_docx, plan_xlsx
from survey_app.services.plans.editing import (
    STATUS_LABELS,
    PlanConflict,
    PlanError,
    PlanForbidden,
    PlanMissing,
    add_rows,
    can_edit_row,
    can_plan,
    can_see_plan,
    candidates,
    default_scope,
    delete_row,
    find_plan,
    lead_choices,
    plan_or_missing,
    plan_period,
    target_row,
    update_row,
)
from survey_app.services.plans.verification import (
    INCONCLUSIVE,
    NOT_REACHED,
    REACHED,
    RULE,
    VERDICT_LABELS,
    FollowUp,
    RowCheck,
    follow_up,
    verdict,
    verify,
)

__all__ = [
    "INCONCLUSIVE",
    "NOT_REACHED",
    "REACHED",
    "RULE",
    "STATUS_LABELS",
    "VERDICT_LABELS",
    "FollowUp",
    "PlanConflict",
    "PlanError",
    "PlanForbidden",
    "PlanMissing",
    "RowCheck",
    "add_rows",
    "can_edit_row",
    "can_plan",
    "can_see_plan",
    "candidates",
    "default_scope",
    "delete_row",
    "find_plan",
    "follow_up",
    "lead_choices",
    "plan_docx",
    "plan_or_missing",
    "plan_period",
    "plan_xlsx",
    "target_row",
    "update_row",
    "verdict",
    "verify",
]
