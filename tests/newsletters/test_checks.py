"""Pre-send checks: each problem is one clear Issue, never a traceback."""

from __future__ import annotations

import shutil
from datetime import UTC, datetime
from pathlib import Path

import pytest

from campaign.config import Settings
from campaign.models.events import Event
from campaign.newsletters.checks import Issue, check_newsletter, has_errors
from campaign.resources import shipped

FOOTER = """<mj-section><mj-column><mj-text>
<a href="[[ recipient.unsubscribe_url ]]">Se désinscrire</a>
<a href="[[ recipient.view_url ]]">Voir dans le navigateur</a>
</mj-text></mj-column></mj-section>"""
TEXT = "Bonjour\nSe désinscrire : [[ recipient.unsubscribe_url ]]\n"


def mjml(body: str, footer: str = FOOTER) -> str:
    return (
        '<mjml><mj-head><mj-attributes><mj-all font-family="Arial" /></mj-attributes></mj-head>'
        f"<mj-body>\n{body}\n{footer}\n</mj-body></mjml>\n"
    )


def section(content: str) -> str:
    return f"<mj-section><mj-column>\n{content}\n</mj-column></mj-section>"


@pytest.fixture
def settings() -> Settings:
    return Settings()


@pytest.fixture
def write(tmp_path: Path):
    """Write a newsletter template folder under tmp_path; returns the templates dir."""

    def writer(html: str, text: str = TEXT, name: str = "t") -> Path:
        folder = tmp_path / "newsletters" / name
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "email.mjml.j2").write_text(html, encoding="utf-8")
        (folder / "email.txt.j2").write_text(text, encoding="utf-8")
        (folder / "subject.txt.j2").write_text("Sujet", encoding="utf-8")
        return tmp_path

    return writer


def event(**fields) -> Event:
    values = {
        "source_id": "1",
        "title": "Forum",
        "starts_at": datetime(2016, 11, 8, 9, tzinfo=UTC),
        "region": "Bretagne",
        "url": "https://lemois-ess.org/e/1",
        "image_url": "https://lemois-ess.org/i/1.jpg",
    }
    values.update(fields)
    return Event(**values)


def only(issues: list[Issue], level: str) -> list[str]:
    return [str(issue.message) for issue in issues if issue.level == level]


def test_shipped_templates_pass(settings):
    mois = check_newsletter("mois-ess", {"title": "Le Mois", "events": [event()]}, settings)
    prix = check_newsletter(
        "prix-ess", {"title": "Prix", "action_url": "https://lemois-ess.org/vote"}, settings
    )
    assert mois == [] and prix == []


def test_good_template_passes(settings, write):
    root = write(mjml(section("<mj-text>Bonjour [[ recipient.first_name ]]</mj-text>")))
    assert check_newsletter("t", {}, settings, templates_dir=root) == []


def test_mjml_parse_error_gives_position(settings, write):
    broken = section("<mj-text>un</mj-text>\n<mj-button href='https://x.org'>deux</mj-text>")
    root = write(mjml(broken))
    (message,) = only(check_newsletter("t", {}, settings, templates_dir=root), "error")
    assert "invalid MJML at line 4" in message
    assert "</mj-text> closes <mj-button>" in message
    assert "t/email.mjml.j2" in message


def test_unclosed_mjml_tag_is_reported(settings, write):
    root = write(mjml(section("<mj-text>un")))
    (message,) = only(check_newsletter("t", {}, settings, templates_dir=root), "error")
    assert "invalid MJML" in message and "mj-text" in message


def test_undefined_variable_names_template_line_and_variable(settings, write):
    root = write(mjml(section("<mj-text>\n{{ titre }}\n</mj-text>")))
    (message,) = only(check_newsletter("t", {"title": "x"}, settings, templates_dir=root), "error")
    assert "t/email.mjml.j2, line 4" in message
    assert "'titre' is undefined" in message


def test_recipient_written_in_group_syntax_gets_a_hint(settings, write):
    root = write(mjml(section("<mj-text>{{ recipient.first_name }}</mj-text>")))
    (message,) = only(check_newsletter("t", {}, settings, templates_dir=root), "error")
    assert "'recipient' is undefined" in message and "[[ recipient." in message


def test_undefined_recipient_field_is_reported(settings, write):
    root = write(mjml(section("<mj-text>[[ recipient.prenom ]]</mj-text>")))
    (message,) = only(check_newsletter("t", {}, settings, templates_dir=root), "error")
    assert "per-recipient" in message and "prenom" in message


def test_jinja_syntax_error_names_file_and_line(settings, write):
    root = write(mjml(section("<mj-text>{% if x %}</mj-text>")), text="{{ oops(\n")
    (message,) = only(check_newsletter("t", {"x": 1}, settings, templates_dir=root), "error")
    assert "line" in message and "syntax error" in message


def test_heavy_html_is_a_warning(settings, write):
    root = write(mjml(section("<mj-text>{{ 'x' * 120000 }}</mj-text>")))
    issues = check_newsletter("t", {}, settings, templates_dir=root)
    (message,) = only(issues, "warning")
    assert "KB" in message and "Gmail" in message
    assert not has_errors(issues)


def test_missing_unsubscribe_link_is_an_error(settings, write):
    root = write(mjml(section("<mj-text>Bonjour</mj-text>"), footer=""), text="Bonjour\n")
    errors = only(check_newsletter("t", {}, settings, templates_dir=root), "error")
    assert len(errors) == 2
    assert all("unsubscribe" in message for message in errors)


def test_image_without_alt_is_a_warning(settings, write):
    root = write(mjml(section('<mj-image src="https://x.org/a.png" />')))
    (message,) = only(check_newsletter("t", {}, settings, templates_dir=root), "warning")
    assert "https://x.org/a.png" in message and "alt" in message


def test_links_that_are_not_http_or_mailto_are_errors(settings, write):
    body = section(
        '<mj-text><a href="{{ track(bad) }}">a</a> <a href="ftp://x.org/f">b</a>'
        ' <a href="mailto:contact@example.org">c</a> <a href="{{ track(good) }}">d</a></mj-text>'
    )
    root = write(mjml(body))
    context = {"bad": "javascript:alert(1)", "good": "https://x.org"}
    errors = only(check_newsletter("t", context, settings, templates_dir=root), "error")
    assert len(errors) == 2
    assert "'javascript:alert(1)'" in errors[0] and "'ftp://x.org/f'" in errors[1]


def test_empty_event_selection_is_a_warning(settings, tmp_path):
    shutil.copytree(shipped("templates") / "newsletters", tmp_path / "newsletters")
    context = {"title": "T", "events": []}
    issues = check_newsletter("mois-ess", context, settings, templates_dir=tmp_path)
    assert only(issues, "error") == []
    (message,) = only(issues, "warning")
    assert "has none" in message


def test_no_warning_for_templates_without_events(settings):
    issues = check_newsletter("prix-ess", {"title": "T", "action_url": "https://x.org"}, settings)
    assert issues == []
