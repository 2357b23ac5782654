"""M literal values: M literal text ⇄ Python value (the reader's text literals and quoted names,
stage ②'s parameter rewrite).

Decoding covers what a parameter can hold: text (with ``""`` and ``#(…)`` escapes), numbers
(decimal, hex, ``#infinity``, ``#nan``, a leading sign), logicals, ``null`` and the intrinsic
constructors ``#date``, ``#datetime``, ``#datetimezone``, ``#time``, ``#duration``, ``#binary``.
Encoding (:func:`format_literal`) writes the literal a type needs and refuses a value that does not fit.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import math
import re
import sys

from dataflow_gitops.pipeline.definition.mlang import nodes

_NAMED_ESCAPES = {"cr": "\r", "lf": "\n", "tab": "\t", "#": "#"}
_ESCAPE = re.compile(r"#\(([^()]*)\)")

TYPE_NAMES = (
    "text",
    "number",
    "logical",
    "date",
    "datetime",
    "datetimezone",
    "time",
    "duration",
    "binary",
    "any",
)


class NotALiteral(ValueError):
    """The expression is not a constant M literal."""


def number_value(text: str) -> int | float:
    if text == "#infinity":
        return math.inf
    if text == "#nan":
        return math.nan
    try:
        if text[:2] in ("0x", "0X"):
            return int(text, 16)
        if text.isdigit() and text.isascii():
            return int(text)
    except ValueError:
        # Past 4300 digits Python refuses int() (CVE-2020-10735); M numbers are doubles anyway.
        return float("inf")
    return float(text)


def value_of(node: nodes.Node) -> object:
    """The Python value of a constant literal expression; :class:`NotALiteral` otherwise."""
    if isinstance(node, nodes.Literal):
        return node.value
    if isinstance(node, nodes.Unary) and node.op in "+-" and isinstance(node.operand, nodes.Literal):
        number = node.operand.value
        if node.operand.kind == "number" and isinstance(number, int | float):
            return -number if node.op == "-" else number
    if (
        isinstance(node, nodes.Invoke)
        and isinstance(node.target, nodes.Identifier)
        and node.target.name.startswith("#")
    ):
        args = [value_of(a) for a in node.arguments]
        return _construct(node.target.name, args)
    raise NotALiteral("not a literal")


def _ints(args: list[object], count: int, what: str) -> list[int]:
    if len(args) != count or not all(isinstance(a, int) and not isinstance(a, bool) for a in args):
        raise NotALiteral(f"{what} takes {count} whole numbers")
    return [a for a in args if isinstance(a, int)]


def _seconds(value: object) -> tuple[int, int]:
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value < 60:
        raise NotALiteral("seconds must be a number from 0 to 60")
    whole = int(value)
    return whole, round((value - whole) * 1_000_000)


def _construct(name: str, args: list[object]) -> object:
    try:
        if name == "#date":
            y, m, d = _ints(args, 3, name)
            return dt.date(y, m, d)
        if name in ("#datetime", "#datetimezone"):
            count = 6 if name == "#datetime" else 8
            if len(args) != count:
                raise NotALiteral(f"{name} takes {count} numbers")
            y, mo, d, h, mi = _ints(args[:5], 5, name)
            s, us = _seconds(args[5])
            tz = None
            if name == "#datetimezone":
                oh, om = _ints(args[6:], 2, name)
                sign = -1 if oh < 0 or (oh == 0 and om < 0) else 1
                tz = dt.timezone(sign * dt.timedelta(hours=abs(oh), minutes=abs(om)))
            return dt.datetime(y, mo, d, h, mi, s, us, tzinfo=tz)
        if name == "#time":
            if len(args) != 3:
                raise NotALiteral("#time takes 3 numbers")
            h, mi = _ints(args[:2], 2, name)
            s, us = _seconds(args[2])
            return dt.time(h, mi, s, us)
        if name == "#duration":
            if len(args) != 4 or not all(
                isinstance(a, int | float) and not isinstance(a, bool) for a in args
            ):
                raise NotALiteral("#duration takes 4 numbers")
            days, hours, minutes, seconds = (float(a) for a in args if isinstance(a, int | float))
            return dt.timedelta(days=days, hours=hours, minutes=minutes, seconds=seconds)
        if name == "#binary" and len(args) == 1 and isinstance(args[0], str):
            return base64.b64decode(args[0], validate=True)
    except (ValueError, binascii.Error, OverflowError) as exc:
        raise NotALiteral(str(exc)) from exc
    raise NotALiteral(f"{name}(…) is not a constant literal")


def type_of_value(value: object) -> str:
    """The M type name a Python value naturally has (for parameters that declare no Type)."""
    if isinstance(value, bool):
        return "logical"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "text"
    if isinstance(value, dt.datetime):
        return "datetimezone" if value.tzinfo is not None else "datetime"
    if isinstance(value, dt.date):
        return "date"
    if isinstance(value, dt.time):
        return "time"
    if isinstance(value, dt.timedelta):
        return "duration"
    if isinstance(value, bytes):
        return "binary"
    return "any"


# -- encoding -----------------------------------------------------------------------------------


def unescape_quoted(raw: str) -> str:
    """The value of a ``"…"`` literal or ``#"…"`` identifier: quotes off, ``""`` and ``#(…)`` decoded."""
    body = raw[2:-1] if raw[0] == "#" else raw[1:-1]
    if '"' in body:
        body = body.replace('""', '"')
    return decode_text(body) if "#(" in body else body


def decode_text(body: str) -> str:
    """The value of a text literal's body (quotes removed, ``""`` already undoubled)."""

    def one(match: re.Match[str]) -> str:
        out = []
        for item in match.group(1).split(","):
            item = item.strip()
            if item in _NAMED_ESCAPES:
                out.append(_NAMED_ESCAPES[item])
            elif (
                len(item) in (4, 8)
                and all(c in "0123456789abcdefABCDEF" for c in item)
                and int(item, 16) <= sys.maxunicode
            ):
                out.append(chr(int(item, 16)))
            else:
                return match.group(0)  # not an escape sequence: the characters stand as written
        return "".join(out)

    return _ESCAPE.sub(one, body)


def quote_text(value: str) -> str:
    """A text literal for ``value``: ``""`` for quotes, ``#(…)`` for control characters and ``#(``."""
    out = []
    for i, ch in enumerate(value):
        if ch == '"':
            out.append('""')
        elif ch == "#" and value.startswith("(", i + 1):
            # `#(` would start an escape sequence when read back: write this `#` as `#(#)`.
            out.append("#(#)")
        elif ch == "\r":
            out.append("#(cr)")
        elif ch == "\n":
            out.append("#(lf)")
        elif ch == "\t":
            out.append("#(tab)")
        elif ord(ch) < 0x20 or ch in "\x7f\x85\u2028\u2029":
            out.append(f"#({ord(ch):04X})")
        else:
            out.append(ch)
    return '"' + "".join(out) + '"'


def _shown(value: object, limit: int = 40) -> str:
    text = repr(value)
    return text if len(text) <= limit else f"{text[: limit - 5]}…' ({len(text) - 2} characters)"


def _number(value: object) -> str:
    if isinstance(value, str):
        try:
            value = int(value.strip()) if value.strip().lstrip("+-").isdigit() else float(value)
        except ValueError:
            raise ValueError(f"{_shown(value)} is not a number") from None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f"{_shown(value)} is not a number")
    if isinstance(value, float):
        if math.isnan(value):
            return "#nan"
        if math.isinf(value):
            return "#infinity" if value > 0 else "-#infinity"
        if value.is_integer() and abs(value) < 1e16:
            return str(int(value))
        return repr(value)
    return str(value)


def _seconds_text(seconds: int, micro: int) -> str:
    return str(seconds) if not micro else f"{seconds}.{micro:06d}".rstrip("0")


def _parse_iso(value: object, kind: type[dt.date] | type[dt.time]) -> object:
    if isinstance(value, str):
        text = value.strip().replace("Z", "+00:00")
        try:
            return kind.fromisoformat(text)
        except ValueError:
            raise ValueError(f"{value!r} is not an ISO {kind.__name__}") from None
    return value


_ISO_DURATION = re.compile(
    r"(?P<sign>-)?P(?:(?P<w>\d+(?:\.\d+)?)W)?(?:(?P<d>\d+(?:\.\d+)?)D)?"
    r"(?:T(?:(?P<h>\d+(?:\.\d+)?)H)?(?:(?P<m>\d+(?:\.\d+)?)M)?(?:(?P<s>\d+(?:\.\d+)?)S)?)?"
)
# Duration.ToText's form: [-][d.]hh:mm:ss[.fffffff]
_M_DURATION = re.compile(r"(?P<sign>-)?(?:(?P<d>\d+)\.)?(?P<h>\d+):(?P<m>\d+):(?P<s>\d+(?:\.\d+)?)")


def _parse_duration(text: str) -> dt.timedelta:
    """ISO 8601 (``PT12H``, ``P1DT30M``) or M's own ``d.hh:mm:ss`` (``1.02:00:00``)."""
    stripped = text.strip()
    iso = _ISO_DURATION.fullmatch(stripped)
    if iso and any(iso.group(k) for k in "wdhms"):
        parts = {k: float(iso.group(k) or 0) for k in "wdhms"}
        span = dt.timedelta(
            weeks=parts["w"], days=parts["d"], hours=parts["h"], minutes=parts["m"], seconds=parts["s"]
        )
        return -span if iso.group("sign") else span
    clock = _M_DURATION.fullmatch(stripped)
    if clock:
        span = dt.timedelta(
            days=int(clock.group("d") or 0),
            hours=int(clock.group("h")),
            minutes=int(clock.group("m")),
            seconds=float(clock.group("s")),
        )
        return -span if clock.group("sign") else span
    raise ValueError(f"{text!r} is not a duration (write it as PT12H or 0.12:00:00)")


def format_literal(value: object, type_name: str) -> str:
    """The M literal for ``value`` as a parameter of M type ``type_name``.

    Strings are accepted for every type but binary (overlay values may come from ``${env:…}``):
    ``"42"`` for a number, ``"true"`` for a logical, ISO 8601 for dates, times and durations
    (``PT12H``; also M's ``1.02:00:00``). Raises ``ValueError`` when the value does not fit the type.
    """
    if type_name == "any":
        if value is None:
            return "null"
        type_name = type_of_value(value)
        if type_name == "any":
            raise ValueError(f"{value!r} has no M literal form")
    if type_name == "text":
        if isinstance(value, dt.date | dt.time):
            return quote_text(value.isoformat())  # YAML reads `Release: 2024-01-01` as a date
        if isinstance(value, bool) or value is None or not isinstance(value, str | int | float):
            raise ValueError(f"{value!r} is not text")
        return quote_text(value if isinstance(value, str) else _number(value))
    if type_name == "number":
        return _number(value)
    if type_name == "logical":
        if isinstance(value, str) and value.strip().lower() in ("true", "false"):
            return value.strip().lower()
        if not isinstance(value, bool):
            raise ValueError(f"{value!r} is not true or false")
        return "true" if value else "false"
    if type_name == "date":
        value = _parse_iso(value, dt.date)
        if isinstance(value, dt.datetime) or not isinstance(value, dt.date):
            raise ValueError(f"{value!r} is not a date")
        return f"#date({value.year}, {value.month}, {value.day})"
    if type_name in ("datetime", "datetimezone"):
        value = _parse_iso(value, dt.datetime)
        if type(value) is dt.date and type_name == "datetime":
            value = dt.datetime(value.year, value.month, value.day)  # YAML reads 2024-01-01 as a date
        if not isinstance(value, dt.datetime) or (value.tzinfo is None) != (type_name == "datetime"):
            zone = "without" if type_name == "datetime" else "with"
            raise ValueError(f"{value!r} is not a {type_name} ({zone} a time zone)")
        head = (
            f"{value.year}, {value.month}, {value.day}, {value.hour}, {value.minute}, "
            f"{_seconds_text(value.second, value.microsecond)}"
        )
        if type_name == "datetime":
            return f"#datetime({head})"
        offset = value.utcoffset() or dt.timedelta()
        minutes = int(offset.total_seconds()) // 60
        sign = -1 if minutes < 0 else 1
        return f"#datetimezone({head}, {sign * (abs(minutes) // 60)}, {sign * (abs(minutes) % 60)})"
    if type_name == "time":
        value = _parse_iso(value, dt.time)
        if not isinstance(value, dt.time) or value.tzinfo is not None:
            raise ValueError(f"{value!r} is not a time of day")
        return f"#time({value.hour}, {value.minute}, {_seconds_text(value.second, value.microsecond)})"
    if type_name == "duration":
        if isinstance(value, str):
            value = _parse_duration(value)
        if not isinstance(value, dt.timedelta):
            raise ValueError(f"{value!r} is not a duration")
        minus = "-" if value < dt.timedelta() else ""
        span = abs(value)
        hours, rest = divmod(span.seconds, 3600)
        minutes, seconds = divmod(rest, 60)
        parts = [str(span.days), str(hours), str(minutes), _seconds_text(seconds, span.microseconds)]
        return "#duration(" + ", ".join(minus + p if p != "0" else p for p in parts) + ")"
    if type_name == "binary":
        if not isinstance(value, bytes):
            raise ValueError(f"{value!r} is not binary")
        return f'#binary("{base64.b64encode(value).decode("ascii")}")'
    raise ValueError(f"unknown M type {type_name!r}; expected one of {', '.join(TYPE_NAMES)}")
