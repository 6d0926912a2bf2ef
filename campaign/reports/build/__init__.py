"""The reports themselves: figures from the queries laid out as tables and charts.

One module per report of the CLI (:mod:`.newsletters`, :mod:`.newsletter`, :mod:`.social`,
:mod:`.subscribers`) and :mod:`.bilan`, all of them together for the yearly HTML or XLSX file.
The report functions are re-exported here.
"""

from __future__ import annotations

from campaign.reports.build.bilan import bilan_report, key_figures_section
from campaign.reports.build.newsletter import newsletter_report
from campaign.reports.build.newsletters import NEWSLETTER_COLUMNS, newsletters_report
from campaign.reports.build.social import social_report
from campaign.reports.build.subscribers import subscribers_report

__all__ = [
    "NEWSLETTER_COLUMNS",
    "bilan_report",
    "key_figures_section",
    "newsletter_report",
    "newsletters_report",
    "social_report",
    "subscribers_report",
]
