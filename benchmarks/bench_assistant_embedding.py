"""What WordLlama's sentence embedding would add to the assistant's understanding, per 10,000 messages.

Not shipped (docs/assistant.md, "The sixth wave": it did not win on the train split's out-of-fold
reading by the rule set before it), measured so the next attempt knows its cost: the load of the
tokenizer and the weights, the embedding of 10,000 messages in a batch (as `understand_many`) and
one by one (as `understand`), and the extra product of a (14, 256) weight block.

    .venv/bin/python -m pip install --no-deps --target /tmp/wl wordllama==0.4.0.post1 tokenizers safetensors
    PYTHONPATH=src:.:/tmp/wl nice -n 10 .venv/bin/python benchmarks/bench_assistant_embedding.py --repeat 2

The embedder is `recoup.assistant.embedding`.

The `wordllama` wheel (MIT) carries `weights/l2_supercat_256.safetensors` (32,000 LLaMA-2
token embeddings of 256 dimensions, float16, 16 MB) and the LLaMA-2 tokenizer it was trained with
(`tokenizers/l2_supercat_tokenizer_config.json`). A message's embedding is the mean of its tokens'
rows, l2-normalised, as `wordllama`'s own `embed(norm=True)` computes it.

Nothing is downloaded: the two files are read from the installed package's folder, found without
importing `wordllama` itself (its `WordLlama.load` looks for the tokenizer in a `tokenizer/`
folder the wheel does not have and then fetches it from Hugging Face, and its inference module
configures the root logger when imported). Only `safetensors` and `tokenizers` are imported.

The text is read as the n-gram model reads it, less the lower case and the digits: NFKC and
traditional characters written simplified (the LLaMA-2 vocabulary holds about 700 Chinese
characters, more of them simplified; the others fall back to bytes).

"""

from __future__ import annotations

import argparse
import os
import time

import numpy as np

from recoup.assistant.embedding import DIM, embedder


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
