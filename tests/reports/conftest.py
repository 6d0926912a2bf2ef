"""A known year of the Mois de l'ESS, replayed through the models on SQLite and PostgreSQL.

Every figure the report tests expect was worked out by hand from this history (the comments say
how), never by running the code under test. Times are UTC; Paris is UTC+2 until 30 October 2016
and UTC+1 after, and several rows sit on purpose just before or after a local midnight.

Subscribers (12, plus one who never confirmed), joining month by month in 2016:

=====  ===========  ==========  ===================  ==========================================
who    joined       region      source               then
=====  ===========  ==========  ===================  ==========================================
a1-a4  10 January   B, B, O, -  import-janvier.csv   a4 unsubscribes 2 June through N1;
                                                      a1 leaves one list through N1 (stays
                                                      subscribed); a2 unsubscribes 31 Dec
                                                      23:30 UTC = 1 January 2017 in Paris
b1-b3  15 February  B, N, O     formulaire           b2 bounces on N1 (30 May); b3
                                                      unsubscribes 19 November through N2
c1-c2  20 April     N, B        formulaire           c1 complains 20 November
d1     31 May 22:30 UTC (1 June in Paris), O, formulaire
e1-e2  5 November   B, B        manual
p1     February     B           formulaire           still pending: never counted
=====  ===========  ==========  ===================  ==========================================

(B = Bretagne, O = Occitanie, N = Normandie, - = no region.)
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime

import pytest
from sqlmodel import Session

from campaign.models import (
    AccountSnapshot,
    ConsentEvent,
    Delivery,
    Hit,
    Link,
    Newsletter,
    Post,
    PostMetrics,
    SocialMention,
    Subscriber,
)
from campaign.reports import newsletter_source


def at(text: str) -> datetime:
    """A UTC moment written ``2016-05-30 08:00``."""
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


N1_TITLE = "Les Prix ESS : dernière ligne droite pour s'inscrire"
N2_TITLE = "21 au 25 novembre : le Mois de l'ESS, c'est maintenant !"
N3_TITLE = "Prix ESS : les <lauréats> & leurs projets"  # HTML-looking on purpose (escaping)

PEOPLE = {
    # name: (created, region, source, status, status changed)
    "a1": ("2016-01-10 10:00", "Bretagne", "import-janvier.csv", "active", None),
    "a2": (
        "2016-01-10 10:00",
        "Bretagne",
        "import-janvier.csv",
        "unsubscribed",
        "2016-12-31 23:30",
    ),
    "a3": ("2016-01-10 10:00", "Occitanie", "import-janvier.csv", "active", None),
    "a4": ("2016-01-10 10:00", "", "import-janvier.csv", "unsubscribed", "2016-06-02 09:00"),
    "b1": ("2016-02-15 10:00", "Bretagne", "formulaire", "active", None),
    "b2": ("2016-02-15 10:00", "Normandie", "formulaire", "bounced", "2016-05-30 08:00"),
    "b3": ("2016-02-15 10:00", "Occitanie", "formulaire", "unsubscribed", "2016-11-19 09:00"),
    "c1": ("2016-04-20 10:00", "Normandie", "formulaire", "complained", "2016-11-20 09:00"),
    "c2": ("2016-04-20 10:00", "Bretagne", "formulaire", "active", None),
    "d1": ("2016-05-31 22:30", "Occitanie", "formulaire", "active", None),
    "e1": ("2016-11-05 10:00", "Bretagne", "manual", "active", None),
    "e2": ("2016-11-05 10:00", "Bretagne", "manual", "active", None),
    "p1": ("2016-02-20 10:00", "Bretagne", "formulaire", "pending", None),
}


@dataclass
class History:
    subscribers: dict[str, int] = field(default_factory=dict)
    newsletters: dict[str, int] = field(default_factory=dict)
    deliveries: dict[tuple[str, str], int] = field(default_factory=dict)
    links: dict[str, int] = field(default_factory=dict)
    posts: dict[str, int] = field(default_factory=dict)


def build_history(session: Session) -> History:
    history = History()
    for name, (created, region, source, status, changed) in PEOPLE.items():
        person = Subscriber(
            email=f"{name}@example.org",
            region=region,
            source=source,
            status=status,
            created_at=at(created),
            updated_at=at(changed or created),
            status_changed_at=at(changed or created),
        )
        session.add(person)
        session.flush()
        history.subscribers[name] = person.id

    def newsletter(key: str, title: str, sent: str | None, anonymous: bool = False) -> int:
        row = Newsletter(
            title=title,
            subject=title,
            template="mois-ess",
            status="sent" if sent else "draft",
            sent_at=at(sent) if sent else None,
            anonymous_tracking=anonymous,
        )
        session.add(row)
        session.flush()
        history.newsletters[key] = row.id
        return row.id

    def deliver(key: str, name: str, status: str = "sent", reply: str = "", group: str = ""):
        row = Delivery(
            newsletter_id=history.newsletters[key],
            subscriber_id=history.subscribers[name],
            email=f"{name}@example.org",
            status=status,
            last_reply=reply,
            group_key=group,
        )
        session.add(row)
        session.flush()
        history.deliveries[(key, name)] = row.id

    def link(key: str, name: str, url: str) -> None:
        row = Link(newsletter_id=history.newsletters[key], url=url)
        session.add(row)
        session.flush()
        history.links[name] = row.id

    def hit(
        key: str,
        who: str | None,
        when: str,
        kind: str = "open",
        classification: str = "human",
        link_name: str | None = None,
    ) -> None:
        session.add(
            Hit(
                at=at(when),
                kind=kind,
                classification=classification,
                newsletter_id=history.newsletters[key],
                delivery_id=history.deliveries[(key, who)] if who else None,
                link_id=history.links[link_name] if link_name else None,
            )
        )

    def consent(name: str, action: str, when: str, source: str, list_id=None) -> None:
        session.add(
            ConsentEvent(
                subscriber_id=history.subscribers[name],
                action=action,
                at=at(when),
                method="link",
                source=source,
                list_id=list_id,
            )
        )

    # N1, 30 May 2016 10:00 in Paris: 9 addressed, b2 bounced, c1 failed, 7 delivered.
    newsletter("N1", N1_TITLE, "2016-05-30 08:00")
    for name in ("a1", "a2", "a3", "a4", "b1", "b3", "c2"):
        deliver("N1", name)
    deliver(
        "N1",
        "b2",
        "bounced",
        "550 5.1.1 <b2@example.org>: Recipient address rejected: User unknown",
    )
    deliver("N1", "c1", "failed", "Subscriber unsubscribed since the snapshot")
    link("N1", "L1", "https://www.lemois-ess.org/prix")
    link("N1", "L2", "https://www.lemois-ess.org/inscription")
    link("N1", "L3", "https://www.lemois-ess.org/reglement")
    # Human opens: a1 three times (the third at 00:30 on 31 May in Paris), a3, a4, b1 twice
    # (1 June, day 3, and 7 June, day 9: outside the first seven days).
    hit("N1", "a1", "2016-05-30 09:00")
    hit("N1", "a1", "2016-05-30 21:59")
    hit("N1", "a1", "2016-05-30 22:30")
    hit("N1", "a3", "2016-05-30 12:00")
    hit("N1", "a4", "2016-05-30 13:00")
    hit("N1", "b1", "2016-06-01 10:00")
    hit("N1", "b1", "2016-06-07 10:00")
    # Machine opens (privacy proxies) on day 1: a2 twice, c2 once.
    hit("N1", "a2", "2016-05-30 08:01", classification="machine")
    hit("N1", "a2", "2016-05-30 08:01", classification="machine")
    hit("N1", "c2", "2016-05-30 08:02", classification="machine")
    # Human clicks: a1 on L1 twice (day 1, day 2), a3 on L2, a4 on L1; bot clicks a2 L1, c2 L2.
    hit("N1", "a1", "2016-05-30 09:01", "click", link_name="L1")
    hit("N1", "a1", "2016-05-31 10:00", "click", link_name="L1")
    hit("N1", "a3", "2016-05-30 12:01", "click", link_name="L2")
    hit("N1", "a4", "2016-05-30 13:01", "click", link_name="L1")
    hit("N1", "a2", "2016-05-30 08:01", "click", "bot", link_name="L1")
    hit("N1", "c2", "2016-05-30 08:02", "click", "bot", link_name="L2")
    # b2's hard bounce is logged naming N1: a bounce, not an unsubscribe.
    consent(
        "b2",
        "bounced",
        "2016-05-30 08:00",
        newsletter_source(history.newsletters["N1"], history.deliveries[("N1", "b2")]),
    )
    # Unsubscribes through N1: a4 (everything), a1 (one list only): 2 people.
    consent(
        "a4",
        "unsubscribed",
        "2016-06-02 09:00",
        newsletter_source(history.newsletters["N1"], history.deliveries[("N1", "a4")]),
    )
    consent(
        "a1",
        "unsubscribed",
        "2016-06-03 09:00",
        newsletter_source(history.newsletters["N1"], history.deliveries[("N1", "a1")])
        + ", one-click",
    )
    consent(
        "a1", "unsubscribed", "2016-06-03 09:00", newsletter_source(history.newsletters["N1"])
    )  # same person again
    consent("c2", "unsubscribed", "2016-06-04 09:00", "admin request")  # names no newsletter

    # N2, 18 November 2016 08:00 in Paris, regional: 10 addressed, e1 and e2 bounced (same
    # reason, different addresses), 8 delivered.
    newsletter("N2", N2_TITLE, "2016-11-18 07:00")
    regions = {n: PEOPLE[n][1] for n in PEOPLE}
    for name in ("a1", "a2", "a3", "b1", "b3", "c1", "c2", "d1"):
        deliver("N2", name, group=regions[name])
    for name in ("e1", "e2"):
        deliver(
            "N2",
            name,
            "bounced",
            f"550 5.7.1 <{name}@example.org>: Message rejected as spam",
            regions[name],
        )
    link("N2", "L4", "https://www.lemois-ess.org/agenda")
    link("N2", "L5", "https://www.lemois-ess.org/carte")
    hit("N2", "a1", "2016-11-18 10:00")
    hit("N2", "b3", "2016-11-18 10:00")
    hit("N2", "b3", "2016-11-18 11:00")
    hit("N2", "c1", "2016-11-18 12:00")
    hit("N2", "d1", "2016-11-20 12:00")
    for _ in range(4):
        hit("N2", "c2", "2016-11-18 07:05", classification="machine")
    hit("N2", "b3", "2016-11-18 10:01", "click", link_name="L4")
    hit("N2", "d1", "2016-11-20 12:01", "click", link_name="L4")
    hit("N2", "d1", "2016-11-20 12:02", "click", link_name="L5")
    hit("N2", "a2", "2016-11-18 07:06", "click", "bot", link_name="L5")
    consent(
        "b3",
        "unsubscribed",
        "2016-11-19 09:00",
        newsletter_source(history.newsletters["N2"], history.deliveries[("N2", "b3")]),
    )

    # N3, 30 November 23:30 UTC = 1 December 00:30 in Paris, tracked anonymously.
    newsletter("N3", N3_TITLE, "2016-11-30 23:30", anonymous=True)
    deliver("N3", "a1")
    deliver("N3", "a2")
    link("N3", "L6", "https://www.lemois-ess.org/laureats")
    for when in ("2016-12-01 08:00", "2016-12-01 09:00", "2016-12-02 09:00"):
        hit("N3", None, when)
    hit("N3", None, "2016-12-01 07:00", classification="machine")
    hit("N3", None, "2016-12-01 08:01", "click", link_name="L6")
    hit("N3", None, "2016-12-02 09:01", "click", link_name="L6")

    # N4: a draft, never sent: in no report.
    newsletter("N4", "Brouillon", None)

    # Social.
    def post(key: str, account: str, when: str | None, text: str, **extra) -> int:
        row = Post(
            account=account,
            text=text,
            parts=[text],
            status=extra.pop("status", "published"),
            published_at=at(when) if when else None,
            remote_ids=["1"],
            **extra,
        )
        session.add(row)
        session.flush()
        history.posts[key] = row.id
        return row.id

    def metrics(key: str, when: str, impressions, likes, reposts, replies, quotes) -> None:
        session.add(
            PostMetrics(
                post_id=history.posts[key],
                at=at(when),
                impressions=impressions,
                likes=likes,
                reposts=reposts,
                replies=replies,
                quotes=quotes,
            )
        )

    post("P1", "mois_ess", "2016-11-02 09:00", "Le Mois de l'ESS commence !")
    metrics("P1", "2016-11-02 12:00", 100, 5, 2, 0, 0)
    metrics("P1", "2016-11-10 12:00", 1500, 40, 12, 3, 1)  # the latest: the one reported
    post("P2", "mois_ess", "2016-11-05 09:00", "Trois évènements à Rennes aujourd'hui #MoisESS")
    metrics("P2", "2016-11-10 12:00", None, 7, 0, 1, 0)
    post("P3", "prix_ess", "2016-10-25 18:00", "Les lauréats des Prix ESS 2016 sont…")
    metrics("P3", "2016-10-30 12:00", 800, 30, 9, 2, 2)
    post("P4", "mois_ess", "2016-11-03 09:00", "Simulation", dry_run=True)
    metrics("P4", "2016-11-10 12:00", 999, 999, 999, 999, 999)
    post("P5", "mois_ess", None, "Brouillon", status="draft")
    post("P6", "mois_ess", "2015-11-20 09:00", "L'an dernier")
    metrics("P6", "2015-11-21 09:00", 50, 1, 1, 0, 0)

    for when, followers, posts, mentions in (
        ("2016-10-20 12:00", 5900, 1900, 50),
        ("2016-11-01 12:00", 6000, 1950, 30),
        ("2016-11-15 12:00", 6150, 1980, 40),
        ("2016-11-30 12:00", 6300, 1992, 25),
        ("2016-12-10 12:00", 6400, 2000, 10),
    ):
        session.add(
            AccountSnapshot(
                account="mois_ess",
                at=at(when),
                followers=followers,
                posts=posts,
                mentions_since_last=mentions,
            )
        )
    for when, followers, posts, mentions in (
        ("2016-10-01 12:00", 400, 500, 100),
        ("2016-11-30 12:00", 547, 551, 205),
    ):
        session.add(
            AccountSnapshot(
                account="prix_ess",
                at=at(when),
                followers=followers,
                posts=posts,
                mentions_since_last=mentions,
            )
        )
    # Who mentioned or reposted the accounts: ranked in 2016 by their followers, ESS France
    # (48,100 at its latest mention, both accounts), cress_bzh (Mastodon), CressIDF; a
    # mention of 2015 stays out of the year.
    for remote_id, account, network, kind, author, followers, when in (
        ("M1", "mois_ess", "x", "mention", "CressIDF", 2500, "2016-11-03 10:00"),
        ("M2", "mois_ess", "x", "mention", "ESS_France", 48000, "2016-11-12 10:00"),
        ("M3", "prix_ess", "x", "mention", "ESS_France", 48100, "2016-11-20 10:00"),
        ("M4", "mois_ess", "mastodon", "repost", "cress_bzh@piaille.fr", 3100, "2016-11-25 10:00"),
        ("M5", "mois_ess", "x", "mention", "OldFriend", 90000, "2015-11-20 10:00"),
    ):
        session.add(
            SocialMention(
                account=account,
                network=network,
                remote_id=remote_id,
                kind=kind,
                author_handle=author,
                author_followers=followers,
                at=at(when),
            )
        )
    session.commit()
    return history


@pytest.fixture
def history(session: Session) -> History:
    """The known history, in the ``session``'s database (SQLite, then PostgreSQL)."""
    return build_history(session)


@pytest.fixture
def history_cli(cli, engine):
    """The ``cli`` runner on a database holding the known history."""
    with Session(engine, expire_on_commit=False) as session:
        history = build_history(session)
    return cli, history
