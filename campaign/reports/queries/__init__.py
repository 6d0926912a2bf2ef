"""Every aggregate query of the reports (the listmonk ``queries.sql`` idea), by report kind.

:mod:`.newsletters` and :mod:`.newsletter_detail` (the newsletters reports), :mod:`.social`,
:mod:`.subscribers`; :mod:`.common` holds the tables and conditions they share. The names are
re-exported here, so callers import them from ``campaign.reports.queries``.

The reports read what the other stages stored and never change it. The heavy figures (a year of
deliveries and hits: a million rows and several millions) are counted by the database in a few
grouped queries over the indexes ``ix_delivery_newsletter_status`` and ``ix_hit_report``, never by
loading rows into Python; only small results (a few hundred rows at most: links, regions, days,
bounce replies, posts, snapshots, one row per subscriber for the monthly list size) come back.
The queries are written with SQLAlchemy Core so that SQLite and PostgreSQL run the same text and
return the same figures (tests and ``bench/report.py`` check both).

Definitions (docs/reference/reports.md says the same to the team):

* addressed: delivery rows of the newsletter but those ``left_out``; delivered: rows ``sent``
  (accepted by the server, that is addressed minus bounced and failed once sending is over);
  bounces: rows ``bounced``. Left out: rows ``left_out``, readers the rule found no event for
  in a newsletter that skips them: never mailed, so counted apart, not as addressed.
* opens, clicks: human hits; machine opens and bot clicks apart. Unique opens/clicks: distinct
  deliveries among human hits; anonymous hits (no delivery) count in totals only.
* unsubscribes: distinct people whose ``unsubscribed`` consent line names the newsletter
  (:mod:`campaign.reports.attribution`).
"""

from __future__ import annotations

from campaign.reports.queries.common import IN_CHUNK
from campaign.reports.queries.newsletter_detail import (
    FIRST_DAYS,
    MAX_REPLY,
    BounceReason,
    DayFigures,
    LinkFigures,
    RegionFigures,
    bounce_reasons,
    first_days,
    link_figures,
    region_figures,
    reply_reason,
)
from campaign.reports.queries.newsletters import NewsletterFigures, newsletter_figures
from campaign.reports.queries.social import (
    AccountFigures,
    Influencer,
    PostFigures,
    Snapshot,
    account_figures,
    influencer_figures,
    known_accounts,
    post_figures,
)
from campaign.reports.queries.subscribers import (
    LEFT,
    GroupFigures,
    MonthFigures,
    SubscriberFigures,
    subscriber_figures,
)

__all__ = [
    "FIRST_DAYS",
    "IN_CHUNK",
    "LEFT",
    "MAX_REPLY",
    "AccountFigures",
    "BounceReason",
    "DayFigures",
    "GroupFigures",
    "Influencer",
    "LinkFigures",
    "MonthFigures",
    "NewsletterFigures",
    "PostFigures",
    "RegionFigures",
    "Snapshot",
    "SubscriberFigures",
    "account_figures",
    "bounce_reasons",
    "first_days",
    "influencer_figures",
    "known_accounts",
    "link_figures",
    "newsletter_figures",
    "post_figures",
    "region_figures",
    "reply_reason",
    "subscriber_figures",
]
