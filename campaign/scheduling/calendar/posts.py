"""A calendar's ``[[post]]`` entries: their declared fields read, then each account's words
checked by its own network's rules (length, threads), and the images against their files."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

from pydantic import TypeAdapter

from campaign.config import Settings
from campaign.errors import CampaignError
from campaign.scheduling.calendar.entries import PostEntry
from campaign.scheduling.calendar.fields import Entry, moment
from campaign.scheduling.calendar.values import MAX_ALT, MAX_IMAGES, Thread
from campaign.social.compose import MissingValue, has_template, render_post, template_names
from campaign.social.length import (
    NO_THREADS,
    check_length,
    join_thread,
    limit_for,
    split_thread,
)
from campaign.social.limits import SET_BY_SERVER
from campaign.social.media import check_image
from campaign.social.networks import network_of

_THREAD: TypeAdapter[list[str]] = TypeAdapter(Thread)


def read_account(entry: Entry, settings: Settings, *, required: bool) -> str | None:
    account: str | None = entry.value("account", required=required)
    if account is None:
        return None
    if account not in settings.social.accounts:
        known = ", ".join(sorted(settings.social.accounts)) or "none"
        entry.error(
            f"unknown account {account!r} (accounts in [social.accounts]: {known})", "account"
        )
        return None
    return account


def read_accounts(entry: Entry, settings: Settings, *, required: bool) -> list[str] | None:
    """``account = "…"`` or ``accounts = ["…", "…"]`` (never both): the entry's accounts, each
    configured and named once."""
    if "accounts" not in entry.data:
        account = read_account(entry, settings, required=required)
        return [account] if account else None
    if "account" in entry.data:
        entry.error(
            "give either 'account' (one account) or 'accounts' (a list), not both", "accounts"
        )
        return None
    raw: list[str] | None = entry.value("accounts")
    if raw is None:
        return None
    names: list[str] = []
    known = ", ".join(sorted(settings.social.accounts)) or "none"
    for name in raw:
        if name in names:
            entry.error(f"'accounts': {name!r} is named twice", "accounts")
        elif name not in settings.social.accounts:
            entry.error(
                f"'accounts': unknown account {name!r} (accounts in [social.accounts]: {known})",
                "accounts",
            )
        else:
            names.append(name)
    return names if len(names) == len(raw) else None


_COUNTING = {
    "x": ("X", "a link counts 23, an emoji 2"),
    "mastodon": ("Mastodon", "a link counts 23, an emoji 1"),
    "bluesky": ("Bluesky", "a link counts in full, an emoji 1"),
    "linkedin": ("LinkedIn", "a link counts in full, an emoji 1 or 2"),
}


def _fits(
    entry: Entry,
    text: str,
    where: str,
    *path: str,
    network: str = "x",
    limit: int | None = None,
) -> bool:
    """Whether ``text`` is one post as ``network`` counts it (``limit``: the account's server's
    own, when known), the refusal recorded at ``path`` otherwise."""
    length, valid = check_length(text, network, limit)
    if not valid:
        name, note = _COUNTING.get(network, _COUNTING["x"])
        entry.error(
            f"{where} is {length} characters long as {name} counts them (at most "
            f"{limit_for(network, limit)}; {note}): shorten it, cut it into 'thread' parts, or "
            "add split = true",
            *path,
        )
    return valid


Words = str | list[str]  # a text, or the parts of a thread written by hand


def _base_words(entry: Entry, settings: Settings, covered: bool) -> tuple[str, Words] | None:
    """The entry's own words and the field they come from (``text``, ``thread`` or
    ``template``); none is needed when ``texts`` gives every account its words (``covered``)."""
    given = [name for name in ("text", "thread", "template") if name in entry.data]
    if len(given) > 1 or (not given and not covered):
        entry.error(
            "give the post's words in exactly one of 'text', 'thread' (a list of posts) or "
            f"'template' (found {', '.join(given) or 'none'}); 'texts' may give an account "
            "its own",
            *(given[1:2] or ()),
        )
        return None
    if not given:
        return None
    if given[0] == "thread":
        thread = entry.value("thread")
        return ("thread", thread) if thread else None
    if given[0] == "text":
        text = entry.value("text", required=True) or ""
    else:
        text = _post_from_template(entry, settings)
    return (given[0], text) if text else None


def _texts(entry: Entry, accounts: Sequence[str]) -> dict[str, Words]:
    """``texts = { mois_ess_bsky = "…" }``: an account's own words (a text, or a list of
    parts: a thread), instead of the entry's."""
    raw: dict[str, Any] | None = entry.value("texts")
    if raw is None:
        return {}
    words: dict[str, Words] = {}
    for name, value in raw.items():
        if accounts and name not in accounts:
            entry.error(
                f"'texts.{name}': {name!r} is not one of the post's accounts "
                f"({', '.join(accounts) or 'none'})",
                "texts",
                name,
            )
        elif isinstance(value, str) and value.strip():
            words[name] = value.strip()
        elif isinstance(value, list):
            thread = entry.check(_THREAD, value, f"texts.{name}", "texts", name)
            if thread:
                words[name] = thread
        else:
            entry.error(
                f"'texts.{name}' must be a text in quotes, or a list of texts (a thread)",
                "texts",
                name,
            )
    return words


def _words_for(
    entry: Entry,
    words: Words,
    split: bool,
    network: str,
    where: str,
    path: tuple[str, ...],
    limit: int | None = None,
) -> tuple[str, list[str]] | None:
    """(text, parts) of one account's post, its words checked by its network's rules
    (``limit``: the account's server's own, when known)."""
    rules: dict[str, Any] = {"network": network, "limit": limit}
    if isinstance(words, list) and network in NO_THREADS:  # LinkedIn: one post, checked whole
        parts = join_thread(words, network)
        where = f"the thread{where}, one post there"
        return (parts[0], parts) if _fits(entry, parts[0], where, *path, **rules) else None
    if isinstance(words, list):
        fits = [
            _fits(entry, part, f"part {number} of the thread{where}", *path, **rules)
            for number, part in enumerate(words, 1)
        ]
        return ("\n\n".join(words), list(words)) if all(fits) else None
    if split:
        return words, split_thread(words, network, limit)
    if _fits(entry, words, f"the text{where}", *path, **rules):
        return words, [words]
    return None


def read_post(
    entry: Entry,
    settings: Settings,
    now: datetime,
    folder: Path,
    limits: Mapping[str, int] | None = None,
) -> PostEntry | None:
    """The post of ``entry``, or None when it has a problem (recorded on the entry)."""
    entry.unknown_fields()
    accounts = read_accounts(entry, settings, required=True) or []
    at = moment(entry, "at", settings, now)
    split = bool(entry.value("split"))
    own = _texts(entry, accounts)
    base = _base_words(entry, settings, covered=bool(accounts) and set(accounts) <= set(own))
    targets = _targets(entry, settings, accounts, own, base, split, limits or {})
    images = _images(entry, folder)
    if entry.failed or entry.key is None or not accounts:
        return None
    assert at
    first, *others = accounts
    text, parts = targets[first]
    return PostEntry(
        key=entry.key,
        line=entry.span[0],
        account=first,
        at=at,
        text=text,
        parts=parts,
        images=images,
        others={name: targets[name] for name in others},
    )


def _targets(
    entry: Entry,
    settings: Settings,
    accounts: Sequence[str],
    own: Mapping[str, Words],
    base: tuple[str, Words] | None,
    split: bool,
    limits: Mapping[str, int],
) -> dict[str, tuple[str, list[str]]]:
    """(text, parts) of each account's post: its own words (``texts``) or the entry's, checked
    by its network's rules."""
    targets: dict[str, tuple[str, list[str]]] = {}
    path: tuple[str, ...]  # where the words are in the entry: ("texts", account) or (field,)
    for account in accounts:
        network = network_of(settings, account)
        if account in own:
            words, path = own[account], ("texts", account)
        elif base is not None:
            words, path = base[1], (base[0],)
        else:
            continue
        shown = _COUNTING.get(network, _COUNTING["x"])[0]
        where = f" for {account!r} ({shown})" if len(accounts) > 1 or account in own else ""
        limit = limits.get(account) if network in SET_BY_SERVER else None
        target = _words_for(entry, words, split, network, where, path, limit)
        if target is not None:
            targets[account] = target
    return targets


def _post_from_template(entry: Entry, settings: Settings) -> str:
    name = entry.value("template", required=True)
    if not name:
        return ""
    if not has_template(name, settings=settings):
        known = ", ".join(template_names(settings=settings)) or "none"
        entry.error(f"unknown post template {name!r} (templates/posts: {known})", "template")
        return ""
    variables = entry.value("vars")
    if variables is None:
        return ""
    try:
        text = render_post(name, variables, settings)
    except MissingValue as exc:
        entry.error(f"{exc} Give it in the entry's vars.", "vars")
        return ""
    except CampaignError as exc:
        entry.error(str(exc), "template")
        return ""
    if not text:
        entry.error(f"template {name!r} gives an empty text with these vars", "template")
    return text


def _images(entry: Entry, folder: Path) -> list[dict[str, str]]:
    raw: list[dict[str, Any]] | None = entry.value("images")
    if raw is None:
        return []
    if len(raw) > MAX_IMAGES:
        entry.error(f"a post takes at most {MAX_IMAGES} images (got {len(raw)})", "images")
    images: list[dict[str, str]] = []
    for number, image in enumerate(raw, 1):
        unknown = sorted(set(image) - {"path", "alt"})
        if unknown:
            entry.error(
                f"image {number}: unknown field(s) {', '.join(unknown)} (path, alt)", "images"
            )
        path, alt = image.get("path"), image.get("alt")
        if not isinstance(path, str) or not path.strip():
            entry.error(f"image {number}: 'path' (the image file) is missing", "images")
            continue
        if not isinstance(alt, str) or not alt.strip():
            entry.error(
                f"image {number} ({path}): 'alt' is missing: describe the image for people who "
                "cannot see it",
                "images",
            )
            continue
        if len(alt) > MAX_ALT:
            entry.error(
                f"image {number}: 'alt' is {len(alt)} characters (X takes {MAX_ALT})", "images"
            )
        file = (folder / path).resolve()
        if not file.is_file():
            entry.error(f"image {number}: no file {file}", "images")
            continue
        try:  # an image X takes: the sync copies it into the media folder
            check_image(file, alt, label=f"image {number}")
        except CampaignError as exc:
            entry.error(str(exc), "images")
            continue
        images.append({"path": str(file), "alt": alt.strip()})
    return images
