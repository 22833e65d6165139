"""Every registered command exists and answers ``--help``, subcommands included.

``pilotgate._cli.COMMANDS`` maps a command name to its module; the lazy group imports the
module on first use. This test imports each module directly, so a missing or broken module
fails here by name rather than vanishing from ``pilotgate --help``.
"""

from __future__ import annotations

import importlib

import click
import pytest
from click.testing import CliRunner

from pilotgate._cli import COMMANDS, cli


def _walk(cmd: click.Command, path: tuple[str, ...]) -> list[tuple[str, ...]]:
    """Every command path under ``cmd`` (itself first), walking click groups."""
    paths = [path]
    if isinstance(cmd, click.Group):
        ctx = click.Context(cmd, info_name=path[-1])
        for name in cmd.list_commands(ctx):
            sub = cmd.get_command(ctx, name)
            assert sub is not None, f"{' '.join(path)} lists {name!r} but cannot load it"
            paths.extend(_walk(sub, (*path, name)))
    return paths


def _all_paths() -> list[tuple[str, ...]]:
    paths: list[tuple[str, ...]] = []
    for name, (module, attr) in sorted(COMMANDS.items()):
        cmd = getattr(importlib.import_module(module), attr)
        assert isinstance(cmd, click.Command), f"{module}.{attr} is not a click command"
        paths.extend(_walk(cmd, (name,)))
    return paths


ALL_PATHS = _all_paths()


def test_every_registered_command_is_listed() -> None:
    ctx = click.Context(cli, info_name="pilotgate")
    assert cli.list_commands(ctx) == sorted(COMMANDS)
    for name in COMMANDS:
        assert cli.get_command(ctx, name) is not None, name


def test_subcommands_are_walked() -> None:
    # The walk reaches into groups: a regression to top-level-only would drop these.
    for path in (("eval", "run"), ("eval", "compare"), ("keys", "create"), ("store", "prune")):
        assert path in ALL_PATHS, path
    assert len(ALL_PATHS) > len(COMMANDS)


def test_unknown_command_is_refused() -> None:
    res = CliRunner().invoke(cli, ["no-such-command"])
    assert res.exit_code == 2 and "no-such-command" in res.output


@pytest.mark.parametrize("path", ALL_PATHS, ids=[" ".join(p) for p in ALL_PATHS])
def test_help(path: tuple[str, ...]) -> None:
    res = CliRunner().invoke(cli, [*path, "--help"], prog_name="pilotgate")
    assert res.exit_code == 0, res.output
    assert res.output.startswith(f"Usage: pilotgate {' '.join(path)}"), res.output
    # A help page says more than its usage line: a description or its options.
    body = res.output.split("\n", 1)[1].strip()
    assert "--help" in body and len(body) > len("-h, --help  Show this message and exit.")
