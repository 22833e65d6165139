"""Three real OpenTelemetry instrumentations of the openai SDK into a real collector.

Each app runs in its own process (instrumentors patch the SDK process-wide): the real
``openai`` SDK calls ``pilotgate simulate``, the instrumentation traces it, and the OTel
SDK's OTLP/HTTP (protobuf) exporters send spans (and, for OpenTelemetry's own
``openai-v2``, the message content as log records) to ``pilotgate serve``. Every call
must be stored with model, input text, output text and tokens.

The instrumentations come from the ``genai-otel`` extra (in ``dev``), so ``make test``
on a clean machine has them.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import pytest
from tests._stack import serve_process, simulate_process

from pilotgate.store import Store

APP = r"""
import asyncio, json, os, sys
which, sim, collector, key, order = sys.argv[1:6]
os.environ["OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT"] = "true"
from opentelemetry import _logs, trace
from opentelemetry.exporter.otlp.proto.http._log_exporter import OTLPLogExporter
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk._logs import LoggerProvider
from opentelemetry.sdk._logs.export import BatchLogRecordProcessor
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor

headers = {"Authorization": f"Bearer {key}"}
resource = Resource.create({"service.name": f"otel-{which}-{order}", "service.version": "v1"})
tp = TracerProvider(resource=resource)
spans = OTLPSpanExporter(endpoint=collector + "/v1/traces", headers=headers)
tp.add_span_processor(BatchSpanProcessor(spans))
trace.set_tracer_provider(tp)
lp = LoggerProvider(resource=resource)
logs = OTLPLogExporter(endpoint=collector + "/v1/logs", headers=headers)
lp.add_log_record_processor(BatchLogRecordProcessor(logs))
_logs.set_logger_provider(lp)
if which == "openai-v2":
    from opentelemetry.instrumentation.openai_v2 import OpenAIInstrumentor
elif which == "traceloop":
    from opentelemetry.instrumentation.openai import OpenAIInstrumentor
else:
    from openinference.instrumentation.openai import OpenAIInstrumentor
OpenAIInstrumentor().instrument()
import openai

client = openai.OpenAI(base_url=sim + "/v1", api_key="k")
answers = []
def ask(messages, **kw):
    r = client.chat.completions.create(model="gpt-sim", messages=messages, **kw)
    answers.append(r.choices[0].message.content)
ask([{"role": "user", "content": "Where is my card?"}])
ask([{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Block my card"}])
ask([{"role": "user", "content": "What is my balance?"}], max_tokens=5)
parts = []
for chunk in client.chat.completions.create(
    model="gpt-sim", messages=[{"role": "user", "content": "Stream the fees"}],
    stream=True, stream_options={"include_usage": True},
):
    if chunk.choices and chunk.choices[0].delta.content:
        parts.append(chunk.choices[0].delta.content)
answers.append("".join(parts))
async def one_async():
    ac = openai.AsyncOpenAI(base_url=sim + "/v1", api_key="k")
    q = [{"role": "user", "content": "Async loan question"}]
    r = await ac.chat.completions.create(model="gpt-sim", messages=q)
    await ac.close()
    return r.choices[0].message.content
answers.append(asyncio.run(one_async()))
# the exporters' order decides what reaches the collector first: spans or their log events
for provider in ((tp, lp) if order == "spans-first" else (lp, tp)):
    provider.shutdown()
print(json.dumps(answers))
"""

QUESTIONS = [
    "Where is my card?",
    "Block my card",
    "What is my balance?",
    "Stream the fees",
    "Async loan question",
]


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    tmp = tmp_path_factory.mktemp("genai_otel")
    store_url = f"sqlite:///{tmp}/collector.db"
    key = subprocess.run(
        [sys.executable, "-m", "pilotgate", "keys", "create", "--project", "otel",
         "--store", store_url],
        capture_output=True, text=True, timeout=60, check=True,
    ).stdout  # fmt: skip
    token = next(w for w in key.split() if w.startswith("pg_"))
    (tmp / "app.py").write_text(APP)
    with simulate_process("--ttft-ms", "2", "--token-ms", "1", "--output-tokens", "9") as sim:
        with serve_process(store_url, tmp / "serve.log") as collector:
            yield {"sim": sim, "collector": collector, "key": token, "store": store_url,
                   "app": str(tmp / "app.py")}  # fmt: skip


def _run_app(stack: dict[str, str], which: str, order: str) -> list[str]:
    proc = subprocess.run(
        [sys.executable, stack["app"], which, stack["sim"], stack["collector"], stack["key"],
         order],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-3000:]
    answers: list[str] = json.loads(proc.stdout.strip().splitlines()[-1])
    return answers


def _text(value: Any) -> str:
    if isinstance(value, list):
        return " ".join(str(m.get("content", "")) for m in value if isinstance(m, dict))
    return str(value or "")


@pytest.mark.slow
@pytest.mark.parametrize(
    ("which", "order"),
    [
        ("openai-v2", "spans-first"),
        ("openai-v2", "logs-first"),  # the text arrives before the span it belongs to
        ("traceloop", "spans-first"),
        ("openinference", "spans-first"),
    ],
)
def test_every_call_is_stored_with_model_text_and_tokens(
    stack: dict[str, str], which: str, order: str
) -> None:
    answers = _run_app(stack, which, order)
    with Store(stack["store"]) as s:
        recs = s.interactions(feature=f"otel-{which}-{order}")
    assert len(recs) == 5, [(r["id"], r["input"]) for r in recs]
    by_question = {}
    for rec in recs:
        text = _text(rec["input_messages"] or rec["input"])
        match = [q for q in QUESTIONS if q in text]
        assert len(match) == 1, text
        by_question[match[0]] = rec
    for question, answer in zip(QUESTIONS, answers, strict=True):
        rec = by_question[question]
        md = rec["metadata"] or {}
        assert md.get("model") == "gpt-sim", md
        assert rec["output"] == answer, (question, rec["output"], answer)
        assert rec["tokens_in"] and rec["tokens_in"] > 0
        expected_out = 5 if question == "What is my balance?" else 9
        assert rec["tokens_out"] == expected_out
        assert "awaiting_span" not in md and md.get("project") == "otel"
        assert rec["version"] == "v1"
    system = _text(by_question["Block my card"]["input_messages"])
    assert "Be brief." in system
