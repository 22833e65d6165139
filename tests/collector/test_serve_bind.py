"""The serve socket: a port in use is a one-line error; the printed URL keeps the host given."""

from __future__ import annotations

import pytest

from pilotgate._web import base_url, bind
from pilotgate.errors import ConfigError


def test_a_port_in_use_is_a_config_error_and_port_0_picks_a_free_one() -> None:
    first = bind("127.0.0.1", 0)
    try:
        port = first.getsockname()[1]
        assert port > 0 and first.get_inheritable()
        assert base_url("localhost", first) == f"http://localhost:{port}"
        with pytest.raises(ConfigError, match=f"cannot listen on 127.0.0.1:{port}"):
            bind("127.0.0.1", port)
    finally:
        first.close()


def test_an_ipv6_host_is_bracketed() -> None:
    try:
        sock = bind("::1", 0)
    except ConfigError:
        pytest.skip("no IPv6 loopback here")
    try:
        assert base_url("::1", sock) == f"http://[::1]:{sock.getsockname()[1]}"
    finally:
        sock.close()
