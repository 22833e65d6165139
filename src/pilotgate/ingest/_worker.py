"""The worker process of a parallel JSONL import (see :mod:`pilotgate.ingest._parallel`).

``python -m pilotgate.ingest._worker DIR``. Reads pickled messages on stdin: first
``(redactor or None, sqlite_rows, pg_lines)``, then ``(path, start, end, first_line)`` blocks, then
None. For each block it reads those bytes of the file, prepares them, pickles the
:class:`~pilotgate.ingest._parallel.Prepared` (or the exception raised) to a file in DIR
and writes that file's name on a line of stdout. Its own stdout is moved to stderr so a
stray print cannot corrupt the answers.
"""

from __future__ import annotations

import gc
import os
import pickle
import sys


def main() -> None:
    gc.disable()  # records hold no cycles; see pilotgate._gc
    out = os.fdopen(os.dup(sys.stdout.fileno()), "wb")
    sys.stdout = sys.stderr
    folder = sys.argv[1]
    inp = sys.stdin.buffer
    from pilotgate.ingest._parallel import prepare_block

    try:
        redactor, sqlite_rows, pg_lines = pickle.load(inp)
    except EOFError:
        return
    for n in range(1 << 62):
        try:
            msg = pickle.load(inp)
        except EOFError:
            return
        if msg is None:
            return
        path, start, end, first_line = msg
        answer: object
        try:
            with open(path, "rb") as fh:
                fh.seek(start)
                data = fh.read(end - start)
            answer = prepare_block(data, path, first_line, start, redactor, sqlite_rows, pg_lines)
        except Exception as exc:  # handed back to be raised where the import runs
            answer = exc
        name = f"{n}.pkl"
        with open(os.path.join(folder, name + ".part"), "wb") as fh:
            pickle.dump(answer, fh, protocol=pickle.HIGHEST_PROTOCOL)
        os.replace(os.path.join(folder, name + ".part"), os.path.join(folder, name))
        try:
            out.write(name.encode() + b"\n")
            out.flush()
        except BrokenPipeError:
            return


if __name__ == "__main__":
    main()
