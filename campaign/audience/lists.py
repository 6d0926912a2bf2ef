"""Mailing lists ("Newsletter nationale", "Organisateurs", "Presse") and their counts.

A list is found by its name compared without case or accents: "Newsletter Nationale" typed in an
import is the existing "Newsletter nationale", never a second list (people cannot see the
difference, and two lists that look alike split an audience without anyone noticing). Creating
or renaming a list into a name already taken that way is refused with the name it clashes with.

Renaming, merging and deleting lists keep the consent log whole: lines keep pointing at a list
(the merged one), and a list that lines, members or newsletters still name is never deleted.
"""

from __future__ import annotations

import re
import tomllib
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import and_, exists, func, insert, literal, update
from sqlalchemy import inspect as sa_inspect
from sqlalchemy import select as sa_select
from sqlalchemy.orm import aliased
from sqlmodel import Session, col, delete, select

from campaign.config import Settings
from campaign.errors import CampaignError
from campaign.messages import Message
from campaign.models import (
    ConsentAction,
    ConsentEvent,
    MailingList,
    Membership,
    Newsletter,
    Subscriber,
    SubscriberStatus,
    utcnow,
)

MAX_NAME = 200  # characters in a list's name


def fold_name(name: str) -> str:
    """A list name as people compare it: without case, accents or repeated spaces."""
    decomposed = unicodedata.normalize("NFKD", name)
    bare = "".join(char for char in decomposed if not unicodedata.combining(char))
    return re.sub(r"\s+", " ", bare.casefold()).strip()


class ListExists(CampaignError):
    """A list of that name (without case or accents) exists already: ``existing`` is its name."""

    def __init__(self, existing: str, name: str) -> None:
        super().__init__(Message("list.exists", "name", {"name": existing, "typed": name}))
        self.existing = existing


def _same_name(session: Session, name: str) -> list[MailingList]:
    # Lists are a few dozen: folding in Python works the same on every engine.
    folded = fold_name(name)
    return [
        item
        for item in session.exec(select(MailingList).order_by(col(MailingList.id)))
        if fold_name(item.name) == folded
    ]


def find_list(session: Session, name: str) -> MailingList | None:
    """The list called ``name``, compared without case or accents; None if there is none.

    Two lists whose names differ only so (made before names were compared this way) are
    ambiguous unless one is spelled exactly as given: merging them is the way out.
    """
    name = name.strip()
    matches = _same_name(session, name)
    exact = [item for item in matches if item.name == name]
    if exact or len(matches) <= 1:
        candidates = exact or matches
        return candidates[0] if candidates else None
    raise CampaignError.of(
        "list.ambiguous", "lists", name=name, names=[item.name for item in matches]
    )


def require_list(session: Session, name: str) -> MailingList:
    found = find_list(session, name)
    if found is None:
        names = list(session.exec(select(MailingList.name).order_by(MailingList.name)))
        raise CampaignError.of("list.unknown", "lists", name=name, names=names or "none")
    return found


def _check_new_name(session: Session, name: str, keep: MailingList | None = None) -> str:
    name = name.strip()
    if not name:
        raise CampaignError.of("list.no_name", "name")
    if len(name) > MAX_NAME:
        raise CampaignError.of("list.name_too_long", "name", max=MAX_NAME)
    for item in _same_name(session, name):
        if item is not keep:
            raise ListExists(item.name, name)
    return name


def create_list(session: Session, name: str, description: str = "") -> MailingList:
    mailing_list = MailingList(name=_check_new_name(session, name), description=description)
    session.add(mailing_list)
    session.flush()
    return mailing_list


def get_or_create_list(session: Session, name: str) -> MailingList:
    return find_list(session, name) or create_list(session, name)


def list_counts(session: Session) -> list[dict[str, Any]]:
    """Each list with its number of current members per subscriber status."""
    statuses = [status.value for status in SubscriberStatus]
    rows = session.exec(
        select(MailingList.id, Subscriber.status, func.count())
        .join(Membership, col(Membership.list_id) == col(MailingList.id))
        .join(Subscriber, col(Subscriber.id) == col(Membership.subscriber_id))
        .where(col(Membership.unsubscribed_at).is_(None), col(Subscriber.erased_at).is_(None))
        .group_by(col(MailingList.id), col(Subscriber.status))
    ).all()
    counts: dict[int | None, dict[str, int]] = {}
    for list_id, status, count in rows:
        counts.setdefault(list_id, {})[status] = count
    result = []
    for mailing_list in session.exec(select(MailingList).order_by(MailingList.name)):
        per_status = {status: counts.get(mailing_list.id, {}).get(status, 0) for status in statuses}
        result.append(
            {
                "name": mailing_list.name,
                "description": mailing_list.description,
                "total": sum(per_status.values()),
                **per_status,
            }
        )
    return result


# --- what uses a list ------------------------------------------------------------------------


@dataclass
class ListUse:
    """Who still names a list: what makes deleting it lose something, or renaming it break."""

    name: str
    members: int = 0  # current members, erased people aside
    former: int = 0  # people who left it (their consent lines name it)
    consent_lines: int = 0
    newsletters: list[str] = field(default_factory=list)  # titles
    calendars: list[str] = field(default_factory=list)  # "file.toml (entry key)"
    settings: list[str] = field(default_factory=list)  # "[subscribe] lists"

    @property
    def by_name(self) -> list[str]:
        """What names the list by its name (files and settings), so a rename or merge leaves
        them naming a list that no longer exists until someone edits them."""
        return self.calendars + self.settings

    def refusal(self) -> str | None:
        """Why the list may not be deleted (one English sentence), or None."""
        reasons = []
        if self.members:
            reasons.append(f"{self.members} member(s)")
        if self.former:
            reasons.append(f"{self.former} former member(s) whose consent log names it")
        elif self.consent_lines and not self.members:
            reasons.append(f"{self.consent_lines} consent log line(s) naming it")
        if self.newsletters:
            reasons.append("newsletter(s) " + ", ".join(repr(t) for t in self.newsletters[:5]))
        if self.calendars:
            reasons.append("calendar entries " + ", ".join(self.calendars[:5]))
        if self.settings:
            reasons.append(" and ".join(self.settings))
        if not reasons:
            return None
        return (
            f"The list {self.name!r} is not empty or still used ({'; '.join(reasons)}): "
            "merge it into another list instead (campaign lists merge), or remove those uses."
        )


def list_use(session: Session, mailing_list: MailingList, settings: Settings | None) -> ListUse:
    use = ListUse(mailing_list.name)
    rows = session.exec(
        select(col(Membership.unsubscribed_at).is_(None), func.count())
        .join(Subscriber, col(Subscriber.id) == Membership.subscriber_id)
        .where(Membership.list_id == mailing_list.id, col(Subscriber.erased_at).is_(None))
        .group_by(col(Membership.unsubscribed_at).is_(None))
    ).all()
    for current, count in rows:
        if current:
            use.members = int(count)
        else:
            use.former = int(count)
    use.consent_lines = int(
        session.exec(select(func.count()).where(ConsentEvent.list_id == mailing_list.id)).one()
    )
    use.newsletters = [
        title
        for title, list_ids in session.exec(
            select(Newsletter.title, Newsletter.list_ids).order_by(col(Newsletter.id))
        )
        if mailing_list.id in (list_ids or [])
    ]
    if settings is not None:
        use.calendars = _calendar_uses(Path(settings.scheduler.calendars), mailing_list.name)
        folded = fold_name(mailing_list.name)
        if any(fold_name(name) == folded for name in settings.subscribe.lists):
            use.settings.append("[subscribe] lists")
    return use


def _calendar_uses(folder: Path, name: str) -> list[str]:
    """Newsletter entries of the calendars naming the list (files that do not read are left to
    ``schedule check``, which says what is wrong with them)."""
    files = sorted(folder.glob("*.toml")) if folder.is_dir() else []
    folded = fold_name(name)
    found = []
    for path in files:
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeError, tomllib.TOMLDecodeError):
            continue
        entries = data.get("newsletter", [])
        for entry in entries if isinstance(entries, list) else []:
            names = entry.get("lists", []) if isinstance(entry, dict) else []
            if isinstance(names, list) and any(
                isinstance(item, str) and fold_name(item) == folded for item in names
            ):
                found.append(f"{path.name} ({entry.get('key', '?')})")
    return found


# --- rename, merge, delete -------------------------------------------------------------------


def rename_list(session: Session, old: str, new: str) -> MailingList:
    """Give a list a new name (its members, consent lines and newsletters follow: they hold its
    id). Changing only the case or accents of its own name is allowed."""
    mailing_list = require_list(session, old)
    mailing_list.name = _check_new_name(session, new, keep=mailing_list)
    session.add(mailing_list)
    session.flush()
    return mailing_list


@dataclass
class MergeOutcome:
    source: str
    target: str
    moved: int  # people who were only on the merged-away list
    both: int  # people on both lists, now on the target once
    newsletters: int  # newsletters whose audience named the merged-away list


def merge_lists(
    session: Session, source_name: str, target_name: str, *, actor: str, method: str
) -> MergeOutcome:
    """Move everything of list ``source_name`` to ``target_name``, then delete it.

    Set-based (a few statements whatever the number of people), in the session's transaction:

    * a person only on the source gets the same membership on the target (joined and left on
      the same dates);
    * a person on both stays once on the target, whose state becomes that of the more recent
      decision (a person who left one copy then joined the other is a member; one who joined
      then left is not), so nobody is mailed against a later refusal nor dropped against a
      later consent;
    * consent lines about the source now name the target, and each person moved gets a line
      saying so; newsletters' audiences (list ids) name the target once.
    """
    source = require_list(session, source_name)
    target = require_list(session, target_name)
    if source.id == target.id:
        raise CampaignError(f"{source_name!r} and {target_name!r} are the same list.")
    assert source.id is not None and target.id is not None  # saved lists
    source_id, target_id = source.id, target.id
    theirs = aliased(Membership)
    on_target = exists().where(
        col(theirs.list_id) == target_id,
        col(theirs.subscriber_id) == col(Membership.subscriber_id),
    )
    total = session.exec(select(func.count()).where(Membership.list_id == source_id)).one()
    both = int(
        session.exec(select(func.count()).where(Membership.list_id == source_id, on_target)).one()
    )
    moved = int(total) - both
    _log_merge(session, source, target, actor=actor, method=method)
    _merge_memberships(session, source_id, target_id)
    session.exec(
        update(ConsentEvent).where(col(ConsentEvent.list_id) == source_id).values(list_id=target_id)
    )
    newsletters = _retarget_newsletters(session, source_id, target_id)
    session.exec(delete(Membership).where(col(Membership.list_id) == source_id))
    session.exec(delete(MailingList).where(col(MailingList.id) == source_id))
    session.expire_all()
    session.flush()
    return MergeOutcome(source.name, target.name, moved, both, newsletters)


def _log_merge(
    session: Session, source: MailingList, target: MailingList, *, actor: str, method: str
) -> None:
    """One consent line per person of the source, written before their lines move."""
    source_id, target_id = source.id, target.id
    now = utcnow()
    detail = f"list « {source.name} » merged into « {target.name} »"
    session.exec(
        insert(ConsentEvent).from_select(
            ["subscriber_id", "list_id", "at", "action", "method", "source", "actor", "detail"],
            sa_select(
                col(Membership.subscriber_id),
                literal(target_id),
                literal(now, sa_inspect(ConsentEvent).columns["at"].type),
                literal(ConsentAction.updated.value),
                literal(method),
                literal(""),
                literal(actor),
                literal(detail),
            ).where(col(Membership.list_id) == source_id),
        )
    )


def _merge_memberships(session: Session, source_id: int, target_id: int) -> None:
    """The source's memberships onto the target (see :func:`merge_lists` for who wins)."""
    theirs = aliased(Membership)
    ours = aliased(Membership)
    # On both: the target's row takes the source's dates when the source's decision is later.
    latest = func.coalesce(col(Membership.unsubscribed_at), col(Membership.subscribed_at))
    newer = (
        sa_select(col(theirs.id))
        .where(
            col(theirs.list_id) == source_id,
            col(theirs.subscriber_id) == col(Membership.subscriber_id),
            func.coalesce(col(theirs.unsubscribed_at), col(theirs.subscribed_at)) > latest,
        )
        .exists()
    )
    session.exec(
        update(Membership)
        .where(col(Membership.list_id) == target_id, newer)
        .values(
            subscribed_at=sa_select(col(theirs.subscribed_at))
            .where(
                col(theirs.list_id) == source_id,
                col(theirs.subscriber_id) == col(Membership.subscriber_id),
            )
            .scalar_subquery(),
            unsubscribed_at=sa_select(col(theirs.unsubscribed_at))
            .where(
                col(theirs.list_id) == source_id,
                col(theirs.subscriber_id) == col(Membership.subscriber_id),
            )
            .scalar_subquery(),
        )
    )
    # Only on the source: the same membership on the target.
    session.exec(
        insert(Membership).from_select(
            ["subscriber_id", "list_id", "subscribed_at", "unsubscribed_at"],
            sa_select(
                col(ours.subscriber_id),
                literal(target_id),
                col(ours.subscribed_at),
                col(ours.unsubscribed_at),
            ).where(
                col(ours.list_id) == source_id,
                ~exists().where(
                    and_(
                        col(theirs.list_id) == target_id,
                        col(theirs.subscriber_id) == col(ours.subscriber_id),
                    )
                ),
            ),
        )
    )


def _retarget_newsletters(session: Session, source_id: int, target_id: int) -> int:
    """Newsletters' audiences name the target instead of the source (once); how many changed."""
    newsletters = 0
    for newsletter in session.exec(select(Newsletter)):
        if source_id in (newsletter.list_ids or []):
            ids: list[int] = []
            for list_id in newsletter.list_ids:
                list_id = target_id if list_id == source_id else list_id
                if list_id not in ids:
                    ids.append(list_id)
            newsletter.list_ids = ids
            session.add(newsletter)
            newsletters += 1
    return newsletters


def delete_list(session: Session, name: str, settings: Settings | None) -> str:
    """Delete a list nothing uses; refused with the reason otherwise. Returns its name."""
    mailing_list = require_list(session, name)
    refusal = list_use(session, mailing_list, settings).refusal()
    if refusal:
        raise CampaignError(refusal)
    deleted = mailing_list.name
    session.exec(delete(Membership).where(col(Membership.list_id) == mailing_list.id))
    session.delete(mailing_list)
    session.flush()
    return deleted
