"""May this newsletter be edited, moved, sent, cancelled…? The one answer, by its status.

Every door asks here: the dashboard's pages (which buttons to show, what to refuse), the
calendar (which newsletters get a drag handle), the CLI and the stage's own functions
(:mod:`.records`, :mod:`.queue`). A refusal is a message each door words.
"""

from __future__ import annotations

from campaign.errors import CampaignError
from campaign.messages import Message
from campaign.models import Newsletter, NewsletterStatus

EDIT = "edit"  # change its title, subject, lists, blocks…
MOVE = "move"  # give it a sending time (the calendar's drag, the schedule form, ``schedule``)
SEND = "send"  # send it now
CANCEL = "cancel"
PAUSE = "pause"
RESUME = "resume"
RESTORE = "restore"  # a cancelled newsletter back to draft (if it sent nothing: see queue)

_S = NewsletterStatus
ALLOWED: dict[str, tuple[NewsletterStatus, ...]] = {
    # Going out or gone, a newsletter no longer changes (paused: the rest may still change).
    EDIT: (_S.draft, _S.scheduled, _S.paused),
    # Not gone yet: it may be given a time (a missed one is brought back by a new time).
    MOVE: (_S.draft, _S.scheduled, _S.missed),
    SEND: (_S.draft, _S.scheduled, _S.missed),
    # Anything not sent (or cancelled) yet.
    CANCEL: (_S.draft, _S.scheduled, _S.sending, _S.paused, _S.missed),
    PAUSE: (_S.sending,),
    RESUME: (_S.paused,),
    RESTORE: (_S.cancelled,),
}
ACTIONS = tuple(ALLOWED)
_REFUSAL = {
    EDIT: "newsletter.not_editable",
    MOVE: "newsletter.not_schedulable",
    SEND: "newsletter.not_sendable",
    CANCEL: "newsletter.cannot_be_cancelled",
    PAUSE: "newsletter.cannot_be_paused",
    RESUME: "newsletter.cannot_be_resumed",
    RESTORE: "newsletter.not_cancelled",
}


def may(newsletter: Newsletter, action: str) -> Message | None:
    """None when ``action`` may be done to ``newsletter`` now, else why not."""
    allowed = ALLOWED[action]
    if newsletter.status in allowed:
        return None
    values: dict[str, object] = {"id": newsletter.id, "status": newsletter.status}
    if action in (CANCEL, PAUSE, RESUME):
        values["allowed"] = " or ".join(allowed)
    return Message(_REFUSAL[action], "", values)


def check(newsletter: Newsletter, action: str) -> None:
    """Raise the refusal of :func:`may`, if any."""
    refusal = may(newsletter, action)
    if refusal is not None:
        raise CampaignError(refusal)
