"""The one rule for the text of every file we read (settings, parts, ``.platform``): UTF-8, and
a leading byte-order mark is not content (Windows editors add one; Fabric never does).

A leaf module: the config layer and the pipeline both read text by it, each raising its own error.
"""

from __future__ import annotations

from dataflow_gitops.errors import ConfigError, SourceError

TEXT_ENCODING = "utf-8-sig"


def decode_text(
    data: bytes, *, path: str, error: type[ConfigError] | type[SourceError] = SourceError
) -> str:
    """UTF-8 text (BOM dropped); ``error`` names the line and value of the first bad byte."""
    try:
        return data.decode(TEXT_ENCODING)
    except UnicodeDecodeError as exc:
        raise error(
            f"not valid UTF-8 (byte 0x{data[exc.start]:02x})",
            path=path,
            line=data.count(b"\n", 0, exc.start) + 1,
            hint="save the file as UTF-8",
        ) from None
