"""The SDK's local store mode: a record the store cannot hold never poisons its batch."""

from __future__ import annotations

from pathlib import Path

from pilotgate import instrument as pg
from pilotgate.store import Store


def test_store_mode_normalises_and_refuses_per_record(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/sdk.db"
    pg.configure(store=url, spill_dir=str(tmp_path / "spill"), batch_size=50)

    @pg.track(feature="hostile")
    def answer(question: str, tokens: int = 1) -> str:
        pg.annotate(tokens_in=tokens)
        return "reply\x00"

    answer("pasted\x00text")
    answer("huge", tokens=2**40)  # no store column holds it: refused alone
    answer("fine")
    assert pg.flush(10), pg.stats()
    stats = pg.stats()
    assert stats["rejected"] == 1 and stats["spill_files"] == 0
    assert stats["normalised"] == 3  # two in the first call, one in the last
    with Store(url) as s:
        rows = {r["input"]: r for r in s.interactions(feature="hostile")}
    assert set(rows) == {"pasted\ufffdtext", "fine"}
    assert rows["fine"]["output"] == "reply\ufffd"
    pg.shutdown()


def test_mutable_arguments_are_snapshot_at_the_call(tmp_path: Path) -> None:
    """An app appending the reply to its ``messages`` does not change what was recorded."""
    url = f"sqlite:///{tmp_path}/snap.db"
    pg.configure(store=url, spill_dir=str(tmp_path / "spill"), flush_interval_s=60)

    @pg.track(feature="snap")
    def chat(messages: list[dict[str, str]]) -> str:
        return "reply"

    @pg.track(feature="snap-kw")
    def chat_kw(*, messages: list[dict[str, str]]) -> str:
        return "reply"

    history = [{"role": "user", "content": "first question"}]
    chat(history)
    history.append({"role": "assistant", "content": "reply"})  # what chat apps do
    history[0]["content"] = "edited afterwards"
    chat_kw(messages=history)
    history.clear()
    with pg.track(feature="snap-cm") as t:
        msgs = [{"role": "user", "content": "cm question"}]
        t.input = msgs
    msgs[0]["content"] = "changed"
    assert pg.flush(10), pg.stats()
    with Store(url) as s:
        rows = {r["feature"]: r for r in s.interactions()}
    assert rows["snap"]["input_messages"] == [{"role": "user", "content": "first question"}]
    assert rows["snap-kw"]["input_messages"] == [
        {"role": "user", "content": "edited afterwards"},
        {"role": "assistant", "content": "reply"},
    ]
    assert rows["snap-cm"]["input_messages"] == [{"role": "user", "content": "cm question"}]
    pg.shutdown()


def test_spill_and_store_file_modes(tmp_path: Path) -> None:
    """Spill: 0700 directory, 0600 files; store file (and its WAL) 0600."""
    import stat

    spill_dir = tmp_path / "spill"
    pg.configure(collector="http://127.0.0.1:9", spill_dir=str(spill_dir), api_key="k")

    @pg.track(feature="modes")
    def answer(question: str) -> str:
        return "reply to ann@example.com"

    answer("my card is 4111 1111 1111 1111")
    pg.flush(1)  # the collector is down: the batch goes to the spill
    pg.shutdown(1)
    files = list(spill_dir.rglob("*.jsonl"))
    assert files
    for d in [spill_dir, *{f.parent for f in files}]:
        assert stat.S_IMODE(d.stat().st_mode) == 0o700, d
    for f in files:
        assert stat.S_IMODE(f.stat().st_mode) == 0o600, f
        text = f.read_text()
        assert "4111" not in text and "ann@example.com" not in text  # redacted before disk
        assert "[CARD]" in text and "[EMAIL]" in text

    db = tmp_path / "store.db"
    with Store(f"sqlite:///{db}") as s:
        s.add_interactions(
            [{"id": "a", "ts": "2026-05-01T00:00:00Z", "feature": "f", "input": "q"}]
        )
        for path in [db, *tmp_path.glob("store.db-*")]:
            assert stat.S_IMODE(path.stat().st_mode) == 0o600, path


def test_spill_never_writes_through_a_planted_symlink(tmp_path: Path) -> None:
    from pilotgate.instrument._spill import Spill

    spill_dir = tmp_path / "spill"
    spill_dir.mkdir()
    target = tmp_path / "elsewhere.txt"
    target.write_text("untouched")
    spill = Spill(spill_dir, 1 << 20, "abc")
    # an attacker guesses the next file names and plants symlinks to a file of theirs
    (spill_dir / "spill-abc-0001.tmp").symlink_to(target)
    (spill_dir / "spill-abc-0001.jsonl").symlink_to(target)
    spill.append_records([{"kind": "step", "session_id": "s", "ts": "t", "name": "n"}])
    spill.close()
    assert target.read_text() == "untouched"
    written = spill_dir / "spill-abc-0001.jsonl"
    assert not written.is_symlink() and "session_id" in written.read_text()


def test_custom_redactor_covers_error_and_metadata(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/c.db"
    pg.configure(
        store=url, spill_dir=str(tmp_path / "sp"), redact=lambda s: s.replace("secret", "***")
    )

    @pg.track(feature="custom")
    def answer(question: str) -> str:
        pg.annotate(note="a secret note", nested={"deep": ["secret"]})
        raise ValueError("never shown")

    try:
        answer("my secret")
    except ValueError:
        pass
    with pg.track(feature="custom-cm") as t:
        t.input = "q"
        t.error = "secret leaked in the error"
    assert pg.flush(10), pg.stats()
    with Store(url) as s:
        rows = {r["feature"]: r for r in s.interactions()}
    assert rows["custom"]["input"] == "my ***"
    assert rows["custom"]["metadata"] == {"note": "a *** note", "nested": {"deep": ["***"]}}
    assert rows["custom-cm"]["error"] == "*** leaked in the error"
    pg.shutdown()
