"""docs/cases.md stays complete: every `cases` option and every BuildSpec field is in it."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import click
import pytest

from pilotgate._cli.cases_cmd import cases
from pilotgate.cases import BuildSpec

DOC = (Path(__file__).resolve().parents[2] / "docs" / "cases.md").read_text("utf-8")


@pytest.mark.parametrize("name", sorted(cases.commands))
def test_every_subcommand_and_option_is_documented(name: str) -> None:
    cmd = cases.commands[name]
    assert f"cases {name}" in DOC, f"`cases {name}` is not in docs/cases.md"
    for param in cmd.params:
        if isinstance(param, click.Option):
            flag = max(param.opts, key=len)
            assert f"`{flag}" in DOC or f"{flag} " in DOC or f"{flag}`" in DOC, (
                f"`cases {name} {flag}` is not in docs/cases.md"
            )


def test_every_build_spec_field_is_documented() -> None:
    for f in dataclasses.fields(BuildSpec):
        assert f"`{f.name}`" in DOC, f"BuildSpec.{f.name} is not in docs/cases.md"
