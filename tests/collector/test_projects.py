"""Projects are walled off: records belong to their key's project, reads see one project,
and an ingest key reads nothing (a real collector and dashboard, SQLite and PostgreSQL)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from pilotgate.collector import create_key
from pilotgate.store import Store

TS = "2025-05-01T10:00:00Z"


def _interaction(rid: str, feature: str, text: str) -> dict[str, Any]:
    return {"kind": "interaction", "id": rid, "ts": TS, "feature": feature, "version": "v1",
            "session_id": f"s-{rid}", "input": text, "output": f"answer to {text}"}  # fmt: skip


def _two_projects(collector_factory: Any, store_url: str) -> tuple[Any, dict[str, str]]:
    store = Store(store_url)
    col = collector_factory(store)
    keys = {}
    for project in ("alpha", "bravo"):
        keys[f"{project}-ingest"] = create_key(store, project)[0]
        keys[f"{project}-read"] = create_key(store, project, scopes=("read",))[0]
    return col, keys


def test_ids_are_unique_per_project_and_feedback_stays_in_its_project(
    collector_factory: Any, store_url: str
) -> None:
    col, keys = _two_projects(collector_factory, store_url)
    for project in ("alpha", "bravo"):
        status, resp, _ = col.request(
            "POST", "/v1/ingest", [_interaction("i-1", f"{project}-feature", f"{project} text")],
            key=keys[f"{project}-ingest"],
        )  # fmt: skip
        assert status == 200 and resp["stored_new"] == 1, resp
    rows = {r["project"]: r for r in col.store.interactions(ids=["i-1"])}
    assert rows["alpha"]["input"] == "alpha text" and rows["bravo"]["input"] == "bravo text"

    # alpha's own interaction only exists in alpha: bravo cannot attach an edit to it
    status, resp, _ = col.request(
        "POST", "/v1/feedback",
        [{"interaction_id": "only-alpha", "ts": TS, "accepted": False,
          "edited_output": "bravo's reference"}],
        key=keys["bravo-ingest"],
    )  # fmt: skip
    assert status == 422 and resp["errors"][0]["field"] == "interaction_id", resp
    col.request("POST", "/v1/ingest", [_interaction("only-alpha", "alpha-feature", "x")],
                key=keys["alpha-ingest"])  # fmt: skip
    status, resp, _ = col.request(
        "POST", "/v1/ingest",
        [{"kind": "feedback", "interaction_id": "only-alpha", "ts": TS, "accepted": False,
          "edited_output": "bravo's reference"},
         {"kind": "step", "session_id": "s-x", "ts": TS, "name": "copied",
          "metadata": {"interaction_id": "only-alpha"}},
         {"kind": "feedback", "interaction_id": "i-1", "ts": TS, "accepted": True}],
        key=keys["bravo-ingest"],
    )  # fmt: skip
    assert status == 200 and resp["accepted"] == 1, resp
    assert [(e["index"], e["field"]) for e in resp["errors"]] == [
        (0, "interaction_id"),
        (1, "interaction_id"),
    ]
    assert col.store.feedback(interaction_ids=["only-alpha"]) == []
    fb = col.store.feedback(interaction_ids=["i-1"])
    assert [(f["project"], f["accepted"]) for f in fb] == [("bravo", True)]
    # the same key's own interaction and feedback in one batch are fine
    status, resp, _ = col.request(
        "POST", "/v1/ingest",
        [_interaction("i-2", "bravo-feature", "t"),
         {"kind": "feedback", "interaction_id": "i-2", "ts": TS, "accepted": True}],
        key=keys["bravo-ingest"],
    )  # fmt: skip
    assert status == 200 and resp["accepted"] == 2 and not resp["errors"], resp


def _fill_two_projects(col: Any, keys: dict[str, str]) -> dict[str, str]:
    """Records, runs and eval sets in both projects; returns bravo's run id and set name."""
    for project in ("alpha", "bravo"):
        records = [_interaction(f"{project}-{i}", f"{project}-feature", f"{project} question {i}")
                   for i in range(5)]  # fmt: skip
        records.append({"kind": "feedback", "interaction_id": f"{project}-0", "ts": TS,
                        "accepted": True, "dwell_ms": 1200})  # fmt: skip
        status, resp, _ = col.request("POST", "/v1/ingest", records, key=keys[f"{project}-ingest"])
        assert status == 200 and not resp["errors"], resp
    out = {}
    for project in ("alpha", "bravo"):
        view = col.store.scoped(project)
        out[f"{project}-run"] = view.save_run(
            "eval", {"n_cases": 3, "scorers": {}}, name=f"{project}-eval",
            feature=f"{project}-feature", version="v1",
        )  # fmt: skip
        view.save_eval_set(f"{project}-set", [{"id": "c1", "input": f"{project} case"}])
    return out


def _get(col: Any, path: str, key: str) -> tuple[int, str]:
    status, data, _ = col.request("GET", path, key=key)
    if isinstance(data, bytes):
        return status, data.decode()
    return status, data if isinstance(data, str) else json.dumps(data)


def test_a_read_key_sees_only_its_project_in_the_dashboard_and_api(
    collector_factory: Any, store_url: str
) -> None:
    col, keys = _two_projects(collector_factory, store_url)
    ids = _fill_two_projects(col, keys)
    key = keys["alpha-read"]
    pages = ["/", "/usage", "/runs", "/coverage", "/review", "/review/alpha-set",
             f"/runs/{ids['alpha-run']}", "/api/overview", "/api/runs",
             f"/api/runs/{ids['alpha-run']}", "/?feature=bravo-feature",
             "/usage?feature=bravo-feature", "/api/overview?feature=bravo-feature"]  # fmt: skip
    for path in pages:
        status, text = _get(col, path, key)
        assert status == 200, (path, status, text[:300])
        assert "bravo" not in text, path
    assert "alpha-feature" in _get(col, "/api/overview", key)[1]
    assert "alpha-eval" in _get(col, "/api/runs", key)[1]
    assert "alpha-set" in _get(col, "/review", key)[1]
    # another project's run and eval set do not exist for this key
    assert _get(col, f"/api/runs/{ids['bravo-run']}", key)[0] == 404
    status, text = _get(col, f"/runs/{ids['bravo-run']}", key)
    assert "bravo" not in text.replace(ids["bravo-run"], "")
    status, text = _get(col, "/review/bravo-set", key)
    assert "bravo case" not in text
    # and bravo's read key sees bravo's
    assert "bravo-feature" in _get(col, "/api/overview", keys["bravo-read"])[1]


def _read_routes(col: Any) -> list[str]:
    """Every GET route of the running app that shows stored data."""
    status, spec, _ = col.request("GET", "/openapi.json", key=None)
    assert status == 200
    open_routes = {"/health", "/login", "/static/plotly.min.js", "/v1/browser.js"}
    paths = [p for p, ops in spec["paths"].items() if "get" in ops and p not in open_routes]
    # the pages are not in the OpenAPI document: list them here
    paths += ["/", "/usage", "/runs", "/runs/{run_id}", "/coverage", "/review",
              "/review/{set_name}"]  # fmt: skip
    return sorted({p.replace("{run_id}", "r-1").replace("{set_name}", "s-1") for p in paths})


def test_an_ingest_key_gets_403_on_every_read_route(collector_factory: Any, store_url: str) -> None:
    col, keys = _two_projects(collector_factory, store_url)
    _fill_two_projects(col, keys)
    routes = _read_routes(col)
    assert "/api/overview" in routes and "/usage" in routes
    for path in routes:
        status, text = _get(col, path, keys["alpha-ingest"])
        assert status == 403, (path, status, text[:200])
    # review needs admin: a read key may look, not write
    status, _, _ = col.request(
        "POST", "/review/alpha-set/c1", "action=skip", key=keys["alpha-read"],
        content_type="application/x-www-form-urlencoded",
    )  # fmt: skip
    assert status == 403
    # and an ingest key cannot log in to the dashboard
    status, _, hdrs = col.request(
        "POST", "/login", f"key={keys['alpha-ingest']}&next=/", key=None,
        content_type="application/x-www-form-urlencoded",
    )  # fmt: skip
    assert status == 303 and "error=scope" in hdrs["location"] and "set-cookie" not in hdrs


@pytest.mark.parametrize(
    ("scopes", "origins", "message"),
    [
        (("browser", "read"), ("https://a.example",), "cannot carry other scopes"),
        (("browser",), (), "needs the page origins"),
        (("ingest",), ("https://a.example",), "needs the page origins"),
        (("browser",), ("ftp://a.example",), "not a page origin"),
        (("root",), (), "unknown scope"),
    ],
)
def test_key_scopes_are_checked_at_creation(
    tmp_path: Any, scopes: tuple[str, ...], origins: tuple[str, ...], message: str
) -> None:
    from pilotgate.errors import InputError

    with Store(f"sqlite:///{tmp_path}/k.db") as store, pytest.raises(InputError, match=message):
        create_key(store, "alpha", scopes=scopes, origins=origins)


def test_a_scoped_overview_counts_its_project_only(
    collector_factory: Any, store_url: str, tmp_path: Any
) -> None:
    from pilotgate.report import usage_overview

    col, keys = _two_projects(collector_factory, store_url)
    _fill_two_projects(col, keys)
    alpha = col.store.scoped("alpha")
    assert not alpha.holds_only("alpha")
    ov = usage_overview(alpha)
    assert ov["n"] == 5 and ov["features"] == ["alpha-feature"] and ov["feedback"]["n"] == 1
    assert usage_overview(col.store)["n"] == 10
    # a one-project store: the view reads through the unscoped indexes, same figures
    with Store(f"sqlite:///{tmp_path}/solo.db") as solo:
        solo.add_interactions(
            [_interaction(f"s-{i}", "solo-feature", "q") for i in range(3)], project="solo"
        )
        assert solo.holds_only("solo") and not solo.holds_only("other")
        assert usage_overview(solo.scoped("solo"))["n"] == usage_overview(solo)["n"] == 3
        assert usage_overview(solo.scoped("other"))["n"] == 0
