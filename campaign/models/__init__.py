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
from campaign.models.deliveries import TO_SEND, Bounce, BounceKind, Delivery, DeliveryStatus
from campaign.models.events import Event
from campaign.models.newsletters import Newsletter, NewsletterStatus, WhenNoEvents
from campaign.models.scheduling import RecurringJob, RecurringStatus, SchedulerJob
from campaign.models.settings import StoredSetting
from campaign.models.social import (
    AccountLimit,
    AccountSnapshot,
    Post,
    PostMetrics,
    PostStatus,
    SocialMention,
)
from campaign.models.tracking import Hit, HitClass, HitKind, Link
from campaign.models.users import LoginAttempt, Role, User, UserSession

__all__ = [
    "SUPPRESSED",
    "TO_SEND",
    "AccountLimit",
    "AccountSnapshot",
    "Bounce",
    "BounceKind",
    "ConsentAction",
    "ConsentEvent",
    "Delivery",
    "DeliveryStatus",
    "Event",
    "Hit",
    "HitClass",
    "HitKind",
    "Link",
    "LoginAttempt",
    "MailingList",
    "Membership",
    "Newsletter",
    "NewsletterStatus",
    "Post",
    "PostMetrics",
    "PostStatus",
    "RecurringJob",
    "RecurringStatus",
    "Role",
    "SchedulerJob",
    "SocialMention",
    "StoredSetting",
    "Subscriber",
    "SubscriberStatus",
    "UTCDateTime",
    "User",
    "UserSession",
    "WhenNoEvents",
    "utcnow",
]
