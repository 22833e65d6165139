"""``pilotgate shift``: how much of production the eval set covers, what is missing, drift."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from pilotgate._cli._options import plan_scope, store_options
from pilotgate.errors import ConfigError

__all__ = ["shift"]


@click.command("shift")
@click.option("--eval", "eval_path", type=click.Path(dir_okay=False), help="Eval cases (JSONL).")
@click.option(
    "--production", "prod_path", type=click.Path(dir_okay=False), help="Production inputs (JSONL)."
)
@click.option("--eval-set", help="Store-backed: name of a stored eval set.")
@click.option("--feature", help="Store-backed: feature whose production inputs to read.")
@click.option("--since", help="Store-backed: only production inputs since this date.")
@click.option("--version", "feature_version", help="Store-backed: only this feature version.")
@click.option(
    "--embedder",
    default="minilm",
    show_default=True,
    help="Embedding backend: minilm (bundled model), lexical (no model), a registered name, "
    "or openai:URL for an OpenAI-compatible /embeddings endpoint (with --embedding-model).",
)
@click.option("--embedding-model", help="Model name sent to an openai:URL embedder.")
@click.option(
    "--api-key-env",
    default="OPENAI_API_KEY",
    show_default=True,
    help="Environment variable holding the openai:URL endpoint's API key.",
)
@click.option(
    "--scores",
    "scores_path",
    type=click.Path(dir_okay=False),
    help="Write per-input scores (JSONL).",
)
@click.option(
    "--suggest",
    type=click.IntRange(min=0),
    default=0,
    help="Suggest N cases to add, spread over gaps.",
)
@click.option(
    "--suggest-out",
    type=click.Path(dir_okay=False),
    help="Where --suggest writes its cases (JSONL).",
)
@click.option(
    "--seed", type=int, default=0, show_default=True, help="Seed for samples, splits, permutations."
)
@click.option(
    "--level",
    type=click.FloatRange(0.5, 0.999),
    default=0.95,
    show_default=True,
    help="Coverage calibration level (expected coverage when nothing shifted).",
)
@click.option(
    "--max-production",
    type=click.IntRange(min=100),
    default=100_000,
    show_default=True,
    help="Analyse a uniform sample of at most this many production inputs.",
)
@click.option(
    "--json",
    "json_path",
    type=click.Path(dir_okay=False),
    help="Write the pilotgate.shift/1 document.",
)
@store_options
def shift(
    eval_path: str | None,
    prod_path: str | None,
    eval_set: str | None,
    feature: str | None,
    since: str | None,
    feature_version: str | None,
    embedder: str,
    embedding_model: str | None,
    api_key_env: str,
    scores_path: str | None,
    suggest: int,
    suggest_out: str | None,
    seed: int,
    level: float,
    max_production: int,
    json_path: str | None,
    store_url: str | None,
    no_store: bool,
) -> None:
    """Measure eval-set coverage of production, find the gaps, and test for drift.

    Inputs come from files (case lines or ingest interaction lines) or from the store
    (--eval-set NAME[@VERSION], --feature F [--since DATE] [--version V]). Coverage is
    calibrated on the eval set's own spacing, so it reads about the --level when
    nothing shifted, whatever the two sizes (docs/shift.md). The run is recorded in the
    store (its uncovered inputs as results) unless --no-store; model embeddings are
    cached there too.
    """
    from pilotgate.records import write_cases
    from pilotgate.shift import InMemoryEmbeddingCache, analyze_shift

    if bool(eval_path) == bool(eval_set):
        raise ConfigError(
            "give the eval set as exactly one of --eval FILE or --eval-set NAME",
            fix="e.g. --eval cases.jsonl",
        )
    if bool(prod_path) == bool(feature):
        raise ConfigError(
            "give production as exactly one of --production FILE or --feature NAME",
            fix="e.g. --production prod.jsonl",
        )
    if (since or feature_version) and not feature:
        raise ConfigError("--since and --version filter stored production", fix="add --feature F")
    if suggest and not suggest_out:
        raise ConfigError(
            "--suggest needs --suggest-out FILE", fix="add --suggest-out suggested.jsonl"
        )
    # the run measures the plan's feature and version unless --feature / --version say
    run_feature, run_version = plan_scope(feature, feature_version)
    store = _open_store(store_url) if (eval_set or feature or not no_store) else None
    try:
        ev = _eval_inputs(eval_path, eval_set, store)
        pr = _production_inputs(prod_path, feature, since, feature_version, store)
        notes = [
            f"{path}: skipped {len(inputs.bad_lines)} unreadable line(s); "
            f"first: line {inputs.bad_lines[0].line}: {inputs.bad_lines[0].error}"
            for path, inputs in ((eval_path or eval_set, ev), (prod_path or feature, pr))
            if inputs.bad_lines
        ]
        # Model vectors are worth keeping between runs; lexical ones are cheaper to redo.
        cache: Any = InMemoryEmbeddingCache()
        if store is not None and not embedder.startswith("lexical"):
            from pilotgate.shift._store_io import StoreEmbeddingCache

            cache = StoreEmbeddingCache(store)
        result = analyze_shift(
            ev.texts,
            pr.texts,
            embedder=_embedder(embedder, embedding_model, api_key_env),
            seed=seed,
            eval_ids=ev.ids,
            production_ids=pr.ids,
            production_ts=pr.ts if pr.has_timestamps else None,
            cache=cache,
            level=level,
            max_production=max_production,
            store=store,
            save=not no_store,
            feature=run_feature,
            version=run_version,
            eval_set=ev.ref,
            inputs={
                "eval": eval_path or f"store:eval-set:{ev.ref}",
                "production": prod_path or f"store:feature:{feature}",
                "since": since,
            },
            notes=notes,
        )
    finally:
        if store is not None:
            store.close()
    doc = result.to_json()
    if scores_path:
        result.write_scores(scores_path)
    if suggest and suggest_out:
        cases = result.suggest_cases(suggest)
        write_cases(suggest_out, cases)
        doc["suggested"] = {"path": suggest_out, "n": len(cases)}
    if json_path:
        import json

        Path(json_path).write_text(
            json.dumps(doc, indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
        )
    _render(doc)
    if result.run_id:
        click.echo(
            f"stored run {result.run_id} (feature {result.scope.get('feature')!r}, "
            f"version {result.scope.get('version')!r})"
        )


def _embedder(name: str, model: str | None, api_key_env: str) -> Any:
    if not name.startswith("openai:"):
        if model:
            raise ConfigError("--embedding-model is for openai:URL embedders", fix="drop it")
        return name
    if not model:
        raise ConfigError("an openai:URL embedder needs --embedding-model NAME")
    from pilotgate.shift import OpenAIEmbedder

    return OpenAIEmbedder(name.removeprefix("openai:"), model, api_key_env or None)


def _open_store(url: str | None) -> Any:
    from pilotgate.plan import resolve_settings
    from pilotgate.store import Store

    return Store(resolve_settings(store=url).store)


def _eval_inputs(path: str | None, eval_set: str | None, store: Any) -> Any:
    from pilotgate.shift import load_inputs
    from pilotgate.shift._store_io import eval_set_inputs

    return load_inputs(path) if path else eval_set_inputs(store, str(eval_set))


def _production_inputs(
    path: str | None, feature: str | None, since: str | None, version: str | None, store: Any
) -> Any:
    from pilotgate.shift import load_inputs
    from pilotgate.shift._store_io import parse_since, production_inputs

    if path:
        return load_inputs(path)
    return production_inputs(store, str(feature), since=parse_since(since), version=version)


def _render(doc: dict[str, Any]) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console()
    cov = doc["coverage_detail"]
    lo, hi = cov["ci95"]
    console.print(
        f"[bold]coverage[/bold] {cov['value']:.1%} (95 % CI {lo:.1%}–{hi:.1%}) of "
        f"{doc['n_production_analyzed']} production inputs by {doc['n_eval']} eval cases "
        f"[dim](embedder {doc['embedder']}, level {cov['calibration']['level']})[/dim]"
    )
    if doc["gaps"]:
        table = Table(title="gaps (uncovered production, largest first)")
        for col in ("gap", "size", "share", "label", "what sets it apart", "example"):
            table.add_column(col, overflow="fold")
        for g in doc["gaps"][:10]:
            table.add_row(
                g["id"],
                str(g["size"]),
                f"{g['share']:.1%}",
                g["label"],
                "; ".join(d["text"] for d in g["descriptors"][:3]),
                g["examples"][0]["text"][:80] if g["examples"] else "",
            )
        console.print(table)
    else:
        console.print("no gaps: uncovered inputs do not form clusters")
    table = Table(title="drift")
    for col in ("test", "statistic", "p / q", "effect / window", "flagged"):
        table.add_column(col)
    for d in doc["drift"]["embedding"]:
        table.add_row(
            d["name"],
            f"AUC {d['auc']:.3f}",
            f"p={d['p_value']:.3g}",
            d["note"],
            _flag(d["flagged"]),
        )
    for t in doc["drift"]["descriptors"]:
        if t["flagged"] or (t["q_value"] is not None and t["q_value"] < 0.05):
            table.add_row(
                t["descriptor"],
                f"{t['test']}",
                f"q={t['q_value']:.3g}",
                f"PSI {t['psi']:.3f}",
                _flag(t["flagged"]),
            )
    console.print(table)
    for note in doc["notes"]:
        console.print(f"[dim]note: {note}[/dim]")


def _flag(flag: bool) -> str:
    return "[red]yes[/red]" if flag else "no"
