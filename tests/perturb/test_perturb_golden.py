"""Golden outputs: the same seed gives byte-identical perturbed cases across releases.

The determinism contract (DESIGN.md) is that ``pilotgate perturb`` and ``pilotgate
robustness`` send the same inputs for a seed, and that a file written today can be
regenerated tomorrow. This test pins, per perturbation, a SHA-256 of the JSONL lines
``perturb`` writes for a fixed corpus (plain and chat inputs, odd scripts, options) at
several severities and samples, seed 0. Speed work must leave it green; a deliberate
change of outputs regenerates the file once and says so in the commit:

    .venv/bin/python tests/perturb/test_perturb_golden.py --update
"""

from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parents[2]))  # the checkout, when run as a script
from tests.perturb._corpus import CORPUS

from pilotgate.perturb import list_perturbations, perturb_case
from pilotgate.records import Case

GOLDEN = Path(__file__).parent / "golden_seed0.json"
SEVERITIES: tuple[float | None, ...] = (None, 0.05, 0.5, 1.0)
SAMPLES = 2
OPTIONS: dict[str, Any] = {
    "glossary": {"router": "CPE gateway", "card": "PAN instrument", "money": "funds"},
    "feature_description": "a helpdesk for a broadband provider",
    "pool": ["is my router covered by the warranty?", "can I upgrade my plan?"],
}


def golden_cases() -> list[Case]:
    extra = [
        "",
        "a",
        "我的信用卡被偷了，请帮我冻结。",
        "मेरा कार्ड चोरी हो गया है, कृपया इसे ब्लॉक करें",
        "Моя карта украдена, заблокируйте её.",
        "already lower case text without any marks",
        "   leading and trailing   ",
    ]
    cases = [
        Case(id=f"g{i}", input=t, expected=f"label{i % 3}", tags=["golden"])
        for i, t in enumerate([*CORPUS, *extra])
    ]
    cases.append(
        Case(
            id="chat",
            input=[
                {"role": "system", "content": "You are a bank assistant."},
                {"role": "user", "content": "My card was stolen yesterday."},
                {"role": "assistant", "content": "I can block it. Which card?"},
                {"role": "user", "content": "The debit card ending in 1234, please block it now."},
            ],
        )
    )
    return cases


def digests() -> dict[str, str]:
    cases = golden_cases()
    out: dict[str, str] = {}
    for info in list_perturbations():
        h = hashlib.sha256()
        for options in (None, OPTIONS):
            for sev in SEVERITIES:
                for case in cases:
                    for k in range(SAMPLES):
                        p = perturb_case(case, info.name, sev, seed=0, k=k, options=options)
                        h.update(p.model_dump_json(exclude_none=True).encode())
                        h.update(b"\n")
        out[info.name] = h.hexdigest()
    return out


def test_seed_0_outputs_match_the_golden_digests() -> None:
    expected = json.loads(GOLDEN.read_text(encoding="utf-8"))
    got = digests()
    assert set(got) == set(expected), "catalogue changed: regenerate with --update"
    changed = sorted(n for n in got if got[n] != expected[n])
    assert not changed, f"seed-0 outputs changed for {changed} (see this file's docstring)"


if __name__ == "__main__":
    if "--update" in sys.argv:
        GOLDEN.write_text(json.dumps(digests(), indent=1, sort_keys=True) + "\n", "utf-8")
        print(f"wrote {GOLDEN}")
