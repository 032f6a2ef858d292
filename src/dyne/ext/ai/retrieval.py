"""Retrieval augmentation: documents cut into chunks, embedded, kept in a
vector store, and the chunks nearest a question added to the prompt.

``VectorStore`` is the interface; ``SqliteVectorStore`` (sqlite-vec, the
default) and ``PgVectorStore`` (PostgreSQL with pgvector) implement it.
``Retriever`` ties a store to an embedder.
"""

from __future__ import annotations

import json
import re
import threading
from abc import ABC, abstractmethod
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dyne.concurrency import run_sync

from .embeddings import Embedder

__all__ = ["Chunk", "PgVectorStore", "Retriever", "SqliteVectorStore", "VectorStore", "split_text"]


@dataclass
class Chunk:
    """A piece of a document; ``distance`` is set on search results (cosine
    distance: 0 is the same direction)."""

    id: str
    text: str
    metadata: dict[str, Any] = field(default_factory=dict)
    distance: float | None = None


class VectorStore(ABC):
    """Where chunks and their embeddings live."""

    dimensions: int

    @abstractmethod
    async def add(self, chunks: Sequence[Chunk], embeddings: Sequence[Sequence[float]]) -> None:
        """Store (or replace, by id) chunks with their embeddings."""

    @abstractmethod
    async def search(self, embedding: Sequence[float], k: int = 4) -> list[Chunk]:
        """The ``k`` chunks nearest ``embedding``, nearest first."""

    @abstractmethod
    async def delete(self, ids: Iterable[str]) -> None: ...

    @abstractmethod
    async def count(self) -> int: ...

    async def close(self) -> None:  # noqa: B027 (optional for stores without connections)
        """Release connections."""

    def _check(self, embedding: Sequence[float]) -> list[float]:
        vector = [float(x) for x in embedding]
        if len(vector) != self.dimensions:
            raise ValueError(f"Expected an embedding of {self.dimensions} numbers, got {len(vector)}")
        return vector


def _sqlite_module() -> Any:
    """A sqlite3 module that can load extensions: the standard library's when
    it was built with that ability, else pysqlite3 (a wheel that can)."""
    import sqlite3

    if hasattr(sqlite3.Connection, "enable_load_extension"):
        return sqlite3
    try:
        from pysqlite3 import dbapi2
    except ModuleNotFoundError as exc:
        raise ImportError("This Python's sqlite3 cannot load extensions; install pysqlite3-binary "
                          '(pip install "dyne[ai]")') from exc
    return dbapi2


class SqliteVectorStore(VectorStore):
    """Chunks in a SQLite file (or ``":memory:"``), searched with sqlite-vec.
    Work runs in a thread, one statement at a time."""

    def __init__(self, path: str | Path = ":memory:", dimensions: int = 384, table: str = "chunks") -> None:
        if not re.match(r"[A-Za-z_][A-Za-z0-9_]*\Z", table):
            raise ValueError(f"Invalid table name {table!r}")
        self.path = str(path)
        self.dimensions = dimensions
        self.table = table
        self._connection: Any = None
        self._lock = threading.Lock()

    def _connect(self) -> Any:
        if self._connection is None:
            import sqlite_vec

            sqlite = _sqlite_module()
            connection = sqlite.connect(self.path, check_same_thread=False)
            connection.enable_load_extension(True)
            sqlite_vec.load(connection)
            connection.enable_load_extension(False)
            connection.execute(f"CREATE TABLE IF NOT EXISTS {self.table} "
                               "(rowid INTEGER PRIMARY KEY, id TEXT UNIQUE NOT NULL, text TEXT NOT NULL, "
                               "metadata TEXT NOT NULL)")
            connection.execute(f"CREATE VIRTUAL TABLE IF NOT EXISTS {self.table}_vec USING "
                               f"vec0(embedding float[{self.dimensions}] distance_metric=cosine)")
            connection.commit()
            self._connection = connection
        return self._connection

    def _run(self, work: Any, *args: Any) -> Any:
        with self._lock:
            connection = self._connect()
            try:
                result = work(connection, *args)
                connection.commit()
                return result
            except BaseException:
                connection.rollback()
                raise

    def _add(self, connection: Any, rows: list[tuple[Chunk, list[float]]]) -> None:
        import sqlite_vec

        for chunk, vector in rows:
            old = connection.execute(f"SELECT rowid FROM {self.table} WHERE id = ?", (chunk.id,)).fetchone()
            if old is not None:
                connection.execute(f"DELETE FROM {self.table}_vec WHERE rowid = ?", (old[0],))
                connection.execute(f"DELETE FROM {self.table} WHERE rowid = ?", (old[0],))
            cursor = connection.execute(f"INSERT INTO {self.table} (id, text, metadata) VALUES (?, ?, ?)",
                                        (chunk.id, chunk.text, json.dumps(chunk.metadata)))
            connection.execute(f"INSERT INTO {self.table}_vec (rowid, embedding) VALUES (?, ?)",
                               (cursor.lastrowid, sqlite_vec.serialize_float32(vector)))

    async def add(self, chunks: Sequence[Chunk], embeddings: Sequence[Sequence[float]]) -> None:
        if len(chunks) != len(embeddings):
            raise ValueError("One embedding per chunk")
        rows = [(chunk, self._check(vector)) for chunk, vector in zip(chunks, embeddings, strict=True)]
        await run_sync(self._run, self._add, rows)

    def _search(self, connection: Any, vector: list[float], k: int) -> list[Chunk]:
        import sqlite_vec

        found = connection.execute(
            f"SELECT c.id, c.text, c.metadata, v.distance FROM (SELECT rowid, distance FROM {self.table}_vec "
            "WHERE embedding MATCH ? AND k = ?) AS v "
            f"JOIN {self.table} AS c ON c.rowid = v.rowid ORDER BY v.distance",
            (sqlite_vec.serialize_float32(vector), k)).fetchall()
        return [Chunk(row[0], row[1], json.loads(row[2]), float(row[3])) for row in found]

    async def search(self, embedding: Sequence[float], k: int = 4) -> list[Chunk]:
        if k < 1:
            return []
        return await run_sync(self._run, self._search, self._check(embedding), int(k))  # type: ignore[no-any-return]

    def _delete(self, connection: Any, ids: list[str]) -> None:
        for chunk_id in ids:
            old = connection.execute(f"SELECT rowid FROM {self.table} WHERE id = ?", (chunk_id,)).fetchone()
            if old is not None:
                connection.execute(f"DELETE FROM {self.table}_vec WHERE rowid = ?", (old[0],))
                connection.execute(f"DELETE FROM {self.table} WHERE rowid = ?", (old[0],))

    async def delete(self, ids: Iterable[str]) -> None:
        await run_sync(self._run, self._delete, list(ids))

    async def count(self) -> int:
        return await run_sync(self._run, lambda c: c.execute(  # type: ignore[no-any-return]
            f"SELECT count(*) FROM {self.table}").fetchone()[0])

    async def close(self) -> None:
        with self._lock:
            if self._connection is not None:
                self._connection.close()
                self._connection = None


class PgVectorStore(VectorStore):
    """Chunks in PostgreSQL with the pgvector extension (``CREATE EXTENSION
    vector`` must succeed on the server), searched by cosine distance."""

    def __init__(self, dsn: str, dimensions: int = 384, table: str = "chunks") -> None:
        if not re.match(r"[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)?\Z", table):
            raise ValueError(f"Invalid table name {table!r}")
        self.dsn = dsn.replace("postgresql+asyncpg://", "postgresql://")
        self.dimensions = dimensions
        self.table = table
        self._pool: Any = None

    async def _connect(self) -> Any:
        if self._pool is None:
            import asyncpg

            pool = await asyncpg.create_pool(self.dsn, min_size=1, max_size=4)
            async with pool.acquire() as connection:
                await connection.execute("CREATE EXTENSION IF NOT EXISTS vector")
                await connection.execute(
                    f"CREATE TABLE IF NOT EXISTS {self.table} (id text PRIMARY KEY, text text NOT NULL, "
                    f"metadata jsonb NOT NULL, embedding vector({self.dimensions}) NOT NULL)")
            self._pool = pool
        return self._pool

    @staticmethod
    def _literal(vector: list[float]) -> str:
        return "[" + ",".join(repr(x) for x in vector) + "]"

    async def add(self, chunks: Sequence[Chunk], embeddings: Sequence[Sequence[float]]) -> None:
        if len(chunks) != len(embeddings):
            raise ValueError("One embedding per chunk")
        rows = [(c.id, c.text, json.dumps(c.metadata), self._literal(self._check(v)))
                for c, v in zip(chunks, embeddings, strict=True)]
        pool = await self._connect()
        async with pool.acquire() as connection:
            await connection.executemany(
                f"INSERT INTO {self.table} (id, text, metadata, embedding) VALUES ($1, $2, $3::jsonb, "
                "$4::vector) ON CONFLICT (id) DO UPDATE SET text = EXCLUDED.text, "
                "metadata = EXCLUDED.metadata, embedding = EXCLUDED.embedding", rows)

    async def search(self, embedding: Sequence[float], k: int = 4) -> list[Chunk]:
        if k < 1:
            return []
        pool = await self._connect()
        rows = await pool.fetch(f"SELECT id, text, metadata::text AS metadata, embedding <=> $1::vector AS d "
                                f"FROM {self.table} ORDER BY d LIMIT $2",
                                self._literal(self._check(embedding)), int(k))
        return [Chunk(r["id"], r["text"], json.loads(r["metadata"]), float(r["d"])) for r in rows]

    async def delete(self, ids: Iterable[str]) -> None:
        pool = await self._connect()
        await pool.execute(f"DELETE FROM {self.table} WHERE id = ANY($1::text[])", list(ids))

    async def count(self) -> int:
        pool = await self._connect()
        return int(await pool.fetchval(f"SELECT count(*) FROM {self.table}"))

    async def close(self) -> None:
        pool, self._pool = self._pool, None
        if pool is not None:
            await pool.close()


def split_text(text: str, max_chars: int = 800) -> list[str]:
    """Cut ``text`` into chunks of at most ``max_chars``, at paragraph, then
    sentence, then word boundaries."""
    pieces: list[str] = []
    for paragraph in re.split(r"\n\s*\n", text):
        paragraph = " ".join(paragraph.split())
        while len(paragraph) > max_chars:
            cut = paragraph.rfind(". ", 0, max_chars) + 1  # after a sentence, or else
            if cut <= 0:
                cut = paragraph.rfind(" ", 0, max_chars)  # between words, or else anywhere
            if cut <= 0:
                cut = max_chars
            pieces.append(paragraph[:cut].strip())
            paragraph = paragraph[cut:].strip()
        if paragraph:
            pieces.append(paragraph)
    return pieces


class Retriever:
    """Adds documents to a store and finds the chunks nearest a question."""

    def __init__(self, store: VectorStore, embedder: Embedder, max_chars: int = 800) -> None:
        if store.dimensions != embedder.dimensions:
            raise ValueError(f"The store holds {store.dimensions}-number vectors but the embedder "
                             f"makes {embedder.dimensions}")
        self.store = store
        self.embedder = embedder
        self.max_chars = max_chars

    async def add_document(self, document_id: str, text: str,
                           metadata: Mapping[str, Any] | None = None) -> list[Chunk]:
        """Split, embed and store ``text``; chunk ids are ``<document_id>:<n>``."""
        chunks = [Chunk(f"{document_id}:{n}", piece, {"document": document_id, **(metadata or {})})
                  for n, piece in enumerate(split_text(text, self.max_chars))]
        if chunks:
            await self.store.add(chunks, await self.embedder.embed([c.text for c in chunks]))
        return chunks

    async def search(self, question: str, k: int = 4) -> list[Chunk]:
        (embedding,) = await self.embedder.embed([question])
        return await self.store.search(embedding, k)
