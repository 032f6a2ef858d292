"""``dyne.ext.admin``: an admin dashboard for a dyne app (see ``docs/admin.md``).

    from dyne.ext.admin import Admin

    admin = Admin(app, url="/admin", role="admin")

Server-rendered pages under ``/admin`` for the app's database models
(Alchemical), scheduled jobs and failed tasks, log files and an audit log of
every change, for users with the admin role only.
"""

from .audit import AUDIT_TABLE, audit_model
from .extension import Admin

__all__ = ["AUDIT_TABLE", "Admin", "audit_model"]
