"""A newsletter's body as an ordered list of blocks, stored as data on the newsletter.

Block types and what each holds (as stored; ``type`` always)::

    text      text (Markdown: paragraphs, bold, italic, links, lists)
    heading   text
    image     file (its name in the media folder), alt (required), url and width (optional)
    button    label, url
    events    title (optional), rule (an event rule of its own: days, regions, themes, max…)
    callout   text (Markdown, shown in a coloured box)
    divider   (nothing)

People give blocks as ``[[block]]`` tables of a TOML file (command line) or as ``blocks = [...]``
in a calendar entry, with an image's ``path`` (copied into the media folder, named after its
content) and an events block's rule keys (``from``, ``to``, ``regions``, ``themes``, ``types``,
``max``, ``order``) flat in the block. :func:`check_blocks` turns either into the stored shape,
refusing what would not work with the block's number and field named.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping, Sequence
from datetime import date
from pathlib import Path
from typing import Any

from campaign.errors import CampaignError
from campaign.messages import Message
from campaign.social.media import MAX_ALT_TEXT, keep_image, sniff

BLOCK_TYPES = ("text", "heading", "image", "button", "events", "callout", "divider")
EVENT_RULE_KEYS = ("from", "to", "regions", "themes", "types", "max", "order")
FIELDS: dict[str, tuple[str, ...]] = {
    "text": ("text",),
    "heading": ("text",),
    "image": ("path", "file", "alt", "url", "width"),
    "button": ("label", "url"),
    "events": ("title", "rule", *EVENT_RULE_KEYS),
    "callout": ("text",),
    "divider": (),
}
MAX_BLOCKS = 100
MAX_TEXT = 20_000
MIN_WIDTH, MAX_WIDTH = 50, 600
MEDIA_ROUTE = "/media"
"""Where the web service serves the media folder's images (under ``[web] public_url``)."""


class BlockError(CampaignError):
    """A block that cannot be kept: ``number`` (from 1) and ``key`` name where."""

    def __init__(self, *what: str | Message, number: int = 0, key: str = "") -> None:
        super().__init__(*what)
        self.number = number
        self.key = key


def _fail(number: int, kind: str, key: str, what: str) -> BlockError:
    where = f"Block {number} ({kind})" if kind else f"Block {number}"
    return BlockError(f"{where}, {key!r}: {what}", number=number, key=key)


def _refuse(number: int, kind: str, key: str, code: str, **values: Any) -> BlockError:
    """A block's field refused as a message (``block.CODE``) about the editor's input of that
    field (``block-N-KEY``, N from 0), each door wording it."""
    details = {"number": number, "kind": kind, "key": key, **values}
    return BlockError(
        Message(f"block.{code}", f"block-{number - 1}-{key}", details), number=number, key=key
    )


def _text(raw: Mapping[str, Any], key: str, number: int, kind: str, *, required: bool) -> str:
    value = raw.get(key, "")
    if value is None:
        value = ""
    if not isinstance(value, str):
        raise _fail(number, kind, key, "must be text.")
    value = value.strip()
    if required and not value:
        raise _refuse(number, kind, key, "empty")
    if len(value) > MAX_TEXT:
        raise _refuse(number, kind, key, "too_long", length=len(value), max=MAX_TEXT)
    return value


def _url(raw: Mapping[str, Any], key: str, number: int, kind: str, *, required: bool) -> str:
    value = _text(raw, key, number, kind, required=required)
    if value and not value.startswith(("https://", "http://", "mailto:")):
        raise _refuse(number, kind, key, "not_url", value=value)
    return value


def check_blocks(
    raw_blocks: Any,
    *,
    taxonomy: Any,
    media_dir: str | Path,
    base_dir: str | Path | None = None,
    copy: bool = True,
) -> list[dict[str, Any]]:
    """The blocks as stored, checked; ``base_dir`` is where relative image paths start.
    Images are copied into ``media_dir`` (``copy=False``: only named, for a check)."""
    if raw_blocks is None:
        return []
    if not isinstance(raw_blocks, Sequence) or isinstance(raw_blocks, str):
        raise BlockError("The blocks must be a list of tables, each with a 'type'.")
    if len(raw_blocks) > MAX_BLOCKS:
        raise BlockError(f"{len(raw_blocks)} blocks; a newsletter holds at most {MAX_BLOCKS}.")
    return [
        check_block(
            raw, number, taxonomy=taxonomy, media_dir=media_dir, base_dir=base_dir, copy=copy
        )
        for number, raw in enumerate(raw_blocks, 1)
    ]


def check_block(
    raw: Any,
    number: int,
    *,
    taxonomy: Any,
    media_dir: str | Path,
    base_dir: str | Path | None = None,
    copy: bool = True,
) -> dict[str, Any]:
    """One block as stored (see :func:`check_blocks`); ``number`` counts from 1."""
    if not isinstance(raw, Mapping):
        raise BlockError(f"Block {number} must be a table with a 'type'.", number=number)
    kind = raw.get("type")
    if kind not in BLOCK_TYPES:
        what = f"{kind!r} is not a block type; use one of {', '.join(BLOCK_TYPES)}."
        raise _fail(number, "", "type", what)
    for key in raw:
        if key != "type" and key not in FIELDS[kind]:
            given = [name for name in FIELDS[kind] if name not in ("file", "rule")]
            what = f"a {kind} block has no such field; its fields: {', '.join(given) or 'none'}."
            raise _fail(number, kind, key, what)
    if kind in ("text", "heading", "callout"):
        return {"type": kind, "text": _text(raw, "text", number, kind, required=True)}
    if kind == "button":
        return {
            "type": kind,
            "label": _text(raw, "label", number, kind, required=True),
            "url": _url(raw, "url", number, kind, required=True),
        }
    if kind == "divider":
        return {"type": kind}
    if kind == "image":
        return _image(raw, number, media_dir, base_dir, copy)
    return _events(raw, number, taxonomy)


def _image(
    raw: Mapping[str, Any],
    number: int,
    media_dir: str | Path,
    base_dir: str | Path | None,
    copy: bool,
) -> dict[str, Any]:
    kind = "image"
    alt = _text(raw, "alt", number, kind, required=False)
    if not alt:
        raise _refuse(number, kind, "alt", "no_alt")
    if len(alt) > MAX_ALT_TEXT:
        raise _refuse(number, kind, "alt", "alt_too_long", max=MAX_ALT_TEXT)
    file = _image_file(raw, number, media_dir, base_dir, copy)
    block: dict[str, Any] = {"type": kind, "file": file, "alt": alt}
    url = _url(raw, "url", number, kind, required=False)
    if url:
        block["url"] = url
    width = _image_width(raw, number)
    if width is not None:
        block["width"] = width
    return block


def _image_file(
    raw: Mapping[str, Any],
    number: int,
    media_dir: str | Path,
    base_dir: str | Path | None,
    copy: bool,
) -> str:
    """The image's name in the media folder: a ``path`` given is checked and kept there (named
    after its content), a ``file`` given must already be there."""
    kind = "image"
    path = _text(raw, "path", number, kind, required=False)
    file = _text(raw, "file", number, kind, required=False)
    folder = Path(media_dir).expanduser().resolve()
    if path:
        source = Path(path).expanduser()
        if not source.is_absolute() and base_dir is not None:
            source = Path(base_dir) / source
        _check_image(source, number)
        return keep_image(source, folder, copy=copy).name
    if file:
        kept = folder / Path(file).name
        if Path(file).name != file or (copy and not kept.is_file()):
            raise _refuse(number, kind, "file", "not_media_image", file=file)
        return file
    raise _refuse(number, kind, "file", "no_image")


def _check_image(source: Path, number: int) -> None:
    """Refuses a ``path`` that is not a readable JPEG, PNG, WEBP or GIF file."""
    try:
        with source.open("rb") as handle:
            head = handle.read(12)
    except OSError:
        raise _fail(
            number, "image", "path", f"{source} does not exist (or is not a file)."
        ) from None
    if sniff(head) is None:
        raise _fail(
            number, "image", "path", f"{source.name} is not a JPEG, PNG, WEBP or GIF image."
        )


def _image_width(raw: Mapping[str, Any], number: int) -> int | None:
    """The width in pixels an image block asks for ("320" or "320px"), None when it asks none."""
    width = raw.get("width")
    if width in (None, "", 0):
        return None
    try:
        width = int(str(width).removesuffix("px"))
    except ValueError:
        raise _refuse(number, "image", "width", "width_not_number", value=str(width)) from None
    if not MIN_WIDTH <= width <= MAX_WIDTH:
        raise _refuse(number, "image", "width", "width_range", min=MIN_WIDTH, max=MAX_WIDTH)
    return width


def _events(raw: Mapping[str, Any], number: int, taxonomy: Any) -> dict[str, Any]:
    from campaign.newsletters.records import EventRule

    kind = "events"
    source = dict(raw.get("rule") or {})
    source.update({key: raw[key] for key in EVENT_RULE_KEYS if key in raw})

    def day(key: str) -> date | None:
        value = source.get(key)
        if value in (None, ""):
            return None
        if isinstance(value, date):
            return value
        try:
            return date.fromisoformat(str(value))
        except ValueError:
            raise _refuse(number, kind, key, "not_a_date", value=str(value)) from None

    def names(key: str) -> list[str]:
        value = source.get(key) or []
        if isinstance(value, str):
            value = [value]
        return [str(item) for item in value]

    limit = source.get("max")
    if limit in ("", 0):
        limit = None
    if limit is not None and (isinstance(limit, bool) or not str(limit).isdigit()):
        raise _refuse(number, kind, "max", "max_not_number", value=str(limit))
    try:
        rule = EventRule(
            date_from=day("from"),
            date_to=day("to"),
            regions=names("regions"),
            themes=names("themes"),
            types=names("types"),
            limit=int(limit) if limit is not None else None,
            order=str(source.get("order") or "date"),
        ).to_json(taxonomy)
    except BlockError:
        raise
    except CampaignError as exc:
        if exc.messages:  # the rule's own messages, about the block's fields
            raise BlockError(*exc.messages, number=number) from None
        raise BlockError(f"Block {number} (events): {exc}", number=number) from None
    return {"type": kind, "title": _text(raw, "title", number, kind, required=False), "rule": rule}


def read_blocks_file(path: str | Path) -> list[dict[str, Any]]:
    """The ``[[block]]`` tables of a TOML file, as given (check them with :func:`check_blocks`)."""
    path = Path(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise CampaignError(f"{path}: cannot read it: {exc.strerror or exc}.") from None
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise CampaignError(f"{path}: not a TOML file of [[block]] tables: {exc}") from None
    unknown = [key for key in data if key != "block"]
    if unknown:
        raise CampaignError(
            f"{path}: unknown table {unknown[0]!r}; the file holds [[block]] tables only."
        )
    blocks = data.get("block", [])
    if not isinstance(blocks, list):
        raise CampaignError(f"{path}: write each block as a [[block]] table.")
    return blocks


def block_rules(blocks: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """The event rules of a newsletter's events blocks, in order."""
    return [dict(block.get("rule") or {}) for block in blocks if block.get("type") == "events"]
