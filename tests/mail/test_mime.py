"""The fast composer builds the same message as the ``email`` package, on tricky input."""

from __future__ import annotations

import email
import email.policy
import quopri
import random
from email.message import EmailMessage
from email.utils import parsedate_to_datetime
from pathlib import Path

import pytest
from markupsafe import Markup

from campaign.mail import OutgoingMessage, build_message
from campaign.mail.mime import (
    Composer,
    address_header,
    header,
    quoted_printable,
    quoted_printable_piece,
)
from campaign.models.base import utcnow

LONG_LINE = "Rencontre " * 60  # one 600-character line
TRICKY = [
    OutgoingMessage(
        from_address="lemois@example.org",
        from_name="Le Mois de l'ESS",
        to="lea@example.org",
        to_name="Léa Dupré-Müller",
        subject="Évènements à Rennes — « novembre » 🎉",
        text="Bonjour Léa,\n.\nFrom here on   \n" + LONG_LINE + "\nÀ bientôt 🎉",
        html="<p>Bonjour Léa,</p>\n<p>" + LONG_LINE + "</p><p>=?utf-8?q?x?= 100% « ok »</p>",
        reply_to="contact@example.org",
        headers={
            "List-Unsubscribe": "<https://lemois-ess.org/u/AbCdEfGhIjKlMnOp-_x>, "
            "<mailto:lemois@example.org?subject=unsubscribe>",
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
            "List-Id": "<list1.example.org>",
        },
        message_id="<d42.n7@example.org>",
    ),
    OutgoingMessage(
        from_address="prix@example.org",
        from_name='CRESS "Bretagne", Prix de l\'ESS',
        to="paul.o-neil+news@example.org",
        to_name='Dupont, Jean "JJ" \\ Jr',
        subject="A long subject that goes on and on about the Prix de l'ESS 2016, its six "
        "categories, the jury, the vote of the public and the ceremony in Paris, =?not a word?=",
        text="plain ascii\r\nwith CRLF\r\n",
        html="<p>ascii</p>",
        message_id="<d1.n2@example.org>",
    ),
    OutgoingMessage(
        from_address="lemois@example.org",
        from_name="Économie sociale et solidaire — une très longue raison sociale régionale 🌍",
        to="zoe@example.org",
        subject=" ".join(["Très long sujet accentué"] * 8),
        text="",
        html="",
        message_id="<d3.n2@example.org>",
    ),
]

COMPARED_HEADERS = [
    "From",
    "To",
    "Reply-To",
    "Subject",
    "Message-ID",
    "MIME-Version",
    "List-Unsubscribe",
    "List-Unsubscribe-Post",
    "List-Id",
]


def _parse(data: bytes) -> EmailMessage:
    parsed = email.message_from_bytes(data, policy=email.policy.default)
    assert isinstance(parsed, EmailMessage)
    return parsed


def _structure(message: EmailMessage) -> dict:
    parts = list(message.iter_parts())
    return {
        "headers": {name: str(message[name]) for name in COMPARED_HEADERS if message[name]},
        "to": [(a.display_name, a.addr_spec) for a in message["To"].addresses],
        "from": [(a.display_name, a.addr_spec) for a in message["From"].addresses],
        "type": message.get_content_type(),
        "parts": [
            (part.get_content_type(), part.get_content_charset(), part.get_content())
            for part in parts
        ],
        "defects": [type(defect).__name__ for part in [message, *parts] for defect in part.defects],
    }


@pytest.mark.parametrize("message", TRICKY, ids=["accents-emoji", "quotes-commas", "empty"])
def test_composed_bytes_parse_to_what_build_message_makes(message: OutgoingMessage) -> None:
    reference = _parse(build_message(message).as_bytes(policy=email.policy.SMTP))
    data = Composer().compose(message)
    composed = _parse(data)
    assert _structure(composed) == _structure(reference)
    assert _structure(composed)["defects"] == []
    assert [part.get_content_type() for part in composed.iter_parts()] == [
        "text/plain",
        "text/html",
    ]
    assert abs((parsedate_to_datetime(composed["Date"]) - utcnow()).total_seconds()) < 5
    # SMTP-ready: CRLF only, lines within the limit of RFC 5322, ASCII only.
    assert b"\n" not in data.replace(b"\r\n", b"")
    assert max(len(line) for line in data.split(b"\r\n")) <= 78
    data.decode("ascii")


def test_the_outbox_writes_the_same_bytes(tmp_path) -> None:
    from campaign.mail import OutboxTransport

    composer = Composer()
    message = TRICKY[0]
    (result,) = OutboxTransport(tmp_path / "box", composer).send([message])
    written = Path(result.where).read_bytes()
    assert written.startswith(b"Return-Path: <lemois@example.org>\n")
    body = written.split(b"\n", 1)[1]
    expected = composer.compose(message).replace(b"\r\n", b"\n")
    # Only the Date may differ, if the second turned between the two.
    strip = [line for line in body.split(b"\n") if not line.startswith(b"Date: ")]
    assert strip == [line for line in expected.split(b"\n") if not line.startswith(b"Date: ")]
    assert result.message_id == "<d42.n7@example.org>"


def test_header_encoding_round_trips() -> None:
    for value in ["ascii only", "é" * 100, "🎉 " * 40, "x" * 120, "a =?b?= c", ""]:
        line = header("Subject", value)
        parsed = _parse(line + b"\r\nbody\r\n")
        assert str(parsed["Subject"]) == " ".join(value.split())


def test_a_bad_address_is_refused_with_its_value() -> None:
    with pytest.raises(Exception, match="'pas une adresse@' is not a valid email address"):
        address_header("To", "pas une adresse@")


def test_bodies_are_quoted_printable_with_a_final_line_end() -> None:
    encoded = quoted_printable("é\n.\nfin")
    assert encoded == b"=C3=A9\r\n=2E\r\nfin\r\n"
    assert b"=_" not in quoted_printable("=_ boundary-like =_campaign_x")


def test_html_given_as_chunks_parses_to_the_joined_html() -> None:
    """The queue hands the HTML over as template chunks; the encoded pieces must join up."""
    static = "<table>" + '<td style="padding: 0 10px; color: #333">Évènement</td>' * 40
    chunks = (
        static,  # a long literal chunk, cached after the first message
        Markup("Léa"),  # a name: a value, with no line end
        "",
        Markup("https://lemois-ess.org/c/AbC-_x"),  # a link: a value that QP leaves as it is
        Markup("a=b"),
        Markup("y" * 80),
        " ",  # trailing space at the end of a piece
        ".dot at the start of a line\n",
        "x" * 200,  # one long line across pieces
        "\n.\n",  # a line holding a single dot
        "🎉 fin",
    )
    composer = Composer()
    for _ in range(2):  # second time: the long chunk comes from the cache
        message = OutgoingMessage(**{**TRICKY[0].__dict__, "html": "", "html_parts": chunks})
        data = composer.compose(message)
        reference = _parse(build_message(message).as_bytes(policy=email.policy.SMTP))
        assert _structure(_parse(data)) == _structure(reference)
        html = _parse(data).get_body(("html",)).get_content().replace("\r\n", "\n")
        assert html == "".join(chunks) + "\n"
        assert max(len(line) for line in data.split(b"\r\n")) <= 78
        assert b"\n" not in data.replace(b"\r\n", b"")
    assert static in composer._pieces
    assert Markup("Léa") not in composer._pieces  # values are not kept


def test_text_given_as_chunks_parses_to_the_joined_text() -> None:
    """The plain text is spliced the same way; a value repeated is the same text each time."""
    from campaign.newsletters.flat import Value

    link = Value("https://lemois-ess.org/c/AbC-_x")
    chunks = ("Bonjour ", Value("Zoé"), ",\n\n", link, "\n.\n", link, " " * 3, "\nfin")
    composer = Composer()
    for _ in range(2):
        message = OutgoingMessage(**{**TRICKY[0].__dict__, "text": "", "text_parts": chunks})
        data = composer.compose(message)
        reference = _parse(build_message(message).as_bytes(policy=email.policy.SMTP))
        assert _structure(_parse(data)) == _structure(reference)
        text = _parse(data).get_body(("plain",)).get_content().replace("\r\n", "\n")
        assert text == "".join(chunks) + "\n"
        assert max(len(line) for line in data.split(b"\r\n")) <= 78
    assert "Bonjour " in composer._pieces and Value("Zoé") not in composer._pieces


def test_the_smtp_form_is_the_message_dot_stuffed_and_ended() -> None:
    """compose_smtp stuffs cached pieces once; it must equal stuffing the whole message."""
    from campaign.mail.mime import smtp_data
    from campaign.newsletters.flat import Value

    dotted = (
        ".starts with a dot\n",
        Markup(".value with a dot"),
        "\n",
        Markup("x" * 75 + ".y"),  # a soft line break puts the dot at the start of a line
        "\n.\n..\n",
        "z" * 75 + ".after a soft break\n",
    )
    text = (Value(".a"), "\n", "." * 3, "\n", Value("line\n.dot"))
    composer = Composer()
    date = b"Date: Thu, 03 Dec 2026 17:00:00 +0000\r\n"
    composer._date.line = lambda: date  # type: ignore[method-assign]  # both calls, one Date
    messages = [
        *TRICKY,
        OutgoingMessage(**{**TRICKY[0].__dict__, "html": "", "html_parts": dotted}),
        OutgoingMessage(**{**TRICKY[0].__dict__, "text": "", "text_parts": text}),
        OutgoingMessage(**{**TRICKY[0].__dict__, "text": ".\n.hidden\n", "html": ".\n"}),
    ]
    for _ in range(2):  # the second time from the caches
        for message in messages:
            assert composer.compose_smtp(message) == smtp_data(composer.compose(message))
    stuffed = composer.compose_smtp(messages[-3])
    assert b"\r\n..starts with a dot" in stuffed and stuffed.endswith(b"\r\n.\r\n")


# Characters that stress quoted-printable: escapes ("=", 8-bit, emoji), spaces and tabs that
# must not end a line, line ends of every kind, and plain text that fills lines exactly.
_QP_ALPHABET = "aaaaaaaaaaéé=  \t.\n\r€😀<>\"'"


def _random_texts(count: int) -> list[str]:
    generator = random.Random(2045)
    texts = ["a" * length for length in range(70, 160)]  # every length around the limit
    texts += ["a" * length + "é" for length in range(65, 80)]  # an escape at the edge
    texts += ["a" * length + " " for length in range(70, 80)]  # a trailing space at the edge
    for _ in range(count):
        length = generator.choice((generator.randrange(0, 20), generator.randrange(60, 400)))
        texts.append("".join(generator.choice(_QP_ALPHABET) for _ in range(length)))
    return texts


def test_quoted_printable_lines_never_pass_76_characters_and_decode_to_the_text() -> None:
    """RFC 2045 §6.7: encoded lines of at most 76 characters; spliced pieces (each encoded on
    its own, as the per-recipient splicing does) decode with the standard library to the
    pieces' text joined. ``quoted_printable_piece("a" * 76)`` once gave a 77-character line."""
    texts = _random_texts(3000)
    generator = random.Random(76)
    for number in range(0, len(texts), 3):
        pieces = texts[number : number + 3]
        generator.shuffle(pieces)
        encoded = b"".join(quoted_printable_piece(piece) for piece in pieces)
        lines = encoded.split(b"\r\n")
        assert max(len(line) for line in lines) <= 76, pieces
        assert all(not line.endswith((b" ", b"\t")) for line in lines), pieces
        assert b"\n" not in encoded.replace(b"\r\n", b""), pieces  # only CRLF line ends
        # Each piece's line ends are its own (a piece's final "\r" and the next's "\n" are two).
        joined = "".join(piece.replace("\r\n", "\n").replace("\r", "\n") for piece in pieces)
        decoded = quopri.decodestring(encoded).decode("utf-8").replace("\r\n", "\n")
        assert decoded == joined, pieces
        whole = quoted_printable(joined)
        assert max(len(line) for line in whole.split(b"\r\n")) <= 76
        assert quopri.decodestring(whole).decode("utf-8").replace("\r\n", "\n").rstrip(
            "\n"
        ) == joined.rstrip("\n")


def test_replies_go_to_the_from_address_when_no_reply_to_is_set() -> None:
    """Every message carries Reply-To: the setting, or else the From address."""
    message = TRICKY[1]
    assert message.reply_to == ""
    for data in (Composer().compose(message), build_message(message).as_bytes()):
        parsed = _parse(data)
        assert parsed.get_all("Reply-To") == ["prix@example.org"]
    assert _parse(Composer().compose(TRICKY[0]))["Reply-To"] == "contact@example.org"
