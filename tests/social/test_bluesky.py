"""Publishing to Bluesky, against a local server that checks XRPC and the app.bsky lexicons."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from campaign.config import Settings
from campaign.social import Image, Outgoing, TransportError
from campaign.social.bluesky import BlueskyTransport, facets
from campaign.social.dryrun import DryRunTransport
from campaign.social.length import check_length, split_thread
from campaign.social.networks import missing_credentials, transport_for
from tests.social.conftest import Slow
from tests.social.fake_bluesky import (
    DID,
    HANDLE,
    PASSWORD,
    FakeBluesky,
    mention,
    rate_limited,
    serve,
    xrpc_error,
)

PASSWORD_ENV = "CAMPAIGN_BLUESKY_MOIS_ESS_APP_PASSWORD"
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + bytes(range(256)) * 3


@pytest.fixture
def fake() -> Iterator[FakeBluesky]:
    yield from serve()


@pytest.fixture
def settings(fake: FakeBluesky, workdir, monkeypatch: pytest.MonkeyPatch) -> Settings:
    monkeypatch.setenv(PASSWORD_ENV, PASSWORD)
    return Settings.model_validate(
        {
            "social": {
                "accounts": {
                    "mois_bsky": {
                        "network": "bluesky",
                        "handle": HANDLE,
                        "service_url": fake.url,
                        "app_password_env": PASSWORD_ENV,
                    }
                }
            }
        }
    )


def transport(settings: Settings, naps: list[float] | None = None, **options) -> BlueskyTransport:
    sleep = naps.append if naps is not None else (lambda _seconds: None)
    chosen = transport_for(settings, "mois_bsky", sleep=sleep, **options)
    assert isinstance(chosen, BlueskyTransport)
    return chosen


def test_an_account_without_its_app_password_runs_dry_and_names_the_variable(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(PASSWORD_ENV)
    assert missing_credentials(settings, settings.social.accounts["mois_bsky"]) == [PASSWORD_ENV]
    assert isinstance(transport_for(settings, "mois_bsky"), DryRunTransport)


def test_facet_offsets_count_utf8_bytes_not_characters() -> None:
    text = "Écoutez «l'ESS» à #MoisESS avec @cress-idf.bsky.social : https://lemois-ess.org/é"
    found = facets(text, {"cress-idf.bsky.social": "did:plc:cressidf"}.get)
    data = text.encode()
    cuts = [data[f["index"]["byteStart"] : f["index"]["byteEnd"]].decode() for f in found]
    assert cuts == ["#MoisESS", "@cress-idf.bsky.social", "https://lemois-ess.org/é"]
    assert found[0]["index"]["byteStart"] != text.index("#MoisESS")  # accents moved it
    assert [f["features"][0]["$type"].rsplit("#", 1)[1] for f in found] == [
        "tag",
        "mention",
        "link",
    ]
    assert found[0]["features"][0]["tag"] == "MoisESS"


def test_a_hashtag_leaves_its_final_punctuation_and_an_unknown_mention_stays_text() -> None:
    found = facets("Fin du #MoisESS. Merci @personne.example !", lambda _handle: None)
    assert [f["features"][0] for f in found] == [
        {"$type": "app.bsky.richtext.facet#tag", "tag": "MoisESS"}
    ]


def test_a_post_opens_a_session_and_creates_a_record_the_lexicon_accepts(
    settings: Settings, fake: FakeBluesky
) -> None:
    text = "Le Mois de l'ESS débute ! #MoisESS avec @cress-idf.bsky.social https://lemois-ess.org"
    ids = transport(settings).publish(Outgoing(parts=(text,)))
    [session] = fake.calls("com.atproto.server.createSession")
    assert session.body == {"identifier": HANDLE, "password": PASSWORD}
    [create] = fake.calls("com.atproto.repo.createRecord")
    assert create.headers["Authorization"].startswith("Bearer access-")
    record = create.body["record"]
    assert record["text"] == text and record["langs"] == ["fr"]
    assert record["createdAt"].endswith("Z")
    assert len(record["facets"]) == 3
    assert ids == list(fake.records)
    assert ids[0].startswith(f"at://{DID}/app.bsky.feed.post/")


def test_images_are_uploaded_as_blobs_and_embedded_with_their_alt_text(
    settings: Settings, fake: FakeBluesky, tmp_path: Path
) -> None:
    path = tmp_path / "stand.jpg"
    path.write_bytes(JPEG)
    image = Image(path=str(path), alt="Un stand de coopérative", media_type="image/jpeg")
    transport(settings).publish(Outgoing(parts=("Portes ouvertes",), images=(image,)))
    [upload] = fake.calls("com.atproto.repo.uploadBlob")
    assert upload.body == JPEG and upload.headers["Content-Type"] == "image/jpeg"
    [post] = fake.posts()
    [embedded] = post["embed"]["images"]
    assert embedded["alt"] == "Un stand de coopérative"
    assert embedded["image"]["mimeType"] == "image/jpeg"


def test_an_image_over_a_megabyte_is_refused_before_any_upload(
    settings: Settings, fake: FakeBluesky, tmp_path: Path
) -> None:
    path = tmp_path / "grande.jpg"
    path.write_bytes(JPEG + bytes(1_000_000))
    image = Image(path=str(path), alt="Une grande photo", media_type="image/jpeg")
    with pytest.raises(TransportError, match="at most 1 MB") as caught:
        transport(settings).publish(Outgoing(parts=("Texte",), images=(image,)))
    assert caught.value.permanent
    assert fake.calls("com.atproto.repo.uploadBlob") == []


def test_a_thread_names_its_root_and_parent_and_resumes_from_a_stored_uri(
    settings: Settings, fake: FakeBluesky
) -> None:
    first, second = transport(settings).publish(Outgoing(parts=("Un", "Deux")))
    # A later run resumes the thread from the last stored id only.
    [third] = transport(settings).publish(Outgoing(parts=("Trois",), reply_to=second))
    posts = {uri: fake.records[uri]["value"] for uri in (first, second, third)}
    assert "reply" not in posts[first]
    assert posts[second]["reply"]["root"]["uri"] == first
    assert posts[second]["reply"]["parent"]["uri"] == first
    assert posts[third]["reply"]["root"] == {"uri": first, "cid": fake.records[first]["cid"]}
    assert posts[third]["reply"]["parent"] == {"uri": second, "cid": fake.records[second]["cid"]}


def test_an_expired_session_is_refreshed_with_the_refresh_token(
    settings: Settings, fake: FakeBluesky
) -> None:
    chosen = transport(settings)
    chosen.publish(Outgoing(parts=("Un",)))
    fake.expire_sessions()
    chosen.publish(Outgoing(parts=("Deux",)))
    [refresh] = fake.calls("com.atproto.server.refreshSession")
    assert refresh.headers["Authorization"] == "Bearer refresh-000002"
    assert len(fake.calls("com.atproto.server.createSession")) == 1
    assert [post["text"] for post in fake.posts()] == ["Un", "Deux"]


def test_a_refused_refresh_opens_a_new_session(settings: Settings, fake: FakeBluesky) -> None:
    chosen = transport(settings)
    chosen.publish(Outgoing(parts=("Un",)))
    fake.expire_sessions()
    fake.refresh.clear()  # the server revoked the refresh token too
    chosen.publish(Outgoing(parts=("Deux",)))
    assert len(fake.calls("com.atproto.server.createSession")) == 2
    assert len(fake.posts()) == 2


def test_a_wrong_app_password_is_permanent_and_says_where_to_make_one(
    settings: Settings, fake: FakeBluesky, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(PASSWORD_ENV, "wrong-pass-word-xxxx")
    with pytest.raises(TransportError, match="refused the app password") as caught:
        transport(settings).publish(Outgoing(parts=("Texte",)))
    assert caught.value.permanent
    assert "App passwords" in str(caught.value)


def test_a_rate_limit_keeps_the_reset_header(settings: Settings, fake: FakeBluesky) -> None:
    reset = int(time.time()) + 600
    fake.on("com.atproto.repo.createRecord", rate_limited(reset))
    with pytest.raises(TransportError, match="rate limit") as caught:
        transport(settings).publish(Outgoing(parts=("Texte",)))
    assert not caught.value.permanent
    assert caught.value.retry_at == datetime.fromtimestamp(reset, UTC)


def test_a_time_out_after_creation_finds_the_post_instead_of_doubling_it(
    settings: Settings, fake: FakeBluesky
) -> None:
    fake.on("com.atproto.repo.createRecord", Slow(delay=1.5, creates=True))
    naps: list[float] = []
    ids = transport(settings, naps, timeout=0.5).publish(Outgoing(parts=("Une seule fois",)))
    assert len(fake.posts()) == 1
    assert ids == list(fake.records)
    assert len(fake.calls("com.atproto.repo.listRecords")) == 1
    assert naps == [2.0]


def test_server_errors_are_retried_and_a_refused_record_is_permanent(
    settings: Settings, fake: FakeBluesky
) -> None:
    fake.on("com.atproto.repo.createRecord", xrpc_error(502, "UpstreamFailure", "down"), None)
    transport(settings).publish(Outgoing(parts=("Deuxième essai",)))
    assert [post["text"] for post in fake.posts()] == ["Deuxième essai"]
    with pytest.raises(TransportError, match="InvalidRecord") as caught:
        transport(settings).publish(Outgoing(parts=("x" * 301,)))
    assert caught.value.permanent


def test_three_hundred_graphemes_is_the_limit() -> None:
    assert check_length("é" * 300, "bluesky") == (300, True)
    assert check_length("👍🏽" * 300, "bluesky") == (300, True)  # 2 code points, 1 grapheme
    assert check_length("a" * 301, "bluesky") == (301, False)
    parts = split_thread("Une phrase du Mois de l'ESS. " * 25, "bluesky")
    assert len(parts) == 3 and all(check_length(part, "bluesky")[1] for part in parts)


def test_figures_account_and_mentions(settings: Settings, fake: FakeBluesky) -> None:
    chosen = transport(settings)
    [uri] = chosen.publish(Outgoing(parts=("Texte",)))
    figures = chosen.fetch_metrics([uri, f"at://{DID}/app.bsky.feed.post/gone"])
    assert list(figures) == [uri]
    assert (figures[uri].likes, figures[uri].reposts, figures[uri].replies) == (11, 3, 2)
    account = chosen.account()
    assert (account.username, account.followers, account.posts) == (HANDLE, 812, 95)
    now = datetime.now(UTC).replace(microsecond=0)
    fake.notifications = [
        mention(f"at://did:plc:cressidf/app.bsky.feed.post/{n}", now - timedelta(hours=n))
        for n in (1, 2, 3)
    ]
    first = chosen.mentions(None)
    assert first.count == 0 and len(first.newest_id) <= 40  # fits the stored id's column
    assert datetime.fromisoformat(first.newest_id.replace("Z", "+00:00")) == now - timedelta(
        hours=1
    )
    third = fake.notifications[2]["indexedAt"]
    counted = chosen.mentions(third)
    assert (counted.count, counted.newest_id) == (2, first.newest_id)
    assert chosen.mentions(None, since_time=now - timedelta(hours=2, minutes=30)).count == 2


def _event(session, **values):
    from campaign.models import Event

    event = Event(
        source_id=values.pop("source_id", "M26-0001"),
        title="Portes ouvertes de la Scop Ardelaine",
        description="Visite des ateliers de laine.\n\nGratuit, sur inscription. " * 12,
        starts_at=datetime(2026, 11, 14, 9, tzinfo=UTC),
        url="https://lemois-ess.org/evenements/m26-0001",
        **values,
    )
    session.add(event)
    session.commit()
    session.refresh(event)
    return event


def test_a_post_announcing_an_event_gets_its_link_card(
    session, settings: Settings, fake: FakeBluesky, workdir: Path
) -> None:
    from campaign.social.posts import create_post, publish_post

    media = workdir / settings.dashboard.media_dir
    media.mkdir(parents=True, exist_ok=True)
    (media / "ardelaine.jpg").write_bytes(JPEG)
    # The export names the image by its web address; its file is in the media folder already.
    saved = _event(session, image_url="https://lemois-ess.org/images/ardelaine.jpg")
    post = create_post(
        session, settings, account="mois_bsky", text="Samedi à Rennes !", event_ids=[saved.id]
    )
    assert publish_post(session, post.id, settings).status == "published"
    embed = fake.posts()[-1]["embed"]
    assert embed["$type"] == "app.bsky.embed.external"
    external = embed["external"]
    assert external["uri"] == saved.url and external["title"] == saved.title
    assert external["description"].startswith("Visite des ateliers de laine. Gratuit")
    assert len(external["description"]) <= 300 and external["description"].endswith("…")
    assert external["thumb"]["mimeType"] == "image/jpeg"
    assert external["thumb"]["size"] == len(JPEG)

    # An image only on the web: a card without thumbnail, and nothing fetched.
    remote = _event(
        session, source_id="M26-0002", image_url="https://lemois-ess.org/images/ailleurs.jpg"
    )
    post = create_post(
        session, settings, account="mois_bsky", text="Dimanche", event_ids=[remote.id]
    )
    publish_post(session, post.id, settings)
    assert "thumb" not in fake.posts()[-1]["embed"]["external"]
    assert len(fake.calls("com.atproto.repo.uploadBlob")) == 1

    # A post with images keeps them (one embed a post); one without events has no card.
    picture = workdir / "photo.jpg"
    picture.write_bytes(JPEG)
    post = create_post(session, settings, account="mois_bsky", text="En images",
                       event_ids=[saved.id],
                       images=[{"path": str(picture), "alt": "L'atelier"}])  # fmt: skip
    publish_post(session, post.id, settings)
    assert fake.posts()[-1]["embed"]["$type"] == "app.bsky.embed.images"
    post = create_post(session, settings, account="mois_bsky", text="Sans évènement")
    publish_post(session, post.id, settings)
    assert "embed" not in fake.posts()[-1]


def test_a_card_outside_the_lexicon_is_refused_by_the_double(
    settings: Settings, fake: FakeBluesky
) -> None:
    from campaign.social import LinkCard

    chosen = transport(settings)
    external = {"uri": "https://a.example", "title": "Sans description"}
    bad = {"$type": "app.bsky.embed.external", "external": external}
    original = chosen._external
    chosen._external = lambda card: bad  # type: ignore[method-assign]
    with pytest.raises(TransportError, match='must have the property "description"'):
        chosen.publish(Outgoing(parts=("Texte",), card=LinkCard("https://a.example", "T", "")))
    chosen._external = original  # type: ignore[method-assign]
    [uri] = chosen.publish(Outgoing(parts=("Texte",), card=LinkCard("https://a.example", "T", "")))
    assert fake.records[uri]["value"]["embed"]["external"] == {
        "uri": "https://a.example",
        "title": "T",
        "description": "",
    }
