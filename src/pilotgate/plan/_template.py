"""The commented plan ``pilotgate init`` writes. A test checks that it validates."""

PLAN_TEMPLATE = """\
# pilotgate.toml: the pilot plan. Declare success before the pilot starts;
# `pilotgate pilot start` locks (hashes) it, and `pilotgate gate` judges against it.
# Settings precedence: command line > PILOTGATE_* environment > this file.

[feature]
name = "{name}"                 # as recorded by the SDK: @pilotgate.track(feature=...)
version = "v1"                  # prompt/model version under test
description = "Answers customer-support questions about accounts, cards and transfers."
# Domain jargon -> plain wording (used by the jargon perturbation).
glossary = {{ acct = "account", ACH = "bank transfer" }}

[pilot]
start = {start}                 # first day of the pilot (YYYY-MM-DD)
end = {end}                     # last day
# Workflow steps that form the funnel, in order (names sent with pilotgate.step()).
steps = ["opened_assistant", "asked", "answered", "accepted", "copied_answer"]

[load]
expected_concurrency = 20       # concurrent users you expect
multiplier = 3                  # load-test at 3x expected
slo_p99_ms = 4000               # latency objective used to find the knee

[store]
# url = "postgresql://user@host/db"   # default: sqlite:///.pilotgate/pilotgate.db

# How pilotgate calls the feature: kind = "python" | "openai" | "anthropic" | "http".
[targets.assistant]
kind = "openai"
url = "http://127.0.0.1:8000/v1"
model = "assistant"
# api_key_env = "OPENAI_API_KEY"      # the NAME of the variable; the key is never stored
timeout_s = 30

# Success criteria. op: < <= > >= == !=; judge_on = "estimate" | "bound" (95 % interval's
# conservative end); window = "latest" | "pilot" | "7d"; min_samples below which the gate
# answers insufficient_data instead of guessing.
[[criteria]]
name = "users accept answers"
metric = "usage.acceptance_rate"
op = ">="
threshold = 0.7
min_samples = 200
judge_on = "bound"
window = "pilot"

[[criteria]]
name = "few errors"
metric = "usage.error_rate"
op = "<="
threshold = 0.02
min_samples = 200

[[criteria]]
name = "tail latency at 3x load"
metric = "latency.e2e.p99@3x"
op = "<="
threshold = 4000
min_samples = 100
"""
