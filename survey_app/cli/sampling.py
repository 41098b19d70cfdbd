"""``survey-app sampling``: a campaign's sampling design of dossiers, as a YAML file."""

from __future__ import annotations

from pathlib import Path

import click
from flask.cli import with_appcontext

from survey_app.cli.errors import ServiceGroup, fail
from survey_app.extensions import db


@click.group("sampling", cls=ServiceGroup)
def sampling_group() -> None:
    """Sampling designs: which returned dossiers are invited to answer, and the weights."""


@sampling_group.command("set")
@click.argument("campaign_code", metavar="CAMPAIGN")
@click.argument("path", metavar="FILE.yaml", type=click.Path(dir_okay=False, path_type=Path))
@with_appcontext
def sampling_set(campaign_code: str, path: Path) -> None:
    """Set the sampling design of CAMPAIGN from a YAML file.

    Fields: strata (list among agency, desk, procedure_field, channel), probabilities
    (stratum label: probability), default_probability, method (poisson | systematic),
    seed (kept, or drawn for a new design, when left out), nonresponse_classes,
    calibration ({formula, calfun: linear | raking, bounds: [lo, hi] | null} or null) and
    trim ([lo, hi] | null). The change is audited (user "cli").
    """
    from survey_app.services import organisation, sampling

    campaign = organisation.campaign_by_code(campaign_code)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        fail(f"{path}: {error}")
    design = sampling.read_yaml(text, campaign)
    changed = sampling.save_design(campaign, design)
    db.session.commit()
    click.echo(
        f"{campaign.code}: đã lưu thiết kế chọn mẫu."
        if changed
        else f"{campaign.code}: thiết kế chọn mẫu không thay đổi."
    )


@sampling_group.command("show")
@click.argument("campaign_code", metavar="CAMPAIGN")
@with_appcontext
def sampling_show(campaign_code: str) -> None:
    """Print the sampling design of CAMPAIGN as YAML (the file ``set`` reads), then its
    frame: returned and selected dossiers per stratum."""
    from survey_app.services import organisation, sampling

    campaign = organisation.campaign_by_code(campaign_code)
    design = sampling.current(campaign)
    if design is None:
        fail(f"Đợt khảo sát {campaign.code} chưa có thiết kế chọn mẫu.")
    click.echo(sampling.to_yaml(design), nl=False)
    for stratum in sampling.frame(campaign, design.strata, design):
        click.echo(
            f"# {stratum.label}: {stratum.returned} trả kết quả, {stratum.selected} được chọn, "
            f"xác suất {stratum.probability}"
        )
