"""The recipient of one delivery: a subscriber's values with every link signed for them.

Lives with the newsletters, which personalise the letter, rather than in tracking, which only
signs links: so tracking never needs the newsletters' types (no import cycle between them).
"""

from __future__ import annotations

from collections.abc import Sequence

from campaign.newsletters.recipient_pass import Recipient, SubscriberLike
from campaign.tracking.links import TrackedLinks


def tracked_recipient(
    links: TrackedLinks, subscriber: SubscriberLike, delivery_id: int
) -> Recipient:
    """The recipient of delivery ``delivery_id``, its pixel, view, unsubscribe and click links
    signed for it."""

    def link(url: str) -> str:
        return links.click_url(delivery_id, url)

    def each(urls: Sequence[str]) -> list[str]:
        return links.click_urls(delivery_id, urls)

    return Recipient.from_subscriber(
        subscriber,
        unsubscribe_url=links.unsubscribe_url(delivery_id),
        view_url=links.view_url(delivery_id),
        pixel_url=links.pixel_url(delivery_id),
        link=link,
        links=each,
    )
