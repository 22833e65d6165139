"""The LLM judge: any target, a rubric, a parsed verdict, retries, a cache, repeats.

A judge is itself a model and can be wrong, flaky or unparseable, so everything it does
is recorded: the exact prompt (in the score's ``judge`` record), each raw reply, and with
``repeats=N`` how often it agreed with itself. A comparison built on a judge that
disagrees with itself must not pass a gate (:mod:`pilotgate.evaluate` refuses to).

Replies are cached by (judge target fingerprint, prompt hash, repeat index) in process
memory and, inside :func:`judge_cache`, in the store's response cache, so re-scoring an
unchanged run costs no judge calls.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import re
from collections import Counter
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from pilotgate.errors import ConfigError
from pilotgate.scoring._base import Score, scorer

if TYPE_CHECKING:
    from pilotgate.store import Store
    from pilotgate.targets import Target

__all__ = [
    "DEFAULT_RUBRIC",
    "JudgeScore",
    "build_judge_messages",
    "judge_cache",
    "parse_verdict",
]

DEFAULT_RUBRIC = (
    "The output answers the input correctly, completely and helpfully. When a reference "
    "is given, the output must agree with it in substance (wording may differ)."
)

_SYSTEM = """You are a strict evaluator. Judge the OUTPUT against the rubric.
Rubric: {rubric}
{instruction}"""
_PASS_FAIL_INSTRUCTION = (
    "Think briefly, then end with one final line exactly 'VERDICT: PASS' or 'VERDICT: FAIL'."
)
_SCORE_INSTRUCTION = (
    "Think briefly, then end with one final line exactly 'SCORE: <n>' where n is a "
    "number from {lo:g} (worst) to {hi:g} (best)."
)
_USER = """## Input
{input}

## Output to judge
{output}

## Reference
{reference}"""

_MEMO: dict[str, str] = {}
_MEMO_MAX = 100_000
_CACHE_STORE: ContextVar[Store | None] = ContextVar("pilotgate_judge_store", default=None)
_CACHE_READ: ContextVar[bool] = ContextVar("pilotgate_judge_read", default=True)
_TARGETS: dict[str, Target] = {}


@dataclass(frozen=True)
class JudgeScore(Score):
    """A judge's score with its evidence.

    Attributes:
        judge: the judge target, safe to print.
        prompt: the full prompt sent (system and user message), for the record.
        prompt_hash: sha256 of the prompt (the cache key's second half).
        verdicts: each repeat's parsed value in [0, 1], None when unparseable.
        replies: each repeat's raw reply (cut to 500 characters).
        agreement: share of parsed repeats that agree with the majority verdict
            (None with fewer than two parsed repeats).
        calls: judge calls made (cache hits excluded, retries included).
        cached: repeats answered from the cache.
    """

    judge: str = ""
    prompt: str = ""
    prompt_hash: str = ""
    verdicts: tuple[float | None, ...] = ()
    replies: tuple[str, ...] = ()
    agreement: float | None = None
    calls: int = 0
    cached: int = 0
    errors: tuple[str, ...] = field(default=())

    def to_json(self) -> dict[str, Any]:
        out = super().to_json()
        out["judge"] = {
            "target": self.judge,
            "prompt": self.prompt,
            "prompt_hash": self.prompt_hash,
            "repeats": len(self.verdicts),
            "verdicts": list(self.verdicts),
            "replies": list(self.replies),
            "agreement": self.agreement,
            "calls": self.calls,
            "cached": self.cached,
            "errors": list(self.errors),
        }
        return out


@contextmanager
def judge_cache(store: Store | None, *, read: bool = True) -> Iterator[None]:
    """Within the block, judges also cache replies in ``store`` (and read only if ``read``).

    An eval run wraps its scoring in this so judge replies live next to the target's
    cached responses and survive the process.
    """
    t1 = _CACHE_STORE.set(store)
    t2 = _CACHE_READ.set(read)
    try:
        yield
    finally:
        _CACHE_STORE.reset(t1)
        _CACHE_READ.reset(t2)


def clear_judge_memo() -> None:
    """Forget in-process cached replies and judge targets (tests)."""
    _MEMO.clear()
    _TARGETS.clear()


def _sub(template: str, values: Mapping[str, str]) -> str:
    # str.replace, not str.format: inputs and outputs are full of braces.
    for key, value in values.items():
        template = template.replace("{" + key + "}", value)
    return template


def build_judge_messages(
    output: str,
    reference: Any = None,
    *,
    input: str | None = None,
    rubric: str = DEFAULT_RUBRIC,
    mode: str = "pass_fail",
    scale: Sequence[float] = (1, 5),
    template: str | None = None,
) -> list[dict[str, str]]:
    """The chat messages a judge receives: a system message (rubric, answer format) and a
    user message with the input, the output and the reference (``template`` replaces the
    latter; it may use ``{input}``, ``{output}``, ``{reference}``, ``{rubric}``)."""
    lo, hi = float(scale[0]), float(scale[1])
    instruction = (
        _PASS_FAIL_INSTRUCTION if mode == "pass_fail" else _SCORE_INSTRUCTION.format(lo=lo, hi=hi)
    )
    ref = "(none)" if reference is None or reference == "" else _as_text(reference)
    values = {
        "input": input or "(none)",
        "output": output or "(empty)",
        "reference": ref,
        "rubric": rubric,
    }
    system = _sub(_SYSTEM, {"rubric": rubric, "instruction": instruction})
    user = _sub(template or _USER, values)
    return [{"role": "system", "content": system}, {"role": "user", "content": user}]


def _as_text(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)


# ------------------------------------------------------------------ parsing
_PASS = r"pass(?:ed|es)?|yes|correct|acceptable|good|true"
_FAIL = r"fail(?:ed|s)?|no|incorrect|unacceptable|bad|false"
_VERDICT_RE = re.compile(
    r"\b(?:verdict|decision|judge?ment|result|final answer|grade)\b\W{0,4}"
    rf"({_PASS}|{_FAIL})\b",
    re.I,
)
# bare words count in capitals ("... so: PASS") or alone on a line ("**pass**"); a
# lower-case "pass" inside a sentence is reasoning ("did not pass"), not a verdict
_BARE_RE = re.compile(
    r"(?<![\w-])(PASS(?:ED)?|FAIL(?:ED)?)(?![\w-])|^\W*((?i:pass(?:ed)?|fail(?:ed)?))\W*$",
    re.M,
)
_SCORE_RE = re.compile(
    r"\b(?:score|rating|grade|points?)\b\W{0,4}(-?\d+(?:\.\d+)?)"
    r"(?:\s*(?:/|out of)\s*(\d+(?:\.\d+)?))?",
    re.I,
)
_LAST_NUMBER_RE = re.compile(r"^\W*(-?\d+(?:\.\d+)?)(?:\s*/\s*(\d+(?:\.\d+)?))?\W*$")
_JSON_RE = re.compile(r"\{[^{}]*\}", re.S)


def _word_value(word: str) -> float:
    return 0.0 if re.fullmatch(_FAIL, word, re.I) else 1.0


def _scaled(raw: float, out_of: str | None, lo: float, hi: float) -> float:
    if out_of is not None and float(out_of) > 0:
        return min(1.0, max(0.0, raw / float(out_of)))
    if hi == lo:
        return 1.0 if raw >= hi else 0.0
    return min(1.0, max(0.0, (raw - lo) / (hi - lo)))


def _from_json(text: str, lo: float, hi: float) -> float | None:
    for blob in reversed(_JSON_RE.findall(text)):
        try:
            obj = json.loads(blob)
        except json.JSONDecodeError:
            continue
        if not isinstance(obj, dict):
            continue
        low = {str(k).lower(): v for k, v in obj.items()}
        for key in ("verdict", "pass", "passed", "result", "decision"):
            v = low.get(key)
            if isinstance(v, bool):
                return 1.0 if v else 0.0
            if isinstance(v, str) and re.fullmatch(f"{_PASS}|{_FAIL}", v.strip(), re.I):
                return _word_value(v.strip())
        for key in ("score", "rating", "grade"):
            v = low.get(key)
            if isinstance(v, int | float) and not isinstance(v, bool):
                return _scaled(float(v), None, lo, hi)
    return None


def parse_verdict(
    text: str, *, mode: str = "pass_fail", scale: Sequence[float] = (1, 5)
) -> float | None:
    """A judge reply's verdict as a value in [0, 1], or None when there is none.

    Tolerant of what models actually write: a JSON object (``{"verdict": "pass"}``,
    ``{"score": 4}``), a labelled line (``VERDICT: FAIL``, ``**Score:** 4/5``), a bare
    PASS/FAIL word, or a lone number on the last line. The *last* verdict wins, since
    judges reason first and conclude at the end. In ``score`` mode a score is mapped
    from ``scale`` (or from its own "x/10") onto [0, 1]; in ``pass_fail`` mode a score
    counts as a pass at or above the middle of the scale.
    """
    if not text or not text.strip():
        return None
    lo, hi = float(scale[0]), float(scale[1])
    value = _from_json(text, lo, hi)
    if value is not None:
        return value
    labelled = _VERDICT_RE.findall(text)
    score = _SCORE_RE.findall(text)
    bare = [a or b for a, b in _BARE_RE.findall(text)]
    if mode == "score":
        if score:
            raw, out_of = score[-1]
            return _scaled(float(raw), out_of or None, lo, hi)
        last = text.strip().splitlines()[-1]
        m = _LAST_NUMBER_RE.match(last)
        if m:
            return _scaled(float(m.group(1)), m.group(2), lo, hi)
    if labelled:
        return _word_value(labelled[-1])
    if bare:
        return _word_value(bare[-1])
    if mode != "score" and score:
        raw, out_of = score[-1]
        return 1.0 if _scaled(float(raw), out_of or None, lo, hi) >= 0.5 else 0.0
    return None


# ------------------------------------------------------------------ calling
def _judge_target(spec: str, model: str | None, options: Mapping[str, Any]) -> Target:
    key = json.dumps([spec, model, dict(options)], sort_keys=True, default=str)
    tgt = _TARGETS.get(key)
    if tgt is None:
        from pilotgate.targets import resolve_target

        opts = {"retries": 3, **options}
        tgt = _TARGETS[key] = resolve_target(spec, model=model, **opts)
    return tgt


def _cache_key(fingerprint: str, prompt_hash: str, repeat: int) -> str:
    return hashlib.sha256(f"judge|{fingerprint}|{prompt_hash}|{repeat}".encode()).hexdigest()


def _cache_get(key: str) -> str | None:
    if not _CACHE_READ.get():
        return None
    hit = _MEMO.get(key)
    if hit is not None:
        return hit
    store = _CACHE_STORE.get()
    if store is not None:
        data = store.cache_get_many([key]).get(key)
        if isinstance(data, dict) and isinstance(data.get("reply"), str):
            _MEMO[key] = data["reply"]
            return str(data["reply"])
    return None


def _cache_put(key: str, reply: str) -> None:
    if len(_MEMO) >= _MEMO_MAX:
        _MEMO.clear()
    _MEMO[key] = reply
    store = _CACHE_STORE.get()
    if store is not None:
        store.cache_put_many({key: {"reply": reply, "kind": "judge"}})


@dataclass
class _Ask:
    value: float | None = None
    reply: str = ""
    calls: int = 0
    cached: bool = False
    error: str | None = None


async def _ask(
    target: Target,
    messages: list[dict[str, str]],
    key: str,
    *,
    retries: int,
    mode: str,
    scale: Sequence[float],
    use_cache: bool,
) -> _Ask:
    out = _Ask()
    if use_cache:
        hit = _cache_get(key)
        if hit is not None:
            value = parse_verdict(hit, mode=mode, scale=scale)
            if value is not None:
                return _Ask(value, hit, 0, True)
    for _ in range(retries + 1):
        res = await target.call(messages)
        out.calls += 1
        if res.error is not None:
            out.error = f"{res.error}: {res.detail or ''}".strip(": ")
            continue
        out.reply = res.output
        out.value = parse_verdict(res.output, mode=mode, scale=scale)
        if out.value is not None:
            out.error = None
            if use_cache:
                _cache_put(key, res.output)
            return out
        out.error = "unparseable verdict"
    return out


def _agreement(values: Sequence[float], threshold: float) -> float | None:
    if len(values) < 2:
        return None
    votes = Counter(v >= threshold for v in values)
    return max(votes.values()) / len(values)


@scorer("judge")
async def judge(
    output: str,
    reference: Any = None,
    *,
    input: str | None = None,
    target: str = "",
    model: str | None = None,
    rubric: str = DEFAULT_RUBRIC,
    mode: str = "pass_fail",
    scale: Sequence[float] = (1, 5),
    threshold: float = 0.5,
    repeats: int = 1,
    retries: int = 2,
    cache: bool = True,
    template: str | None = None,
    options: Mapping[str, Any] | None = None,
) -> JudgeScore:
    """An LLM judge: asks ``target`` to grade the output against ``rubric`` (PASS/FAIL or a score).

    ``repeats=N`` asks N times and reports how often the judge agreed with itself;
    ``retries`` re-asks after a failed call or an unparseable reply; ``options`` are
    extra target settings (``temperature``, ``system_prompt``…).
    """
    if not target:
        raise ConfigError(
            "the judge scorer needs a target",
            fix="e.g. --scorer judge:target=openai:http://127.0.0.1:8000/v1,model=gpt-4o-mini",
        )
    if mode not in ("pass_fail", "score"):
        raise ConfigError(f"judge: mode must be 'pass_fail' or 'score' (got {mode!r})")
    if repeats < 1 or retries < 0:
        raise ConfigError(f"judge: repeats must be >= 1 and retries >= 0 ({repeats}, {retries})")
    if len(scale) != 2 or float(scale[0]) > float(scale[1]):
        raise ConfigError(f"judge: scale must be [low, high] (got {scale!r})")
    tgt = _judge_target(target, model, options or {})
    messages = build_judge_messages(
        output, reference, input=input, rubric=rubric, mode=mode, scale=scale, template=template
    )
    blob = json.dumps(messages, ensure_ascii=False, sort_keys=True)
    phash = hashlib.sha256(blob.encode()).hexdigest()
    asks = await asyncio.gather(
        *(
            _ask(
                tgt,
                messages,
                _cache_key(tgt.fingerprint, phash, k),
                retries=retries,
                mode=mode,
                scale=scale,
                use_cache=cache,
            )
            for k in range(repeats)
        )
    )
    parsed = [a.value for a in asks if a.value is not None]
    errors = tuple(a.error for a in asks if a.error)
    prompt = "\n\n".join(f"[{m['role']}]\n{m['content']}" for m in messages)
    common: dict[str, Any] = {
        "judge": getattr(tgt, "describe", lambda: target)(),
        "prompt": prompt,
        "prompt_hash": phash,
        "verdicts": tuple(a.value for a in asks),
        "replies": tuple(a.reply[:500] for a in asks),
        "agreement": _agreement(parsed, threshold),
        "calls": sum(a.calls for a in asks),
        "cached": sum(a.cached for a in asks),
        "errors": errors,
    }
    if not parsed:
        return JudgeScore(0.0, False, f"judge gave no verdict ({errors[0]})", **common)
    value = sum(parsed) / len(parsed)
    passes = sum(v >= threshold for v in parsed)
    ok = passes * 2 > len(parsed)
    detail = f"judge {'PASS' if ok else 'FAIL'}"
    if mode == "score":
        detail = f"judge score {value:.2f} ({'pass' if ok else 'fail'} at {threshold:g})"
    if repeats > 1:
        detail += f", {passes}/{len(parsed)} repeats pass"
    detail += f" [prompt {phash[:12]}]"
    return JudgeScore(value, ok, detail, **common)
