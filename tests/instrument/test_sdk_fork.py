"""Fork safety: a process forked right after ``configure()`` records in both parent and child.

Each scenario runs in a fresh interpreter, because the race it guards against (the exporter
thread importing the store while the process forks) only exists before those modules are
imported, which the rest of the test session has long done.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="needs fork")


def _run(tmp_path: Path, body: str, timeout: float = 60) -> str:
    script = tmp_path / "scenario.py"
    script.write_text(textwrap.dedent(body))
    done = subprocess.run(
        [sys.executable, str(script)],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout


def _stored_ids(url: str) -> list[str]:
    from pilotgate.store import Store

    with Store(url) as s:
        return [str(x["id"]) for x in s.interactions()]


def test_the_exporter_thread_imports_nothing_after_configure(tmp_path: Path) -> None:
    out = _run(
        tmp_path,
        """
        import json, sys
        import pilotgate as pg
        pg.configure(store="sqlite:///x.db", spill_dir="spill")
        before = set(sys.modules)

        @pg.track(feature="f")
        def f(q):
            return "a"

        f("hi")
        assert pg.flush(10)
        print(json.dumps(sorted(set(sys.modules) - before)))
        """,
    )
    assert json.loads(out) == []


FORK_AT_ONCE = """
import os, sys
import pilotgate as pg
pg.configure(store="sqlite:///x.db", spill_dir="spill")

@pg.track(feature="fork")
def who(q):
    return q

pids = []
for k in range(3):
    pid = os.fork()
    if pid == 0:  # a worker forked while the exporter thread may still be opening the store
        who(f"child-{k}")
        ok = pg.flush(15)
        err = pg.stats().get("last_error")
        os._exit(0 if ok else (print("child", k, err, file=sys.stderr) or 1))
    pids.append(pid)
who("parent")
codes = [os.waitpid(p, 0)[1] for p in pids]
assert pg.flush(15), pg.stats()
assert codes == [0, 0, 0], codes
"""


def test_children_forked_right_after_configure_record(tmp_path: Path) -> None:
    for attempt in range(3):
        (tmp_path / "x.db").unlink(missing_ok=True)
        _run(tmp_path, FORK_AT_ONCE)
        inputs = sorted(_input_texts(f"sqlite:///{tmp_path}/x.db"))
        assert inputs == ["child-0", "child-1", "child-2", "parent"], attempt


def _input_texts(url: str) -> list[str]:
    from pilotgate.store import Store

    with Store(url) as s:
        return [str(x["input"]) for x in s.interactions()]


@pytest.mark.parametrize("method", ["fork", "forkserver"])
def test_multiprocessing_pool_workers_record(tmp_path: Path, method: str) -> None:
    _run(
        tmp_path,
        f"""
        import multiprocessing as mp
        import pilotgate as pg

        URL = "sqlite:///x.db"

        def init():
            # forkserver workers do not inherit the parent's SDK: they configure their own
            if mp.get_start_method() != "fork":
                pg.configure(store=URL, spill_dir="spill")

        @pg.track(feature="pool")
        def work(q):
            return q.upper()

        def task(q):
            out = work(q)
            pg.flush(15)
            return out

        if __name__ == "__main__":
            mp.set_start_method({method!r})
            pg.configure(store=URL, spill_dir="spill")
            with mp.Pool(2, initializer=init) as pool:
                got = pool.map(task, [f"q{{i}}" for i in range(8)])
            assert got == [f"Q{{i}}" for i in range(8)]
            assert pg.flush(15)
        """,
    )
    ids = _stored_ids(f"sqlite:///{tmp_path}/x.db")
    assert len(ids) == 8 and len(set(ids)) == 8


def test_prefork_server_workers_record_and_flush_at_exit(tmp_path: Path) -> None:
    """gunicorn --preload: the master configures and imports the app, then forks workers."""
    _run(
        tmp_path,
        """
        import os, sys
        import pilotgate as pg
        pg.configure(store="sqlite:///x.db", spill_dir="spill")

        @pg.track(feature="prefork")
        def handle(q):
            return q

        workers = []
        for w in range(2):
            pid = os.fork()
            if pid == 0:
                for i in range(50):
                    handle(f"w{w}-{i}")
                sys.exit(0)  # a worker's normal exit: the at-exit flush sends what is queued
            workers.append(pid)
        assert [os.waitpid(p, 0)[1] for p in workers] == [0, 0]
        """,
    )
    inputs = _input_texts(f"sqlite:///{tmp_path}/x.db")
    assert sorted(inputs) == sorted(f"w{w}-{i}" for w in range(2) for i in range(50))
