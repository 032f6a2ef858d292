"""Response compression: Brotli beside gzip, chosen from ``Accept-Encoding``.

``CompressionMiddleware`` is what ``App(brotli=True)`` (with or without
``gzip=True``) installs. It picks the encoding the client prefers (``q``
values honoured; Brotli wins a tie), and compresses the way Starlette's
``GZipMiddleware`` does (it reuses Starlette's responders): bodies of
``minimum_size`` bytes or more, never partial (``206``) responses, responses
already encoded, or types that are compressed already (images, video, event
streams...); streamed bodies are compressed chunk by chunk and flushed, so
each chunk reaches the client at once. ``Vary: Accept-Encoding`` is added.

Brotli needs the ``brotli`` package (``pip install dyne[brotli]``); it is
imported when the middleware is built.
"""

from __future__ import annotations

from typing import Any

from ..formats import q_value

__all__ = ["CompressionMiddleware", "choose_encoding"]


def choose_encoding(accept_encoding: str, offered: tuple[str, ...]) -> str | None:
    """The coding of ``offered`` (in order of preference) that ``Accept-Encoding``
    rates highest; ``None`` for identity. ``*`` covers the others; ``q=0``
    refuses."""
    ratings: dict[str, float] = {}
    for item in accept_encoding.split(","):
        name, _, params = item.partition(";")
        name = name.strip().lower()
        if not name:
            continue
        quality = q_value(params.split(";"))
        ratings[name] = max(quality, ratings.get(name, 0.0)) if name in ratings else quality
    best: str | None = None
    best_quality = 0.0
    for coding in offered:
        quality = ratings.get(coding, ratings.get("*", 0.0))
        if quality > best_quality:
            best, best_quality = coding, quality
    return best


def _brotli_responder_class() -> type:
    import anyio.to_thread
    import brotli
    from starlette.middleware.gzip import IdentityResponder

    class BrotliResponder(IdentityResponder):  # type: ignore[misc]
        content_encoding = "br"

        def __init__(self, app: Any, minimum_size: int, quality: int,
                     thread_minimum_size: int, exclude_content_types: tuple[str, ...]) -> None:
            super().__init__(app, minimum_size, exclude_content_types=exclude_content_types)
            self.quality = quality
            self.thread_minimum_size = thread_minimum_size
            self._compressor: Any = None

        def _compress(self, body: bytes, more_body: bool) -> bytes:
            if self._compressor is None:
                self._compressor = brotli.Compressor(quality=self.quality)
            out: bytes = self._compressor.process(body)
            return out + (self._compressor.flush() if more_body else self._compressor.finish())

        async def apply_compression(self, body: bytes, *, more_body: bool) -> bytes:
            if len(body) >= self.thread_minimum_size:
                # Large chunks would block the event loop.
                return await anyio.to_thread.run_sync(self._compress, body, more_body)
            return self._compress(body, more_body)

    return BrotliResponder


class CompressionMiddleware:
    """Compress responses with Brotli or gzip, as the client accepts.

    :param minimum_size: smallest body compressed, in bytes.
    :param gzip: offer gzip.
    :param brotli: offer Brotli (``br``).
    :param gzip_level: zlib level (1-9).
    :param brotli_quality: Brotli quality (0-11); 4 is fast with a good ratio,
        suited to compressing on the fly.
    """

    def __init__(self, app: Any, minimum_size: int = 500, *, gzip: bool = True,
                 brotli: bool = True, gzip_level: int = 9, brotli_quality: int = 4,
                 thread_minimum_size: int = 128 * 1024,
                 exclude_content_types: tuple[str, ...] | None = None) -> None:
        from starlette.middleware.gzip import DEFAULT_EXCLUDED_CONTENT_TYPES

        if not 0 <= brotli_quality <= 11:
            raise ValueError("brotli_quality must be between 0 and 11")
        self.app = app
        self.minimum_size = minimum_size
        self.gzip_level = gzip_level
        self.brotli_quality = brotli_quality
        self.thread_minimum_size = thread_minimum_size
        self.exclude_content_types = tuple(
            DEFAULT_EXCLUDED_CONTENT_TYPES if exclude_content_types is None
            else exclude_content_types)
        offered: list[str] = []
        self._brotli: Any = None
        if brotli:
            try:
                self._brotli = _brotli_responder_class()
            except ImportError as exc:
                raise ImportError("Brotli compression needs the brotli package: "
                                  "pip install 'dyne[brotli]'") from exc
            offered.append("br")
        if gzip:
            offered.append("gzip")
        self.offered = tuple(offered)

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        from starlette.middleware.gzip import GZipResponder, IdentityResponder

        accept = b""
        for name, value in scope.get("headers", ()):
            if name == b"accept-encoding":
                accept = value if not accept else accept + b"," + value
        coding = choose_encoding(accept.decode("latin-1"), self.offered) if accept else None
        responder: Any
        if coding == "br":
            responder = self._brotli(self.app, self.minimum_size, self.brotli_quality,
                                     self.thread_minimum_size, self.exclude_content_types)
        elif coding == "gzip":
            responder = GZipResponder(self.app, self.minimum_size, compresslevel=self.gzip_level,
                                      thread_minimum_size=self.thread_minimum_size,
                                      exclude_content_types=self.exclude_content_types)
        else:
            responder = IdentityResponder(self.app, self.minimum_size,
                                          exclude_content_types=self.exclude_content_types)
        await responder(scope, receive, send)
