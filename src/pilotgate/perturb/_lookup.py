"""Finding perturbations by name, with the built-in catalogue loaded.

Kept apart from the registry (``_base.py``), which every built-in perturbation imports to
register itself, so that the imports run one way; the built-ins load on the first lookup.
"""

from __future__ import annotations

from collections.abc import Sequence

from pilotgate.errors import ConfigError
from pilotgate.perturb._base import FAMILIES, PERTURBATIONS, PerturbationInfo

__all__ = ["get_perturbation", "list_perturbations", "resolve_names"]

_LOADED = False
# Registry entries never change once added (re-registering a name raises), so the
# frozen info objects can be cached: the per-sample path looks a name up once.
_INFOS: dict[str, PerturbationInfo] = {}


def _ensure_loaded() -> None:
    global _LOADED
    if not _LOADED:
        # Importing the catalogue modules registers the built-ins.
        from pilotgate.perturb import _catalogue  # noqa: F401

        _LOADED = True


def get_perturbation(name: str) -> PerturbationInfo:
    """Look one perturbation up by name (ConfigError listing the known names otherwise)."""
    info = _INFOS.get(name)
    if info is not None:
        return info
    _ensure_loaded()
    entry = PERTURBATIONS.get(name)
    m = entry.meta
    info = PerturbationInfo(
        name=entry.name,
        family=m["family"],
        description=m["description"],
        default_severity=m["default_severity"],
        expectation=m["expectation"],
        tags=m["tags"],
        fn=entry.obj,
        applies_when=m.get("applies_when"),
        applies=m.get("applies"),
    )
    _INFOS[name] = info
    return info


def list_perturbations() -> list[PerturbationInfo]:
    """The whole catalogue, in family order then by name."""
    _ensure_loaded()
    infos = [get_perturbation(e.name) for e in PERTURBATIONS]
    order = {f: i for i, f in enumerate(FAMILIES)}
    return sorted(infos, key=lambda p: (order.get(p.family, len(order)), p.name))


def resolve_names(spec: str | Sequence[str]) -> list[str]:
    """Expand ``all``, ``family:NAME`` and comma lists into perturbation names, in order."""
    parts = [spec] if isinstance(spec, str) else list(spec)
    items = [p.strip() for part in parts for p in part.split(",") if p.strip()]
    catalogue = list_perturbations()
    out: list[str] = []
    for item in items:
        if item == "all":
            names = [p.name for p in catalogue]
        elif item.startswith("family:"):
            fam = item.split(":", 1)[1]
            if fam not in FAMILIES:
                raise ConfigError(
                    f"unknown perturbation family {fam!r}", fix=f"use one of: {', '.join(FAMILIES)}"
                )
            names = [p.name for p in catalogue if p.family == fam]
        else:
            names = [get_perturbation(item).name]
        out.extend(n for n in names if n not in out)
    if not out:
        raise ConfigError(
            "no perturbations selected", fix="pass a name, a list, all or family:NAME"
        )
    return out
