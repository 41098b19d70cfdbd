"""The whole SIPAS 2023 index tree agrees with R, node by node, overall and by agency.

R reads the tree from ``questionnaires/sipas-2023.yaml`` on its own (``yaml``
package) and computes every node as ``svycontrast`` on one joint ``svyratio``
of all items (``tests/scoring/r/make_tree_fixture.R``). Variant ``pooled``
pools every criterion and weights the two groups 0.4 / 0.6.
"""

from __future__ import annotations

from dataclasses import replace
from functools import cache
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from scoring.design import SurveyDesign
from scoring.index_tree import compute_index_tree
from scoring.questionnaire import IndexNode, Questionnaire, load_questionnaire

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = Path(__file__).parent / "fixtures"


@cache
def questionnaire() -> Questionnaire:
    return load_questionnaire(ROOT / "questionnaires" / "sipas-2023.yaml")


def pooled_variant(root: IndexNode) -> IndexNode:
    """Criteria (depth 2) pooled, groups weighted 0.4 / 0.6 at the root."""
    groups = []
    for group, weight in zip(root.children, (0.4, 0.6), strict=True):
        criteria = tuple(replace(c, aggregate="pooled") for c in group.children)
        groups.append(replace(group, children=criteria, weight=weight))
    return replace(root, aggregate="weighted_mean", children=tuple(groups))


@pytest.mark.parametrize("variant", ["yaml", "pooled"])
def test_every_node_of_the_sipas_tree_matches_r(variant: str) -> None:
    q = questionnaire()
    assert q.index is not None
    root = q.index if variant == "yaml" else pooled_variant(q.index)
    data = pd.read_csv(FIXTURES / "sipas_tree_data.csv")
    design = SurveyDesign.from_dataframe(data, weights="w", strata="stratum", psu="psu")
    got = compute_index_tree(q, design, [None, "agency"], root=root)
    got = got.assign(level=got["level"].astype(str)).set_index(["node", "domain", "level"])
    want = pd.read_csv(FIXTURES / "sipas_tree_expected.csv", dtype={"level": str})
    want = want[want["variant"] == variant]
    assert len(want) == 1008
    for row in want.itertuples():
        value = got.loc[(row.node, row.domain, row.level), row.field]
        np.testing.assert_allclose(
            float(value),
            row.value,
            rtol=1e-8,
            atol=0,
            err_msg=f"{variant} {row.node} {row.domain}={row.level} {row.field}",
        )
