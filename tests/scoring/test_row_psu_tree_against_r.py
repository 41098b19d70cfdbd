"""Index trees agree with R when every respondent is a PSU (``svydesign(id = ~1)``).

These designs take the one-respondent-PSU sums of :mod:`scoring.answer_states`
(the post-stratified one takes the PSU totals of every domain). R's values come
from ``tests/scoring/r/make_row_psu_fixture.R``: items (svyciprop), their mean
(svycontrast), the pooled share (svyratio) and a nested composite, overall, by
agency (agency C has no respondent in stratum S6) and by desk (a domain column with
missing values), with strata, fpc (S2 a census), lonely strata under each policy
(Y a census under fpc) and post-stratification.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from scoring.design import LonelyPSU, SurveyDesign
from scoring.index_tree import compute_index_tree
from scoring.weighting import post_stratify
from tests.scoring.conftest import margins
from tests.scoring.test_against_r import _Questionnaire, composite_tree

FIXTURES = Path(__file__).parent / "fixtures"


@cache
def expected() -> pd.DataFrame:
    return pd.read_csv(FIXTURES / "row_psu_expected.csv", dtype={"level": str})


def design(name: str) -> SurveyDesign:
    """The Python design matching design ``name`` of make_row_psu_fixture.R."""
    data = pd.read_csv(FIXTURES / "row_psu_data.csv")
    if name == "R_weights":
        return SurveyDesign.from_dataframe(data, weights="w")
    if name == "R_fpc":
        return SurveyDesign.from_dataframe(data, weights="w", strata="stratum", fpc="fpc_rows")
    if name == "R_post":
        base = SurveyDesign.from_dataframe(data, weights="w", strata="stratum")
        return post_stratify(base, "gender", margins()["gender"])
    policy: LonelyPSU = name.rsplit("_", 1)[1]  # type: ignore[assignment]
    return SurveyDesign.from_dataframe(
        data,
        weights="w",
        strata="stratum_lonely",
        fpc="fpc_lonely" if name.startswith("R_lonely_fpc") else None,
        lonely_psu=policy,
    )


@pytest.mark.parametrize("name", sorted(expected()["design"].unique()))
def test_index_tree_with_one_respondent_per_psu_matches_r(name: str) -> None:
    tested = design(name)
    assert tested.n_psu == tested.n
    got = compute_index_tree(_Questionnaire(composite_tree()), tested, [None, "agency", "desk"])
    got = got.drop_duplicates(["node", "domain", "level"])
    got = got.assign(level=got["level"].astype(str)).set_index(["node", "domain", "level"])
    want = expected()[expected()["design"] == name]
    assert len(want) >= 348  # R gives no interval for one post-stratified item
    for row in want.itertuples():
        value = got.loc[(row.name, row.domain, row.level), row.field]
        np.testing.assert_allclose(
            float(value),  # type: ignore[arg-type]
            row.value,
            rtol=1e-8,
            atol=0,
            err_msg=f"{name} {row.name} {row.domain}={row.level} {row.field}",
        )
