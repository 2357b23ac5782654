"""`fabric-emulator` flags: bad values end with one line saying what is wrong, never a traceback."""

from __future__ import annotations

import pytest

from fabric_emulator.__main__ import main, parser


@pytest.mark.parametrize(
    ("argv", "needle"),
    [
        (["--fault", "not json"], "--fault 'not json' is not JSON"),
        (["--fault", '{"kind": "explode"}'], "Fault kind must be one of"),
        (["--page-size", "0"], "pageSize must be >= 1"),
        (["--quota-per-minute", "0"], "quotaPerMinute must be >= 1"),
    ],
)
def test_bad_flags_exit_with_one_line(argv, needle) -> None:
    with pytest.raises(SystemExit) as excinfo:
        main(["--port", "0", *argv])
    message = str(excinfo.value.code)
    assert needle in message
    assert message.startswith("fabric-emulator: ")
    assert "\n" not in message


def test_flags_parse_into_settings() -> None:
    args = parser().parse_args(
        [
            "--workspace",
            "a:Dev Team",
            "--workspace",
            "b:Test",
            "--lro",
            "always",
            "--page-size",
            "5",
            "--latency-ms",
            "20",
            "--strict-auth",
        ]
    )
    assert args.workspace == [("a", "Dev Team"), ("b", "Test")]
    assert (args.lro, args.page_size, args.latency_ms, args.strict_auth) == ("always", 5, 20, True)
    assert (args.host, args.port, args.db) == ("127.0.0.1", 8765, None)


def test_quota_flag_alone_means_fabrics_200_per_minute() -> None:
    assert parser().parse_args(["--quota-per-minute"]).quota_per_minute == 200
    assert parser().parse_args(["--quota-per-minute", "7"]).quota_per_minute == 7
    assert parser().parse_args([]).quota_per_minute is None
