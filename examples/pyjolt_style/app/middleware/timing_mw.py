import time

from dyne.middleware import MiddlewareBase


class TimingMW(MiddlewareBase):
    """Adds ``x-process-time-ms`` to every response (outermost: listed first)."""

    async def middleware(self, req):
        t0 = time.perf_counter()
        res = await self.next(req)  # pass down
        res.headers["x-process-time-ms"] = str(int((time.perf_counter() - t0) * 1000))
        return res
