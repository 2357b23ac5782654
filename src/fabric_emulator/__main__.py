"""`fabric-emulator`: serve the emulator over HTTP."""

from __future__ import annotations

import sys


def main() -> None:
    sys.exit("fabric-emulator: not built yet")


if __name__ == "__main__":
    main()
