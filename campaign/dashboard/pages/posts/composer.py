"""The composer: X's weighted count and the other networks' own, thread parts (cut automatically
or written by hand), an image with its description, one post per ticked account."""

from __future__ import annotations

import secrets
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Depends, File, Form, Query, Request, UploadFile
from fastapi.responses import HTMLResponse, Response

from campaign.dashboard import pagekit
from campaign.dashboard.pages.posts.shared import (
    handles_by_account,
    network_of_account,
    networks_by_account,
)
from campaign.errors import CampaignError
from campaign.social import media
from campaign.social.length import NO_THREADS, check_length, join_thread, limit_for
from campaign.social.limits import account_limits
from campaign.social.networks import NETWORK_NAMES, network_of
from campaign.social.posts import checked_parts, create_posts, thread_parts

router = APIRouter()


def _pieces(
    text: str, *, split: bool, thread: bool, network: str = "x", limit: int | None = None
) -> list[str]:
    """The parts as typed: the whole text, or a thread written by hand (paragraphs, or parts
    between ``---`` lines); with ``split``, each part too long (past ``limit``, the account's
    server's own when known) becomes several."""
    text = text.strip()
    if not text:
        return []
    pieces = join_thread(thread_parts(text) if thread else [text], network)
    if network in NO_THREADS:  # LinkedIn: one post, never cut (shown too long if it is)
        return pieces
    return checked_parts(pieces, split=True, network=network, limit=limit) if split else pieces


def _parts(
    text: str, split: bool, thread: bool = False, network: str = "x", limit: int | None = None
) -> list[dict[str, Any]]:
    """Each part the text would be published as, with its length as its network counts it
    (valid: within ``limit``, the account's server's own when known)."""
    return [
        {"text": part, "length": length, "valid": valid}
        for part in _pieces(text, split=split, thread=thread, network=network, limit=limit)
        for length, valid in [check_length(part, network, limit)]
    ]


def _limits(request: Request) -> dict[str, int]:
    """The limit of each account whose server said its own (a Mastodon instance's, read by a
    metrics sync): the counters use it rather than the network's default."""
    board = pagekit.dashboard(request)
    with board.session() as session:
        return account_limits(session, board.settings)


def _chosen(request: Request, accounts: list[str], account: str = "") -> list[str]:
    """The accounts ticked (or the one named by ``account``, as before several could be)."""
    return list(dict.fromkeys(accounts or ([account] if account else [])))


def _overrides(names: list[str], texts: list[str], chosen: list[str]) -> dict[str, str]:
    """Each ticked account's own text, when one was typed (the form sends the accounts' names
    and their texts as two lists in the same order)."""
    return {
        name: text.strip()
        for name, text in zip(names, texts, strict=False)
        if text.strip() and name in chosen
    }


def _previews(
    request: Request,
    accounts: list[str],
    text: str,
    overrides: dict[str, str],
    *,
    split: bool,
    thread: bool,
) -> list[dict[str, Any]]:
    """One live counter per network and limit (and per account with its own text): each part
    as that network counts it against the account's own limit when its server set one, and the
    accounts it goes to."""
    handles = handles_by_account(request)
    limits = _limits(request)
    groups: dict[tuple[str, int | None, str], dict[str, Any]] = {}
    for name in accounts or [""]:
        network = network_of_account(request, name)
        own = limits.get(name)
        words = overrides.get(name) or text
        group = groups.get((network, own, words))
        if group is None:
            try:
                parts = _parts(words, split, thread, network, own)
            except CampaignError:
                parts = []
            group = groups[(network, own, words)] = {
                "network": network,
                "limit": limit_for(network, own),
                "parts": parts,
                "handles": [],
                "own": name in overrides,
            }
        group["handles"].append(handles.get(name, name))
    return list(groups.values())


def _composer(
    request: Request,
    *,
    accounts: list[str] | None = None,
    text: str = "",
    at: str = "",
    split: bool = False,
    thread: bool = False,
    alt: str = "",
    overrides: dict[str, str] | None = None,
    error: str | CampaignError = "",
    status_code: int = 200,
) -> Response:
    handles = handles_by_account(request)
    chosen = [name for name in accounts or [] if name in handles] or list(handles)[:1]
    overrides = overrides or {}
    return pagekit.render(
        request,
        "posts/compose.html",
        status_code=status_code,
        handles=handles,
        chosen=chosen,
        networks=networks_by_account(request),
        network_names=NETWORK_NAMES,
        text=text,
        at=at,
        split=split,
        thread=thread,
        alt=alt,
        overrides=overrides,
        previews=_previews(request, chosen, text, overrides, split=split, thread=thread),
        image_sizes=_image_sizes(request),
        error=error,
        error_inputs={"accounts": f"account-{chosen[0]}" if chosen else "accounts"},
    )


def _image_sizes(request: Request) -> list[dict[str, Any]]:
    """The largest image each network of the accounts takes, in MB (the composer says it)."""
    settings = pagekit.dashboard(request).settings
    networks = sorted({network_of(settings, name) for name in settings.social.accounts} or {"x"})
    found = []
    for network in networks:
        sizes = media.size_limits(network)
        found.append(
            {
                "network": NETWORK_NAMES.get(network, network),
                "still": round(sizes["image/jpeg"] / media.MB),
                "gif": round(sizes["image/gif"] / media.MB),
            }
        )
    return found


@router.get("/posts/new", dependencies=[Depends(pagekit.require_editor)])
def new(request: Request) -> Response:
    return _composer(request)


@router.get("/posts/length", response_class=HTMLResponse)
def length(
    request: Request,
    text: str = "",
    account: str = "",
    accounts: list[str] = Query([]),
    split: str = "",
    thread: str = "",
    override_account: list[str] = Query([]),
    override_text: list[str] = Query([]),
) -> Response:
    """The live counters: each part's length as each ticked account's network counts it (one
    counter per network, and one per account given its own text), with the previews."""
    chosen = _chosen(request, accounts, account)
    overrides = _overrides(override_account, override_text, chosen)
    return pagekit.render(
        request,
        "posts/_lengths.html",
        previews=_previews(
            request, chosen, text, overrides, split=bool(split), thread=bool(thread)
        ),
        network_names=NETWORK_NAMES,
        split=bool(split),
    )


def _save_image(request: Request, image: UploadFile, network: str, alt: str) -> Path:
    """Keep an uploaded image if ``network``'s policy takes it, described by ``alt``
    (:mod:`campaign.social.media`)."""
    data = image.file.read(media.largest_image(network) + 1)
    name = image.filename or ""
    suffix = media.SUFFIXES[media.check_upload(data, name=name, network=network, alt=alt)]
    folder = Path(pagekit.dashboard(request).settings.dashboard.media_dir)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{secrets.token_hex(12)}{suffix}"
    path.write_bytes(data)
    return path.resolve()


@router.post("/posts/new")
def create(
    request: Request,
    account: str = Form(""),
    accounts: list[str] = Form([]),
    text: str = Form(""),
    at: str = Form(""),
    split: str = Form(""),
    thread: str = Form(""),
    alt: str = Form(""),
    override_account: list[str] = Form([]),
    override_text: list[str] = Form([]),
    image: UploadFile | None = File(None),
) -> Response:
    """One post per ticked account, each with the common text or its own, each checked by its
    network's rules before any is stored; one post opens its page, several are listed."""
    board = pagekit.dashboard(request)
    settings = board.settings
    chosen = _chosen(request, accounts, account)
    overrides = _overrides(override_account, override_text, chosen)
    try:
        when = pagekit.parse_local(at, settings, "at") if at.strip() else None
        images = []
        if image is not None and image.filename:
            # Kept if the first account's network takes it; create_posts checks it by each
            # ticked account's network before any post is stored.
            saved = _save_image(
                request, image, network_of_account(request, chosen[0] if chosen else ""), alt
            )
            images.append({"path": str(saved), "alt": alt.strip()})
        with board.session() as session:
            posts = create_posts(
                session,
                settings,
                accounts=chosen,
                text=None if thread else text,
                parts=thread_parts(text) if thread else None,
                variants={
                    name: thread_parts(own) if thread else [own] for name, own in overrides.items()
                },
                scheduled_at=when,
                split=bool(split),
                images=images,
            )
            ids = [post.id for post in posts]
    except CampaignError as exc:
        return _composer(
            request,
            accounts=chosen,
            text=text,
            at=at,
            split=bool(split),
            thread=bool(thread),
            alt=alt,
            overrides=overrides,
            error=exc,
            status_code=400,
        )
    if len(ids) == 1:
        return pagekit.see_other(request, f"/posts/{ids[0]}", "post-created")
    return pagekit.see_other(request, f"/posts?created={','.join(str(i) for i in ids)}")
