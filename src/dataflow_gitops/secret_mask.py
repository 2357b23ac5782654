"""Secret masking: text → text with every ``${env:NAME}`` value as its reference.

A leaf module (it imports nothing of the package), so the CLI's output boundary can load it at
start-up without the whole config layer.


A value substituted into an overlay from ``${env:NAME}`` is a secret wherever it flows: into a
display name through a template, a description, the ``api:`` URL of a ``-v`` request line, an
error message that quotes it (``no workspace named '…'``), a plan, a record. :func:`mask` is the
one function that hides such values; every boundary calls it, with the values it knows
(``secrets``) or, at the CLI's output streams and logs, with every value substituted in this
process (:func:`remember` is called by the substitution itself, like GitHub Actions'
``add-mask``).

Remembered values shorter than :data:`MIN_LENGTH` are not masked in the CLI's free text:
replacing every ``7`` of an output would hide nothing and garble everything. Values given
explicitly (a plan file's payloads) are masked whatever their length, so they round-trip.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Mapping

MIN_LENGTH = 4

_lock = threading.Lock()
_known: dict[str, str] = {}
"""value → variable name, for every substitution made in this process."""


def reference(name: str) -> str:
    return "${env:" + name + "}"


def mask(text: str, secrets: Mapping[str, str] | None = None) -> str:
    """``text`` with each secret value (longest first) replaced by ``${env:NAME}``.

    ``secrets`` maps variable name → value; None means every value :func:`remember` was given.
    A value's JSON-escaped form is replaced too, so a JSON document cannot smuggle it out.
    """
    if secrets is None:
        pairs = [(v, n) for v, n in _known_pairs() if len(v) >= MIN_LENGTH]
    else:
        pairs = [(v, n) for n, v in secrets.items() if v]
    for value, name in sorted(pairs, key=lambda vn: -len(vn[0])):
        text = text.replace(value, reference(name))
        escaped = json.dumps(value, ensure_ascii=False)[1:-1]
        if escaped != value:
            text = text.replace(escaped, reference(name))
    return text


def remember(name: str, value: str) -> None:
    """Mask ``value`` (as ``${env:name}``) in everything this process prints from now on."""
    if value:
        with _lock:
            _known.setdefault(value, name)


def forget_all() -> None:
    """Start over (each CLI run begins with this, as a new process would)."""
    with _lock:
        _known.clear()


def _known_pairs() -> list[tuple[str, str]]:
    with _lock:
        return list(_known.items())


def fingerprint(value: str, salt: str) -> str:
    """A salted hash of a secret value: recognises the value later, never reveals it."""
    import hashlib  # only records need it: not loaded by every command at start-up

    return hashlib.sha256(f"{salt}\0{value}".encode()).hexdigest()
