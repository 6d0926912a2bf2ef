"""The parts of a post's text: a thread written in one file, each part checked as its network
counts it (and cut into several when asked), the text stored from the parts.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from campaign.errors import CampaignError
from campaign.social.length import (
    NO_THREADS,
    check_length,
    join_thread,
    limit_for,
    split_thread,
)

_SEPARATOR = re.compile(r"^\s*---+\s*$", re.MULTILINE)


def thread_parts(text: str) -> list[str]:
    """The parts of a thread written in one file.

    Parts are separated by a line holding only ``---``; a file without such a line has one
    part per paragraph (blank lines between them). Lines inside a part are kept as written.
    """
    chunks = _SEPARATOR.split(text) if _SEPARATOR.search(text) else re.split(r"\n\s*\n", text)
    return [chunk.strip() for chunk in chunks if chunk.strip()]


def checked_parts(
    parts: Sequence[str],
    *,
    split: bool,
    post_id: int | None = None,
    network: str = "x",
    account: str = "",
    limit: int | None = None,
) -> list[str]:
    """Every part as ``network`` will count it; with ``split``, a part too long becomes several.

    ``post_id`` (or, before the post exists, ``account``): the post the CLI's message names
    (neither: "The post"). ``limit``: the account's server's own (:func:`account_limit`). On a
    network without threads (LinkedIn) the parts become one post, which ``split`` cannot
    shorten."""
    parts = join_thread(list(parts), network)
    result: list[str] = []
    several = len(parts) > 1
    own = limit
    limit = limit_for(network, own)
    for number, part in enumerate(parts, 1):
        part = part.strip()
        if not part:
            continue
        length, valid = check_length(part, network, own)
        if valid:
            result.append(part)
        elif split and network not in NO_THREADS:
            result.extend(split_thread(part, network, own))
        else:
            code = "post.part_too_long" if several else "post.too_long"
            raise CampaignError.of(
                "post.too_long_one_post" if network in NO_THREADS else code,
                "text",
                post_id=post_id or 0,
                part=number,
                length=length,
                over=length - limit,
                limit=limit,
                network=network,
                account=account,
            )
    if not result:
        raise CampaignError.of("post.empty", "text", post_id=post_id or 0, account=account)
    return result


def text_of(parts: Sequence[str]) -> str:
    return "\n\n".join(parts)
