"""The CLI's margins reader refuses counts that are not finite, not above 0, or past 2**53."""

from pathlib import Path

import pandas as pd
import pytest

from scoring.cli import CommandError, read_margins


@pytest.mark.parametrize("count", ["1e308", "inf", "-5", "0", "1e17"])
def test_a_population_count_out_of_range_is_refused_naming_the_line(
    tmp_path: Path, count: str
) -> None:
    path = tmp_path / "m.csv"
    path.write_text(f"gender,count\n1,100\n2,{count}\n")
    with pytest.raises(CommandError, match=r"m\.csv:3: population count 'count' must be"):
        read_margins(str(path), pd.DataFrame({"gender": [1, 2]}))


def test_ordinary_counts_are_read(tmp_path: Path) -> None:
    path = tmp_path / "m.csv"
    path.write_text("gender,count\n1,100\n2,120.5\n")
    keys, counts = read_margins(str(path), pd.DataFrame({"gender": [1, 2]}))
    assert keys == ["gender"] and counts.tolist() == [100.0, 120.5]
