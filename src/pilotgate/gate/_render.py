"""The gate's outputs for machines and people: JUnit XML for CI, Markdown for a PR page.

JUnit: one ``<testsuite>`` (inside ``<testsuites>``), a ``<testcase>`` per criterion,
``<failure>`` for fail, ``<skipped>`` for insufficient data (and for criteria that do not
count), the numbers in ``<system-out>``. It follows the Ant/Jenkins JUnit format every
CI system reads; tests validate it against an XSD of that format.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Mapping
from typing import Any

from pilotgate.gate._gate import CriterionResult, GateResult
from pilotgate.gate._verdict import FAIL, INSUFFICIENT, PASS

__all__ = ["definition_text", "fmt_ci", "fmt_num", "to_junit", "to_markdown"]

BADGE = {PASS: "✅ PASS", FAIL: "❌ FAIL", INSUFFICIENT: "⚠️ INSUFFICIENT DATA"}
STATUS_WORD = {PASS: "pass", FAIL: "FAIL", INSUFFICIENT: "insufficient data"}


def fmt_num(x: float | None) -> str:
    if x is None:
        return "—"
    if x != 0 and (abs(x) >= 1e6 or abs(x) < 1e-3):
        return f"{x:.3g}"
    return f"{x:.4g}"


def fmt_ci(ci: tuple[float, float] | list[float] | None) -> str:
    return "—" if not ci else f"[{fmt_num(ci[0])}, {fmt_num(ci[1])}]"


def definition_text(c: Mapping[str, Any] | None) -> str:
    """A criterion definition in one line: ``metric op threshold (window, min n, judged on)``."""
    if c is None:
        return "(none)"
    if c.get("removed"):
        return "(removed)"
    extra = [f"window {c.get('window', 'latest')}", f"min n {c.get('min_samples')}"]
    if c.get("judge_on") == "bound":
        extra.append("on the 95 % bound")
    if c.get("eval_set"):
        extra.append(f"eval set {c['eval_set']}")
    return f"{c['metric']} {c['op']} {fmt_num(float(c['threshold']))} ({', '.join(extra)})"


def _evidence_text(r: CriterionResult) -> str:
    ev = r.evidence or {}
    parts = [str(ev.get("run_id") or ev.get("kind") or "")]
    sel = ev.get("selection") or {}
    if sel.get("version"):
        parts.append(f"version {sel['version']}")
    if ev.get("window"):
        parts.append(str(ev["window"]))
    return " · ".join(p for p in parts if p)


def _details(r: CriterionResult) -> str:
    ev = r.evidence or {}
    lines = [
        f"criterion: {definition_text(r.criterion.model_dump(mode='json'))}",
        f"value: {fmt_num(r.value)}  ci95: {fmt_ci(r.ci95)}  n: {r.n if r.n is not None else '—'}",
        f"judged: {r.reason}",
        f"evidence: run {ev.get('run_id') or '—'} ({ev.get('kind')}), {ev.get('window')}",
        f"reproduce: {ev.get('command')}",
    ]
    if ev.get("note"):
        lines.append(f"note: {ev['note']}")
    if r.change is not None:
        lines.append(
            f"changed after the pilot started ({r.change.kind}); judged on the "
            f"{r.judged_definition} definition"
        )
        lines.append(f"original: {definition_text(r.change.original)}")
        lines.append(f"current: {definition_text(r.change.current)}")
        s = r.change.signoff
        if r.change.signed_off and s is not None:
            lines.append(f"signed off by {s.who} on {s.ts:%Y-%m-%d}: {s.reason}")
    return "\n".join(lines)


def to_junit(result: GateResult) -> str:
    """The verdict as JUnit XML (one test suite, a test case per criterion)."""
    cases = result.criteria
    failures = sum(1 for r in cases if r.counted and r.status == FAIL)
    skipped = sum(1 for r in cases if not r.counted or r.status == INSUFFICIENT)
    suite_name = f"pilotgate gate: {result.feature}"
    root = ET.Element(
        "testsuites",
        name="pilotgate gate",
        tests=str(len(cases)),
        failures=str(failures),
        errors="0",
        time="0",
    )
    suite = ET.SubElement(
        root,
        "testsuite",
        name=suite_name,
        tests=str(len(cases)),
        failures=str(failures),
        errors="0",
        skipped=str(skipped),
        time="0",
        timestamp=result.evaluated_at.strftime("%Y-%m-%dT%H:%M:%S"),
    )
    props = ET.SubElement(suite, "properties")
    for k, v in (
        ("verdict", result.verdict),
        ("plan_hash", result.plan_hash),
        ("locked_plan_hash", result.pilot.plan_hash if result.pilot else ""),
        ("run_id", result.run_id or ""),
    ):
        ET.SubElement(props, "property", name=k, value=v)
    classname = f"pilotgate.gate.{result.feature}"
    for r in cases:
        case = ET.SubElement(suite, "testcase", name=r.name, classname=classname, time="0")
        if not r.counted:
            ET.SubElement(case, "skipped", message=f"not counted: {r.reason}")
        elif r.status == FAIL:
            fail = ET.SubElement(case, "failure", message=r.reason, type="criterion_failed")
            fail.text = _details(r)
        elif r.status == INSUFFICIENT:
            ET.SubElement(case, "skipped", message=f"insufficient data: {r.reason}")
        out = ET.SubElement(case, "system-out")
        out.text = _details(r)
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, "unicode") + "\n"


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def to_markdown(result: GateResult) -> str:
    """The verdict as Markdown for a pull request or a CI job summary."""
    out = [f"## Pilot gate: {BADGE[result.verdict]} — `{result.feature}`", ""]
    c = result.counts()
    head = (
        f"{c[PASS]} passed · {c[FAIL]} failed · {c[INSUFFICIENT]} without enough data · "
        f"plan `{result.plan_hash}` · evaluated {result.evaluated_at:%Y-%m-%d %H:%M} UTC"
    )
    out.append(head)
    p = result.pilot
    if p is None:
        out.append("")
        out.append("> The plan is not locked: run `pilotgate pilot start` when the pilot begins.")
    else:
        state = "unchanged" if p.plan_hash == result.plan_hash else "changed since"
        out.append("")
        out.append(
            f"Locked at pilot start {p.started_at:%Y-%m-%d} (plan `{p.plan_hash}`, {state})."
        )
        if result.plan_changed_sections:
            out.append(
                "Sections changed since the start (windows and load levels use the locked "
                f"values): {', '.join(result.plan_changed_sections)}."
            )
    out += [
        "",
        "| status | criterion | metric | target | value | 95 % CI | n | evidence |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in result.criteria:
        cr = r.criterion
        status = STATUS_WORD[r.status] + ("" if r.counted else " (not counted)")
        name = cr.name + (" ✎" if r.change is not None else "")
        out.append(
            "| "
            + " | ".join(
                _cell(x)
                for x in (
                    status,
                    name,
                    f"`{cr.metric}`",
                    f"{cr.op} {fmt_num(cr.threshold)}",
                    fmt_num(r.value),
                    fmt_ci(r.ci95),
                    "—" if r.n is None else str(r.n),
                    _evidence_text(r),
                )
            )
            + " |"
        )
    changed = [r for r in result.criteria if r.change is not None]
    if changed or result.removed_signed_off:
        out += ["", "### ✎ Changed after the pilot started", ""]
        for r in changed:
            ch = r.change
            assert ch is not None
            s = ch.signoff
            how = (
                f"signed off by {s.who} on {s.ts:%Y-%m-%d}: “{s.reason}” — judged as changed"
                if ch.signed_off and s is not None
                else "not signed off — judged on the original"
                if ch.kind != "added"
                else "not signed off — not counted"
            )
            out.append(
                f"- **{r.name}** ({ch.kind}): original `{definition_text(ch.original)}` → "
                f"current `{definition_text(ch.current)}`; {how}"
            )
        for ch in result.removed_signed_off:
            s = ch.signoff
            who = f"{s.who} on {s.ts:%Y-%m-%d}: “{s.reason}”" if s else ""
            out.append(
                f"- **{ch.name}** (removed): `{definition_text(ch.original)}`; signed off by {who}"
            )
    notes = [r for r in result.criteria if r.status != PASS]
    if notes:
        out += ["", "### Why not pass", ""]
        for r in notes:
            out.append(f"- **{r.name}**: {r.reason}")
    out += ["", "<details><summary>Reproduce each number</summary>", ""]
    for r in result.criteria:
        ev = r.evidence or {}
        out.append(
            f"- {r.name}: `{ev.get('command')}`" + (f" — {ev['note']}" if ev.get("note") else "")
        )
    out += ["", "</details>", ""]
    return "\n".join(out)
