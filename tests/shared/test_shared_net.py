"""is_loopback_host: the one loopback check behind serve --no-auth, dashboard and load."""

from __future__ import annotations

import pytest

from pilotgate._net import is_loopback_host
from pilotgate.load import is_loopback


@pytest.mark.parametrize("host", ["localhost", "127.0.0.1", "127.1.2.3", "::1", "0:0:0:0:0:0:0:1"])
def test_loopback_hosts(host: str) -> None:
    assert is_loopback_host(host)


@pytest.mark.parametrize(
    "host",
    [None, "", "LOCALHOST", "a.localhost", "0.0.0.0", "::", "10.0.0.1", "128.0.0.1",
     "example.com", "[::1]", "127.0.0.1 ", "localhost."],
)  # fmt: skip
def test_other_hosts_are_not_loopback(host: str | None) -> None:
    assert not is_loopback_host(host)


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("http://127.0.0.1:8000/v1", True),
        ("http://LocalHost:1/", True),
        ("http://api.localhost/", True),
        ("http://[::1]:80/", True),
        ("http://0.0.0.0/", False),
        ("https://api.openai.com/v1", False),
        ("not a url", False),
    ],
)
def test_load_urls_add_case_folding_and_dot_localhost(url: str, expected: bool) -> None:
    assert is_loopback(url) is expected


def test_serve_refuses_no_auth_on_a_non_loopback_host(tmp_path: object) -> None:
    from click.testing import CliRunner

    from pilotgate._cli.serve_cmd import serve

    res = CliRunner().invoke(
        serve, ["--no-auth", "--host", "10.0.0.1", "--store", f"sqlite:///{tmp_path}/s.db"]
    )
    assert res.exit_code != 0
    assert "--no-auth is only allowed on a loopback address" in str(res.exception)
