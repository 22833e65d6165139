"""``pilotgate shift``: how much of production the eval set covers, what is missing, drift."""

from __future__ import annotations

from typing import Any

import click

from pilotgate._cli._options import FILE, json_option, plan_scope, store_options, write_json
from pilotgate.errors import ConfigError

__all__ = ["shift"]


_opt = click.option


# fmt: off
@click.command("shift")
@_opt("--eval", "eval_path", type=FILE, help="Eval cases (JSONL).")
@_opt("--production", "production_path", type=FILE, help="Production inputs (JSONL).")
@_opt("--eval-set", help="Store-backed: name of a stored eval set.")
@_opt("--feature", help="Store-backed: feature whose production inputs to read.")
@_opt("--since", help="Store-backed: only production inputs since this date.")
@_opt("--version", "version", help="Store-backed: only this feature version.")
@_opt("--embedder", default="minilm", show_default=True,
      help="Embedding backend: minilm (bundled model), lexical (no model), a registered name, "
      "or openai:URL for an OpenAI-compatible /embeddings endpoint (with --embedding-model).")
@_opt("--embedding-model", help="Model name sent to an openai:URL embedder.")
@_opt("--api-key-env", default="OPENAI_API_KEY", show_default=True,
      help="Environment variable holding the openai:URL endpoint's API key.")
@_opt("--scores", "scores_path", type=FILE, help="Write per-input scores (JSONL).")
@_opt("--suggest", type=click.IntRange(min=0), default=0,
      help="Suggest N cases to add, spread over gaps.")
@_opt("--suggest-out", type=FILE, help="Where --suggest writes its cases (JSONL).")
@_opt("--seed", type=int, default=0, show_default=True,
      help="Seed for samples, splits, permutations.")
@_opt("--level", type=click.FloatRange(0.5, 0.999), default=0.95, show_default=True,
      help="Coverage calibration level (expected coverage when nothing shifted).")
@_opt("--max-production", type=click.IntRange(min=100), default=100_000, show_default=True,
      help="Analyse a uniform sample of at most this many production inputs.")
@json_option("pilotgate.shift/1")
@store_options
# fmt: on
def shift(
    scores_path: str | None, suggest: int, suggest_out: str | None, json_path: str | None,
    store_url: str | None, no_store: bool, **options: Any,
) -> None:  # fmt: skip
    """Measure eval-set coverage of production, find the gaps, and test for drift.

    Inputs come from files (case lines or ingest interaction lines) or from the store
    (--eval-set NAME[@VERSION], --feature F [--since DATE] [--version V]). Coverage is
    calibrated on the eval set's own spacing, so it reads about the --level when
    nothing shifted, whatever the two sizes (docs/shift.md). The run is recorded in the
    store (its uncovered inputs as results) unless --no-store; model embeddings are
    cached there too.
    """
    from pilotgate.records import write_cases
    from pilotgate.shift import ShiftRequest, print_shift, run_shift

    request = ShiftRequest(**options)
    request.check()
    if suggest and not suggest_out:
        raise ConfigError(
            "--suggest needs --suggest-out FILE", fix="add --suggest-out suggested.jsonl"
        )
    # the run measures the plan's feature and version unless --feature / --version say
    feature, version = plan_scope(request.feature, request.version)
    result = run_shift(
        request, store_url=store_url, save=not no_store, feature=feature, version=version
    )
    doc = result.to_json()
    if scores_path:
        result.write_scores(scores_path)
    if suggest and suggest_out:
        cases = result.suggest_cases(suggest)
        write_cases(suggest_out, cases)
        doc["suggested"] = {"path": suggest_out, "n": len(cases)}
    if json_path:
        write_json(json_path, doc)
    print_shift(doc)
    if result.run_id:
        click.echo(
            f"stored run {result.run_id} (feature {result.scope.get('feature')!r}, "
            f"version {result.scope.get('version')!r})"
        )
