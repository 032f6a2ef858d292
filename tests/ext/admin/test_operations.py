"""The admin's dashboard, jobs, failed tasks and logs pages, and a stateless backend."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest

import dyne

from .helpers import csrf_token, log_in, make_admin_app

pytest.importorskip("sqlalchemy")


def test_jobs_pause_resume_run_now_and_failed_tasks(tmp_path: Path) -> None:
    from dyne.ext.scheduler import TaskManager, schedule_job
    from dyne.ext.tasks import TaskQueue

    runs: list[str] = []

    class Jobs(TaskManager):
        @schedule_job("interval", hours=1, id="nightly-report")
        async def report(self) -> None:
            runs.append("report")

    app, _, _ = make_admin_app(f"sqlite:///{tmp_path / 'jobs.db'}")
    Jobs(app)
    app.config["TASKS"] = {"BROKER": "memory://", "RETRY_DELAY": 0.01}
    queue = TaskQueue(app)

    @queue.task(retries=0)
    async def charge(order_id: int) -> None:
        runs.append(f"charge {order_id}")
        if len(runs) < 3:
            raise ConnectionError("payment provider unreachable")

    with app.client as client:
        log_in(client)
        job = client.portal.call(charge.enqueue, 42)
        deadline = time.monotonic() + 5
        while not client.portal.call(queue.dead_letters) and time.monotonic() < deadline:
            time.sleep(0.02)
        page = client.get("/admin/jobs")
        assert "nightly-report" in page.text and "interval[1:00:00]" in page.text
        assert "payment provider unreachable" in page.text and job.task_id in page.text
        assert 'id="failed">1<' in client.get("/admin").text

        token = csrf_token(client, "/admin/jobs")
        paused = client.post("/admin/jobs/nightly-report/pause", data={"csrf_token": token})
        assert paused.status_code == 200 and "Job nightly-report: pause done." in paused.text
        assert 'class="badge">paused<' in paused.text
        assert app.extensions["task_manager"].get_job("nightly-report").next_run_time is None
        resumed = client.post("/admin/jobs/nightly-report/resume", data={"csrf_token": token})
        assert 'class="badge">paused<' not in resumed.text
        assert app.extensions["task_manager"].get_job("nightly-report").next_run_time is not None
        client.post("/admin/jobs/nightly-report/run", data={"csrf_token": token})
        deadline = time.monotonic() + 5
        while "report" not in runs and time.monotonic() < deadline:
            time.sleep(0.02)
        assert "report" in runs
        assert client.post("/admin/jobs/nope/pause", data={"csrf_token": token}).status_code == 404
        assert client.post("/admin/jobs/nightly-report/explode",
                           data={"csrf_token": token}).status_code == 404

        retried = client.post(f"/admin/tasks/{job.task_id}/retry", data={"csrf_token": token})
        assert retried.status_code == 200 and "queued again" in retried.text
        deadline = time.monotonic() + 5
        while runs.count("charge 42") < 2 and time.monotonic() < deadline:
            time.sleep(0.02)
        assert runs.count("charge 42") == 2
        assert client.post(f"/admin/tasks/{job.task_id}/retry",
                           data={"csrf_token": token}).status_code == 404

        audit = client.get("/admin/audit").text
        for action in ("job pause", "job resume", "job run", "task retry"):
            assert f"<td>{action}</td>" in audit


def test_logs_by_level_text_and_request_id_newest_first(tmp_path: Path, monkeypatch: Any) -> None:
    pytest.importorskip("loguru")
    from dyne.ext.observability import Health, RequestContext

    monkeypatch.chdir(tmp_path)
    app, _, _ = make_admin_app(f"sqlite:///{tmp_path / 'logs.db'}")
    app.config["DEFAULT_LOGGER"] = {"SINK": "app.jsonl", "FORMAT": "json"}
    app.config["LOGGERS"] = []
    RequestContext(app)
    health = Health(app)
    health.add_check("database", lambda: True)

    @app.route("/orders/{number:int}")
    async def order(req: Any, resp: Any, *, number: int) -> None:
        app.logger.info("order {} looked up", number)
        if number == 13:
            app.logger.error("order {} is unlucky", number)
        resp.text = "ok"

    with app.client as client:
        for number in (1, 2, 13):
            client.get(f"/orders/{number}", headers={"X-Request-ID": f"req-{number}"})
        log_in(client)
        by_id = client.get("/admin/logs", params={"request_id": "req-13"})
        assert by_id.status_code == 200
        assert "order 13 looked up" in by_id.text and "order 13 is unlucky" in by_id.text
        assert "order 2 looked up" not in by_id.text
        assert by_id.text.index("is unlucky") < by_id.text.index("order 13 looked up")  # newest first
        errors = client.get("/admin/logs", params={"level": "ERROR"})
        assert errors.text.count('class="log-record"') == 1
        texts = client.get("/admin/logs", params={"q": "ORDER 2"})
        assert "order 2 looked up" in texts.text and "order 1 " not in texts.text
        assert client.get("/admin/logs", params={"level": "LOUD"}).status_code == 400
        dashboard = client.get("/admin").text
        assert 'id="errors">1<' in dashboard
        assert "database: <span class=\"badge ok\">ok</span>" in dashboard


def test_tail_reads_only_the_end_of_a_large_file(tmp_path: Path) -> None:
    from dyne.ext.admin.logs import parse_line, search_logs, tail_lines

    log = tmp_path / "big.log"
    with log.open("w") as handle:
        for number in range(200_000):
            handle.write(f"12:00:00 | INFO | app | r{number} | line {number}\n")
    assert log.stat().st_size > 5_000_000
    newest = list(tail_lines(log, max_bytes=4096))
    assert newest[0].endswith("line 199999") and len(newest) < 100
    record = parse_line("big.log", newest[0])
    assert (record.level, record.request_id, record.message) == ("INFO", "r199999", "line 199999")
    found = search_logs([log], request_id="r199990", max_bytes=64 * 1024)
    assert [r.message for r in found] == ["line 199990"]
    assert search_logs([log], request_id="r5", max_bytes=64 * 1024) == []  # beyond the window
    assert list(tail_lines(tmp_path / "missing.log")) == []
    jsonl = tmp_path / "app.jsonl"
    jsonl.write_text(json.dumps({"time": "t", "level": "ERROR", "message": "m", "request_id": "x"}) + "\n")
    assert search_logs([jsonl], level="warning")[0].request_id == "x"


def test_a_stateless_backend_and_a_check_callable(tmp_path: Path) -> None:
    from dyne.ext.admin import Admin
    from dyne.ext.auth import BasicAuth
    from dyne.ext.db.alchemical import Alchemical

    app = dyne.App(secret_key="another-secret-key-for-admin-tests")
    app.config["ALCHEMICAL_DATABASE_URL"] = f"sqlite:///{tmp_path / 'basic.db'}"
    Alchemical(app)
    basic = BasicAuth()
    basic.get_password({"ops": "pw", "dev": "pw"}.get)
    Admin(app, auth=basic, check=lambda user: user == "ops")
    with app.client as client:
        refused = client.get("/admin")
        assert refused.status_code == 401 and refused.headers["WWW-Authenticate"].startswith("Basic")
        assert client.get("/admin", auth=("dev", "pw")).status_code == 403
        assert client.get("/admin", auth=("ops", "pw")).status_code == 200
        # Browsers send Basic credentials with cross-site posts too: the token is still required.
        assert client.post("/admin/jobs/x/pause", auth=("ops", "pw")).status_code == 403
        page = client.get("/admin/jobs", auth=("ops", "pw"))
        token = page.text.split('name="csrf-token" content="', 1)[1].split('"', 1)[0]
        with_token = client.post("/admin/jobs/x/pause", auth=("ops", "pw"), data={"csrf_token": token})
        assert with_token.status_code == 404  # past the checks: there is no scheduler here
        assert client.post("/admin/jobs/x/pause", auth=("dev", "pw"),
                           data={"csrf_token": token}).status_code == 403


def test_a_login_manager_tells_admins_by_its_public_user_roles(tmp_path: Path) -> None:
    """The admin asks LoginManager.user_roles(user): a manager that computes roles its own
    way (here: from a directory of granted roles, not the user record) is obeyed."""
    from dyne.ext.admin import Admin
    from dyne.ext.auth import LoginManager
    from dyne.ext.db.alchemical import Alchemical

    granted = {"root": {"admin"}}

    class DirectoryLoginManager(LoginManager):
        async def user_roles(self, user: Any) -> frozenset[Any]:
            return frozenset(granted.get(user["username"], ()))

    app = dyne.App(secret_key="admin-tests-secret-key-0123456789")
    app.config["ALCHEMICAL_DATABASE_URL"] = f"sqlite:///{tmp_path / 'roles.db'}"
    Alchemical(app)
    auth = DirectoryLoginManager(app, login_url="/login")
    accounts = {"1": {"username": "root"}, "2": {"username": "eve"}}
    auth.user_loader(accounts.get)  # no get_user_roles callback: user_roles decides

    @app.route("/login/{user_id}")
    async def login(req: Any, resp: Any, *, user_id: str) -> None:
        await auth.login(req, resp, {"id": user_id, **accounts[user_id]})

    Admin(app)
    with app.client as client:
        client.get("/login/2")
        assert client.get("/admin", headers={"Accept": "application/json"}).status_code == 403
        granted["eve"] = {"admin"}
        assert client.get("/admin").status_code == 200
        client.get("/login/1")
        assert client.get("/admin").status_code == 200
