"""All tables. One module per stage so that each stage's tables sit together;
importing this package registers every table on ``SQLModel.metadata`` (Alembic reads it)."""

from campaign.models.audience import (
    SUPPRESSED,
    ConsentAction,
    ConsentEvent,
    MailingList,
    Membership,
    Subscriber,
    SubscriberStatus,
)
from campaign.models.base import UTCDateTime, utcnow
from campaign.models.events import Event
from campaign.models.newsletters import Newsletter, NewsletterStatus

__all__ = [
    "SUPPRESSED",
    "ConsentAction",
    "ConsentEvent",
    "Event",
    "MailingList",
    "Membership",
    "Newsletter",
    "NewsletterStatus",
    "Subscriber",
    "SubscriberStatus",
    "UTCDateTime",
    "utcnow",
]
