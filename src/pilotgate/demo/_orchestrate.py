"""``pilotgate demo``: the whole flow on the bundled feature, in a few minutes on 2 cores.

It starts the provider simulator and the Northwind support assistant on free loopback
ports, replays the simulated production stream through the assistant into a fresh store,
then runs every capability that is installed and writes the report. Each capability is one
step here; a step that fails is reported and the rest still run.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

__all__ = ["DemoConfig", "DemoContext", "DemoStep", "run_demo"]


@dataclass
class DemoConfig:
    """What the demo does and where it writes.

    Attributes:
        out_dir: everything goes here: the store, the plan, data files, report.html.
        seed: one seed for every random process.
        n_requests: size of the simulated production stream.
        concurrency: sessions replayed at once.
        switch_day: from this pilot day on, traffic goes to v2 (the week-two fix).
    """

    out_dir: Path = Path("pilotgate-demo")
    seed: int = 0
    n_requests: int = 5000
    concurrency: int = 48
    switch_day: int = 7
    days: int = 14
    expected_users: int = 8
    load_seconds: float = 10.0
    slo_p99_ms: float = 2500.0


@dataclass
class DemoStep:
    name: str
    status: str = "pending"
    seconds: float = 0.0
    summary: str = ""
    error: str | None = None


@dataclass
class DemoContext:
    """State shared by the demo's steps."""

    config: DemoConfig
    store_url: str
    llm_url: str = ""
    feature_urls: dict[str, str] = field(default_factory=dict)
    files: dict[str, Path] = field(default_factory=dict)
    results: dict[str, Any] = field(default_factory=dict)


def run_demo(
    config: DemoConfig,
    *,
    on_step: Callable[[DemoStep], None] | None = None,
    extra_steps: list[tuple[str, Callable[[DemoContext], str]]] | None = None,
) -> tuple[DemoContext, list[DemoStep]]:
    """Run the demo end to end; returns the context and the step log."""
    from pilotgate.demo._services import demo_services

    out = config.out_dir
    if (out / "pilotgate.db").exists():
        for name in ("pilotgate.db", "pilotgate.db-wal", "pilotgate.db-shm"):
            (out / name).unlink(missing_ok=True)
    out.mkdir(parents=True, exist_ok=True)
    ctx = DemoContext(config=config, store_url=f"sqlite:///{out / 'pilotgate.db'}")
    log: list[DemoStep] = []
    with demo_services(seed=config.seed) as services:
        ctx.llm_url = services.llm_url
        ctx.feature_urls = services.feature_urls
        steps: list[tuple[str, Callable[[DemoContext], str]]] = [
            ("pilot plan", write_plan),
            ("replay production", replay_production),
            ("write data files", write_data_files),
        ]
        steps += extra_steps or []
        for name, fn in steps:
            step = DemoStep(name)
            t0 = time.perf_counter()
            try:
                step.summary = fn(ctx)
                step.status = "ok"
            except Exception as exc:  # a failed step is reported; the others still run
                step.status = "failed"
                step.error = f"{type(exc).__name__}: {exc}"
            step.seconds = time.perf_counter() - t0
            log.append(step)
            if on_step is not None:
                on_step(step)
    return ctx, log


def write_plan(ctx: DemoContext) -> str:
    """The pilot plan with its success criteria, before any data exists."""
    from pilotgate.demo._plan import write_demo_plan

    cfg = ctx.config
    path = write_demo_plan(
        cfg.out_dir / "pilotgate.toml",
        store_url=ctx.store_url,
        feature_urls=ctx.feature_urls,
        users=cfg.expected_users,
        slo_p99_ms=cfg.slo_p99_ms,
        days=cfg.days,
    )
    ctx.files["plan"] = path
    from pilotgate.demo.data import DEFAULT_START
    from pilotgate.gate import start_pilot
    from pilotgate.plan import load_plan
    from pilotgate.store import Store

    plan = load_plan(path)
    with Store(ctx.store_url) as store:
        pilot = start_pilot(store, plan, now=DEFAULT_START, restart=True)
    return f"{path.name}: {len(plan.criteria)} criteria locked (hash {pilot.plan_hash})"


def replay_production(ctx: DemoContext) -> str:
    """Send the production stream through the assistant, instrumented with the SDK.

    The app side is what a team would write: ``track`` around each answer, ``step`` for
    what the UI sees and ``feedback`` from the few users who give it, sent to the
    collector, which redacts PII and stores. Users behave like real ones
    (:mod:`pilotgate.demo._users`): they rephrase, escalate, leave and may not come back.
    """
    from pilotgate import instrument as pg
    from pilotgate.demo._services import collector_in_thread
    from pilotgate.demo.data import production_stream
    from pilotgate.store import Store

    cfg = ctx.config
    stream = production_stream(seed=cfg.seed, n=cfg.n_requests, days=cfg.days)
    with collector_in_thread(ctx.store_url) as collector:
        ctx.results["collector_url"] = collector.url
        pg.configure(
            collector=collector.url,
            api_key=collector.api_key,
            flush_interval_s=0.2,
            exit_deadline_s=10.0,
            strict=True,
        )
        try:
            sent = asyncio.run(_replay(ctx, stream))
            pg.flush()
            sdk = pg.stats()
        finally:
            pg.shutdown()
    with Store(ctx.store_url) as store:
        n_int, n_fb, n_steps = store.count(), store.count("feedback"), store.count("steps")
    ctx.results["production"] = sent
    lost = sdk.get("dropped", 0)
    return (
        f"{n_int} interactions, {n_fb} feedback, {n_steps} steps via SDK + collector ({lost} lost)"
    )


async def _replay(ctx: DemoContext, stream: list[Any]) -> list[Any]:
    from pilotgate.demo import FEATURE_NAME, SupportAssistant
    from pilotgate.demo._replay import replay_users

    cfg = ctx.config
    assistants = {v: SupportAssistant(ctx.llm_url + "/v1", version=v) for v in ("v1", "v2")}
    # Route the whole stream in batches up front (batch inference is several times faster
    # than one text per call on 2 cores); most answers below are then routing-cache hits
    # (rephrases and escalations are routed when asked).
    texts = [r.text for r in stream]
    await asyncio.gather(*(asyncio.to_thread(a.prime, texts) for a in assistants.values()))
    try:
        return await replay_users(
            stream,
            assistants,
            seed=cfg.seed,
            switch_day=cfg.switch_day,
            concurrency=cfg.concurrency,
            feature=FEATURE_NAME,
        )
    finally:
        for a in assistants.values():
            await a.aclose()


def write_data_files(ctx: DemoContext) -> str:
    """The demo set and the production inputs as files, for file-based commands."""
    import json

    from pilotgate.demo.data import demo_set

    out = ctx.config.out_dir
    demo_path = out / "demo_set.jsonl"
    with demo_path.open("w", encoding="utf-8") as fh:
        for case in demo_set(seed=ctx.config.seed):
            fh.write(json.dumps(case, ensure_ascii=False) + "\n")
    prod_path = out / "production_cases.jsonl"
    stream = ctx.results.get("production", [])
    with prod_path.open("w", encoding="utf-8") as fh:
        for req in stream:
            case = {
                "id": req.id,
                "input": req.text,
                "expected": req.true_intent,
                "tags": list(req.tags),
                "source": "production",
            }
            fh.write(json.dumps(case, ensure_ascii=False) + "\n")
    ctx.files.update(demo_set=demo_path, production=prod_path)
    return f"{demo_path.name}, {prod_path.name}"
