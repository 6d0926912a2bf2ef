"""What publishing and measuring will cost in X credits, shown before anything is scheduled.

X bills every request from prepaid credits, and a post containing a link costs more than ten
times a post without one: a month of event posts, each with its event's link, is real money.
The prices are settings (``[social.x.prices]``) because X changes them; the estimate counts
requests the way X bills them (each part of a thread is one post; each image one upload and one
description).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from campaign.config import Settings, XPrices
from campaign.models import Post
from campaign.social import Usage
from campaign.social.xtext import find_urls


def has_link(text: str) -> bool:
    """Whether X will see a link in ``text`` (the pricier kind of post)."""
    return bool(find_urls(text))


def post_usage(post: Post, network: str = "x") -> Usage:
    """The billable requests still needed to publish ``post`` (parts already out are paid);
    none for a post on another network than X (Mastodon and Bluesky bill nothing)."""
    usage = Usage()
    if network != "x":
        return usage
    remaining = post.parts[len(post.remote_ids) :]
    for part in remaining:
        if has_link(part):
            usage.posts_with_url += 1
        else:
            usage.posts += 1
    if remaining and not post.remote_ids:
        usage.media_uploads += len(post.images)
        usage.media_metadata += sum(1 for image in post.images if image.get("alt"))
    return usage


def usage_of(posts: Iterable[Post], networks: Mapping[str, str] | None = None) -> Usage:
    """What ``posts`` will cost; ``networks`` (account name -> network) leaves out the posts
    of accounts on other networks than X."""
    total = Usage()
    for post in posts:
        total.add(post_usage(post, (networks or {}).get(post.account, "x")))
    return total


def account_networks(settings: Settings) -> dict[str, str]:
    """The network of each configured account, for :func:`usage_of`."""
    return {name: account.network for name, account in settings.social.accounts.items()}


def cost(usage: Usage, prices: XPrices) -> float:
    return (
        usage.posts * prices.post
        + usage.posts_with_url * prices.post_with_url
        + usage.media_uploads * prices.media_upload
        + usage.media_metadata * prices.media_metadata
        + usage.posts_read * prices.post_read
        + usage.users_read * prices.user_read
    )


@dataclass(frozen=True)
class Estimate:
    """An amount of X credits and what it is made of, ready to print or to dump as JSON."""

    usage: Usage
    amount: float
    currency: str

    def as_json(self) -> dict[str, object]:
        return {
            "amount": round(self.amount, 4),
            "currency": self.currency,
            "posts": self.usage.posts,
            "posts_with_url": self.usage.posts_with_url,
            "media_uploads": self.usage.media_uploads,
            "media_metadata": self.usage.media_metadata,
            "posts_read": self.usage.posts_read,
            "users_read": self.usage.users_read,
        }


def estimate(usage: Usage, prices: XPrices) -> Estimate:
    return Estimate(usage=usage, amount=cost(usage, prices), currency=prices.currency)


def describe(found: Estimate, prices: XPrices) -> str:
    """One line for the terminal: how many billable requests, how much, at which prices."""
    usage = found.usage
    posts = usage.posts + usage.posts_with_url
    things = [f"{posts} post{'s' if posts != 1 else ''} ({usage.posts_with_url} with a link)"]
    if usage.media_uploads:
        things.append(f"{usage.media_uploads} image(s) with their descriptions")
    if usage.posts_read or usage.users_read:
        things.append(f"{usage.posts_read + usage.users_read} read(s)")
    return (
        f"X cost estimate: {', '.join(things)}: about {found.amount:.2f} {found.currency} "
        f"({prices.post_with_url:.3f} per post with a link, {prices.post:.3f} without; "
        "prices in [social.x.prices])."
    )
