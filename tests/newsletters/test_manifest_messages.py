"""The refusals of a template's manifest, of a list's name and the reasons a delivery is not sent
are messages: the command line says them as it always did (naming the key and the file), the
pages in their language (French by default)."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import pytest
from sqlmodel import Session

from campaign.audience.lists import ListExists, create_list
from campaign.db import open_database
from campaign.errors import CampaignError
from campaign.models import SubscriberStatus
from campaign.newsletters.batch import _not_sent
from campaign.newsletters.manifest import (
    ManifestError,
    TemplateField,
    TemplateManifest,
    load_manifest,
)
from campaign.wording import pages

MANIFEST = TemplateManifest(
    folder="appel",
    name="Appel",
    declared=True,
    fields=(
        TemplateField(key="action_url", label="Lien du bouton", type="url", required=True),
        TemplateField(key="closes", label="Clôture", type="date"),
        TemplateField(key="tone", label="Ton", type="choice", choices=("sobre", "vif")),
    ),
)


def _refusal(values: dict[str, str], complete: bool = True) -> ManifestError:
    with pytest.raises(ManifestError) as caught:
        MANIFEST.check(values, complete=complete)
    return caught.value


def test_a_value_the_manifest_refuses_is_worded_by_both_doors() -> None:
    close = _refusal({"action_ur": "x"})
    assert close.key == "action_ur" and close.messages[0].code == "manifest.unknown_field_close"
    assert str(close) == (
        "The template appel has no field 'action_ur'. Did you mean 'action_url'? Its fields: "
        "action_url, closes, tone."
    )
    assert pages.word(close.messages[0]) == (
        "Le modèle « appel » n'a pas de champ « action_ur » : vouliez-vous dire « action_url » ? "
        "Ses champs : action_url, closes, tone."
    )
    far = _refusal({"zzz": "x"})
    assert (
        str(far) == "The template appel has no field 'zzz'. Its fields: action_url, closes, tone."
    )
    missing = _refusal({"tone": "vif"})
    assert str(missing) == (
        "The template appel needs its field 'action_url' (Lien du bouton): give it a value."
    )
    assert pages.word(missing.messages[0], "en") == (
        "“Lien du bouton”: this field of the template “appel” is needed."
    )
    url = _refusal({"action_url": "example.org"})
    assert str(url) == (
        "The template appel's field 'action_url' (Lien du bouton) must be a web address "
        "starting with https://, not 'example.org'."
    )
    assert "n'est pas une adresse web" in pages.word(url.messages[0])
    day = _refusal({"closes": "demain"}, complete=False)
    assert "must be a date such as 2016-11-18" in str(day)
    assert "n'est pas une date" in pages.word(day.messages[0])
    tone = _refusal({"tone": "gris"}, complete=False)
    assert str(tone) == (
        "The template appel's field 'tone' (Ton) takes one of sobre, vif, not 'gris'."
    )
    assert pages.word(tone.messages[0]) == "« Ton » : choisissez parmi sobre, vif, pas « gris »."


@pytest.mark.parametrize(
    ("text", "code", "cli"),
    [
        ("fields = 3\n", "manifest.fields_not_table", "[fields] must be a table"),
        ("[fields]\nx = 1\n", "manifest.field_not_table", "fields.x must be a table"),
        (
            '[fields.x]\ntype = "colour"\n',
            "manifest.unknown_type",
            "fields.x: unknown type 'colour'; use one of text, markdown, url, image, date, choice.",
        ),
        ("brand = 2\n", "manifest.brand_not_table", "[brand] must be a table"),
        ('[brand]\nlogo = "../x.png"\n', "manifest.logo_not_image", "not '../x.png'."),
        ('[brand]\nlogo = "logo.png"\n', "manifest.logo_missing", "brand.logo 'logo.png' is not"),
        ('[brand]\ncolor = "red"\n', "manifest.bad_color", "such as #c2185b, not 'red'."),
        ('[brand]\naccounts = "x"\n', "manifest.bad_accounts", "a list of account names."),
        ("name = \n", "manifest.unreadable", "cannot read the template's manifest"),
    ],
)
def test_a_broken_manifest_file_is_named_by_the_cli_and_said_in_french(
    tmp_path: Path, text: str, code: str, cli: str
) -> None:
    folder = tmp_path / "appel"
    folder.mkdir()
    path = folder / "template.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(CampaignError) as caught:
        load_manifest(tmp_path, "appel")
    said = caught.value.messages[0]
    assert said.code == code and said.field == "template"
    assert str(caught.value).startswith(f"{path}: ") and cli in str(caught.value)
    french = pages.word(said)
    assert "modèle" in french and "--" not in french and "[brand]" not in french


def test_a_list_name_refused_keeps_the_cli_words(tmp_path: Path) -> None:
    engine = open_database(f"sqlite:///{tmp_path / 'lists.db'}")
    with Session(engine) as session:
        create_list(session, "Newsletter nationale")
        with pytest.raises(CampaignError) as empty:
            create_list(session, " ")
        with pytest.raises(CampaignError) as long:
            create_list(session, "x" * 201)
        with pytest.raises(ListExists) as taken:
            create_list(session, "newsletter NATIONALE")
    engine.dispose()
    assert str(empty.value) == "A list needs a name."
    assert str(long.value) == "A list's name has at most 200 characters."
    assert str(taken.value) == (
        "A list named 'Newsletter nationale' already exists (names are compared without case "
        "or accents): use it, or choose another name than 'newsletter NATIONALE'."
    )
    assert taken.value.existing == "Newsletter nationale"
    assert pages.word(taken.value.messages[0]) == "Vouliez-vous dire « Newsletter nationale » ?"
    assert pages.word(long.value.messages[0], "en") == "A list name has at most 200 characters."


def test_why_a_delivery_is_not_sent_is_stored_as_before_and_worded_for_the_pages() -> None:
    erased = _not_sent(None)
    assert str(erased) == "not sent: deleted"
    left = _not_sent(SimpleNamespace(status=SubscriberStatus.unsubscribed))
    assert str(left) == "not sent: unsubscribed"
    assert pages.word(left) == "Non envoyé : la personne a le statut « désinscrit »."
    assert pages.word(left, "en") == "Not sent: the person's status is “unsubscribed”."
