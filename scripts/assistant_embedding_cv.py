"""Does a packaged embedding help the intent model? Chosen on the train split alone (issue 21).

The candidates, each read by 5-fold out-of-fold probabilities on the train split (the folds of
`scripts/assistant_floors.py`) and then by the whole reading (`understanding.decide`: rules,
floors, model):

- `ngrams`: the shipped model's features (character n-grams, Latin words, cue and entity signals;
  tf-idf, logistic regression, C = 30);
- `concat a=<alpha>`: the same sparse features and, beside them, the message's WordLlama sentence
  embedding (the `wordllama` package's l2_supercat 256-dimension token embeddings, shipped in its
  wheel, mean-pooled over the LLaMA tokenizer's tokens and l2-normalised), times `alpha`;
- `stack w=<w>`: the n-gram model's and an embedding-only regression's probabilities mixed
  geometrically, weight `w` on the embedding's;
- `jieba`: the n-gram features plus jieba's word segmentation of the Chinese text ("j:<word>").

For each, two readings: with the floors shipped (crisis 0.12, stop 0.15), and with the floors
chosen again by the rules that chose them (`assistant_floors.py`: the lowest stop floor flagging
at most 2 % of the others; `assistant_crisis_floor.py`: the lowest crisis floor whose macro F1 is
at least 0.85), since a new model's probabilities are scaled differently. Printed: macro F1 (and
per language), the crisis messages the model alone catches at the crisis floor, the stop and
crisis recall with the rules, and the false stops and crises among the other messages. A third
reading ("as few false crises", added after the first run) takes the lowest crisis floor at which the
candidate flags no more ordinary messages as crises than `ngrams` does at the shipped floors.

The rule set before the first run: a candidate wins if, with its floors chosen again, its macro F1 is
higher than `ngrams`' by at least 0.005 and it catches at least as many crisis messages (model
alone and with the rules) with no more false crises per 1,000 than `ngrams` plus 5. The test
split and the unseen sets are not read. No candidate met that rule; docs/assistant.md ("The sixth
wave") says what was done next, and what the test split then said.

Needs `wordllama` (0.4.0.post1, with `tokenizers` and `safetensors`) and `jieba` (0.42.1), which
the project does not depend on; for instance in a folder of their own:

    .venv/bin/python -m pip install --no-deps --target /tmp/wl wordllama==0.4.0.post1 \
        tokenizers safetensors toml jieba==0.42.1
    PYTHONPATH=src:.:/tmp/wl .venv/bin/python scripts/assistant_embedding_cv.py
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable, Sequence

import numpy as np
import scipy.sparse as sp
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold
from threadpoolctl import threadpool_limits

from recoup.assistant import classifier, dataset, understanding
from recoup.assistant.hanzi import to_simplified

CRISIS_CANDIDATES = (0.02, 0.03, 0.04, 0.05, 0.06, 0.07, 0.08, 0.1, 0.12, 0.15, 0.2, 0.25, 0.3)
STOP_CANDIDATES = (0.1, 0.15, 0.2, 0.25, 0.3)
MAX_FLAGGED = 0.02
F1_MIN = 0.85
SEED = 0  # the folds' (the floor scripts use 0); --seed changes it to see how much the folds move


def wordllama_embeddings(texts: Sequence[str], simplified: bool) -> np.ndarray:
    """Each text's mean token embedding, l2-normalised (the package's own files, no download)."""
    import pathlib

    import wordllama

    home = pathlib.Path(wordllama.__file__).parent
    # `load()` looks for the tokenizer in "tokenizer/" while the wheel ships "tokenizers/";
    # as a cache directory the package's own folder holds both.
    wl = wordllama.WordLlama.load(cache_dir=home, disable_download=True)
    if simplified:
        import unicodedata

        texts = [to_simplified(unicodedata.normalize("NFKC", t)) for t in texts]
    return np.asarray(wl.embed(list(texts), norm=True), dtype=np.float64)


def jieba_words(texts: Sequence[str]) -> list[list[str]]:
    import jieba

    jieba.setLogLevel(60)
    out = []
    for text in texts:
        folded = classifier.fold(text)
        out.append([f"j:{w}" for w in jieba.lcut(folded) if w.strip() and len(w) > 1])
    return out


def fit_predict(
    texts: list[str],
    labels: list[str],
    extras: list[list[str]],
    dense: np.ndarray | None,
    fit: np.ndarray,
    held: np.ndarray,
    c: float = classifier.C,
) -> tuple[list[str], np.ndarray]:
    vectorizer = TfidfVectorizer(
        analyzer=lambda pair: classifier.features(*pair),
        min_df=classifier.MIN_DF,
        sublinear_tf=True,
        dtype=np.float64,
    )
    pairs = list(zip(texts, extras, strict=True))
    regression = LogisticRegression(C=c, max_iter=classifier.MAX_ITER, class_weight="balanced")
    with threadpool_limits(1):
        x_fit = vectorizer.fit_transform([pairs[i] for i in fit])
        x_held = vectorizer.transform([pairs[i] for i in held])
        if dense is not None:
            x_fit = sp.hstack([x_fit, sp.csr_matrix(dense[fit])]).tocsr()
            x_held = sp.hstack([x_held, sp.csr_matrix(dense[held])]).tocsr()
        regression.fit(x_fit, [labels[i] for i in fit])
        return [str(c) for c in regression.classes_], regression.predict_proba(x_held)


def dense_only(
    labels: list[str], dense: np.ndarray, fit: np.ndarray, held: np.ndarray, c: float
) -> tuple[list[str], np.ndarray]:
    regression = LogisticRegression(C=c, max_iter=classifier.MAX_ITER, class_weight="balanced")
    with threadpool_limits(1):
        regression.fit(dense[fit], [labels[i] for i in fit])
        return [str(c) for c in regression.classes_], regression.predict_proba(dense[held])


def out_of_fold(
    n: int,
    labels: list[str],
    run: Callable[[np.ndarray, np.ndarray], tuple[list[str], np.ndarray]],
) -> tuple[list[str], np.ndarray]:
    proba = np.zeros((n, len(understanding.INTENTS)))
    classes: list[str] = []
    for fit, held in StratifiedKFold(5, shuffle=True, random_state=SEED).split(np.zeros(n), labels):
        classes, p = run(fit, held)
        proba[held] = p
    return classes, proba


def reading(
    texts: list[str],
    labels: list[str],
    languages: list[str],
    classes: list[str],
    proba: np.ndarray,
    crisis_floor: float,
    stop_floor: float,
) -> dict[str, float]:
    saved = understanding.VULNERABLE_FLOOR, understanding.STOP_FLOOR
    understanding.VULNERABLE_FLOOR, understanding.STOP_FLOOR = crisis_floor, stop_floor
    try:
        predicted = [
            understanding.decide(t, classes, p)[0] for t, p in zip(texts, proba, strict=True)
        ]
    finally:
        understanding.VULNERABLE_FLOOR, understanding.STOP_FLOOR = saved
    gold = np.array(labels)
    pred = np.array(predicted)
    k = classes.index("vulnerable")
    crisis = gold == "vulnerable"
    out = {
        "f1": dataset.macro_f1(labels, predicted),
        "crisis_alone": float((proba[crisis, k] >= crisis_floor).mean()),
        "crisis": float((pred[crisis] == "vulnerable").mean()),
        "stop": float((pred[gold == "stop"] == "stop").mean()),
        "false_crisis": int(((pred == "vulnerable") & ~crisis).sum()),
        "false_stop": int(((pred == "stop") & (gold != "stop")).sum()),
    }
    for language in ("zh-Hans", "zh-Hant", "en"):
        chosen = [i for i, lang in enumerate(languages) if lang == language]
        out[language] = dataset.macro_f1(
            [labels[i] for i in chosen], [predicted[i] for i in chosen]
        )
    return out


def floors_again(
    texts: list[str], labels: list[str], languages: list[str], classes: list[str], proba: np.ndarray
) -> tuple[float, float]:
    """The two floors chosen by the rules that chose the shipped ones."""
    s = classes.index("stop")
    others = np.array([label != "stop" for label in labels])
    stop_floor = next(
        (f for f in STOP_CANDIDATES if (proba[others, s] >= f).mean() <= MAX_FLAGGED),
        STOP_CANDIDATES[-1],
    )
    crisis_floor = CRISIS_CANDIDATES[-1]
    for floor in CRISIS_CANDIDATES:
        f1 = reading(texts, labels, languages, classes, proba, floor, stop_floor)["f1"]
        if round(f1, 3) >= F1_MIN:
            crisis_floor = floor
            break
    return crisis_floor, stop_floor


def matched(
    texts: list[str],
    labels: list[str],
    languages: list[str],
    classes: list[str],
    proba: np.ndarray,
    budget: float,
) -> dict[str, float] | None:
    """The reading at the lowest crisis floor (0.05 to 0.50 by 0.01, the stop floor shipped)
    that flags no more ordinary messages as crises than `budget` (the shipped model's count at
    the shipped floors): the crises caught at the same cost in false alarms."""
    for floor in np.round(np.arange(0.05, 0.505, 0.01), 2):
        r = reading(
            texts, labels, languages, classes, proba, float(floor), understanding.STOP_FLOOR
        )
        if r["false_crisis"] <= budget:
            r["floor"] = float(floor)
            return r
    return None


def line(name: str, floors: tuple[float, float], r: dict[str, float], n_other: int) -> str:
    return (
        f"{name:<22} floors {floors[0]:.2f}/{floors[1]:.2f}: macro F1 {r['f1']:.3f} "
        f"(zh-Hans {r['zh-Hans']:.3f}, zh-Hant {r['zh-Hant']:.3f}, en {r['en']:.3f}); "
        f"crisis model alone {r['crisis_alone']:.1%}, with rules {r['crisis']:.1%}; "
        f"stop {r['stop']:.1%}; false crises {r['false_crisis']} "
        f"({1000 * r['false_crisis'] / n_other:.0f}/1,000), false stops {r['false_stop']}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--check",
        action="store_true",
        help="only compare recoup.assistant.embedding with wordllama's own embed()",
    )
    parser.add_argument("--no-jieba", action="store_true")
    parser.add_argument(
        "--seed", type=int, default=0, help="the folds' seed (0: the floor scripts')"
    )
    parser.add_argument(
        "--only-chosen",
        action="store_true",
        help="only `ngrams` and the stack shipped for a while (raw text, C 100, weight 0.2)",
    )
    parser.add_argument("--no-stack", action="store_true")
    parser.add_argument(
        "--alphas",
        default="0.25,0.35,0.5,0.7,1,2",
        help="the embedding's weights to try, comma-separated",
    )
    args = parser.parse_args()
    global SEED
    SEED = args.seed
    if args.only_chosen:
        args.alphas, args.no_jieba = "", True
    rows = [r for r in dataset.load() if r.split == "train"]
    texts = [r.message.text for r in rows]
    labels = [r.intent for r in rows]
    languages = [r.message.language or "" for r in rows]
    extras = [understanding.message_signals(r.message.text, r.message.at) for r in rows]
    n = len(rows)
    if args.check:
        from benchmarks.bench_assistant_embedding import Embedder, prepare

        ours, theirs = Embedder().embed_many(texts), wordllama_embeddings(texts, False)
        print(f"{n} train texts: largest difference {np.abs(ours - theirs).max():.2e}")
        tokenizer = Embedder().tokenizer
        for language in ("zh-Hans", "zh-Hant", "en"):
            tokens = [
                token
                for text, lang in zip(texts, languages, strict=True)
                if lang == language
                for token in tokenizer.encode(prepare(text), add_special_tokens=False).tokens
            ]
            fallback = sum(1 for token in tokens if token.startswith("<0x"))
            print(
                f"  {language}: {len(tokens)} tokens, {fallback / len(tokens):.1%} byte fallbacks"
            )
        return
    n_other = sum(1 for label in labels if label != "vulnerable")
    start = time.process_time()
    emb = {s: wordllama_embeddings(texts, s) for s in (False, True)}
    print(f"train split: {n} messages; embeddings in {time.process_time() - start:.1f} s CPU")

    candidates: dict[str, Callable[[np.ndarray, np.ndarray], tuple[list[str], np.ndarray]]] = {
        "ngrams": lambda fit, held: fit_predict(texts, labels, extras, None, fit, held)
    }
    for simplified in (False, True):
        tag = "s" if simplified else "r"
        for alpha in [float(a) for a in args.alphas.split(",") if a]:
            candidates[f"concat{tag} a={alpha}"] = lambda fit, held, a=alpha, e=emb[simplified]: (
                fit_predict(texts, labels, extras, a * e, fit, held)
            )
    if not args.no_jieba:
        words = jieba_words(texts)
        with_words = [x + w for x, w in zip(extras, words, strict=True)]
        candidates["jieba"] = lambda fit, held: fit_predict(
            texts, labels, with_words, None, fit, held
        )
    results: dict[str, tuple[list[str], np.ndarray]] = {}
    for name, run in candidates.items():
        results[name] = out_of_fold(n, labels, run)
    base_classes, base = results["ngrams"]
    shipped_floors = (understanding.VULNERABLE_FLOOR, understanding.STOP_FLOOR)
    budget = reading(texts, labels, languages, base_classes, base, *shipped_floors)["false_crisis"]
    stacks = [] if args.no_stack else [False, True]
    for simplified in [False] if args.only_chosen else stacks:
        tag = "s" if simplified else "r"
        for c in (100.0,) if args.only_chosen else (1.0, 10.0, 100.0):
            classes, alone = out_of_fold(
                n,
                labels,
                lambda fit, held, c=c, e=emb[simplified]: dense_only(labels, e, fit, held, c),
            )
            assert classes == base_classes
            print(
                f"embedding{tag} alone C={c}: macro F1 (model, no rules) "
                f"{dataset.macro_f1(labels, [classes[i] for i in alone.argmax(1)]):.3f}"
            )
            for w in (0.2,) if args.only_chosen else (0.2, 0.35, 0.5):
                mixed = np.exp((1 - w) * np.log(base + 1e-12) + w * np.log(alone + 1e-12))
                results[f"stack{tag} C={c:g} w={w}"] = (
                    classes,
                    mixed / mixed.sum(axis=1, keepdims=True),
                )
    for name, (classes, proba) in results.items():
        alone_f1 = dataset.macro_f1(labels, [classes[i] for i in proba.argmax(1)])
        print(f"{name}: the model alone (no rules, no floors) macro F1 {alone_f1:.3f}")
        shipped = (understanding.VULNERABLE_FLOOR, understanding.STOP_FLOOR)
        print(
            "  "
            + line(
                "shipped floors",
                shipped,
                reading(texts, labels, languages, classes, proba, *shipped),
                n_other,
            )
        )
        again = floors_again(texts, labels, languages, classes, proba)
        print(
            "  "
            + line(
                "floors chosen again",
                again,
                reading(texts, labels, languages, classes, proba, *again),
                n_other,
            )
        )
        r = matched(texts, labels, languages, classes, proba, budget)
        if r is not None:
            print(
                "  "
                + line("as few false crises", (r["floor"], understanding.STOP_FLOOR), r, n_other)
            )


if __name__ == "__main__":
    main()
