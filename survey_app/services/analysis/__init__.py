"""A campaign's responses as a DataFrame, and its indices computed by ``scoring``.

Phân tích kết quả khảo sát. Everything numeric comes from :mod:`scoring`; this
package only loads the answers, describes the design and the domains (the
period, the officer's agency subtree, a desk, a respondent group) and keeps
the results. One module per concern:

- :mod:`.loading`: the submissions read out of the database into typed frames;
- :mod:`.sums`: a campaign's answer sums per group, computed by the database;
- :mod:`.cache`: responses kept in step with the database (memory and disk),
  per-campaign locks, the per-app memos of designs and results;
- :mod:`.periods`: the campaign's years, quarters and months, and comparisons;
- :mod:`.designs`: the survey design as the analysts set it;
- :mod:`.results`: scoring's index table as a tree of results;
- :mod:`.views`: one user's domain of a campaign and its index tables;
- :mod:`.pages`: what the dashboard pages show;
- :mod:`.criteria`: a criterion's action page (desks and agencies, low-score comments);
- :mod:`.trends`: the index over the campaign's periods and the previous campaigns.
"""

from survey_app.services.analysis.cache import FrameCache, campaign_lock, clear_caches, frames
from survey_app.services.analysis.criteria import (
    LOW_SCORE,
    HeatRow,
    LowComment,
    heat_rows,
    low_score_comments,
)
from survey_app.services.analysis.designs import build_design, design_for
from survey_app.services.analysis.loading import (
    LOAD_PARTS,
    META_COLUMNS,
    Responses,
    choice_columns,
    data_version,
    load_responses,
)
from survey_app.services.analysis.pages import (
    BREAKDOWN_VARIABLES,
    Dashboard,
    Headline,
    ItemDistribution,
    breakdown_rows,
    criterion_detail,
    dashboard,
    headline,
    names,
    option_labels,
    timeline,
    weakest_criteria,
)
from survey_app.services.analysis.periods import (
    Comparison,
    Period,
    campaign_periods,
    find_period,
    in_period,
    previous_period,
    same_series,
)
from survey_app.services.analysis.results import (
    LEAF_LEVEL,
    LEVEL_NAMES,
    MIN_N,
    WIDE_WARNING,
    AnalysisError,
    NodeResult,
    tree_from_table,
)
from survey_app.services.analysis.trends import TREND_KINDS, Trend, TrendPoint, trend
from survey_app.services.analysis.views import (
    Change,
    Compared,
    ComparedSettings,
    GroupRow,
    View,
    compare_with,
    in_answer_order,
    make_view,
    overlap_groups,
    scope_view,
    subtree_codes,
    view_table,
    view_tables,
    view_tree,
    visible_agency_codes,
)

__all__ = [
    "BREAKDOWN_VARIABLES",
    "LEAF_LEVEL",
    "LEVEL_NAMES",
    "LOAD_PARTS",
    "LOW_SCORE",
    "MIN_N",
    "META_COLUMNS",
    "MIN_N",
    "TREND_KINDS",
    "WIDE_WARNING",
    "AnalysisError",
    "Change",
    "Compared",
    "ComparedSettings",
    "Comparison",
    "Dashboard",
    "FrameCache",
    "GroupRow",
    "HeatRow",
    "Headline",
    "ItemDistribution",
    "LowComment",
    "NodeResult",
    "Period",
    "Responses",
    "Trend",
    "TrendPoint",
    "View",
    "breakdown_rows",
    "build_design",
    "campaign_lock",
    "campaign_periods",
    "choice_columns",
    "clear_caches",
    "compare_with",
    "criterion_detail",
    "dashboard",
    "data_version",
    "design_for",
    "find_period",
    "frames",
    "heat_rows",
    "headline",
    "in_answer_order",
    "in_period",
    "load_responses",
    "low_score_comments",
    "make_view",
    "scope_view",
    "subtree_codes",
    "names",
    "option_labels",
    "overlap_groups",
    "previous_period",
    "same_series",
    "timeline",
    "tree_from_table",
    "trend",
    "view_table",
    "view_tables",
    "view_tree",
    "visible_agency_codes",
    "weakest_criteria",
]
