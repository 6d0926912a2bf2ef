"""The newsletter form's block editor and template fields, as the browser posts them.

The editor is plain HTML: each block is a fieldset of ``block-N-…`` fields, and its buttons
(add a block of a kind, move up, move down, remove) are submit buttons named ``block_action``
that post the whole form back; the page comes back with the change made and nothing saved
(keyboard and screen readers get ordinary buttons; a script is not needed). An image chosen in
a block is kept in the media folder at once (named after its content), so the moves and the
preview that follow show it. Saving checks the blocks with
:func:`campaign.newsletters.blocks.check_blocks`, like the command line and calendars.

The template's own fields come from its manifest: ``field-TEMPLATE-KEY`` for each field of each
template (only the chosen template's are read).
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from starlette.datastructures import FormData, UploadFile

from campaign.errors import CampaignError
from campaign.i18n import N_, gettext_in
from campaign.newsletters.blocks import BLOCK_TYPES, check_blocks
from campaign.newsletters.manifest import TemplateManifest
from campaign.social.media import keep_image, sniff

MAX_IMAGE_BYTES = 5 * 1024 * 1024
# What a person reads for each kind of block (the form's legends and "add" buttons), in the
# pages' language: see block_labels().
BLOCK_LABELS = {
    "text": N_("Text block"),
    "heading": N_("Subheading"),
    "image": N_("Image block"),
    "button": N_("Button"),
    "events": N_("Events block"),
    "callout": N_("Callout"),
    "divider": N_("Divider"),
}
_TEXT_FIELDS = ("text", "label", "url", "alt", "width", "file", "title", "from", "to", "max")


@dataclass
class BlockEdit:
    """What the block editor posted: the blocks as typed, the button pressed, the block to
    focus after it, and a problem with an image to show by its field."""

    blocks: list[dict[str, Any]] = field(default_factory=list)
    action: str = ""
    focus: int | None = None
    error: str | CampaignError = ""


def block_labels(language: str) -> dict[str, str]:
    """Each kind of block as the editor names it, in ``language`` ([general] language)."""
    return {kind: gettext_in(language, label) for kind, label in BLOCK_LABELS.items()}


def stored_to_form(blocks: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Stored blocks as the form shows them (an events block's rule flat in the block)."""
    shown = []
    for block in blocks:
        block = dict(block)
        if block.get("type") == "events":
            rule = block.pop("rule", {}) or {}
            block.update(
                {
                    "from": rule.get("from") or "",
                    "to": rule.get("to") or "",
                    "regions": list(rule.get("regions") or []),
                    "themes": list(rule.get("themes") or []),
                    "max": str(rule.get("max") or ""),
                }
            )
        shown.append(block)
    return shown


def _keep_upload(upload: UploadFile, media_dir: str | Path, number: int) -> str:
    data = upload.file.read(MAX_IMAGE_BYTES + 1)
    if len(data) > MAX_IMAGE_BYTES:
        raise CampaignError.of(
            "block.upload_too_big",
            f"block-{number - 1}-file",
            number=number,
            kind="image",
            name=upload.filename,
            limit=MAX_IMAGE_BYTES // (1024 * 1024),
        )
    if sniff(data[:12]) is None:
        raise CampaignError.of(
            "block.upload_not_image",
            f"block-{number - 1}-file",
            number=number,
            kind="image",
            name=upload.filename,
        )
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "image"
        path.write_bytes(data)
        return keep_image(path, media_dir).name


def read_blocks(form: FormData, media_dir: str | Path) -> BlockEdit:
    """The blocks as posted, in order, with the editor's button applied."""
    edit = BlockEdit(action=str(form.get("block_action") or ""))
    count = str(form.get("block_count") or "0")
    total = int(count) if count.isdigit() else 0
    for index in range(min(total, 100)):
        prefix = f"block-{index}-"
        block = _read_block(form, prefix)
        if block is None:
            continue
        upload = form.get(prefix + "upload")
        if isinstance(upload, UploadFile) and upload.filename:
            try:
                block["file"] = _keep_upload(upload, media_dir, len(edit.blocks) + 1)
            except CampaignError as exc:
                edit.error = exc
        edit.blocks.append(block)
    _apply(edit)
    return edit


def _read_block(form: FormData, prefix: str) -> dict[str, Any] | None:
    """One block's fields as typed (``prefix``: ``block-N-``); None when its kind is none."""
    kind = str(form.get(prefix + "type") or "")
    if kind not in BLOCK_TYPES:
        return None
    block: dict[str, Any] = {"type": kind}
    for name in _TEXT_FIELDS:
        value = form.get(prefix + name)
        if isinstance(value, str) and value.strip():
            block[name] = value.strip() if name != "text" else value
    if kind == "events":
        block["regions"] = [str(v) for v in form.getlist(prefix + "regions") if v]
        block["themes"] = [str(v) for v in form.getlist(prefix + "themes") if v]
    return block


def _apply(edit: BlockEdit) -> None:
    verb, _, argument = edit.action.partition(":")
    blocks = edit.blocks
    if verb == "add" and argument in BLOCK_TYPES:
        blocks.append({"type": argument})
        edit.focus = len(blocks) - 1
    elif verb in ("up", "down", "remove") and argument.isdigit() and int(argument) < len(blocks):
        index = int(argument)
        if verb == "remove":
            blocks.pop(index)
            edit.focus = min(index, len(blocks) - 1) if blocks else None
        else:
            other = index - 1 if verb == "up" else index + 1
            if 0 <= other < len(blocks):
                blocks[index], blocks[other] = blocks[other], blocks[index]
                index = other
            edit.focus = index
    elif edit.action:
        edit.action = ""  # not a button of the editor: an ordinary save


def checked_blocks(edit: BlockEdit, *, taxonomy: Any, media_dir: str | Path) -> list[dict]:
    """The posted blocks as stored (:class:`CampaignError` naming the block and field)."""
    if isinstance(edit.error, CampaignError):
        raise edit.error
    if edit.error:
        raise CampaignError(edit.error)
    raw = []
    for block in edit.blocks:
        block = {key: value for key, value in block.items() if value not in ("", [], None)}
        if block["type"] == "image" and "file" not in block:
            block["path"] = ""  # "give the image's file", said of this block
        raw.append(block)
    return check_blocks(raw, taxonomy=taxonomy, media_dir=media_dir)


def read_fields(form: FormData, manifest: TemplateManifest) -> dict[str, str]:
    """The chosen template's fields as typed (empty: removed)."""
    values: dict[str, str] = {}
    for item in manifest.fields:
        if not item.form:
            continue
        value = form.get(f"field-{manifest.folder}-{item.key}")
        if isinstance(value, str):
            values[item.key] = value.strip()
    return values


def shown_value(value: Any) -> str | None:
    """A stored template value as its form field shows it; None when a field cannot show it
    (a list of tables given by a calendar, kept as it is)."""
    if value is None:
        return ""
    if isinstance(value, list):
        if all(isinstance(item, str) for item in value):
            return "\n\n".join(value)
        return None
    if isinstance(value, dict):
        return None
    return str(value)
