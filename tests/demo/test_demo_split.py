"""The demo's fix is measured out of sample: templates split into seen and held out."""

from __future__ import annotations

from collections import Counter

from pilotgate.demo import _phrases as ph
from pilotgate.demo._intents import (
    _OOS_WRITTEN,
    _WRITTEN,
    INTENTS,
    OUT_OF_SCOPE_EXEMPLARS,
    _templates,
    closest_template,
)
from pilotgate.demo.data import production_stream


def test_split_is_by_template_and_covers_every_pool() -> None:
    assert ph.HELD_OUT and ph.SEEN and not (ph.HELD_OUT & ph.SEEN)
    for intent, templates in ph.CLEAN.items():
        held = [t for t in templates if t in ph.HELD_OUT]
        assert 0 < len(held) < len(templates), intent
    assert not any(t in ph.HELD_OUT for ts in ph.DEMO.values() for t in ts)
    assert ph.template_split(["x"]) == "seen"
    one_held = next(iter(ph.HELD_OUT))
    assert ph.template_split([one_held]) == "held_out"
    assert ph.template_split([one_held, "x"]) == "mixed"


def test_v2_is_built_only_from_seen_templates() -> None:
    for raw, built in zip(_WRITTEN, INTENTS, strict=True):
        templates = _templates(built.label)
        assert set(built.exemplars_v2) <= set(raw.exemplars_v2)
        for e in built.exemplars_v2:
            assert closest_template(e, templates) in ph.SEEN, (built.label, e)
        dropped = set(raw.exemplars_v2) - set(built.exemplars_v2)
        for e in dropped:
            assert closest_template(e, templates) in ph.HELD_OUT
    pairs = zip(_WRITTEN, INTENTS, strict=True)
    assert sum(len(r.exemplars_v2) - len(b.exemplars_v2) for r, b in pairs) > 0
    for e in OUT_OF_SCOPE_EXEMPLARS:
        assert closest_template(e, ph.OUT_OF_SCOPE_REQUESTS) in ph.SEEN
    assert len(OUT_OF_SCOPE_EXEMPLARS) < len(_OOS_WRITTEN)


def test_production_requests_carry_their_split_and_the_stream_is_unchanged_by_it() -> None:
    stream = production_stream(seed=0, n=2000)
    tags = Counter(t for r in stream for t in r.tags if t.startswith("template:"))
    assert sum(tags.values()) == 2000
    assert tags["template:held_out"] > 400 and tags["template:seen"] > 800
    again = production_stream(seed=0, n=2000)
    assert [r.text for r in again] == [r.text for r in stream]
