"""`flask caseapp report build`: a period's anonymised report from the command line, for scheduled use."""
from pathlib import Path

import click
from flask import current_app
from flask.cli import AppGroup

from caseapp.extensions import db

report_cli = AppGroup("report", help="Anonymised periodic reports.")


@report_cli.command("build")
@click.option("--period", required=True, help="YYYY-MM, YYYY-Qn or YYYY.")
@click.option("--format", "output_format", type=click.Choice(["csv", "xlsx"]), required=True,
              help="csv: the machine-readable long CSV; xlsx: the workbook.")
@click.option("--output", type=click.Path(dir_okay=False, writable=True, path_type=Path), required=True)
@click.option("--publish", is_flag=True, help="Also publish these figures as the period's next version.")
def report_build_command(period: str, output_format: str, output: Path, publish: bool):
    """Build the report of PERIOD with disclosure control applied and write it to OUTPUT."""
    from caseapp.reports.content import build_content, publish as publish_report
    from caseapp.reports.disclosure import method_text
    from caseapp.reports.exports import long_csv, workbook_bytes
    from caseapp.reports.labels import indicator_titles, labeller

    threshold = current_app.config["REPORT_THRESHOLD"]
    try:
        content = build_content(period, threshold)
    except ValueError as error:
        raise click.BadParameter(str(error), param_hint="--period") from None
    if output_format == "csv":
        output.write_text(long_csv(content), encoding="utf-8")
    else:
        output.write_bytes(workbook_bytes(content, indicator_titles(), labeller(), method_text(threshold)))
    if publish:
        report = publish_report(None, content)
        db.session.commit()
        click.echo(f"published {report.period} version {report.version}")
    click.echo(f"{content['period']}: {len(content['tables'])} tables written to {output}")
