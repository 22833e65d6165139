"""The pilot plan (``pilotgate.toml``): the feature, its expected load, the pilot's dates,
its targets and the success criteria declared before the pilot starts.
"""

from pilotgate.plan._load import find_plan, load_plan, plan_hash, validate_plan_text
from pilotgate.plan._model import (
    Criterion,
    FeatureSection,
    LoadSection,
    ModelPrice,
    PilotSection,
    Plan,
    SignalsSection,
    StoreSection,
)
from pilotgate.plan._settings import Settings, resolve_settings
from pilotgate.plan._template import PLAN_TEMPLATE

__all__ = [
    "PLAN_TEMPLATE",
    "Criterion",
    "FeatureSection",
    "LoadSection",
    "ModelPrice",
    "PilotSection",
    "Plan",
    "Settings",
    "SignalsSection",
    "StoreSection",
    "find_plan",
    "load_plan",
    "plan_hash",
    "resolve_settings",
    "validate_plan_text",
]
