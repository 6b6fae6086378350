"""Inbound email: raw RFC 5322 bytes in, a decoded `ParsedMail` out.

Pure code, no I/O. Mail from players is written by every client there is, in every charset
and with every header mistake, so the parser is lenient: whatever it cannot read is recorded
in `ParsedMail.defects` and parsing goes on. `UnreadableMail` is raised only when there is
no mail to speak of (no headers, no sender).

The stdlib `email` package does the MIME work. Its modern policy decodes headers nicely but
raises on some hostile input, so every header and MIME parameter has a compat32 fallback.
"""

from __future__ import annotations

import email
import email.header
import email.utils
import functools
import html
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email import policy
from email.generator import BytesGenerator
from email.message import Message
from html.parser import HTMLParser
from io import BytesIO
from typing import TypeVar

import nh3

from playerdesk.domain.mail import MailAttachment, MailKind, ParsedMail, UnreadableMail

__all__ = ["parse_mail", "strip_quoted"]

_T = TypeVar("_T")

# Deeper MIME nesting than this is a parser attack, not a mail a person sent.
_MAX_DEPTH = 20

_BODY_TYPES = frozenset({"text/plain", "text/html"})
_ATTACHED_MESSAGE_TYPES = frozenset({"message/rfc822", "message/global"})
_DELIVERY_STATUS_TYPES = frozenset({"message/delivery-status", "message/global-delivery-status"})


# --------------------------------------------------------------------------- public API


def parse_mail(raw: bytes, *, max_attachments: int | None = None) -> ParsedMail:
    """Decode one received mail.

    Raises `UnreadableMail` when the bytes carry no headers or no usable sender address;
    every other problem becomes an entry of `defects`. With `max_attachments`, only the first
    that many attachments are kept (and a defect says how many were dropped)."""
    if max_attachments is not None and max_attachments < 0:
        raise ValueError("max_attachments must be zero or more")
    if not raw.strip():
        raise UnreadableMail("the mail is empty")

    defects: list[str] = []
    message = _parse_bytes(raw, defects=defects)
    if not message.keys():
        raise UnreadableMail("no RFC 5322 headers found")

    headers = _HeaderReader(message, charset_hint=_first_declared_charset(message), defects=defects)
    sender = headers.first_address("From") or headers.first_address("Sender")
    if sender is None:
        raise UnreadableMail("no usable From address")
    from_name, from_address = sender

    walker = _MimeWalker(charset_hint=headers.charset_hint, linesep=_line_separator(raw))
    segments = walker.walk(message)
    defects.extend(walker.defects)

    text = _strip_blank_lines(_clean_text(_segments_text(segments, defects=defects)))
    safe_html = _segments_safe_html(segments, defects=defects)

    attachments = walker.attachments
    if max_attachments is not None and len(attachments) > max_attachments:
        dropped = len(attachments) - max_attachments
        defects.append(f"{dropped} attachment(s) dropped over the limit of {max_attachments}")
        attachments = attachments[:max_attachments]

    subject = headers.subject()
    verdict = _classify(
        headers=headers,
        top_content_type=_content_type(message, defects=defects),
        report_type=_param(message, "report-type", defects=defects),
        from_address=from_address,
        subject=subject,
        recipient_reports=walker.recipient_reports,
        text=text,
    )

    return ParsedMail(
        message_id=next(iter(_message_ids(headers.raw("Message-ID"))), None),
        in_reply_to=next(iter(_message_ids(headers.raw("In-Reply-To"))), None),
        references=_message_ids(headers.raw("References")),
        from_address=from_address,
        from_name=from_name,
        to_addresses=headers.addresses("To"),
        cc_addresses=headers.addresses("Cc"),
        reply_to=next(iter(headers.addresses("Reply-To")), None),
        subject=subject,
        date=_parse_date(headers.raw("Date"), defects=defects),
        text=text,
        safe_html=safe_html,
        shown_text=strip_quoted(text) or text,
        attachments=attachments,
        kind=verdict.kind,
        failed_recipients=verdict.failed_recipients,
        failure_reason=verdict.failure_reason,
        language=_primary_language(headers.raw("Content-Language"))
        or next(iter(walker.body_languages), None),
        defects=defects,
    )


def strip_quoted(text: str) -> str:
    """`text` without quoted history, reply headers, forwarded mail, signature and mobile
    footers: what the person wrote this time. May return "" when everything was quote."""
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    kept: list[str] = []
    index = 0
    while index < len(lines):
        line = lines[index]
        if _is_quote_line(line):
            index += 1
            continue
        if _history_starts_at(lines, index):
            break
        attribution_lines = _attribution_length(lines, index)
        if attribution_lines:
            following = _next_non_blank(lines, index + attribution_lines)
            # "On ... wrote:" right above a `>` block only introduces that quote: a reply
            # written below it (Thunderbird's default) must survive.
            if following is not None and _is_quote_line(lines[following]):
                index += attribution_lines
                continue
            break
        kept.append(line.rstrip())
        index += 1
    _drop_trailing_footers(kept)
    return re.sub(r"\n{3,}", "\n\n", "\n".join(kept)).strip()


# --------------------------------------------------------------------------- parsing bytes


def _parse_bytes(raw: bytes, *, defects: list[str]) -> Message:
    try:
        return email.message_from_bytes(raw, policy=policy.default)
    except Exception as error:
        # The modern policy parses Content-Type while splitting parts and a few malformed
        # values make it raise; compat32 keeps headers as plain strings and does not.
        defects.append(f"mail structure: {type(error).__name__}, read with compat32")
    try:
        return email.message_from_bytes(raw, policy=policy.compat32)
    except Exception as error:
        raise UnreadableMail(f"the email package cannot parse it: {error!r}") from error


def _line_separator(raw: bytes) -> str:
    return "\r\n" if b"\r\n" in raw[:4096] else "\n"


def _attempt(read: Callable[[], _T], *, fallback: _T, defects: list[str], what: str) -> _T:
    """One stdlib accessor on hostile input. The `email` package raises a long tail of
    exception types there (HeaderParseError, IndexError, UnicodeError, LookupError...), and
    a mail is worth more than any single header or parameter of it."""
    try:
        return read()
    except Exception as error:
        defects.append(f"{what}: {type(error).__name__}")
        return fallback


# --------------------------------------------------------------------------- text hygiene

# message_from_bytes smuggles undecodable 8-bit bytes through as surrogate escapes.
_ESCAPED_BYTES = re.compile("[\udc80-\udcff]+")
_LONE_SURROGATE = re.compile("[\ud800-\udfff]")
# NUL is refused by PostgreSQL text columns; the other C0 controls are never meant.
_CONTROL_CHARS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def _clean_text(text: str, *, charset_hint: str | None = None) -> str:
    """Text safe to store and show: escaped raw bytes decoded as best we can, lone
    surrogates replaced, control characters other than tab and line breaks removed."""
    if _ESCAPED_BYTES.search(text):
        text = _ESCAPED_BYTES.sub(
            lambda run: _guess_decode(
                run.group().encode("utf-8", "surrogateescape"), charset_hint=charset_hint
            )[0],
            text,
        )
    text = _LONE_SURROGATE.sub("\ufffd", text)
    return _CONTROL_CHARS.sub("", text)


def _strip_blank_lines(text: str) -> str:
    """Leading and trailing blank lines off, the indentation of the first line kept."""
    return re.sub(r"\A(?:[ \t]*\n)+", "", text).rstrip()


def _one_line(text: str) -> str:
    return " ".join(text.split())


# --------------------------------------------------------------------------- charsets

# Mail says "iso-8859-1" and means windows-1252 (smart quotes, euro sign) as browsers know.
_CHARSET_SUPERSETS = {
    "iso-8859-1": "cp1252",
    "iso8859-1": "cp1252",
    "latin1": "cp1252",
    "latin-1": "cp1252",
}
_ASCII_NAMES = frozenset({"us-ascii", "ascii", "ansi_x3.4-1968", "us"})
# When nothing says which 8-bit charset it is, the ones our players write in.
_GUESSED_CHARSETS = ("cp1252", "cp1250", "iso-8859-2")


@functools.lru_cache(maxsize=256)
def _codec_for(charset: str | None) -> str | None:
    """A Python text codec for a declared charset name, forgiving common misspellings."""
    if not charset:
        return None
    name = charset.strip().strip("\"'").lower()
    name = _CHARSET_SUPERSETS.get(name, name)
    candidates = [name]
    if name.startswith("x-"):
        candidates.append(name[2:])
    if match := re.fullmatch(r"(?:x-)?(?:win|windows|cp)[-_ ]?(\d{3,4})", name):
        candidates.append(f"cp{match.group(1)}")
    if match := re.fullmatch(r"(?:x-)?iso[-_ ]?8859[-_ ]?(\d{1,2})", name):
        candidates.append(f"iso8859_{match.group(1)}")
    if re.fullmatch(r"utf[-_ ]?8(?:[-_ ]?bom)?", name):
        candidates.append("utf-8")
    for candidate in candidates:
        try:
            b"".decode(candidate)
        except (LookupError, ValueError):
            continue
        # The codec registry also holds base64, rot13, idna...: only true text encodings.
        if _is_text_codec(candidate):
            return candidate
    return None


def _is_text_codec(name: str) -> bool:
    try:
        "a\u00e9\n".encode(name, "replace").decode(name, "replace")
    except (LookupError, UnicodeError, ValueError, TypeError):
        return False
    return True


def _decode_lenient(data: bytes, codec: str) -> str:
    try:
        return data.decode(codec, "replace")
    except (UnicodeError, ValueError, LookupError, TypeError):
        # A codec that passed _is_text_codec and still fails on these bytes.
        return data.decode("utf-8", "replace")


def _guess_decode(data: bytes, *, charset_hint: str | None) -> tuple[str, str]:
    """Decode bytes whose charset nothing reliable states. Returns (text, charset used)."""
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    hint = _codec_for(charset_hint)
    if hint is not None and hint != "utf-8":
        try:
            return data.decode(hint), hint
        except (UnicodeDecodeError, LookupError):
            pass
    # The 8-bit charsets agree on ASCII and differ on letters: the reading in which the
    # most non-ASCII bytes turn out to be letters is the likeliest (Polish ą, ł, ż are not
    # letters in windows-1252; Swedish å, ä, ö stay letters in either, and the tie goes to
    # windows-1252, listed first).
    best_text, best_codec, best_score = "", _GUESSED_CHARSETS[0], -1
    for codec in _GUESSED_CHARSETS:
        decoded = data.decode(codec, "replace")
        score = sum(1 for char in decoded if ord(char) > 127 and char.isalpha())
        if score > best_score:
            best_text, best_codec, best_score = decoded, codec, score
    return best_text, best_codec


def _decode_part_text(
    data: bytes, *, declared: str | None, charset_hint: str | None, defects: list[str], where: str
) -> str:
    if data.isascii():
        return data.decode("ascii")
    if declared is None or declared.lower() in _ASCII_NAMES:
        # 8-bit bytes under "no charset" or "us-ascii": the declaration is wrong, guess.
        text, used = _guess_decode(data, charset_hint=charset_hint)
        stated = f"charset {declared!r}" if declared else "no charset"
        defects.append(f"{where}: 8-bit text with {stated} declared, read as {used}")
        return text
    codec = _codec_for(declared)
    if codec is None:
        text, used = _guess_decode(data, charset_hint=charset_hint)
        defects.append(f"{where}: unknown charset {declared!r}, read as {used}")
        return text
    try:
        return data.decode(codec)
    except (UnicodeError, ValueError):
        defects.append(f"{where}: bytes invalid in {declared!r}, replaced")
    return _decode_lenient(data, codec)


def _decode_header_words(value: str, *, charset_hint: str | None, defects: list[str]) -> str:
    """RFC 2047 encoded words decoded the compat32 way, unknown charsets included."""
    value = _clean_text(_unfold(value), charset_hint=charset_hint)
    if "=?" not in value:
        return value
    try:
        chunks = email.header.decode_header(value)
    except Exception as error:
        defects.append(f"encoded words in {value[:40]!r}: {type(error).__name__}")
        return value
    pieces: list[str] = []
    for chunk, charset in chunks:
        if isinstance(chunk, str):
            pieces.append(chunk)
        elif charset is None:
            pieces.append(chunk.decode("raw-unicode-escape", "replace"))
        else:
            # RFC 2231 lets an encoded word carry a language: =?UTF-8*pl?Q?...?=
            declared = charset.split("*", 1)[0]
            codec = _codec_for(declared)
            if codec is None:
                defects.append(f"encoded word with unknown charset {declared!r}")
                pieces.append(_guess_decode(chunk, charset_hint=charset_hint)[0])
            else:
                pieces.append(_decode_lenient(chunk, codec))
    return _clean_text("".join(pieces))


def _unfold(value: str) -> str:
    return re.sub(r"\r?\n(?=[ \t])", "", value).replace("\r", "").replace("\n", "")


# --------------------------------------------------------------------------- headers


def _raw_header(message: Message, name: str) -> str | None:
    wanted = name.lower()
    for key, value in message.raw_items():
        if key.lower() == wanted:
            return str(value)
    return None


def _modern_policy(message: Message) -> bool:
    return message.policy is not policy.compat32


_MAX_ADDRESS_HEADER_CHARS = 16_000
_ADDRESS = re.compile(r"[^\s@<>(),;:\"\[\]\\]+@[^\s@<>(),;:\"\[\]\\]+")


def _usable_address(address: str) -> bool:
    return bool(_ADDRESS.fullmatch(address)) and not address.endswith(".")


class _HeaderReader:
    """Top-level headers, decoded with the modern policy and a compat32 fallback."""

    def __init__(self, message: Message, *, charset_hint: str | None, defects: list[str]) -> None:
        self.message = message
        self.charset_hint = charset_hint
        self._defects = defects

    def raw(self, name: str) -> str | None:
        """The unfolded value, no RFC 2047 decoding (Message-ID, Date and the like)."""
        value = _raw_header(self.message, name)
        if value is None:
            return None
        return _clean_text(_unfold(value), charset_hint=self.charset_hint).strip()

    def text(self, name: str) -> str | None:
        value = _raw_header(self.message, name)
        if value is None:
            return None
        # Raw 8-bit headers: the modern policy turns their bytes into U+FFFD, losing them.
        if _modern_policy(self.message) and not _ESCAPED_BYTES.search(value):
            decoded = _attempt(
                lambda: str(self.message.get(name, "")),
                fallback=None,
                defects=self._defects,
                what=f"{name} header",
            )
            # An encoded word in an unknown charset comes back as U+FFFD: guess instead.
            if decoded is not None and not ("\ufffd" in decoded and "=?" in value):
                return _clean_text(decoded, charset_hint=self.charset_hint)
        return _decode_header_words(value, charset_hint=self.charset_hint, defects=self._defects)

    def subject(self) -> str:
        return _one_line(self.text("Subject") or "")

    def named_addresses(self, name: str) -> list[tuple[str, str]]:
        """(display name, lower-cased address) pairs of one address header, usable only."""
        raw = _raw_header(self.message, name)
        if raw is None:
            return []
        if len(raw) > _MAX_ADDRESS_HEADER_CHARS:
            # The stdlib address parsers are slow on thousands of addresses.
            cut = raw.rfind(",", 0, _MAX_ADDRESS_HEADER_CHARS)
            raw = raw[: cut if cut > 0 else _MAX_ADDRESS_HEADER_CHARS]
            self._defects.append(f"{name} header too long, only its first addresses read")
        pairs: list[tuple[str, str]] = []
        if _modern_policy(self.message) and not _ESCAPED_BYTES.search(raw):
            pairs = _attempt(
                lambda: self._modern_addresses(name, raw),
                fallback=pairs,
                defects=self._defects,
                what=f"{name} header",
            )
        no_pairs: list[tuple[str, str]] = []
        compat_pairs = _attempt(
            lambda: self._compat_addresses(raw),
            fallback=no_pairs,
            defects=self._defects,
            what=f"{name} header (compat32)",
        )
        if not any(_usable_address(address) for _, address in pairs):
            pairs = compat_pairs
        # "MAILER-DAEMON@host (Mail Delivery System)": the name only lives in a comment,
        # which the modern parser drops and getaddresses keeps.
        comment_names = {address.lower(): display for display, address in compat_pairs}
        usable: dict[str, str] = {}  # address -> display name, in header order
        for display, address in pairs:
            address = _clean_text(address).strip().lower()
            if not _usable_address(address) or address in usable:
                continue
            display = _one_line(display).strip("\"' ") or comment_names.get(address, "")
            usable[address] = _one_line(display).strip("\"' ")
        return [(display, address) for address, display in usable.items()]

    def _modern_addresses(self, name: str, raw: str) -> list[tuple[str, str]]:
        header = policy.default.header_factory(name, _unfold(raw))
        found: list[tuple[str, str]] = []
        for address in getattr(header, "addresses", ()):
            display = _clean_text(str(address.display_name), charset_hint=self.charset_hint)
            found.append((display, str(address.addr_spec)))
        return found

    def _compat_addresses(self, raw: str) -> list[tuple[str, str]]:
        value = _clean_text(_unfold(raw), charset_hint=self.charset_hint)
        return [
            (
                _decode_header_words(
                    display, charset_hint=self.charset_hint, defects=self._defects
                ),
                address,
            )
            for display, address in email.utils.getaddresses([value])
        ]

    def addresses(self, name: str) -> list[str]:
        return [address for _, address in self.named_addresses(name)]

    def first_address(self, name: str) -> tuple[str | None, str] | None:
        found = self.named_addresses(name)
        if not found:
            return None
        display, address = found[0]
        return (display or None), address


_ID_TOKEN = re.compile(r"<(?P<inside>[^<>]*)>|(?P<bare>[^\s<>,;()]+)")


def _message_ids(value: str | None) -> list[str]:
    """Message-IDs in order, without brackets, tolerating what clients do to them: folding
    inside the brackets, missing brackets, commas between, comments around."""
    if not value:
        return []
    found: dict[str, None] = {}  # ordered and duplicate-free
    for match in _ID_TOKEN.finditer(value):
        inside, bare = match.group("inside"), match.group("bare")
        if inside is not None:
            pieces = inside.split()
            # A line fold inside the brackets splits one id; two ids in one pair of
            # brackets have an @ each.
            several = sum("@" in piece for piece in pieces) > 1
            candidates = pieces if several else ["".join(pieces)]
        elif "@" in bare:
            candidates = [bare]
        else:
            continue
        for candidate in candidates:
            candidate = candidate.strip("\"'")
            if candidate:
                found.setdefault(candidate)
    return list(found)


def _parse_date(value: str | None, *, defects: list[str]) -> datetime | None:
    if not value:
        return None
    parsed: datetime | None
    try:
        parsed = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError, OverflowError):
        parsed = None
    if parsed is None:
        try:
            parsed = datetime.fromisoformat(value)
        except ValueError:
            defects.append(f"Date header unreadable: {value[:60]!r}")
            return None
    if parsed.tzinfo is None:
        # RFC 5322 "-0000": the sender's zone is unknown, the instant is UTC.
        parsed = parsed.replace(tzinfo=UTC)
    try:
        return parsed.astimezone(UTC)
    except (OverflowError, ValueError):
        defects.append(f"Date header out of range: {value[:60]!r}")
        return None


def _primary_language(value: str | None) -> str | None:
    """'pl-PL' -> 'pl'; 'sv-SE, en' -> 'sv'."""
    if not value:
        return None
    first = re.split(r"[,;\s]", value.strip(), maxsplit=1)[0]
    primary = first.split("-", 1)[0].split("_", 1)[0].lower()
    return primary if re.fullmatch(r"[a-z]{2,3}", primary) else None


# --------------------------------------------------------------------------- MIME parts


def _compat_view(part: Message) -> Message:
    """The same part's headers with compat32 semantics: MIME parameters (RFC 2231 included)
    read from plain strings, which never raises on a malformed header."""
    view = Message(policy=policy.compat32)
    for name, value in part.raw_items():
        view[name] = str(value)
    # Inside multipart/digest a part without Content-Type is a message/rfc822.
    view.set_default_type(part.get_default_type())
    return view


def _content_type(part: Message, *, defects: list[str]) -> str:
    view = _compat_view(part)
    return _attempt(
        view.get_content_type, fallback="text/plain", defects=defects, what="Content-Type"
    )


def _param(part: Message, name: str, *, defects: list[str]) -> str:
    """A Content-Type parameter, lower-cased: charset, format, report-type..."""
    value = _param_text(
        _compat_view(part), name, header="content-type", charset_hint=None, defects=defects
    )
    return (value or "").strip().lower()


def _param_text(
    view: Message, name: str, *, header: str, charset_hint: str | None, defects: list[str]
) -> str | None:
    """A MIME parameter as text. RFC 2231 values are decoded here rather than by
    collapse_rfc2231_value, which raises on charsets such as idna."""
    value = _attempt(
        lambda: view.get_param(name, header=header), fallback=None, defects=defects, what=name
    )
    if not value:
        return None
    if isinstance(value, tuple):
        charset, _language, text = value
        raw = str(text).encode("raw-unicode-escape")
        codec = _codec_for(charset)
        if codec is None:
            return _guess_decode(raw, charset_hint=charset_hint)[0]
        return _decode_lenient(raw, codec)
    return str(value)


def _compat_payload(part: Message) -> object:
    view = _compat_view(part)
    view.set_payload(part.get_payload())
    return view.get_payload(decode=True)


def _children(part: Message) -> list[Message]:
    # Only a list payload is read: get_payload() of a leaf decodes it with the declared
    # charset, which raises on some (idna) and loses raw bytes on others.
    if not part.is_multipart():
        return []
    payload = part.get_payload()
    return [child for child in payload if isinstance(child, Message)]


def _first_declared_charset(message: Message) -> str | None:
    """The first charset any part declares: the best guess for undeclared 8-bit bytes."""
    pending = [message]
    visited = 0
    while pending and visited < 200:
        part = pending.pop(0)
        visited += 1
        if part.is_multipart():
            pending.extend(_children(part))
            continue
        charset = _param(part, "charset", defects=[])
        if charset and charset not in _ASCII_NAMES and _codec_for(charset) is not None:
            return charset
    return None


@dataclass
class _Segment:
    """One run of body: its plain text, its HTML, or both (multipart/alternative)."""

    plain: str | None = None
    html: str | None = None


@dataclass
class _MimeWalker:
    """Walks the MIME tree once: body segments out, attachments and DSN fields collected."""

    charset_hint: str | None
    linesep: str
    defects: list[str] = field(default_factory=list)
    attachments: list[MailAttachment] = field(default_factory=list)
    # One dict per block of a message/delivery-status part, lower-cased field names.
    recipient_reports: list[dict[str, str]] = field(default_factory=list)
    body_languages: list[str] = field(default_factory=list)

    def walk(self, part: Message, *, path: str = "1", depth: int = 0) -> list[_Segment]:
        if depth > _MAX_DEPTH:
            self.defects.append(f"part {path}: nested deeper than {_MAX_DEPTH}, ignored")
            return []
        segments = self._walk_part(part, path=path, depth=depth)
        # Read after decoding: bad base64 padding and the like are found only then.
        for defect in part.defects:
            self.defects.append(f"part {path}: {type(defect).__name__}")
        return segments

    def _walk_part(self, part: Message, *, path: str, depth: int) -> list[_Segment]:
        content_type = _content_type(part, defects=self.defects)
        if content_type in _ATTACHED_MESSAGE_TYPES:
            self._attach_message(part, path=path)
            return []
        if content_type in _DELIVERY_STATUS_TYPES:
            self._read_delivery_status(part, path=path)
            return []
        if part.is_multipart():
            children = _children(part)
            results = [
                self.walk(child, path=f"{path}.{number}", depth=depth + 1)
                for number, child in enumerate(children, start=1)
            ]
            if content_type == "multipart/alternative":
                return _pick_alternative(results)
            return [segment for result in results for segment in result]
        if content_type.startswith("multipart/"):
            # No boundary found: the feed parser left the whole body as one string.
            self.defects.append(f"part {path}: multipart without parts, read as text")
            content_type = "text/plain"
        return self._leaf(part, content_type=content_type, path=path)

    def _leaf(self, part: Message, *, content_type: str, path: str) -> list[_Segment]:
        view = _compat_view(part)
        disposition = _attempt(
            view.get_content_disposition, fallback=None, defects=self.defects, what="disposition"
        )
        filename = self._filename(view)
        data = self._payload_bytes(part, path=path)
        if content_type in _BODY_TYPES and disposition != "attachment" and filename is None:
            language = _primary_language(_raw_header(part, "Content-Language"))
            if language:
                self.body_languages.append(language)
            text = self._body_text(view, data, content_type=content_type, path=path)
            if content_type == "text/html":
                return [_Segment(html=text)]
            if _param(part, "format", defects=self.defects) == "flowed":
                delsp = _param(part, "delsp", defects=self.defects) == "yes"
                text = _unflow(text, delete_space=delsp)
            return [_Segment(plain=text)]
        content_id = _raw_header(part, "Content-ID")
        bare_id = _clean_text(_unfold(content_id)).strip().strip("<>").strip() if content_id else ""
        self.attachments.append(
            MailAttachment(
                filename=filename or _derived_filename(content_type),
                content_type=content_type,
                data=data,
                inline=disposition == "inline" or (disposition is None and bool(bare_id)),
                content_id=bare_id or None,
            )
        )
        return []

    def _body_text(self, view: Message, data: bytes, *, content_type: str, path: str) -> str:
        declared = _attempt(
            view.get_content_charset, fallback=None, defects=self.defects, what="charset"
        )
        if declared is None and content_type == "text/html":
            declared = _meta_charset(data)
        text = _decode_part_text(
            data,
            declared=declared,
            charset_hint=self.charset_hint,
            defects=self.defects,
            where=f"part {path}",
        )
        text = _clean_text(text).replace("\r\n", "\n").replace("\r", "\n").lstrip("\ufeff")
        if content_type == "text/html":
            return _bounded_html(text, defects=self.defects, where=f"part {path}")
        return text

    def _payload_bytes(self, part: Message, *, path: str) -> bytes:
        """The part's body with its transfer encoding undone."""
        try:
            # The part itself, not a compat32 view: without decoding, the email package
            # turns raw 8-bit bytes into text with the declared charset, losing them.
            payload = part.get_payload(decode=True)
        except Exception as error:
            self.defects.append(f"part {path} transfer encoding: {type(error).__name__}")
            payload = _attempt(
                lambda: _compat_payload(part),
                fallback=None,
                defects=self.defects,
                what=f"part {path} transfer encoding (compat32)",
            )
        return payload if isinstance(payload, bytes) else b""

    def _filename(self, view: Message) -> str | None:
        """Content-Disposition's filename, else Content-Type's name, RFC 2231 and RFC 2047
        decoded, reduced to a safe base name."""
        name = _param_text(
            view,
            "filename",
            header="content-disposition",
            charset_hint=self.charset_hint,
            defects=self.defects,
        ) or _param_text(
            view,
            "name",
            header="content-type",
            charset_hint=self.charset_hint,
            defects=self.defects,
        )
        if not name or not name.strip():
            return None
        # Outlook and others put RFC 2047 words inside the quoted parameter.
        decoded = _decode_header_words(name, charset_hint=self.charset_hint, defects=self.defects)
        return _safe_filename(decoded)

    def _attach_message(self, part: Message, *, path: str) -> None:
        view = _compat_view(part)
        inner = next(iter(_children(part)), None)
        data = b""
        subject = ""
        if inner is not None:
            data = self._message_bytes(inner, path=path)
            subject = _HeaderReader(inner, charset_hint=self.charset_hint, defects=[]).subject()
        named = self._filename(view)
        from_subject = _safe_filename(re.sub(r'[\\/:*?"<>|]+', "_", subject)[:100].strip())
        disposition = _attempt(
            view.get_content_disposition, fallback=None, defects=self.defects, what="disposition"
        )
        self.attachments.append(
            MailAttachment(
                filename=named or (f"{from_subject}.eml" if from_subject else "forwarded.eml"),
                content_type=_content_type(part, defects=self.defects),
                data=data,
                inline=disposition == "inline",
                content_id=None,
            )
        )

    def _message_bytes(self, inner: Message, *, path: str) -> bytes:
        # Faithful to the source: no refolding of headers the sender folded.
        faithful = policy.default.clone(linesep=self.linesep, refold_source="none")
        for chosen in (faithful, policy.compat32.clone(linesep=self.linesep)):
            buffer = BytesIO()
            try:
                BytesGenerator(buffer, mangle_from_=False, policy=chosen).flatten(inner)
            except Exception as error:
                self.defects.append(f"part {path}: attached mail not serialisable ({error!r})")
                continue
            return buffer.getvalue()
        return b""

    def _read_delivery_status(self, part: Message, *, path: str) -> None:
        # The feed parser splits message/delivery-status into one header block per
        # recipient; when it could not (an encoded part), the blocks are split here.
        texts: list[str] = []
        if part.is_multipart():
            for fields_part in _children(part):
                lines = [f"{name}: {value}" for name, value in fields_part.raw_items()]
                body = self._payload_bytes(fields_part, path=path).decode("ascii", "replace")
                texts.append("\n".join(lines) + "\n" + body)
        else:
            data = self._payload_bytes(part, path=path)
            texts.append(_guess_decode(data, charset_hint=self.charset_hint)[0])
        for text in texts:
            for block in re.split(r"\r?\n\s*\r?\n", _clean_text(text)):
                fields = _dsn_fields(block)
                if fields:
                    self.recipient_reports.append(fields)


def _dsn_fields(block: str) -> dict[str, str]:
    fields: dict[str, str] = {}
    last: str | None = None
    for line in block.splitlines():
        if line[:1] in (" ", "\t") and last is not None:
            fields[last] += " " + line.strip()
            continue
        name, colon, value = line.partition(":")
        if colon and re.fullmatch(r"[A-Za-z0-9-]+", name.strip()):
            last = name.strip().lower()
            fields.setdefault(last, value.strip())
    return fields


def _pick_alternative(results: list[list[_Segment]]) -> list[_Segment]:
    """text/plain wins for the text, the HTML alternative is kept for safe_html."""
    with_plain = next((r for r in results if any(s.plain is not None for s in r)), None)
    with_html = next((r for r in reversed(results) if any(s.html is not None for s in r)), None)
    if with_plain is None and with_html is None:
        return next((r for r in results if r), [])
    plain = _segments_text(with_plain, defects=[]) if with_plain is not None else None
    markup = _segments_markup(with_html) if with_html is not None else None
    return [_Segment(plain=plain, html=markup)]


def _segments_text(segments: list[_Segment], *, defects: list[str]) -> str:
    texts: list[str] = []
    for segment in segments:
        if segment.plain is not None:
            texts.append(segment.plain.strip("\n"))
        elif segment.html is not None:
            texts.append(_html_to_text(segment.html, defects=defects))
    return "\n\n".join(text for text in texts if text.strip())


def _segments_markup(segments: list[_Segment]) -> str:
    return "".join(
        segment.html if segment.html is not None else _plain_as_html(segment.plain or "")
        for segment in segments
    )


def _plain_as_html(text: str) -> str:
    return _split_long_reference_runs(f"<pre>{html.escape(text, quote=False)}</pre>")


def _segments_safe_html(segments: list[_Segment], *, defects: list[str]) -> str | None:
    if not any(segment.html is not None for segment in segments):
        return None
    return _safe_html(_segments_markup(segments), defects=defects).strip()


def _meta_charset(data: bytes) -> str | None:
    head = data[:4096].decode("ascii", "replace")
    found = re.search(r"<meta[^>]+charset\s*=\s*[\"']?\s*([A-Za-z0-9_.:-]+)", head, re.I)
    return found.group(1) if found else None


_EXTENSIONS = {
    "application/octet-stream": ".bin",
    "application/pdf": ".pdf",
    "application/zip": ".zip",
    "application/msword": ".doc",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": ".docx",
    "application/vnd.ms-excel": ".xls",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": ".xlsx",
    "application/ms-tnef": ".dat",
    "application/pkcs7-signature": ".p7s",
    "image/jpeg": ".jpg",
    "image/png": ".png",
    "image/gif": ".gif",
    "image/webp": ".webp",
    "image/heic": ".heic",
    "image/bmp": ".bmp",
    "image/tiff": ".tif",
    "audio/mpeg": ".mp3",
    "video/mp4": ".mp4",
    "text/plain": ".txt",
    "text/html": ".html",
    "text/csv": ".csv",
    "text/calendar": ".ics",
    "text/rfc822-headers": ".txt",
    "message/rfc822": ".eml",
}


def _derived_filename(content_type: str) -> str:
    """A name for an attachment that came without one: image.png, attachment.pdf..."""
    maintype = content_type.partition("/")[0]
    stem = maintype if maintype in {"image", "audio", "video"} else "attachment"
    return stem + _EXTENSIONS.get(content_type, ".bin")


def _safe_filename(name: str) -> str | None:
    """The last path component only (a sender's path is not ours to follow), printable."""
    name = _one_line(_clean_text(name))
    name = re.split(r"[\\/]", name)[-1].strip()
    name = "".join(char for char in name if char.isprintable())
    if name in {"", ".", ".."}:
        return None
    if len(name) > 200:
        stem, dot, extension = name.rpartition(".")
        name = (stem[: 200 - len(extension) - 1] + dot + extension) if dot else name[:200]
    return name


def _unflow(text: str, *, delete_space: bool) -> str:
    """RFC 3676 format=flowed: soft line breaks joined, space-stuffing removed."""
    joined: list[str] = []
    pending: str | None = None
    pending_depth = 0

    def render(depth: int, body: str) -> str:
        return (">" * depth + " " + body).rstrip() if depth else body

    for line in text.split("\n"):
        depth = len(line) - len(line.lstrip(">"))
        body = line[depth:]
        if body.startswith(" "):
            body = body[1:]
        flowed = body.endswith(" ") and body != "-- "
        if flowed and delete_space:
            body = body[:-1]
        if pending is not None and depth == pending_depth:
            pending += body
        else:
            if pending is not None:
                joined.append(render(pending_depth, pending))
            pending, pending_depth = body, depth
        if not flowed:
            joined.append(render(pending_depth, pending))
            pending = None
    if pending is not None:
        joined.append(render(pending_depth, pending))
    return "\n".join(joined)


# --------------------------------------------------------------------------- HTML


# html5ever (inside nh3) slows down with the square of the nesting depth and of the number
# of character references in one text or attribute: a megabyte of "<div>" or of "&" takes
# minutes. No mail a person writes comes near these limits.
_MAX_HTML_CHARS = 2_000_000
_MAX_HTML_NESTING = 256
_MAX_REFERENCES_PER_RUN = 500
_HTML_TOKEN = re.compile(r"(<[^<>]*>)|([^<]+)")
# Linear on any input: [^<>]* stops at the next "<", so no match attempt rescans the text.
_HTML_TAG = re.compile(r"<(/?)([A-Za-z][A-Za-z0-9:-]*)[^<>]*>")
_VOID_ELEMENTS = frozenset(
    {
        "area",
        "base",
        "br",
        "col",
        "embed",
        "hr",
        "img",
        "input",
        "link",
        "meta",
        "param",
        "source",
        "track",
        "wbr",
    }
)
# An open one of these is closed by the next of its kind (<p>a<p>b are siblings).
_SELF_CLOSING_SIBLINGS = frozenset({"p", "li", "td", "th", "tr", "dt", "dd", "option"})
_LINE_BREAKING_ELEMENTS = frozenset({"br", "p", "div", "li", "tr", "blockquote", "table"})


def _bounded_html(markup: str, *, defects: list[str], where: str) -> str:
    if len(markup) > _MAX_HTML_CHARS:
        defects.append(f"{where}: HTML longer than {_MAX_HTML_CHARS} characters, cut")
        markup = markup[:_MAX_HTML_CHARS]
    if _nesting_exceeds(markup, limit=_MAX_HTML_NESTING):
        defects.append(f"{where}: HTML nested deeper than {_MAX_HTML_NESTING}, tags dropped")
        markup = _HTML_TAG.sub(
            lambda tag: "<br>" if tag.group(2).lower() in _LINE_BREAKING_ELEMENTS else "",
            markup,
        )
    return _split_long_reference_runs(markup)


def _split_long_reference_runs(markup: str) -> str:
    if markup.count("&") <= _MAX_REFERENCES_PER_RUN:
        return markup
    return _HTML_TOKEN.sub(_split_reference_runs, markup)


def _split_reference_runs(token: re.Match[str]) -> str:
    tag, text = token.group(1), token.group(2)
    if tag is not None:
        if tag.count("&") <= _MAX_REFERENCES_PER_RUN:
            return tag
        # An attribute full of references is an attack: the bare tag will do.
        bare = _HTML_TAG.match(tag)
        return f"<{bare.group(1)}{bare.group(2)}>" if bare else ""
    if text.count("&") <= _MAX_REFERENCES_PER_RUN:
        return text
    # <wbr> ends html5ever's text run without changing what is shown.
    pieces = text.split("&")
    return "&".join(
        piece + ("<wbr>" if index % _MAX_REFERENCES_PER_RUN == 0 else "")
        for index, piece in enumerate(pieces, start=1)
    )


def _nesting_exceeds(markup: str, *, limit: int) -> bool:
    """Whether elements open inside each other deeper than `limit`, roughly as a browser
    would count them (end tags close up to their element, stray ones are ignored)."""
    open_elements: list[str] = []
    for tag in _HTML_TAG.finditer(markup):
        closing, name = tag.group(1), tag.group(2).lower()
        if name in _VOID_ELEMENTS:
            continue
        if closing or name in _SELF_CLOSING_SIBLINGS:
            if name in open_elements:
                del open_elements[len(open_elements) - 1 - open_elements[::-1].index(name) :]
            if closing:
                continue
        open_elements.append(name)
        if len(open_elements) > limit:
            return True
    return False


class _HtmlToText(HTMLParser):
    """Readable text from mail HTML that nh3 has already made well-formed and rid of
    invisible content: blocks and <br> become line breaks, list items get a dash,
    blockquotes a `>` (so strip_quoted can drop them)."""

    # Start a new line.
    _LINES = frozenset(
        {
            "div",
            "dt",
            "dd",
            "tr",
            "hr",
            "section",
            "article",
            "header",
            "footer",
            "nav",
            "aside",
            "main",
            "address",
            "center",
            "form",
            "fieldset",
            "figure",
            "figcaption",
            "caption",
        }
    )
    # Stand apart from what is around them, with a blank line.
    _PARAGRAPHS = frozenset({"p", "ul", "ol", "dl", "table", "h1", "h2", "h3", "h4", "h5", "h6"})

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        # (blockquote depth, text) per output line
        self._lines: list[tuple[int, str]] = []
        self._current: list[str] = []
        self._quote_depth = 0
        self._pre_depth = 0
        # Per open <p>: is it one of Word's line-like paragraphs?
        self._open_paragraphs: list[bool] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "br":
            self._end_line(force=True)
        elif tag == "li":
            self._end_line()
            self._current.append("- ")
        elif tag == "blockquote":
            self._end_line()
            self._quote_depth += 1
        elif tag == "pre":
            self._end_paragraph()
            self._pre_depth += 1
        elif tag in {"td", "th"}:
            self._current.append(" ")
        elif tag == "p":
            # Word's paragraphs have no margin: Outlook writes one per line.
            word_line = "MsoNormal" in (dict(attrs).get("class") or "")
            self._open_paragraphs.append(word_line)
            if word_line:
                self._end_line()
            else:
                self._end_paragraph()
        elif tag in self._PARAGRAPHS:
            self._end_paragraph()
        elif tag in self._LINES:
            self._end_line()

    def handle_endtag(self, tag: str) -> None:
        if tag == "blockquote":
            self._end_line()
            self._quote_depth = max(0, self._quote_depth - 1)
        elif tag == "pre":
            self._end_paragraph()
            self._pre_depth = max(0, self._pre_depth - 1)
        elif tag == "p" and self._open_paragraphs and self._open_paragraphs.pop():
            self._end_line()
        elif tag in self._PARAGRAPHS:
            self._end_paragraph()
        elif tag in self._LINES or tag == "li":
            self._end_line()

    def handle_data(self, data: str) -> None:
        if self._pre_depth:
            *complete, rest = data.replace("\r\n", "\n").split("\n")
            for piece in complete:
                self._current.append(piece)
                self._end_line(force=True)
            self._current.append(rest)
        else:
            self._current.append(re.sub(r"[ \t\r\n\f]+", " ", data))

    def text(self) -> str:
        self._end_line()
        rendered: list[str] = []
        for depth, content in self._lines:
            prefix = "> " * depth
            rendered.append((prefix + content) if content else prefix.rstrip())
        return re.sub(r"\n{3,}", "\n\n", "\n".join(rendered)).strip("\n")

    def _end_paragraph(self) -> None:
        self._end_line()
        if self._lines and self._lines[-1][1]:
            self._lines.append((self._quote_depth, ""))

    def _end_line(self, *, force: bool = False) -> None:
        raw = "".join(self._current)
        self._current = []
        content = raw.replace("\xa0", " ")
        content = content.rstrip() if self._pre_depth else re.sub(" {2,}", " ", content).strip()
        # Source indentation between tags is no line; an &nbsp; paragraph (Outlook's blank
        # line) and a <br> are.
        if content or force or "\xa0" in raw:
            self._lines.append((self._quote_depth, content))


def _html_to_text(markup: str, *, defects: list[str]) -> str:
    converter = _HtmlToText()
    try:
        # html5ever (inside nh3) first: it is linear on any input and hands html.parser
        # well-formed markup, on which html.parser is linear too (on raw "<a<a<a..." it is
        # quadratic). Word's line-like paragraphs keep their class for the converter.
        normalised = nh3.clean(
            markup,
            clean_content_tags=set(_HTML_DROPPED_WITH_CONTENT),
            allowed_classes={"p": {"MsoNormal"}},
        )
        converter.feed(normalised)
        converter.close()
        return converter.text()
    except Exception as error:
        defects.append(f"HTML not parseable ({type(error).__name__}), tags stripped")
        return _one_line(html.unescape(re.sub(r"<[^<>]*>", " ", markup)))


# Removed together with everything inside them, not just unwrapped.
_HTML_DROPPED_WITH_CONTENT = frozenset(
    {
        "script",
        "style",
        "head",
        "title",
        "template",
        "noscript",
        "iframe",
        "object",
        "embed",
        "svg",
        "math",
    }
)
# cid: must pass the scheme filter for inline images to keep their reference.
_HTML_URL_SCHEMES = frozenset({"http", "https", "mailto", "tel", "cid"})


def _keep_embedded_images_only(tag: str, attribute: str, value: str) -> str | None:
    # A remote image is a read receipt the sender did not ask us for (tracking pixels).
    if tag == "img" and attribute == "src" and not value.strip().lower().startswith("cid:"):
        return None
    return value


def _safe_html(markup: str, *, defects: list[str]) -> str:
    try:
        return nh3.clean(
            markup,
            clean_content_tags=set(_HTML_DROPPED_WITH_CONTENT),
            attribute_filter=_keep_embedded_images_only,
            url_schemes=set(_HTML_URL_SCHEMES),
            link_rel="noopener noreferrer",
        )
    except Exception as error:
        defects.append(f"HTML not sanitisable ({type(error).__name__}), shown as text")
        return f"<pre>{html.escape(_html_to_text(markup, defects=defects))}</pre>"


# --------------------------------------------------------------------------- classification


@dataclass(frozen=True)
class _Verdict:
    kind: MailKind
    failed_recipients: list[str] = field(default_factory=list)
    failure_reason: str | None = None


_MAILER_DAEMONS = frozenset({"mailer-daemon", "mailer_daemon", "mailerdaemon", "mail-daemon"})
_MAIL_SYSTEM_LOCAL_PARTS = _MAILER_DAEMONS | {"postmaster"}
_BOUNCE_SUBJECT = re.compile(
    r"undeliver|not (?:be )?delivered|delivery (?:status notification \(failure\)|failure|"
    r"failed|has failed|incomplete)|mail delivery failed|returned mail|failure notice|"
    r"niedostarcz|nie (?:można|może zostać|została?|zostało) dostarcz|"
    r"kunde inte levereras|olevererbar|ej levererat|icke levererbar",
    re.IGNORECASE,
)
# Alone, any of these marks a mail robot.
_AUTO_PRECEDENCE = frozenset({"bulk", "junk", "list", "auto_reply", "auto-reply"})
_AUTO_FLAG_HEADERS = (
    "X-Autoreply",
    "X-Autorespond",
    "X-Autoresponder",
    "X-Autoreply-From",
    "X-Mail-Autoreply",
    "X-MS-Exchange-Generated-Message-Source",
)
# Only together with an auto-reply phrase in the subject.
_AUTO_HINT_HEADERS = (
    "X-Auto-Response-Suppress",
    "X-MS-Exchange-Inbox-Rules-Loop",
    "X-Autogenerated",
)
# The prefixes clients put on auto replies: a person does not type these.
_AUTO_SUBJECT_PREFIX = re.compile(
    r"^\s*(?:(?:auto(?:matic)?[- ]?reply|autosvar|automatiskt svar|automatyczna odpowiedź|"
    r"odpowiedź automatyczna|out of office(?: autoreply)?|abwesenheitsnotiz|"
    r"réponse automatique)\s*:|out of office reply\b)",
    re.IGNORECASE,
)
_AUTO_SUBJECT_PHRASE = re.compile(
    r"out of (?:the )?office|auto(?:matic)?[- ]?reply|autosvar|automatiskt svar|frånvar|"
    r"automatyczna odpowiedź|odpowiedź automatyczna|nieobecn|vacation|urlop|semester",
    re.IGNORECASE,
)
_BOUNCED_ADDRESS_IN_TEXT = (
    # qmail: "<jan@example.com>:" opening a paragraph
    re.compile(r"^<([^<>\s@]+@[^<>\s@]+)>:", re.MULTILINE),
    # Exchange / Outlook.com: "Your message to jan@example.com couldn't be delivered."
    re.compile(
        r"message to <?([^\s<>@]+@[^\s<>@]+)>? (?:couldn't|could not|can't|cannot) be delivered",
        re.IGNORECASE,
    ),
    # Gmail: "Your message wasn't delivered to jan@example.com because..."
    re.compile(r"wasn't delivered to <?([^\s<>@]+@[^\s<>@]+)", re.IGNORECASE),
    # Exim: the failed address indented on its own line, the SMTP error below it
    re.compile(r"^ {2}([^\s<>@]+@[^\s<>@]+)\n {4}\S", re.MULTILINE),
)


def _classify(
    *,
    headers: _HeaderReader,
    top_content_type: str,
    report_type: str,
    from_address: str,
    subject: str,
    recipient_reports: list[dict[str, str]],
    text: str,
) -> _Verdict:
    local_part = from_address.rpartition("@")[0]
    from_mail_system = local_part in _MAIL_SYSTEM_LOCAL_PARTS or local_part.startswith(
        "microsoftexchange"
    )
    recipient_blocks = [block for block in recipient_reports if _dsn_recipient(block)]
    failed_blocks = [block for block in recipient_blocks if _dsn_failed(block)]

    if top_content_type == "multipart/report" and report_type == "disposition-notification":
        return _Verdict(MailKind.AUTO_REPLY)  # a read receipt
    is_dsn = top_content_type == "multipart/report" and report_type in {
        "delivery-status",
        "global-delivery-status",
    }
    failure_shape = bool(
        headers.raw("X-Failed-Recipients") or failed_blocks or _BOUNCE_SUBJECT.search(subject)
    )
    is_bounce = (
        is_dsn
        or headers.raw("X-MS-Exchange-Message-Is-Ndr") is not None
        or (from_mail_system and failure_shape)
    )
    if is_bounce:
        if recipient_blocks and not failed_blocks:
            # "Delayed" or "delivered" notices: the address still works, nobody to answer.
            return _Verdict(MailKind.AUTO_REPLY)
        return _bounce_verdict(headers=headers, failed_blocks=failed_blocks, text=text)

    if local_part in _MAILER_DAEMONS:
        return _Verdict(MailKind.AUTO_REPLY)
    if _looks_automatic(headers=headers, subject=subject):
        return _Verdict(MailKind.AUTO_REPLY)
    return _Verdict(MailKind.MESSAGE)


def _looks_automatic(*, headers: _HeaderReader, subject: str) -> bool:
    auto_submitted = (headers.raw("Auto-Submitted") or "").split(";")[0].strip().lower()
    if auto_submitted and auto_submitted != "no":
        return True
    if (headers.raw("Precedence") or "").strip().lower() in _AUTO_PRECEDENCE:
        return True
    for name in _AUTO_FLAG_HEADERS:
        value = headers.raw(name)
        if value is not None and value.strip().lower() not in {"no", "false", "0"}:
            return True
    suppress = {
        token.lower()
        for token in re.split(r"[\s,]+", headers.raw("X-Auto-Response-Suppress") or "")
    }
    if suppress & {"all", "oof", "autoreply"}:
        return True
    if _AUTO_SUBJECT_PREFIX.search(subject):
        return True
    hinted = headers.raw("Return-Path") == "<>" or any(
        headers.raw(name) is not None for name in _AUTO_HINT_HEADERS
    )
    return hinted and bool(_AUTO_SUBJECT_PHRASE.search(subject))


def _dsn_recipient(block: dict[str, str]) -> str | None:
    for name in ("final-recipient", "original-recipient"):
        value = block.get(name, "")
        address = value.rpartition(";")[2].strip().strip("<>").strip().lower()
        if _usable_address(address):
            return address
    return None


def _dsn_failed(block: dict[str, str]) -> bool:
    action = block.get("action", "").strip().lower()
    if action:
        return action == "failed"
    return block.get("status", "").strip().startswith("5")


def _bounce_verdict(
    *, headers: _HeaderReader, failed_blocks: list[dict[str, str]], text: str
) -> _Verdict:
    recipients: dict[str, None] = {}  # ordered and duplicate-free
    for block in failed_blocks:
        address = _dsn_recipient(block)
        if address:
            recipients.setdefault(address)
    if not recipients:
        for token in re.split(r"[\s,;]+", headers.raw("X-Failed-Recipients") or ""):
            address = token.strip("<>").lower()
            if _usable_address(address):
                recipients.setdefault(address)
    if not recipients:
        for pattern in _BOUNCED_ADDRESS_IN_TEXT:
            for match in pattern.finditer(text):
                address = match.group(1).rstrip(".,;:").lower()
                if _usable_address(address):
                    recipients.setdefault(address)
    return _Verdict(
        MailKind.BOUNCE,
        failed_recipients=list(recipients),
        failure_reason=_failure_reason(failed_blocks),
    )


def _failure_reason(failed_blocks: list[dict[str, str]]) -> str | None:
    for block in failed_blocks:
        diagnostic = block.get("diagnostic-code", "")
        if diagnostic:
            # "smtp; 550 5.1.1 ...": the type before the semicolon says nothing to a person.
            kind, semicolon, rest = diagnostic.partition(";")
            return _one_line(rest if semicolon and " " not in kind.strip() else diagnostic) or None
    for block in failed_blocks:
        if block.get("status", "").strip():
            return f"status {block['status'].strip()}"
    return None


# --------------------------------------------------------------------------- quoted history

# "..., X wrote:" in English and Polish; Swedish and German put the verb before the name:
# "Den 3 nov. 2026 kl. 10:00 skrev X <x@y>:". Apple Mail in Polish says neither.
_ATTRIBUTION = re.compile(
    r"(?:\b(?:wrote|writes|napisał\(a\)|napisała?|pisze|a\s+écrit)\s*:"
    r"|\b(?:skrev|schrieb)\b.*:"
    r"|^wiadomość napisana przez\b.*:)\s*$",
    re.IGNORECASE,
)
# How an attribution that the client wrapped over two lines begins.
_ATTRIBUTION_OPENING = re.compile(
    r"^(?:On|W dniu|Dnia|Den|Am|Le)\s|^\S{2,6}\.?,?\s+\d|^\d", re.IGNORECASE
)
_HISTORY_SEPARATOR = re.compile(
    r"^\s*-{2,}\s*(?:original message|forwarded message|wiadomość oryginalna|"
    r"oryginalna wiadomość|wiadomość przekazana dalej|przekazana wiadomość|"
    r"ursprungligt meddelande|originalmeddelande|vidarebefordrat meddelande|"
    r"ursprüngliche nachricht|weitergeleitete nachricht)\s*-{2,}\s*$"
    r"|^\s*(?:begin forwarded message|början på vidarebefordrat brev|"
    r"początek przekazywanej wiadomości|początek przekazanej wiadomości)\s*:\s*$",
    re.IGNORECASE,
)
_RULE_LINE = re.compile(r"^\s*[_\-=]{10,}\s*$")
_SIGNATURE_SEPARATOR = re.compile(r"^-- ?$")
_HEADER_FROM = re.compile(r"^\s*\*?(?:From|Od|Från|Von|De)\s*:\*?\s*\S", re.IGNORECASE)
_HEADER_FIELD = re.compile(
    r"^\s*\*?(?P<name>Sent|Date|To|Cc|Subject|Wysłane|Wysłano|Data|Do|DW|Temat|Skickat|"
    r"Datum|Till|Kopia|Ämne|Gesendet|An|Betreff)\s*:",
    re.IGNORECASE,
)
_MOBILE_FOOTER = re.compile(
    r"(?:sent|get|envoyé)\s+(?:from|with|via|de)\s+(?:my\s+|mon\s+)?"
    r"(?:iphone|ipad|android|samsung|galaxy|huawei|xiaomi|pixel|mobile|phone|smartphone|"
    r"tablet|blackberry|outlook|mail|yahoo|gmail|aol|proton)\b.{0,50}"
    r"|get\s+outlook\s+for\s+\S+.{0,30}"
    r"|wysłan[eo]\s+z\s+(?:mojego\s+|mojej\s+)?(?:iphone|ipad|telefon|smartfon|samsung|galaxy|"
    r"huawei|xiaomi|android|aplikacj|poczt|outlook|gmail|urządzeni|tablet)\S*.{0,50}"
    r"|pobierz\s+(?:aplikację\s+)?outlook\s+dla\s+\S+.{0,30}"
    r"|skickat\s+från\s+(?:min\s+|mitt\s+)?(?:iphone|ipad|android|samsung|galaxy|mobil|"
    r"telefon|outlook|mail|e-post|yahoo|gmail)\S*.{0,50}"
    r"|hämta\s+outlook\s+för\s+\S+.{0,30}",
    re.IGNORECASE,
)


def _is_quote_line(line: str) -> bool:
    return line.startswith(">") or line.startswith(" >")


def _next_non_blank(lines: list[str], start: int) -> int | None:
    for index in range(start, len(lines)):
        if lines[index].strip():
            return index
    return None


def _is_attribution(candidate: str) -> bool:
    candidate = candidate.strip()
    return (
        len(candidate) <= 300
        and bool(_ATTRIBUTION.search(candidate))
        and (any(char.isdigit() for char in candidate) or "@" in candidate)
    )


def _attribution_length(lines: list[str], index: int) -> int:
    """1 or 2 when an "On ..., X wrote:" line (maybe wrapped in two) starts at index."""
    line = lines[index].strip()
    if not line:
        return 0
    if _is_attribution(line):
        return 1
    if (
        index + 1 < len(lines)
        and _ATTRIBUTION_OPENING.search(line)
        and not _is_quote_line(lines[index + 1])
        and _is_attribution(f"{line} {lines[index + 1].strip()}")
    ):
        return 2
    return 0


def _is_header_block(lines: list[str], index: int) -> bool:
    """Outlook's "From: / Sent: / To: / Subject:" block, in any of our languages."""
    if not _HEADER_FROM.match(lines[index]):
        return False
    seen: set[str] = set()
    for line in lines[index + 1 : index + 8]:
        if match := _HEADER_FIELD.match(line):
            seen.add(match.group("name").lower())
    return len(seen) >= 2


def _history_starts_at(lines: list[str], index: int) -> bool:
    line = lines[index]
    if _SIGNATURE_SEPARATOR.match(line) or _HISTORY_SEPARATOR.match(line):
        return True
    if _is_header_block(lines, index):
        return True
    if _RULE_LINE.match(line):
        following = _next_non_blank(lines, index + 1)
        return following is not None and _is_header_block(lines, following)
    return False


def _drop_trailing_footers(lines: list[str]) -> None:
    # Only at the very end: "Sent from my iPhone" mid-text is somebody's sentence.
    while lines:
        last = lines[-1].strip()
        if not last:
            lines.pop()
            continue
        # Footers are short; the length check also keeps the regexes linear.
        if len(last) > 160:
            break
        last = re.sub(r"\s*<[^<>]*>$", "", last).rstrip(".")
        if not _MOBILE_FOOTER.fullmatch(last):
            break
        lines.pop()
