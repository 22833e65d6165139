"""``Settings.require_plan``: the one "no pilot plan" error of the commands that need a plan."""

from __future__ import annotations

import pytest

from pilotgate.errors import ConfigError
from pilotgate.plan import Plan, Settings


def test_require_plan_returns_the_plan_or_says_how_to_make_one() -> None:
    plan = Plan.model_validate({"feature": {"name": "f"}})
    assert Settings(store="sqlite://", plan=plan).require_plan() is plan
    with pytest.raises(ConfigError) as exc:
        Settings(store="sqlite://").require_plan()
    assert exc.value.where == "./pilotgate.toml" and "pilotgate init" in exc.value.one_line()
