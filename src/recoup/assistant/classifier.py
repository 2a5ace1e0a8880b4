"""The intent model: character n-grams and a multinomial logistic regression, stored as JSON.

Pure: texts in, probabilities out; no database, no settings, no pickle.

- Features (`features`): the text folded (NFKC, lower case, traditional characters written
  simplified so a phrasing learned in one script is known in the other, every digit "0", so
  "还500" and "还300" are one phrasing), then its character n-grams of 1 and 2 inside each space-separated
  chunk padded with a space at each end (scikit-learn's "char_wb": Chinese, written without spaces,
  gives n-grams across its words, which is what carries its meaning), and for Latin words the
  word itself and each pair of neighbours ("w:stop", "w:call me"). Character n-grams read typos,
  pinyin abbreviations, traditional and simplified forms and emoji without a dictionary.
- Weights: tf-idf (sublinear tf, smoothed idf, l2-normalised rows; a term must appear in at least
  `MIN_DF` training messages), then `LogisticRegression` (lbfgs, balanced class weights, `C`);
  the n-gram range, `MIN_DF` and `C` chosen by 5-fold cross-validation on the train split.
  Its probabilities are the model's confidence: the largest is reported.
- Storage (`dumps`/`loads`): the vocabulary, idf and weights as lists, rounded to `DIGITS`
  decimals, with the training's parameters and data digest. The scorer (`Model.predict_proba`)
  is numpy over that JSON alone, so what is shipped is exactly what scores; training again on the
  same rows gives the same file byte for byte (`recoup assistant train --check`).
"""

from __future__ import annotations

import hashlib
import itertools
import json
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import numpy as np

from recoup.assistant.hanzi import to_simplified

FORMAT = "recoup.assistant.intents/1"
NGRAMS = (1, 2)
MIN_DF = 1
C = 30.0
MAX_ITER = 5000
DIGITS = 5  # decimals kept in the stored weights
MAX_TEXT = 2000
LATIN_WORD = re.compile(r"[a-z][a-z']*")
DIGIT = re.compile(r"\d")


class ClassifierError(ValueError):
    """A model file or training set the engine cannot use; the message says which."""


def fold(text: str) -> str:
    """NFKC, lower case, traditional characters as simplified, every digit "0"."""
    return DIGIT.sub("0", fold_words(text))


def fold_words(text: str) -> str:
    """`fold` keeping the digits (for cue words and rules that read numbers)."""
    return to_simplified(unicodedata.normalize("NFKC", text[:MAX_TEXT]).lower())


def features(text: str, extra: Sequence[str] = ()) -> list[str]:
    """The terms of one text (with repeats: their counts are the term frequencies), and `extra`
    signals computed outside the text's characters (cue words, entities) as terms "x:<signal>"."""
    folded = fold(text)
    low, high = NGRAMS
    terms: list[str] = []
    for chunk in folded.split():
        padded = f" {chunk} "
        size = len(padded)
        for n in range(low, high + 1):
            if n > size:
                break
            terms.extend(padded[i : i + n] for i in range(size - n + 1))
    words = LATIN_WORD.findall(folded)
    terms.extend(f"w:{w}" for w in words)
    terms.extend(f"w:{a} {b}" for a, b in itertools.pairwise(words))
    terms.extend(f"x:{e}" for e in extra)
    return terms


@dataclass(frozen=True)
class Model:
    classes: tuple[str, ...]
    vocabulary: dict[str, int]
    idf: np.ndarray  # (terms,)
    coef: np.ndarray  # (classes, terms)
    intercept: np.ndarray  # (classes,)
    params: dict[str, Any] = field(default_factory=dict)

    @cached_property
    def _by_term(self) -> np.ndarray:
        """The weights term by term (terms, classes), contiguous: a message's rows are read
        together."""
        return np.ascontiguousarray(self.coef.T)

    def _counts(self, text: str, extra: Sequence[str]) -> dict[int, int]:
        counts: dict[int, int] = {}
        vocabulary = self.vocabulary
        for term in features(text, extra):
            i = vocabulary.get(term)
            if i is not None:
                counts[i] = counts.get(i, 0) + 1
        return counts

    def vector(self, text: str, extra: Sequence[str] = ()) -> tuple[np.ndarray, np.ndarray]:
        """The text's known terms (indices) and their l2-normalised tf-idf weights."""
        counts = self._counts(text, extra)
        if not counts:
            return np.zeros(0, dtype=np.int64), np.zeros(0)
        index = np.fromiter(counts.keys(), dtype=np.int64, count=len(counts))
        tf = 1.0 + np.log(np.fromiter(counts.values(), dtype=np.float64, count=len(counts)))
        values = tf * self.idf[index]
        return index, values / np.linalg.norm(values)

    def predict_proba(self, text: str, extra: Sequence[str] = ()) -> np.ndarray:
        """P(class | text) in `classes` order."""
        index, values = self.vector(text, extra)
        return _softmax(values @ self._by_term[index] + self.intercept)

    def predict_proba_many(
        self, texts: Sequence[str], extras: Sequence[Sequence[str]] | None = None
    ) -> np.ndarray:
        """`predict_proba` of many texts at once (texts, classes): one product over all their
        terms, summed per text by differences of a running sum (no per-text numpy calls)."""
        indptr: list[int] = [0]
        indices: list[int] = []
        data: list[int] = []
        for k, text in enumerate(texts):
            counts = self._counts(text, extras[k] if extras is not None else ())
            indices.extend(counts.keys())
            data.extend(counts.values())
            indptr.append(len(indices))
        index = np.asarray(indices, dtype=np.int64)
        bounds = np.asarray(indptr, dtype=np.int64)
        values = (1.0 + np.log(np.asarray(data, dtype=np.float64))) * self.idf[index]
        rows = np.repeat(np.arange(len(texts)), np.diff(bounds))
        norms = np.sqrt(np.bincount(rows, weights=values**2, minlength=len(texts)))
        values = values / np.where(norms[rows] > 0, norms[rows], 1.0)
        running = np.zeros((len(index) + 1, len(self.classes)))
        np.cumsum(values[:, None] * self._by_term[index], axis=0, out=running[1:])
        logits = running[bounds[1:]] - running[bounds[:-1]] + self.intercept
        logits -= logits.max(axis=1, keepdims=True)
        exp = np.exp(logits)
        return exp / exp.sum(axis=1, keepdims=True)  # type: ignore[no-any-return]

    def predict(self, text: str, extra: Sequence[str] = ()) -> tuple[str, float]:
        """The most probable intent and its probability."""
        proba = self.predict_proba(text, extra)
        best = int(np.argmax(proba))
        return self.classes[best], float(proba[best])


def _softmax(logits: np.ndarray) -> np.ndarray:
    exp = np.exp(logits - logits.max())
    return exp / exp.sum()  # type: ignore[no-any-return]


def digest(texts: Sequence[str], labels: Sequence[str]) -> str:
    """A fingerprint of the training rows (the model file names what it learned from)."""
    h = hashlib.sha256()
    for text, label in zip(texts, labels, strict=True):
        h.update(json.dumps([text, label], ensure_ascii=False).encode())
    return h.hexdigest()


def train(
    texts: Sequence[str],
    labels: Sequence[str],
    *,
    extras: Sequence[Sequence[str]] | None = None,
    c: float = C,
) -> Model:
    """Fit the vectoriser and the regression on labelled texts (each with its `extras` signals);
    deterministic: lbfgs from zero, on one thread (BLAS threads on shared cores slow it tenfold
    and may sum in another order)."""
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from threadpoolctl import threadpool_limits

    if len(texts) != len(labels) or not texts:
        raise ClassifierError("training needs texts and as many labels")
    signals = list(extras) if extras is not None else [()] * len(texts)
    if len(signals) != len(texts):
        raise ClassifierError("training needs as many signal lists as texts")
    if len(set(labels)) < 2:
        raise ClassifierError("training needs at least two intents")
    vectorizer = TfidfVectorizer(
        analyzer=lambda pair: features(*pair), min_df=MIN_DF, sublinear_tf=True, dtype=np.float64
    )
    regression = LogisticRegression(C=c, max_iter=MAX_ITER, class_weight="balanced")
    with threadpool_limits(1):
        x = vectorizer.fit_transform(list(zip(texts, signals, strict=True)))
        regression.fit(x, list(labels))
    vocabulary = {str(t): int(i) for t, i in vectorizer.vocabulary_.items()}
    return _rounded(
        Model(
            classes=tuple(str(c) for c in regression.classes_),
            vocabulary=vocabulary,
            idf=np.asarray(vectorizer.idf_, dtype=np.float64),
            coef=np.asarray(regression.coef_, dtype=np.float64),
            intercept=np.asarray(regression.intercept_, dtype=np.float64),
            params={
                "ngrams": list(NGRAMS),
                "min_df": MIN_DF,
                "C": c,
                "rows": len(texts),
                "data": digest(texts, labels),
            },
        )
    )


def _rounded(model: Model) -> Model:
    """The model as it will be read back: what is stored is what scores."""
    return loads(dumps(model))


def dumps(model: Model) -> str:
    """The model as JSON: terms in index order, weights rounded to `DIGITS` decimals."""
    terms = sorted(model.vocabulary, key=model.vocabulary.__getitem__)
    payload = {
        "format": FORMAT,
        "params": model.params,
        "classes": list(model.classes),
        "terms": terms,
        "idf": [round(float(v), DIGITS) for v in model.idf],
        "intercept": [round(float(v), DIGITS) for v in model.intercept],
        "coef": [[round(float(v), DIGITS) for v in row] for row in model.coef],
    }
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":")) + "\n"


def loads(text: str) -> Model:
    """A model written by `dumps`; a `ClassifierError` naming the problem otherwise."""
    try:
        payload = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ClassifierError(f"not a model file (not JSON: {exc.msg})") from None
    if not isinstance(payload, dict) or payload.get("format") != FORMAT:
        raise ClassifierError(f"not a model file (format is not {FORMAT})")
    try:
        terms = [str(t) for t in payload["terms"]]
        classes = tuple(str(c) for c in payload["classes"])
        idf = np.asarray(payload["idf"], dtype=np.float64)
        coef = np.asarray(payload["coef"], dtype=np.float64)
        intercept = np.asarray(payload["intercept"], dtype=np.float64)
    except (KeyError, TypeError, ValueError) as exc:
        raise ClassifierError(f"not a model file ({exc})") from None
    if coef.shape != (len(classes), len(terms)) or idf.shape != (len(terms),):
        raise ClassifierError("not a model file (the weights do not match the terms)")
    if intercept.shape != (len(classes),) or len(set(terms)) != len(terms):
        raise ClassifierError("not a model file (classes or terms are inconsistent)")
    return Model(
        classes=classes,
        vocabulary={t: i for i, t in enumerate(terms)},
        idf=idf,
        coef=coef,
        intercept=intercept,
        params=dict(payload.get("params") or {}),
    )
