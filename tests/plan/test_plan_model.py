from __future__ import annotations

from pathlib import Path

import pytest

from pilotgate._docs import iter_fields
from pilotgate.errors import ConfigError
from pilotgate.plan import PLAN_TEMPLATE, plan_hash, resolve_settings, validate_plan_text
from pilotgate.plan._model import Plan
from pilotgate.targets._config import TargetConfig


def template() -> str:
    return PLAN_TEMPLATE.format(name="bank", start="2026-05-01", end="2026-05-21")


def test_template_validates_and_hash_is_stable() -> None:
    plan = validate_plan_text(template())
    assert plan.feature.name == "bank"
    assert plan.load.multiplier == 3
    assert [c.metric for c in plan.criteria][:2] == ["usage.acceptance_rate", "usage.error_rate"]
    assert plan.targets["assistant"].kind == "openai"
    assert plan_hash(plan) == plan_hash(validate_plan_text(template()))
    changed = template().replace("threshold = 0.7", "threshold = 0.6")
    assert plan_hash(validate_plan_text(changed)) != plan_hash(plan)


@pytest.mark.parametrize(
    ("text", "key", "hint"),
    [
        ('[feature]\nname="x"\ncolour=1\n', "feature.colour", "allowed keys here: description"),
        ("[feature]\nname=3\n", "feature.name", ""),
        ("[pilot]\nstart=2026-01-01\n", "feature", "template"),
        (
            '[feature]\nname="x"\n[[criteria]]\nname="a"\nmetric="usage.x"\nop="=>"\nthreshold=1\n',
            "criteria[0].op",
            "allowed values",
        ),
        (
            '[feature]\nname="x"\n[targets.t]\nkind="grpc"\n',
            "targets.t.kind",
            "'python', 'openai', 'anthropic' or 'http'",
        ),
        (
            '[feature]\nname="x"\n[[criteria]]\nname="a"\nmetric="acceptance"\nop=">="\n'
            "threshold=1\n",
            "criteria[0].metric",
            "",
        ),
        ('[feature]\nname="x"\n[load]\nexpected_concurrency=0\n', "load.expected_concurrency", ""),
        ('[feature]\nname="x"\n[pilot]\nstart=2026-02-01\nend=2026-01-01\n', "pilot", ""),
    ],
)
def test_bad_plans_name_the_key(text: str, key: str, hint: str) -> None:
    with pytest.raises(ConfigError) as err:
        validate_plan_text(text, where="p.toml")
    msg = str(err.value)
    assert msg.startswith(f"p.toml: {key}")
    assert hint in msg
    assert "\n" not in msg


def test_malformed_toml_names_the_line() -> None:
    with pytest.raises(ConfigError, match=r"malformed TOML.*line 1"):
        validate_plan_text("[feature\nname='x'\n")


def test_every_field_is_documented_in_code_and_docs() -> None:
    missing = [p for p, _, _, d in iter_fields(Plan, "") if not d]
    missing += [p for p, _, _, d in iter_fields(TargetConfig, "targets.NAME") if not d]
    assert missing == []  # the page itself is kept by tests/test_docs_generated.py


def test_settings_precedence(tmp_path: Path) -> None:
    plan_file = tmp_path / "pilotgate.toml"
    text = template().replace(
        '# url = "postgresql://user@host/db"', 'url = "sqlite:///from-plan.db"'
    )
    plan_file.write_text(text, encoding="utf-8")
    env = {"PILOTGATE_STORE": "sqlite:///from-env.db"}
    # a relative path in the plan resolves against the plan's directory
    from_plan = f"sqlite:///{plan_file.resolve().parent / 'from-plan.db'}"
    assert resolve_settings(plan=plan_file, env={}).store == from_plan
    assert resolve_settings(plan=plan_file, env=env).store == "sqlite:///from-env.db"
    got = resolve_settings(store="sqlite:///cli.db", plan=plan_file, env=env)
    assert (got.store, got.store_source) == ("sqlite:///cli.db", "command line")
    env_plan = {"PILOTGATE_PLAN": str(plan_file)}
    assert resolve_settings(env=env_plan).plan is not None
