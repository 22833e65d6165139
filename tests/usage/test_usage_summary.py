"""``usage_summary``: the `pilotgate usage` document (report, cost, slices) from one call."""

from __future__ import annotations

import io
import json

import pytest
from rich.console import Console
from tests.usage.test_usage_slices import DATA, _fill

from pilotgate.errors import ConfigError
from pilotgate.plan import validate_plan_text
from pilotgate.store import Store
from pilotgate.usage import print_usage, usage_report, usage_summary

PLAN = """
[feature]
name = "refunds"
[pilot]
steps = ["open", "pay"]
[prices.default]
input_per_1k = 1.0
output_per_1k = 2.0
"""


def test_the_document_is_the_report_with_cost_and_slices(store: Store) -> None:
    _fill(store)
    plan = validate_plan_text(PLAN)
    doc = usage_summary(store, plan, feature="refunds", by="metadata.category", where=["tier=1"])
    tier1 = usage_report(store, "refunds", steps=["open", "pay"], metadata=(("tier", "1"),))
    assert doc["overall"]["n"] == tier1.overall.n
    assert doc["steps"] == ["open", "pay"]
    assert doc["by"] == "metadata.category"
    assert [s["value"] for s in doc["slices"]] == list(DATA)
    assert doc["cost"]["calls"] == tier1.overall.n
    json.dumps(doc)  # a JSON document as it stands
    bare = usage_summary(store, feature="refunds")
    assert "slices" not in bare and bare["steps"] == [] and bare["cost"]["cost"] is None
    out = io.StringIO()
    print_usage(doc, Console(file=out, width=250))
    text = out.getvalue()
    assert "category=refund" in text and "funnel" in text and "tokens:" in text


@pytest.mark.parametrize(
    ("kwargs", "where"), [({"by": "meta data"}, "--by"), ({"where": ["tier"]}, "--where")]
)
def test_bad_selectors_name_the_option(store: Store, kwargs: dict[str, object], where: str) -> None:
    with pytest.raises(ConfigError) as exc:
        usage_summary(store, **kwargs)  # type: ignore[arg-type]
    assert exc.value.where == where
