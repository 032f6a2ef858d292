import os

from dyne.middleware import MiddlewareBase


class MaintenanceMW(MiddlewareBase):
    """While the file named by ``MAINTENANCE_FILE`` exists, writes are
    refused with a 503 (short-circuit: the controller never runs)."""

    async def middleware(self, req):
        flag = os.environ.get("MAINTENANCE_FILE", "maintenance.flag")
        # One stat() per write request: cheap enough for an example.
        if req.method not in ("GET", "HEAD", "OPTIONS") and os.path.exists(flag):  # noqa: ASYNC240
            return {"message": "Down for maintenance, try again later."}, 503
        return await self.next(req)
