"""Estimates of a campaign's probability sample of dossiers (ước lượng từ mẫu xác suất hồ sơ).

The dossiers a campaign selected with known inclusion probabilities (``SampledDossier``,
``FrameCell``, ``SamplingDesign``: the sampling helper's records) give design weights,
honest response rates and a check on the walk-in answers. One module per concern:

- :mod:`.tables`: the selected dossiers, the frame and the answers as DataFrames (pure);
- :mod:`.estimates`: weights (1/pi, nonresponse classes, calibration, trimming) and
  index trees, as R's ``survey`` computes them (pure);
- :mod:`.rates`: AAPOR response rates per desk, agency and stratum (pure);
- :mod:`.planning`: the sample planner and the precision gauge (pure);
- :mod:`.service`: the tables read from the database and the results the pages show;
- :mod:`.plan_files`: the sample plan as CSV and XLSX.
"""

from survey_app.services.sample_estimates import plan_files
from survey_app.services.sample_estimates.estimates import VERDICTS, SampleError, Weighted, weigh
from survey_app.services.sample_estimates.planning import Targets
from survey_app.services.sample_estimates.rates import RateRow
from survey_app.services.sample_estimates.service import (
    Comparison,
    Estimates,
    NoSample,
    Plan,
    Rates,
    Sample,
    Versus,
    apply_plan,
    campaign_estimates,
    campaign_rates,
    comparison,
    design_of,
    has_sample,
    load,
    plan,
    rates,
)
from survey_app.services.sample_estimates.tables import DesignSettings

__all__ = [
    "VERDICTS",
    "Comparison",
    "DesignSettings",
    "Estimates",
    "NoSample",
    "Plan",
    "RateRow",
    "Rates",
    "Sample",
    "SampleError",
    "Targets",
    "Versus",
    "Weighted",
    "apply_plan",
    "campaign_estimates",
    "campaign_rates",
    "comparison",
    "design_of",
    "has_sample",
    "load",
    "plan",
    "plan_files",
    "rates",
    "weigh",
]
