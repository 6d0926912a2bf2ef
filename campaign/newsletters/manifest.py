"""A newsletter template's manifest: its French name, description and the fields it takes.

Each template folder may hold a ``template.toml`` beside its ``email.mjml.j2``::

    name = "Le Mois de l'ESS"
    description = "Les évènements du Mois près de chez chaque lecteur."

    [fields.more_url]
    label = "Lien « Tous les évènements »"
    help = "La page du site qui liste tous les évènements."
    type = "url"          # text, markdown, url, image, date or choice
    required = false
    default = ""
    # choices = ["a", "b"]  (type choice only)
    # form = false          (not on the dashboard: calendars and --set only)

    [brand]
    logo = "logo.png"     # an image of the template folder, served under [web] public_url
    logo_alt = "Le Mois de l'ESS"
    color = "#c2185b"     # buttons, links and headings
    accounts = ["mois_ess"]  # the [social.accounts.*] linked in the footer (default: all)

The manifest is what the dashboard builds a newsletter's labelled fields from, and what the
values given on the command line (``--set``) and in a calendar (``set = {…}``) are checked
against: a key the template does not take is refused naming the closest field, a required field
left empty is refused naming it. A folder without a manifest takes any key (adding a template
stays adding a folder); a folder with a broken manifest is an error naming the file.

Both kinds of refusal are messages (codes ``manifest.*``): the command line words them naming
the key and the file, the dashboard in the pages' language.
"""

from __future__ import annotations

import difflib
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, tzinfo
from functools import lru_cache
from pathlib import Path
from typing import Any

from campaign.errors import CampaignError
from campaign.messages import Message, message
from campaign.resources import TemplateTree

MANIFEST = "template.toml"
FIELD_TYPES = ("text", "markdown", "url", "image", "date", "choice")
# Keys every template takes whatever its manifest says: the opening paragraph of older
# newsletters (kept working, shown before the blocks).
COMMON_KEYS = ("intro",)


class ManifestError(CampaignError):
    """A template's values that its manifest refuses; ``key`` is the field concerned."""

    def __init__(self, said: Message, *, key: str = "") -> None:
        super().__init__(said)
        self.key = key


@dataclass(frozen=True)
class TemplateField:
    """One value a template takes, as its manifest declares it."""

    key: str
    label: str
    help: str = ""
    type: str = "text"
    required: bool = False
    default: Any = ""
    choices: tuple[str, ...] = ()
    # False: given by calendars and the command line only (a list of tables, say); the
    # dashboard neither shows it nor touches it.
    form: bool = True


@dataclass(frozen=True)
class Brand:
    """How a template's letters look like the campaign's: its logo, colour and accounts."""

    logo: str = ""
    logo_alt: str = ""
    color: str = "#c2185b"
    accounts: tuple[str, ...] | None = None  # None: every configured account


@dataclass(frozen=True)
class TemplateManifest:
    """What a template is called and which fields it takes (``declared``: it has a manifest)."""

    folder: str
    name: str
    description: str = ""
    fields: tuple[TemplateField, ...] = ()
    declared: bool = False
    brand: Brand = Brand()

    def field(self, key: str) -> TemplateField | None:
        return next((item for item in self.fields if item.key == key), None)

    def typed(self, values: Mapping[str, Any], zone: tzinfo) -> dict[str, Any]:
        """``values`` with each date field's text as the moment it names in ``zone`` (what the
        templates' date filters take): "2016-10-15T23:59" is 23:59 there."""
        result = dict(values)
        for item in self.fields:
            value = result.get(item.key)
            if item.type == "date" and isinstance(value, str) and value.strip():
                try:
                    moment = datetime.fromisoformat(value.strip())
                except ValueError:
                    continue  # refused when stored; an older value is the template's to show
                result[item.key] = moment if moment.tzinfo else moment.replace(tzinfo=zone)
        return result

    def defaults(self) -> dict[str, Any]:
        """The fields' default values (those with one)."""
        return {item.key: item.default for item in self.fields if item.default not in ("", None)}

    def check(self, values: Mapping[str, Any], *, complete: bool = True) -> dict[str, Any]:
        """``values`` checked against the fields: unknown keys and (with ``complete``) missing
        required fields refused, URLs, dates and choices checked. Empty values are kept (an
        edit removes a value by giving it empty)."""
        result: dict[str, Any] = {}
        for key, value in values.items():
            if key in COMMON_KEYS or not self.declared:
                result[key] = value
                continue
            found = self.field(key)
            if found is None:
                known = [item.key for item in self.fields]
                close = difflib.get_close_matches(key, known, n=1, cutoff=0.5)
                values = {"template": self.folder, "key": key, "known": known or "none"}
                said = (
                    message("manifest.unknown_field_close", "content", close=close[0], **values)
                    if close
                    else message("manifest.unknown_field", "content", **values)
                )
                raise ManifestError(said, key=key)
            result[key] = _checked(found, value, self.folder)
        if complete:
            self.require(result)
        return result

    def require(self, values: Mapping[str, Any]) -> None:
        """Refuse ``values`` when a required field (without a default) is empty, naming it."""
        for item in self.fields:
            if item.required and _empty(values.get(item.key)) and _empty(item.default):
                said = _about(item, self.folder, "manifest.field_required")
                raise ManifestError(said, key=item.key)


def _empty(value: Any) -> bool:
    return value is None or value == "" or value == []


def _about(item: TemplateField, folder: str, code: str, **values: Any) -> Message:
    """The message ``code`` about the field ``item`` of the template ``folder``."""
    return message(code, "content", template=folder, key=item.key, label=item.label, **values)


def _checked(item: TemplateField, value: Any, folder: str) -> Any:
    if _empty(value) or not isinstance(value, str):
        return value  # lists and tables (a template's nominees) are the template's to read
    value = value.strip()
    if item.type == "url" and not value.startswith(("https://", "http://", "mailto:")):
        raise ManifestError(_about(item, folder, "manifest.not_url", value=value), key=item.key)
    if item.type == "date":
        try:
            datetime.fromisoformat(value)
        except ValueError:
            said = _about(item, folder, "manifest.not_date", value=value)
            raise ManifestError(said, key=item.key) from None
    if item.type == "choice" and item.choices and value not in item.choices:
        said = _about(item, folder, "manifest.not_choice", value=value, choices=list(item.choices))
        raise ManifestError(said, key=item.key)
    return value


def load_manifest(folder: Path | TemplateTree, template: str) -> TemplateManifest:
    """The manifest of ``folder/template`` (an undeclared one when the file is absent); in a
    layered tree, the first layer's (the user's own folder before the shipped one)."""
    relative = f"{template}/{MANIFEST}"
    path = folder.find(relative) if isinstance(folder, TemplateTree) else folder / relative
    try:
        if path is None:
            raise FileNotFoundError(relative)
        stamp = path.stat().st_mtime_ns
    except OSError:
        return TemplateManifest(folder=template, name=template)
    return _load(path, stamp, template)


@lru_cache(maxsize=32)
def _load(path: Path, stamp: int, template: str) -> TemplateManifest:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise CampaignError.of(
            "manifest.unreadable", "template", path=str(path), error=str(exc)
        ) from None
    fields: list[TemplateField] = []
    raw_fields = data.get("fields", {})
    if not isinstance(raw_fields, dict):
        raise CampaignError.of("manifest.fields_not_table", "template", path=str(path))
    for key, spec in raw_fields.items():
        if not isinstance(spec, dict):
            raise CampaignError.of("manifest.field_not_table", "template", path=str(path), key=key)
        kind = str(spec.get("type", "text"))
        if kind not in FIELD_TYPES:
            raise CampaignError.of(
                "manifest.unknown_type",
                "template",
                path=str(path),
                key=key,
                type=kind,
                known=list(FIELD_TYPES),
            )
        fields.append(
            TemplateField(
                key=key,
                label=str(spec.get("label") or key),
                help=str(spec.get("help", "")),
                type=kind,
                required=bool(spec.get("required", False)),
                default=spec.get("default", ""),
                choices=tuple(str(choice) for choice in spec.get("choices", ())),
                form=bool(spec.get("form", True)),
            )
        )
    return TemplateManifest(
        folder=template,
        name=str(data.get("name") or template),
        description=str(data.get("description", "")),
        fields=tuple(fields),
        declared=True,
        brand=_brand(path, data.get("brand", {})),
    )


_COLOR = re.compile(r"^#[0-9a-fA-F]{6}$")
_ASSET = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*\.(png|jpg|jpeg|gif|webp)$")


def _brand(path: Path, raw: Any) -> Brand:
    where = str(path)
    if not isinstance(raw, dict):
        raise CampaignError.of("manifest.brand_not_table", "template", path=where)
    logo = str(raw.get("logo", ""))
    if logo and not _ASSET.match(logo):
        raise CampaignError.of("manifest.logo_not_image", "template", path=where, logo=logo)
    if logo and not (path.parent / logo).is_file():
        raise CampaignError.of(
            "manifest.logo_missing", "template", path=where, logo=logo, folder=str(path.parent)
        )
    color = str(raw.get("color", Brand.color))
    if not _COLOR.match(color):
        raise CampaignError.of("manifest.bad_color", "template", path=where, color=color)
    accounts = raw.get("accounts")
    if accounts is not None and (
        not isinstance(accounts, list) or not all(isinstance(a, str) for a in accounts)
    ):
        raise CampaignError.of("manifest.bad_accounts", "template", path=where)
    return Brand(
        logo=logo,
        logo_alt=str(raw.get("logo_alt", "")),
        color=color,
        accounts=tuple(accounts) if accounts is not None else None,
    )
