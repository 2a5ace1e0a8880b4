"""A sentence embedding from a package that ships its weights: WordLlama's l2_supercat.

The `wordllama` wheel (MIT) carries `weights/l2_supercat_256.safetensors` (32,000 LLaMA-2
token embeddings of 256 dimensions, float16, 16 MB) and the LLaMA-2 tokenizer it was trained with
(`tokenizers/l2_supercat_tokenizer_config.json`). A message's embedding is the mean of its tokens'
rows, l2-normalised, as `wordllama`'s own `embed(norm=True)` computes it
(`scripts/assistant_embedding_cv.py --check`: the same to 3e-8 on the train split).

Nothing is downloaded: the two files are read from the installed package's folder, found without
importing `wordllama` itself (its `WordLlama.load` looks for the tokenizer in a `tokenizer/`
folder the wheel does not have and then fetches it from Hugging Face, and its inference module
configures the root logger when imported). Only `safetensors` and `tokenizers` are imported.

The text is read as written (the model chosen on the train split read it so; the n-gram features
fold the scripts). The LLaMA-2 vocabulary holds about 700 Chinese characters: 40 % of the zh-Hans
and 48 % of the zh-Hant training messages' tokens are byte fallbacks, 0.5 % of the English ones.

Pure: text in, vectors out.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path

import numpy as np

NAME = "wordllama/l2_supercat_256"
PACKAGE = "wordllama"
WEIGHTS = "weights/l2_supercat_256.safetensors"
TOKENIZER = "tokenizers/l2_supercat_tokenizer_config.json"
TENSOR = "embedding.weight"
DIM = 256
MAX_TEXT = 2000


class EmbeddingError(RuntimeError):
    """The embedding's package or files are missing; the message says which."""


def _folder() -> Path:
    spec = importlib.util.find_spec(PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise EmbeddingError(f"the {PACKAGE} package is not installed (pyproject.toml lists it)")
    return Path(next(iter(spec.submodule_search_locations)))


def prepare(text: str) -> str:
    """The text as the embedding reads it: as written, at most `MAX_TEXT` characters."""
    return text[:MAX_TEXT]


class Embedder:
    """The tokenizer and the token embeddings (float32, rows of the vocabulary)."""

    def __init__(self, folder: Path | None = None) -> None:
        from safetensors.numpy import load_file
        from tokenizers import Tokenizer

        home = folder or _folder()
        weights, tokenizer = home / WEIGHTS, home / TOKENIZER
        for path in (weights, tokenizer):
            if not path.is_file():
                raise EmbeddingError(f"{path} is missing (the {PACKAGE} wheel ships it)")
        self.table = np.ascontiguousarray(load_file(str(weights))[TENSOR], dtype=np.float32)
        if self.table.ndim != 2 or self.table.shape[1] != DIM:
            raise EmbeddingError(f"{weights} does not hold {DIM}-dimension embeddings")
        self.tokenizer = Tokenizer.from_file(str(tokenizer))
        self.tokenizer.no_padding()
        self.tokenizer.no_truncation()
        self.last = self.table.shape[0] - 1

    def embed(self, text: str) -> np.ndarray:
        """One text's embedding (DIM,), float64; zeros for a text with no token."""
        ids = self.tokenizer.encode(prepare(text), add_special_tokens=False).ids
        if not ids:
            return np.zeros(DIM)
        vector = self.table[np.minimum(ids, self.last)].mean(axis=0, dtype=np.float64)
        norm = float(np.sqrt(vector @ vector))
        return vector / norm if norm > 0 else vector  # type: ignore[no-any-return]

    def embed_many(self, texts: Sequence[str], chunk: int = 256) -> np.ndarray:
        """The embeddings of many texts (texts, DIM): a tokenizer call and one gather per chunk
        of texts (a gather of every token at once is hundreds of MB)."""
        out = np.zeros((len(texts), DIM))
        for first in range(0, len(texts), chunk):
            part = texts[first : first + chunk]
            encodings = self.tokenizer.encode_batch(
                [prepare(t) for t in part], add_special_tokens=False
            )
            lengths = np.fromiter((len(e.ids) for e in encodings), dtype=np.int64, count=len(part))
            ids = np.fromiter(
                (i for e in encodings for i in e.ids), dtype=np.int64, count=int(lengths.sum())
            )
            if not len(ids):
                continue
            has = lengths > 0
            starts = np.concatenate(([0], np.cumsum(lengths)[:-1]))[has]
            sums = np.add.reduceat(self.table[np.minimum(ids, self.last)], starts, axis=0)
            block = np.zeros((len(part), DIM))
            block[has] = sums / lengths[has, None]
            out[first : first + len(part)] = block
        norms = np.sqrt((out**2).sum(axis=1))
        return out / np.where(norms > 0, norms, 1.0)[:, None]


@lru_cache(maxsize=1)
def embedder() -> Embedder:
    """The embedder, loaded once per process."""
    return Embedder()
