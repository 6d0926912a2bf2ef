"""Publishing to a LinkedIn page, against a local server that checks LinkedIn's REST protocol."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from campaign.config import Settings
from campaign.errors import CampaignError
from campaign.social import Image, Outgoing, TransportError
from campaign.social.accounts import check_accounts
from campaign.social.dryrun import DryRunTransport
from campaign.social.length import check_length, split_thread
from campaign.social.linkedin import LinkedInTransport, escape_commentary
from campaign.social.networks import missing_credentials, transport_for
from campaign.social.posts import checked_parts, problem_of
from campaign.social.tokens import token_state
from campaign.wording import pages
from tests.social.conftest import Slow
from tests.social.fake_linkedin import (
    AUTHOR,
    ORG_ID,
    READ_ONLY_TOKEN,
    TOKEN,
    VANITY,
    FakeLinkedIn,
    li_error,
    rate_limited,
    serve,
)

TOKEN_ENV = "CAMPAIGN_LINKEDIN_MOIS_ESS_TOKEN"
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + bytes(range(256)) * 3


@pytest.fixture
def fake() -> Iterator[FakeLinkedIn]:
    yield from serve()


def linkedin_settings(url: str, **account: object) -> Settings:
    return Settings.model_validate(
        {
            "social": {
                "linkedin": {"api_base_url": url},
                "accounts": {
                    "mois_li": {
                        "network": "linkedin",
                        "handle": VANITY,
                        "organization_id": ORG_ID,
                        "access_token_env": TOKEN_ENV,
                        **account,
                    }
                },
            }
        }
    )


@pytest.fixture
def settings(fake: FakeLinkedIn, workdir, monkeypatch: pytest.MonkeyPatch) -> Settings:
    monkeypatch.setenv(TOKEN_ENV, TOKEN)
    return linkedin_settings(fake.url)


def transport(settings: Settings, naps: list[float] | None = None, **options) -> LinkedInTransport:
    sleep = naps.append if naps is not None else (lambda _seconds: None)
    chosen = transport_for(settings, "mois_li", sleep=sleep, **options)
    assert isinstance(chosen, LinkedInTransport)
    return chosen


def jpeg(folder: Path, name: str = "affiche.jpg") -> Image:
    path = folder / name
    path.write_bytes(JPEG)
    return Image(path=str(path), alt="Affiche du Mois de l'ESS", media_type="image/jpeg")


# --- publishing --------------------------------------------------------------------------------


def test_a_text_post_goes_to_rest_posts_with_the_headers_and_body_linkedin_requires(
    settings: Settings, fake: FakeLinkedIn
) -> None:
    text = "Le Mois de l'ESS (novembre) commence ! #MoisESS https://lemois-ess.org/a_b"
    seen: list[tuple[int, str]] = []
    ids = transport(settings).publish(
        Outgoing(parts=(text,)), on_published=lambda i, r: seen.append((i, r))
    )
    [request] = fake.calls("POST /rest/posts")
    assert request.headers["Authorization"] == f"Bearer {TOKEN}"
    assert request.headers["LinkedIn-Version"] == settings.social.linkedin.version
    assert request.headers["X-Restli-Protocol-Version"] == "2.0.0"
    assert request.body == {
        "author": AUTHOR,
        "commentary": "Le Mois de l'ESS \\(novembre\\) commence ! #MoisESS "
        "https://lemois-ess.org/a_b",
        "visibility": "PUBLIC",
        "distribution": {
            "feedDistribution": "MAIN_FEED",
            "targetEntities": [],
            "thirdPartyDistributionChannels": [],
        },
        "lifecycleState": "PUBLISHED",
        "isReshareDisabledByAuthor": False,
    }
    assert ids == [fake.posts[0]["id"]] and ids[0].startswith("urn:li:share:")
    assert seen == [(0, ids[0])]


def test_the_parts_of_a_thread_are_one_post(settings: Settings, fake: FakeLinkedIn) -> None:
    ids = transport(settings).publish(Outgoing(parts=("Premier.", "Second.")))
    assert len(ids) == 1
    assert [post["commentary"] for post in fake.posts] == ["Premier.\n\nSecond."]
    assert checked_parts(["Premier.", "Second."], split=False, network="linkedin") == [
        "Premier.\n\nSecond."
    ]


def test_an_image_is_initialized_uploaded_then_named_with_its_alt_text(
    settings: Settings, fake: FakeLinkedIn, tmp_path: Path
) -> None:
    image = jpeg(tmp_path)
    transport(settings).publish(Outgoing(parts=("Avec une affiche",), images=(image,)))
    [init] = fake.calls("POST /rest/images")
    assert init.query == {"action": ["initializeUpload"]}
    assert init.body == {"initializeUploadRequest": {"owner": AUTHOR}}
    [urn] = fake.images
    [upload] = [r for r in fake.requests if r.method == "PUT"]
    assert upload.body == JPEG and upload.headers["Content-Type"] == "image/jpeg"
    assert fake.posts[0]["content"] == {"media": {"id": urn, "altText": image.alt}}


def test_several_images_go_as_multi_image(
    settings: Settings, fake: FakeLinkedIn, tmp_path: Path
) -> None:
    images = (jpeg(tmp_path, "a.jpg"), jpeg(tmp_path, "b.jpg"))
    transport(settings).publish(Outgoing(parts=("Deux affiches",), images=images))
    content = fake.posts[0]["content"]["multiImage"]["images"]
    assert [image["id"] for image in content] == list(fake.images)
    assert all(image["altText"] == "Affiche du Mois de l'ESS" for image in content)


def test_three_thousand_characters_is_the_limit_and_a_longer_text_is_not_cut() -> None:
    assert check_length("é" * 3000, "linkedin") == (3000, True)
    assert check_length("a" * 3001, "linkedin") == (3001, False)
    assert split_thread("Une phrase. " * 300, "linkedin") == [("Une phrase. " * 300).strip()]
    with pytest.raises(CampaignError) as caught:
        checked_parts(["a" * 3001], split=True, network="linkedin", account="mois_li")
    [said] = caught.value.messages
    assert said.code == "post.too_long_one_post"
    assert "3001 characters long as LinkedIn counts them, 1 too many" in str(caught.value)
    assert "has no threads" in str(caught.value)
    assert "n'a pas de fils" in pages.word(said)


def test_markup_characters_are_escaped_but_links_and_hashtags_kept() -> None:
    text = "*Fin* du #MoisESS avec @cress_idf [infos] <ici> https://x.org/a_(b)"
    assert escape_commentary(text) == (
        "\\*Fin\\* du #MoisESS avec \\@cress\\_idf \\[infos\\] \\<ici\\> https://x.org/a_(b)"
    )


# --- errors ------------------------------------------------------------------------------------


def test_a_refused_token_says_to_renew_it_in_english_and_in_french(
    settings: Settings, fake: FakeLinkedIn, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(TOKEN_ENV, "expired-token")
    with pytest.raises(TransportError) as caught:
        transport(settings).publish(Outgoing(parts=("Texte",)))
    error = caught.value
    assert error.permanent and fake.posts == []
    assert "(401: The token used in the request has been revoked by the user)" in str(error)
    assert "make a new one" in str(error) and TOKEN_ENV in str(error)
    assert "expired-token" not in str(error)  # the secret is never in a message
    assert problem_of(str(error)) == "linkedin_token"
    french = pages.word(error.messages[0])
    assert "Les jetons LinkedIn durent 60 jours" in french


def test_a_token_without_w_organization_social_is_refused_with_the_permission_named(
    settings: Settings, fake: FakeLinkedIn, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(TOKEN_ENV, READ_ONLY_TOKEN)
    with pytest.raises(TransportError, match="w_organization_social") as caught:
        transport(settings).publish(Outgoing(parts=("Texte",)))
    assert caught.value.permanent
    assert "(403: Not enough permissions" in str(caught.value)
    assert "w_organization_social" in pages.word(caught.value.messages[0])


def test_a_file_too_large_and_a_refused_body_are_permanent_with_linkedins_words(
    settings: Settings, fake: FakeLinkedIn, tmp_path: Path
) -> None:
    fake.on("POST /rest/images", li_error(413, "Request Entity Too Large"))
    with pytest.raises(TransportError, match="413") as caught:
        transport(settings).publish(Outgoing(parts=("Image",), images=(jpeg(tmp_path),)))
    assert caught.value.permanent and caught.value.messages[0].code == "linkedin.too_large"
    fake.on("POST /rest/posts", li_error(422, "ERROR :: /commentary :: bad text"))
    with pytest.raises(TransportError, match="ERROR :: /commentary :: bad text") as caught:
        transport(settings).publish(Outgoing(parts=("Texte",)))
    assert caught.value.permanent and "422" in str(caught.value)
    assert fake.posts == []


def test_a_rate_limit_keeps_its_retry_after(settings: Settings, fake: FakeLinkedIn) -> None:
    fake.on("POST /rest/posts", rate_limited(retry_after=900))
    before = datetime.now(UTC)
    with pytest.raises(TransportError, match="rate limit") as caught:
        transport(settings).publish(Outgoing(parts=("Texte",)))
    assert not caught.value.permanent
    assert caught.value.retry_at is not None
    assert timedelta(minutes=14) < caught.value.retry_at - before < timedelta(minutes=16)


def test_a_server_error_is_retried_after_looking_for_the_post(
    settings: Settings, fake: FakeLinkedIn
) -> None:
    fake.on("POST /rest/posts", li_error(503, "Service Unavailable"), None)
    naps: list[float] = []
    ids = transport(settings, naps).publish(Outgoing(parts=("Deuxième essai",)))
    assert [post["commentary"] for post in fake.posts] == ["Deuxième essai"]
    assert ids == [fake.posts[0]["id"]]
    [look] = fake.calls("GET /rest/posts")
    assert look.query == {"author": [AUTHOR], "q": ["author"], "count": ["10"]}
    assert naps == [2.0]


def test_a_time_out_after_creation_finds_the_post_instead_of_doubling_it(
    settings: Settings, fake: FakeLinkedIn
) -> None:
    fake.on("POST /rest/posts", Slow(delay=1.5, creates=True))
    ids = transport(settings, timeout=0.5).publish(Outgoing(parts=("Une (seule) fois",)))
    assert len(fake.posts) == 1 and ids == [fake.posts[0]["id"]]
    assert len(fake.calls("POST /rest/posts")) == 1


def test_failures_every_time_end_in_an_uncertain_retryable_error(
    settings: Settings, fake: FakeLinkedIn
) -> None:
    fake.on("POST /rest/posts", *[li_error(500, "Internal Server Error")] * 4)
    with pytest.raises(TransportError, match="4 attempts") as caught:
        transport(settings).publish(Outgoing(parts=("Texte",)))
    assert not caught.value.permanent and caught.value.uncertain


# --- accounts and tokens -----------------------------------------------------------------------


def test_an_account_without_its_token_runs_dry_and_is_listed_so(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(TOKEN_ENV)
    assert missing_credentials(settings, settings.social.accounts["mois_li"]) == [TOKEN_ENV]
    assert isinstance(transport_for(settings, "mois_li"), DryRunTransport)
    [check] = check_accounts(settings, offline=True)
    assert (check.network, check.handle, check.mode) == ("linkedin", VANITY, "dry run")
    assert check.server == settings.social.linkedin.api_base_url


def test_the_account_check_reads_the_page(settings: Settings, fake: FakeLinkedIn) -> None:
    [check] = check_accounts(settings)
    assert check.ok is True and str(check.detail) == f"accepted by LinkedIn: @{VANITY}"
    [request] = fake.calls(f"GET /rest/organizations/{ORG_ID}")
    assert request.headers["LinkedIn-Version"]


def test_a_linkedin_account_needs_its_organization_number(workdir) -> None:
    with pytest.raises(Exception, match="organization_id"):
        linkedin_settings("https://api.linkedin.com", organization_id="mois-ess")
    with pytest.raises(Exception, match="instance_url"):
        linkedin_settings("https://api.linkedin.com", instance_url="https://mastodon.social")


def test_token_states_warn_from_seven_days_before() -> None:
    end = date(2027, 1, 31)
    assert token_state(end, date(2027, 1, 23)).state == "ok"
    assert token_state(end, date(2027, 1, 24)).state == "soon"
    assert token_state(end, date(2027, 1, 30)).days == 1
    assert token_state(end, date(2027, 1, 31)).state == "expired"
    assert token_state(None, date(2027, 1, 31)).state == "ok"


def test_a_token_ending_soon_is_warned_about_but_still_posts(
    fake: FakeLinkedIn, workdir, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(TOKEN_ENV, TOKEN)
    today = datetime.now(UTC).date()
    settings = linkedin_settings(fake.url, token_expires=str(today + timedelta(days=3)))
    [check] = check_accounts(settings, offline=True, today=today)
    assert check.token == "soon" and "in 3 days" in check.warning
    assert check.token_expires == str(today + timedelta(days=3))
    transport(settings).publish(Outgoing(parts=("Encore permis",)))
    assert len(fake.posts) == 1


def test_an_expired_token_refuses_the_post_before_any_request(
    fake: FakeLinkedIn, workdir, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(TOKEN_ENV, TOKEN)
    ended = datetime.now(UTC).date() - timedelta(days=1)
    settings = linkedin_settings(fake.url, token_expires=str(ended))
    with pytest.raises(TransportError, match="expired on") as caught:
        transport(settings).publish(Outgoing(parts=("Trop tard",)))
    assert caught.value.permanent and fake.requests == []
    assert problem_of(str(caught.value)) == "linkedin_token"
    assert "a expiré le" in pages.word(caught.value.messages[0])


def test_doctor_and_dashboard_warn_about_the_token(
    fake: FakeLinkedIn, workdir, monkeypatch: pytest.MonkeyPatch
) -> None:
    from campaign.dashboard.pagekit import token_warnings
    from campaign.doctor import check_accounts as doctor_accounts

    monkeypatch.setenv(TOKEN_ENV, TOKEN)
    soon = datetime.now(UTC).date() + timedelta(days=5)
    settings = linkedin_settings(fake.url, token_expires=str(soon))
    checks = list(doctor_accounts(settings, offline=True))
    assert [(c.name, c.status, c.code) for c in checks] == [
        ("account mois_li token", "warning", "account.token_soon"),
        ("account mois_li", "skipped", "account.offline"),
    ]
    [(state, said)] = token_warnings(settings)
    assert state == "soon" and "le jeton d'accès expire le" in pages.word(said)
    settings = linkedin_settings(fake.url, token_expires=str(soon - timedelta(days=30)))
    [token, _account] = doctor_accounts(settings, offline=True)
    assert (token.status, token.code) == ("error", "account.token_expired")


def test_accounts_offline_json_lists_the_page_with_its_token_end(
    fake: FakeLinkedIn, workdir: Path, cli
) -> None:
    end = datetime.now(UTC).date() + timedelta(days=2)
    (workdir / "config.toml").write_text(
        f"""
[social.linkedin]
api_base_url = "{fake.url}"

[social.accounts.mois_li]
network = "linkedin"
handle = "{VANITY}"
organization_id = "{ORG_ID}"
access_token_env = "{TOKEN_ENV}"
token_expires = {end.isoformat()}
""",
        encoding="utf-8",
    )
    result = cli("social", "accounts", "--offline", "--json")
    assert result.exit_code == 0, result.stderr
    [row] = [row for row in json.loads(result.stdout) if row["name"] == "mois_li"]
    assert (row["network"], row["handle"], row["mode"]) == ("linkedin", VANITY, "dry run")
    assert row["missing"] == [TOKEN_ENV]
    assert row["token"] == "soon" and row["token_expires"] == end.isoformat()
    table = cli("social", "accounts", "--offline")
    assert "the access token expires on" in table.stdout


def test_a_post_that_may_have_gone_through_is_not_sent_blind_when_the_page_cannot_be_read(
    settings: Settings, fake: FakeLinkedIn
) -> None:
    fake.on("POST /rest/posts", li_error(502, "Bad Gateway"))
    fake.on("GET /rest/posts", li_error(403, "Not enough permissions to access: posts.FINDER"))
    with pytest.raises(TransportError, match="may be on LinkedIn already") as caught:
        transport(settings).publish(Outgoing(parts=("Texte",)))
    assert caught.value.uncertain and caught.value.permanent
    assert len(fake.calls("POST /rest/posts")) == 1 and fake.posts == []


def test_a_webp_image_is_refused_for_linkedin_before_scheduling(tmp_path: Path) -> None:
    from campaign.social.media import check_images

    webp = tmp_path / "affiche.webp"
    webp.write_bytes(b"RIFF\x00\x00\x00\x00WEBPVP8 " + bytes(100))
    image = {"path": str(webp), "alt": "Affiche"}
    assert check_images([image], network="x")
    with pytest.raises(CampaignError, match="LinkedIn takes JPEG, PNG and GIF only"):
        check_images([image], network="linkedin")


def test_the_page_links_to_its_linkedin_address(settings: Settings) -> None:
    from campaign.social.profiles import profile_links

    assert profile_links(settings) == [
        {"network": "LinkedIn", "handle": f"@{VANITY}",
         "url": f"https://www.linkedin.com/company/{VANITY}"}
    ]  # fmt: skip


def test_sync_metrics_skips_the_page_instead_of_recording_zeros(
    fake: FakeLinkedIn, workdir: Path, engine, cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(TOKEN_ENV, TOKEN)
    (workdir / "config.toml").write_text(
        f"""
[social.linkedin]
api_base_url = "{fake.url}"

[social.accounts.mois_li]
network = "linkedin"
handle = "{VANITY}"
organization_id = "{ORG_ID}"
access_token_env = "{TOKEN_ENV}"
""",
        encoding="utf-8",
    )
    result = cli("social", "sync-metrics", "--account", "mois_li", "--json")
    assert result.exit_code == 0, result.stderr
    [row] = json.loads(result.stdout)
    assert (row["status"], row["followers"]) == ("not measured", None)
    assert "type the followers by hand" in row["message"]
    assert fake.requests == []


def test_a_calendar_thread_for_linkedin_is_one_post_checked_whole(tmp_path: Path) -> None:
    from campaign.scheduling.calendar import read_calendar

    settings = linkedin_settings("https://api.linkedin.com")
    path = tmp_path / "mois.toml"
    entry = """
[[post]]
key = "{key}"
account = "mois_li"
at = 2026-10-31 17:30:00
thread = ["{first}", "{second}"]
"""
    path.write_text(
        entry.format(key="court", first="Premier.", second="Second.")
        + entry.format(key="long", first="a" * 1600, second="b" * 1600),
        encoding="utf-8",
    )
    now = datetime(2026, 10, 1, tzinfo=UTC)
    calendar = read_calendar(path, settings, now=now)
    [post] = calendar.posts
    assert post.parts == ["Premier.\n\nSecond."]
    [error] = calendar.errors
    assert "the thread, one post there is 3202 characters long as LinkedIn counts" in str(error)
