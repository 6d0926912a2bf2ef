"""May this post be moved, edited, scheduled, published, cancelled? The one answer.

Every door asks here: the dashboard's calendar (which posts get a drag handle) and post pages
(which buttons, what to refuse), the CLI through the stage's functions (:mod:`.posts`), and the
scheduler through them too. A refusal is a message each door words.

- *move*: a new time alone (the calendar's drag, ``post edit --at``). A missed or failed post
  given one is scheduled again; a thread that stopped half-way (failed, missed) resumes at it;
  one waiting for the network's reset (scheduled, partly published) keeps the network's time.
- *edit*: its text or images (with or without a new time): only before any part went out.
- *schedule*: a draft approved (a scheduled one already is).
- *publish*: now, by a person or the scheduler (a thread resumes from its first part not out).
- *cancel*: never published (what is out already stays there).
"""

from __future__ import annotations

from campaign.errors import CampaignError
from campaign.messages import Message, message
from campaign.models import Post, PostStatus

MOVE = "move"
EDIT = "edit"
SCHEDULE = "schedule"
PUBLISH = "publish"
CANCEL = "cancel"

_S = PostStatus
ALLOWED: dict[str, tuple[PostStatus, ...]] = {
    MOVE: (_S.draft, _S.scheduled, _S.failed, _S.missed),
    EDIT: (_S.draft, _S.scheduled, _S.failed, _S.missed),
    SCHEDULE: (_S.draft, _S.scheduled),
    PUBLISH: (_S.draft, _S.scheduled, _S.failed),
    CANCEL: (_S.draft, _S.scheduled, _S.failed, _S.missed),
}
ACTIONS = tuple(ALLOWED)
_REFUSAL = {
    MOVE: "post.cannot_move",
    EDIT: "post.cannot_edit",
    SCHEDULE: "post.cannot_schedule",
    PUBLISH: "post.cannot_publish",
    CANCEL: "post.cannot_cancel",
}
# Partly published (some parts out): what else is refused, and why.
_PARTLY = {EDIT: "post.partly_published", MOVE: "post.waiting_for_network"}


def may(post: Post, action: str) -> Message | None:
    """None when ``action`` may be done to ``post`` now, else why not."""
    if post.status == PostStatus.publishing:
        return message("post.being_published", post_id=post.id)
    if post.status not in ALLOWED[action]:
        return message(_REFUSAL[action], post_id=post.id, status=post.status)
    if post.remote_ids and action == EDIT:
        return message(_PARTLY[EDIT], post_id=post.id, status=post.status)
    if post.remote_ids and action == MOVE and post.status not in (_S.failed, _S.missed):
        return message(_PARTLY[MOVE], post_id=post.id, status=post.status)
    return None


def check(post: Post, action: str) -> None:
    """Raise the refusal of :func:`may`, if any."""
    refusal = may(post, action)
    if refusal is not None:
        raise CampaignError(refusal)
