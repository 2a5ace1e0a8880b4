"""What WordLlama's sentence embedding would add to the assistant's understanding (not shipped).

docs/assistant.md, "The sixth wave": a regression on this embedding stacked with the n-gram
model won on the train split's out-of-fold reading and lost on the test split; it is not shipped.
Measured here so the next attempt knows its cost: the load of the tokenizer and the weights, the
embedding of 10,000 messages in a batch (as `understand_many`) and one by one (as `understand`),
with the extra product of a (256, 14) weight block.

    .venv/bin/python -m pip install --no-deps --target /tmp/wl wordllama==0.4.0.post1 \
        tokenizers safetensors
    PYTHONPATH=src:.:/tmp/wl nice -n 10 .venv/bin/python benchmarks/bench_assistant_embedding.py --repeat 2

The `wordllama` wheel (MIT) carries `weights/l2_supercat_256.safetensors` (32,000 LLaMA-2 token
embeddings of 256 dimensions, float16, 16 MB) and the LLaMA-2 tokenizer it was trained with
(`tokenizers/l2_supercat_tokenizer_config.json`). A message's embedding is the mean of its tokens'
rows, l2-normalised: the same vectors as `wordllama`'s own `embed(norm=True)` to 3e-8 on the train
split (`scripts/assistant_embedding_cv.py --check`). Nothing is downloaded: `Embedder` reads the two
files from the installed package's folder without importing `wordllama`, whose `WordLlama.load`
looks for the tokenizer in a `tokenizer/` folder the wheel does not have and then fetches it from
Hugging Face (offline it fails; `cache_dir=<the package's folder>` works around it), and whose
inference module configures the root logger when imported. Only `safetensors` and `tokenizers`
are imported. The text is read as written; the LLaMA-2 vocabulary holds 700 Chinese characters,
the others fall back to bytes.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import time
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
        raise EmbeddingError(f"the {PACKAGE} package is not installed (see the docstring)")
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


def main() -> None:
    from recoup.assistant import dataset

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=3, help="runs; the best is reported")
    args = parser.parse_args()
    rows = dataset.load()
    texts = [rows[i % len(rows)].message.text for i in range(args.messages)]
    print(f"load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    start, cpu = time.perf_counter(), time.process_time()
    e = embedder()
    print(
        f"embedder load: {1000 * (time.perf_counter() - start):.0f} ms wall, "
        f"{1000 * (time.process_time() - cpu):.0f} ms CPU"
    )
    weights = np.random.default_rng(0).normal(size=(DIM, 14))
    for label, run in (
        ("embed_many + product (a batch)", lambda: e.embed_many(texts) @ weights),
        ("embed + product (one by one)", lambda: [e.embed(t) @ weights for t in texts]),
    ):
        best, best_cpu = float("inf"), float("inf")
        for _ in range(args.repeat):
            start, cpu = time.perf_counter(), time.process_time()
            run()
            best = min(best, time.perf_counter() - start)
            best_cpu = min(best_cpu, time.process_time() - cpu)
        print(
            f"{label}: {args.messages:,} messages in {best:.2f} s wall, {best_cpu:.2f} s of CPU "
            f"(best of {args.repeat})",
            flush=True,
        )
    print(f"load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
