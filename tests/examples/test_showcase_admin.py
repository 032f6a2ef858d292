"""The showcase mounts the admin dashboard at /console for its "admin" account."""

from __future__ import annotations

import re

from tests.examples.test_showcase import showcase  # noqa: F401 - the fixture
from tests.ext.db.conftest import database_url, postgres_database  # noqa: F401 - fixtures


def test_showcase_console(showcase):  # noqa: F811
    client = showcase.app.client
    assert client.get("/console").status_code == 401
    assert client.get("/console", auth=("editor", "editor-password")).status_code == 403
    admin = ("admin", "admin-password")
    dashboard = client.get("/console", auth=admin)
    assert dashboard.status_code == 200 and "dyne showcase admin" in dashboard.text
    assert "NoteRecord" in dashboard.text
    assert "purge_uploads" in client.get("/console/jobs", auth=admin).text
    assert client.get("/console/files", auth=admin).status_code == 200
    notes = client.get("/console/models/noterecord", auth=admin)
    assert notes.status_code == 200
    token = re.search(r'name="csrf-token" content="(\w+)"', notes.text).group(1)
    assert client.post("/console/models/noterecord/bulk-delete", auth=admin,
                       data={"ids": ["1"]}).status_code == 403      # no CSRF token
    asked = client.post("/console/models/noterecord/bulk-delete", auth=admin,
                        data={"ids": ["1"], "csrf_token": token})
    assert asked.status_code == 200
