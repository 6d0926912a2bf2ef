"""Reports: the yearly bilan's figures as tables, files and charts.

:mod:`.queries` holds every aggregate query; :mod:`.build` lays the figures out as a
:class:`~.model.Report` (tables and charts); :mod:`.export` writes it to the terminal, CSV, JSON,
XLSX or one self-contained HTML file with the words of ``templates/reports/labels.toml``.
:mod:`.attribution` is the convention that ties an unsubscribe to the newsletter it came from.
"""

from campaign.reports.attribution import delivery_of, newsletter_of, newsletter_source
from campaign.reports.build import (
    bilan_report,
    key_figures_section,
    newsletter_report,
    newsletters_report,
    social_report,
    subscribers_report,
)
from campaign.reports.export import FORMATS, format_for, write_report
from campaign.reports.labels import Labels
from campaign.reports.model import Period, Report

__all__ = [
    "FORMATS",
    "Labels",
    "Period",
    "Report",
    "bilan_report",
    "delivery_of",
    "format_for",
    "key_figures_section",
    "newsletter_of",
    "newsletter_report",
    "newsletter_source",
    "newsletters_report",
    "social_report",
    "subscribers_report",
    "write_report",
]
