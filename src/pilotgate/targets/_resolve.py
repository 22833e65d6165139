"""From a ``--target`` string or a ``[targets.NAME]`` table to a ready Target.

Adapters are registered factories (``TARGETS``), imported only when used so that
``import pilotgate.targets`` does not pull in aiohttp. Every problem with the string
itself is a :class:`TargetError` whose one line lists the forms that are accepted.
"""

from __future__ import annotations

import importlib
import re
from collections.abc import Callable, Mapping
from typing import Any

from pydantic import ValidationError

from pilotgate._registry import Registry
from pilotgate.errors import TargetError
from pilotgate.records import format_validation_error
from pilotgate.targets._base import Target, safe_url
from pilotgate.targets._config import TargetConfig

__all__ = [
    "TARGETS",
    "build_target",
    "check_reachable",
    "ensure_reachable",
    "parse_target",
    "resolve_target",
]

TargetFactory = Callable[[TargetConfig], Target]
TARGETS: Registry[TargetFactory] = Registry("target")

FORMS = (
    "python:pkg.module:function, openai:URL (with --model), anthropic:URL (with --model), "
    "http:URL, "
    "or the name of a [targets.NAME] table in pilotgate.toml"
)


def _lazy(module: str, cls: str) -> TargetFactory:
    def factory(config: TargetConfig) -> Target:
        target: Target = getattr(importlib.import_module(module), cls)(config)
        return target

    factory.__qualname__ = f"{cls}.from_config"
    return factory


TARGETS.add(
    "python",
    _lazy("pilotgate.targets._python", "PythonTarget"),
    description="a Python callable, sync or async: python:pkg.module:function",
)
TARGETS.add(
    "openai",
    _lazy("pilotgate.targets._openai", "OpenAITarget"),
    description="an OpenAI-compatible chat-completions API: openai:http://host/v1",
)
TARGETS.add(
    "anthropic",
    _lazy("pilotgate.targets._anthropic", "AnthropicTarget"),
    description="Anthropic's Messages API: anthropic:http://host (POST /v1/messages)",
)
TARGETS.add(
    "http",
    _lazy("pilotgate.targets._http", "HttpTarget"),
    description="a JSON endpoint with a request template and a response path: http:URL",
)

_PREFIX = re.compile(r"^(python|openai|anthropic|http):(.*)$", re.DOTALL)


def _bad(spec: str, what: str, plan_targets: Mapping[str, TargetConfig] | None) -> TargetError:
    fix = f"use {FORMS}"
    if plan_targets:
        fix += f" (this plan defines: {', '.join(sorted(plan_targets))})"
    return TargetError(what, where=f"--target {safe_url(spec)!r}", fix=fix)


def parse_target(
    spec: str, *, plan_targets: Mapping[str, TargetConfig] | None = None
) -> TargetConfig:
    """The :class:`TargetConfig` a target string stands for (not yet validated for use)."""
    text = spec.strip()
    if not text:
        raise _bad(spec, "empty target", plan_targets)
    if plan_targets and text in plan_targets:
        return plan_targets[text]
    if text.startswith(("http://", "https://")):
        raise TargetError(
            "a bare URL does not say how to call it",
            where=f"--target {safe_url(text)!r}",
            fix=f"write openai:{safe_url(text)} for an OpenAI-compatible API (with --model) "
            f"or http:{safe_url(text)} for a JSON endpoint",
        )
    match = _PREFIX.match(text)
    if match is None:
        kind = text.split(":", 1)[0] if ":" in text else None
        what = f"unknown target kind {kind!r}" if kind else f"unknown target {text!r}"
        raise _bad(spec, what, plan_targets)
    kind, rest = match.group(1), match.group(2).strip()
    if not rest:
        raise _bad(spec, f"{kind}: needs a value after the colon", plan_targets)
    if kind == "python":
        return TargetConfig(kind="python", function=rest)
    if not rest.startswith(("http://", "https://")):
        got = safe_url(rest)
        raise _bad(spec, f"{kind}: expects an http(s):// URL, got {got!r}", plan_targets)
    return TargetConfig(kind=kind, url=rest)


def resolve_target(
    spec: str,
    *,
    plan_targets: Mapping[str, TargetConfig] | None = None,
    model: str | None = None,
    **overrides: Any,
) -> Target:
    """Build the target a ``--target`` string names.

    Args:
        spec: ``python:pkg.module:function``, ``openai:URL``, ``anthropic:URL``,
            ``http:URL`` or the name
            of a ``[targets.NAME]`` table in the plan.
        plan_targets: the plan's targets, by name.
        model: the model for an ``openai:`` or ``anthropic:`` target (``--model``).
        **overrides: other :class:`TargetConfig` fields from the command line
            (``stream=True``, ``retries=2``…); None values are ignored.

    Raises:
        TargetError: a bad string, an unknown field or value, a missing API-key
            variable, or a function that cannot be imported.
    """
    config = parse_target(spec, plan_targets=plan_targets)
    updates = {k: v for k, v in overrides.items() if v is not None}
    if model is not None:
        updates["model"] = model
    if updates:
        try:
            config = TargetConfig.model_validate({**config.model_dump(), **updates})
        except ValidationError as exc:
            raise TargetError(
                format_validation_error(exc),
                where=f"--target {safe_url(spec)!r}",
                fix="check the target options",
            ) from None
    return build_target(config)


def build_target(config: TargetConfig) -> Target:
    """Build a target from its definition (raises TargetError when it cannot be built)."""
    return TARGETS.get(config.kind).obj(config)


async def check_reachable(target: Target) -> None:
    """Fail fast, before a run starts, when the target cannot be reached.

    Raises:
        TargetError: one line naming the host and port (and, for an OpenAI-compatible
            API, a wrong base URL or rejected key) so CLI commands exit 2.
    """
    check = getattr(target, "check", None)
    if check is not None:
        await check()


def ensure_reachable(config: TargetConfig) -> None:
    """:func:`check_reachable` for callers without an event loop (the command line).

    Python targets are always reachable; an HTTP one gets a connection (and, for an
    OpenAI-compatible API, a ``GET /models``) on a throwaway loop and session.

    Raises:
        TargetError: the target cannot be reached (one line: host, port, what to fix).
    """
    import asyncio

    from pilotgate.targets._session import close_sessions

    if getattr(config, "kind", "python") == "python":
        return

    async def check() -> None:
        target = build_target(config)
        try:
            await check_reachable(target)
        finally:
            await target.aclose()
            await close_sessions()

    asyncio.run(check())
