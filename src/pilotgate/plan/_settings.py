"""Settings with one precedence: command line > ``PILOTGATE_*`` environment > plan file."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

from pilotgate.errors import ConfigError
from pilotgate.plan._load import find_plan, load_plan
from pilotgate.plan._model import Plan

__all__ = ["Settings", "resolve_settings", "DEFAULT_STORE"]

DEFAULT_STORE = "sqlite:///.pilotgate/pilotgate.db"


class Settings(BaseModel):
    """Resolved settings every command shares."""

    model_config = ConfigDict(frozen=True, arbitrary_types_allowed=True)

    store: str = Field(description="Store URL (--store, PILOTGATE_STORE, [store] url).")
    plan_path: Path | None = Field(
        default=None, description="Plan file in use (--plan, PILOTGATE_PLAN, ./pilotgate.toml)."
    )
    plan: Plan | None = Field(default=None, description="The validated plan, if there is one.")
    store_source: str = Field(default="default", description="Where the store URL came from.")

    def require_plan(self) -> Plan:
        """The plan, for commands that cannot work without one (gate, pilot).

        Raises:
            ConfigError: there is no plan, with where it was looked for and the fix.
        """
        if self.plan is None:
            raise ConfigError(
                "no pilot plan", where="./pilotgate.toml", fix="run `pilotgate init` or pass --plan"
            )
        return self.plan


def relative_to_plan(url: str, plan_path: Path) -> str:
    """A SQLite URL or path from the plan with a relative file resolved against the plan's
    directory (not the current one): ``cd`` into the project must find the same store."""
    if "://" not in url:
        path = Path(url)
        return str(path if path.is_absolute() else plan_path.resolve().parent / path)
    prefix = "sqlite:///"
    if not url.startswith(prefix):
        return url
    rest = url[len(prefix) :]
    if not rest or rest.startswith(("/", ":memory:", "file:")):
        return url
    file, sep, query = rest.partition("?")
    return f"{prefix}{plan_path.resolve().parent / file}{sep}{query}"


def resolve_settings(
    *,
    store: str | None = None,
    plan: str | Path | None = None,
    env: Mapping[str, str] | None = None,
) -> Settings:
    """Resolve settings: explicit arguments first, then the environment, then the plan."""
    env = os.environ if env is None else env
    plan_arg = plan if plan is not None else env.get("PILOTGATE_PLAN")
    plan_path = find_plan(plan_arg)
    plan_obj = load_plan(plan_path) if plan_path is not None else None
    if store:
        url, source = store, "command line"
    elif env.get("PILOTGATE_STORE"):
        url, source = env["PILOTGATE_STORE"], "PILOTGATE_STORE"
    elif plan_obj is not None and plan_obj.store.url:
        url, source = plan_obj.store.url, f"{plan_path} [store] url"
        if plan_path is not None:
            url = relative_to_plan(url, plan_path)
    else:
        url, source = DEFAULT_STORE, "default"
    return Settings(store=url, plan_path=plan_path, plan=plan_obj, store_source=source)
