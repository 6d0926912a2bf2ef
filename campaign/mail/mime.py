"""Building message bytes fast: the fixed parts once, the per-recipient parts spliced in.

:func:`campaign.mail.outbox.build_message` builds an :class:`~email.message.EmailMessage` and
serialises it through the ``email`` package's policy machinery: correct, and about 6 ms per
message, which is most of a sending run. Every message of a newsletter shares almost everything
(sender, Reply-To, List-Id, subject most of the time, the MIME skeleton), so a
:class:`Composer` encodes those once and keeps them as bytes; per recipient it only writes To,
Message-ID, Date and the few header values that carry tokens, and encodes the personalised
bodies as quoted-printable with :func:`binascii.b2a_qp` (C code; CRLF line ends, 76-character
lines). The HTML, 50 KB for a newsletter of 20 events, is not encoded whole for each recipient:
the queue hands it over as the compiled template's output chunks, whose literal ones (about 95%
of the bytes) are the same for the whole group, so their encoding is cached and only the names
and tokens between them are encoded anew; each piece starts on a fresh line and ends with a
soft line break, so the pieces simply follow one another. The result parses back to the same
message as ``build_message``'s (a test compares them on tricky input).

Choices that keep it both fast and safe:

- Bodies are quoted-printable, which never writes ``=_``; the multipart boundary starts with
  ``=_`` and so can never occur inside a part, without scanning the bodies for it.
- Header values that are plain printable ASCII are folded at spaces; otherwise the words that
  are not (accents, emoji, an ``=?`` that would read as an encoded word) become RFC 2047 base64
  encoded words cut on character boundaries, each line under 78 characters.
- Display names are quoted strings (commas and quotes are safe inside); when they are not ASCII,
  atoms stay as they are and the other words become encoded words.
"""

from __future__ import annotations

import binascii
import re
import secrets
from collections.abc import Callable, Sequence
from email.utils import format_datetime, make_msgid
from time import time
from typing import TYPE_CHECKING

from campaign.clock import utcnow
from campaign.errors import CampaignError
from campaign.messages import Message

if TYPE_CHECKING:
    from campaign.mail.transport import OutgoingMessage

CRLF = b"\r\n"
_MAX_LINE = 78
# Bytes of UTF-8 per base64 encoded word: 42 bytes -> 56 characters, 68 with "=?utf-8?b?…?=".
_WORD_BYTES = 42
_PLAIN_HEADER = re.compile(r"[\x20-\x7e]*")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]+")
# A conservative addr-spec: what an SMTP envelope and a header accept without SMTPUTF8.
_ADDRESS = re.compile(r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~.-]+@[A-Za-z0-9.-]+")

# Printable ASCII without "=", short enough for one line: quoted-printable leaves it as it is.
_AS_IS = re.compile(r"[\x21-\x3c\x3e-\x7e][\x20-\x3c\x3e-\x7e]{0,74}").fullmatch

Signer = Callable[[bytes], bytes]
"""Takes a whole message and returns the header lines to put before it (DKIM)."""


def _encoded_words(text: str) -> list[bytes]:
    """``text`` as RFC 2047 base64 encoded words, cut between characters."""
    words: list[bytes] = []
    chunk = bytearray()
    for char in text:
        encoded = char.encode("utf-8")
        if len(chunk) + len(encoded) > _WORD_BYTES:
            words.append(b"=?utf-8?b?" + binascii.b2a_base64(chunk, newline=False) + b"?=")
            chunk = bytearray()
        chunk += encoded
    if chunk or not words:
        words.append(b"=?utf-8?b?" + binascii.b2a_base64(chunk, newline=False) + b"?=")
    return words


def _mixed_words(text: str, plain: re.Pattern[str]) -> list[bytes]:
    """Words of ``text`` to be joined by spaces: the ``plain`` ones as they are, each run of
    others as encoded words (the spaces inside a run are encoded with it).

    This is how the ``email`` package writes them, and it reads back the same in every decoder:
    the space between an encoded word and a plain one is kept, the space between two encoded
    words is dropped by RFC 2047 (and kept by Python's parser in a display name), so no run is
    followed by another.
    """
    words: list[bytes] = []
    run: list[str] = []
    for word in text.split(" "):
        if plain.fullmatch(word) and "=?" not in word:
            if run:
                words.extend(_encoded_words(" ".join(run)))
                run = []
            words.append(word.encode("ascii"))
        else:
            run.append(word)
    if run:
        words.extend(_encoded_words(" ".join(run)))
    return words


_UNSTRUCTURED_WORD = re.compile(r"[\x21-\x7e]*")
_ATOM = re.compile(r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+")


def _fold(name: bytes, words: list[bytes], separator: bytes = b" ") -> bytes:
    """``Name: word word…`` folded before a word when a line would pass 78 characters."""
    lines: list[bytes] = []
    line = name + b":"
    for word in words:
        if len(line) + 1 + len(word) > _MAX_LINE and line != name + b":":
            lines.append(line)
            line = b" " + word
        else:
            line += separator + word if line != name + b":" else b" " + word
    lines.append(line)
    return CRLF.join(lines) + CRLF


def is_plain(value: str) -> bool:
    """Printable ASCII that no reader could take for an encoded word."""
    return _PLAIN_HEADER.fullmatch(value) is not None and "=?" not in value


def header(name: str, value: str) -> bytes:
    """One header line (folded), encoding ``value`` only when it is not plain ASCII."""
    value = " ".join(_CONTROL.sub(" ", value).split())
    if is_plain(value):
        return _fold(name.encode("ascii"), value.encode("ascii").split(b" "))
    return _fold(name.encode("ascii"), _mixed_words(value, _UNSTRUCTURED_WORD))


def _check_address(address: str) -> str:
    address = address.strip()
    if not _ADDRESS.fullmatch(address) or ".." in address or address.startswith("."):
        raise CampaignError.of("mail.invalid_address", "address", address=address)
    return address


class SenderError(CampaignError):
    """The sender's side of a message cannot be written (its From or Reply-To): every message
    of the send would fail the same way, so transports stop instead of failing each one."""


def address_header(name: str, address: str, display_name: str = "") -> bytes:
    """``Name: "Display, Name" <address>``, the display name encoded if it is not ASCII."""
    address = _check_address(address)
    display_name = " ".join(_CONTROL.sub(" ", display_name).split())
    if not display_name:
        return f"{name}: {address}".encode("ascii") + CRLF
    if is_plain(display_name):
        quoted = display_name.replace("\\", "\\\\").replace('"', '\\"')
        words = f'"{quoted}"'.encode("ascii").split(b" ")
    else:
        words = _mixed_words(display_name, _ATOM)
    return _fold(name.encode("ascii"), [*words, f"<{address}>".encode("ascii")])


_QP_LINE = 76  # the longest line quoted-printable allows, soft break included (RFC 2045)
_QP_TOO_LONG = re.compile(rb"[^\r\n]{%d}" % (_QP_LINE + 1))


def _within_limit(encoded: bytes) -> bytes:
    """Quoted-printable lines of at most 76 characters.

    ``binascii.b2a_qp`` writes 77 when a full line ends with a space or tab (it encodes it as
    ``=20`` after filling the line): break such lines once more, never inside an ``=XX``.
    """
    if _QP_TOO_LONG.search(encoded) is None:
        return encoded
    lines = []
    for line in encoded.split(CRLF):
        while len(line) > _QP_LINE:
            cut = _QP_LINE - 1
            while b"=" in line[cut - 2 : cut]:
                cut -= 1
            lines.append(line[:cut] + b"=")
            line = line[cut:]
        lines.append(line)
    return CRLF.join(lines)


def quoted_printable_piece(text: str) -> bytes:
    """One piece of a body as quoted-printable that starts and ends at the start of a line.

    Pieces end with a soft line break (``=`` CRLF, which decoding removes) unless they end with
    a line end, so encoded pieces can be put one after another: the decoded result is the
    pieces' text joined, and no line passes 76 characters.
    """
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    data = text.encode("utf-8")
    if b"\n" in data:
        encoded = binascii.b2a_qp(data.replace(b"\n", CRLF), istext=True)
    else:  # b2a_qp writes soft breaks with the line end it finds first: LF when it finds none
        encoded = binascii.b2a_qp(data, istext=True).replace(b"=\n", b"=\r\n")
    encoded = _within_limit(encoded)
    if encoded.endswith(CRLF):
        return encoded
    # The last line may be 76 characters already, and the soft break's "=" would make it 77.
    start = encoded.rfind(CRLF) + 2 if CRLF in encoded else 0
    if len(encoded) - start < _QP_LINE:
        return encoded + b"=\r\n"
    cut = start + _QP_LINE - 1
    while b"=" in encoded[cut - 2 : cut]:
        cut -= 1
    return encoded[:cut] + b"=\r\n" + encoded[cut:] + b"=\r\n"


def quoted_printable(text: str) -> bytes:
    """A body as quoted-printable with CRLF line ends, ending with a line end."""
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    if not text.endswith("\n"):
        text += "\n"
    return _within_limit(binascii.b2a_qp(text.encode("utf-8").replace(b"\n", CRLF), istext=True))


class _DateCache:
    """``Date:`` changes once a second; format it once a second."""

    def __init__(self) -> None:
        self._second = -1
        self._line = b""

    def line(self) -> bytes:
        now = int(time())
        if now != self._second:
            self._second = now
            self._line = b"Date: " + format_datetime(utcnow()).encode("ascii") + CRLF
        return self._line


def _sender_header(name: str, address: str, display_name: str = "") -> bytes:
    try:
        return address_header(name, address, display_name)
    except CampaignError as exc:
        raise SenderError(
            Message("mail.sender_unwritable", "sender", {"header": name, "reason": str(exc)})
        ) from None


def _cached_literal(chunk: str, stuffed: bool, cache: dict[str, bytes]) -> bytes:
    """A literal chunk of a template encoded (and dot-stuffed for SMTP), kept in ``cache``."""
    piece = quoted_printable_piece(chunk)
    if stuffed:
        piece = dot_stuffed(piece)
    if len(cache) > 4096:
        cache.clear()
    cache[chunk] = piece
    return piece


def _value_piece(chunk: str, stuffed: bool) -> bytes:
    """A recipient's value encoded: as it is when it needs no encoding, dot-stuffed for SMTP
    only when a line of it starts with a dot."""
    # A value that needs no encoding is its own, as a soft-broken line.
    piece = chunk.encode("ascii") + b"=\r\n" if _AS_IS(chunk) else quoted_printable_piece(chunk)
    if stuffed and (piece[:1] == b"." or b"\r\n." in piece):
        piece = dot_stuffed(piece)
    return piece


class Composer:
    """Turns :class:`OutgoingMessage` objects into message bytes, caching what repeats.

    One composer serves a whole run (the values it caches, such as the sender or the subject of
    a group, are looked up by value, so several groups or newsletters can share it). ``sign``,
    when given, returns header lines put before each message (DKIM, see :mod:`campaign.mail.dkim`).
    Safe to use from several threads: caches only ever gain equal values.
    """

    def __init__(self, sign: Signer | None = None) -> None:
        self.sign = sign
        self.boundary = "=_campaign_" + secrets.token_hex(12)
        boundary = self.boundary.encode("ascii")
        self._content_type = (
            b"Content-Type: multipart/alternative;" + CRLF + b' boundary="' + boundary + b'"' + CRLF
        )
        self._text_part = (
            b"--" + boundary + CRLF + b'Content-Type: text/plain; charset="utf-8"' + CRLF
            + b"Content-Transfer-Encoding: quoted-printable" + CRLF + CRLF
        )  # fmt: skip
        # The line end before a boundary belongs to the boundary: each part's own last line end
        # needs one more.
        self._html_part = (
            CRLF + b"--" + boundary + CRLF + b'Content-Type: text/html; charset="utf-8"' + CRLF
            + b"Content-Transfer-Encoding: quoted-printable" + CRLF + CRLF
        )  # fmt: skip
        self._end = CRLF + b"--" + boundary + b"--" + CRLF
        self._senders: dict[tuple[str, str, str], bytes] = {}
        self._subjects: dict[str, bytes] = {}
        self._fixed: dict[tuple[str, str], bytes] = {}
        self._pieces: dict[str, bytes] = {}
        self._stuffed: dict[str, bytes] = {}  # the same pieces, dot-stuffed for SMTP
        self._date = _DateCache()

    def _sender_lines(self, message: OutgoingMessage) -> bytes:
        key = (message.from_address, message.from_name, message.reply_to)
        lines = self._senders.get(key)
        if lines is None:
            lines = _sender_header("From", message.from_address, message.from_name)
            lines += _sender_header("Reply-To", message.reply_to or message.from_address)
            if len(self._senders) > 64:
                self._senders.clear()
            self._senders[key] = lines
        return lines

    def _subject_line(self, subject: str) -> bytes:
        line = self._subjects.get(subject)
        if line is None:
            line = header("Subject", subject)
            if len(self._subjects) > 256:  # personalised subjects: do not grow without bound
                self._subjects.clear()
            self._subjects[subject] = line
        return line

    def _header_line(self, name: str, value: str) -> bytes:
        key = (name, value)
        line = self._fixed.get(key)
        if line is not None:
            return line
        line = header(name, value)
        if len(value) < 200 and len(self._fixed) < 256:  # values shared by a group, not tokens
            self._fixed[key] = line
        return line

    def _body(self, whole: str, chunks: Sequence[str], stuffed: bool, out: list[bytes]) -> None:
        """Append a body's encoded pieces to ``out``: ``whole`` encoded, or ``chunks`` spliced.

        Literal chunks (plain ``str``, the same for the whole group) are encoded once and
        cached; values (any other type: Markup, Value) once per message, however many times
        they appear. ``stuffed``: dot-stuffed for SMTP (every piece starts a line, so each can
        be stuffed on its own, and the cached ones are stuffed once).
        """
        if not chunks:
            encoded = quoted_printable(whole)
            out.append(dot_stuffed(encoded) if stuffed else encoded)
            return
        cache = self._stuffed if stuffed else self._pieces
        values: dict[str, bytes] = {}
        append = out.append
        piece: bytes | None  # None: not cached yet
        for chunk in chunks:
            if not chunk:
                continue
            if type(chunk) is str:  # a literal chunk of the template
                piece = cache.get(chunk)
                if piece is None:
                    piece = _cached_literal(chunk, stuffed, cache)
            else:  # a value: a name, a link…
                piece = values.get(chunk)
                if piece is None:
                    piece = values[chunk] = _value_piece(chunk, stuffed)
            append(piece)
        if not next((chunk for chunk in reversed(chunks) if chunk), "").endswith("\n"):
            append(CRLF)  # the part's final line end, as for a whole body

    def _parts(self, message: OutgoingMessage, stuffed: bool) -> list[bytes]:
        message_id = message.message_id
        if not message_id:
            message_id = make_msgid(domain=message.from_address.rpartition("@")[2] or None)
        parts = [
            self._sender_lines(message),
            address_header("To", message.to, message.to_name),
            self._subject_line(message.subject),
            self._date.line(),
            b"Message-ID: " + message_id.encode("ascii") + CRLF,
            b"MIME-Version: 1.0" + CRLF,
        ]
        for name, value in message.headers.items():
            parts.append(self._header_line(name, value))
        parts += [self._content_type, CRLF, self._text_part]
        self._body(message.text, message.text_parts, stuffed, parts)
        parts.append(self._html_part)
        self._body(message.html, message.html_parts, stuffed, parts)
        parts.append(self._end)
        return parts

    def compose(self, message: OutgoingMessage) -> bytes:
        """The message as bytes with CRLF line ends (what the recipient gets)."""
        data = b"".join(self._parts(message, False))
        if self.sign is not None:
            data = self.sign(data) + data
        return data

    def compose_smtp(self, message: OutgoingMessage) -> bytes:
        """The message as SMTP ``DATA`` takes it: dot-stuffed and ended with ``.`` CRLF.

        The same as ``smtp_data(compose(message))`` without stuffing (so copying) the whole
        message for each recipient: literal pieces are cached stuffed. Header lines never start
        with a dot. A signed message is signed as the recipient gets it, so it is composed
        first and stuffed afterwards.
        """
        if self.sign is not None:
            return smtp_data(self.compose(message))
        parts = self._parts(message, True)
        parts.append(b".\r\n")  # the message ends with a line end (the closing boundary's)
        return b"".join(parts)


def dot_stuffed(data: bytes) -> bytes:
    """``data`` with a dot added before every line that starts with one (RFC 5321, 4.5.2);
    ``data`` starts a line."""
    if data[:1] == b".":
        data = b"." + data
    if b"\r\n." in data:
        data = data.replace(b"\r\n.", b"\r\n..")
    return data


def smtp_data(data: bytes) -> bytes:
    """A whole message in CRLF form as SMTP ``DATA`` takes it: dot-stuffed, ended with ``.``
    CRLF (in one piece: a separate little write of the final dot would wait for the server's
    delayed ACK, tens of milliseconds per message)."""
    data = dot_stuffed(data)
    return data + (b".\r\n" if data.endswith(b"\r\n") else b"\r\n.\r\n")


def compose(message: OutgoingMessage) -> bytes:
    """The bytes of one message, without signing (see :class:`Composer`)."""
    return _default.compose(message)


_default = Composer()


def message_id_of(data: bytes) -> str:
    """The Message-ID written in message bytes (for results)."""
    start = data.find(b"\r\nMessage-ID: ")
    if start < 0:
        return ""
    start += len(b"\r\nMessage-ID: ")
    return data[start : data.find(b"\r\n", start)].decode("ascii")
