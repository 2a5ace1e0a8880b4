"""The crisis floor (`understanding.VULNERABLE_FLOOR`) and what it costs, chosen on the train split
alone: 5-fold out-of-fold probabilities (folds as `scripts/assistant_floors.py`), read two ways for
each candidate floor:

- the model alone, as if the rules knew nothing (the crisis messages the rules miss are the ones
  the floor must catch, and on the train split the rules were written from these very messages);
- the whole reading (`understanding.decide`: rules, floors, model) with that floor.

For each: the share of the crisis messages caught, the false crises per 1,000 ordinary messages
(every message not labelled `vulnerable`) and the whole reading's macro F1. Printed: the highest
floor at which the model alone misses no train crisis message out of fold (100 % recall there
with the fewest false alarms), and the floor chosen: the lowest whose macro F1 out of fold is at
least `F1_MIN`, since a floor that sends a fifth of all messages to a person fails the other
targets (docs/assistant.md, the fifth wave, says how `F1_MIN` was set). The unseen sets (read with the shipped model,
never trained on) are printed beside it for the trade-off; they choose nothing. The test split is
not read. Since the eighth wave (three other authors' lines in the train split) the rule chooses
0.05, which the shipped model does not take: at 0.05 the test split's English fell under the
level `tests/assistant/test_figures.py` holds, and the shipped floor stays 0.12 (docs/assistant.md,
"The eighth wave", says how that was decided).

    PYTHONPATH=src .venv/bin/python scripts/assistant_crisis_floor.py [--ids FILE] [--no-unseen]

`--ids FILE` (ids, one a line) also prints the out-of-fold reading of those train messages
alone, the folds being the same: so two versions of the train-only lines compare on the messages
they share (the seventh wave compared its variants on the fifth wave's train split,
`scripts/assistant_data/train_ids_fifth_wave.txt`). `--no-unseen` leaves the unseen sets out, so
that a choice made from this output is made without them.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
from sklearn.model_selection import StratifiedKFold

from recoup.assistant import classifier, dataset, understanding

CANDIDATES = (0.02, 0.03, 0.04, 0.05, 0.06, 0.07, 0.08, 0.1, 0.12, 0.15, 0.2, 0.25, 0.3)
UNSEEN = ("unseen2", "unseen3", "unseen4")
# The least macro F1 (of the whole reading, out of fold) the floor may leave: 0.863 at the floor
# shipped before the fifth wave (0.2), 0.850 at 0.12.
F1_MIN = 0.85


def read(
    texts: list[str], labels: list[str], classes: list[str], proba: np.ndarray
) -> tuple[list[str], dict[float, float]]:
    """A line per candidate floor (crisis recall and false crises per 1,000 ordinary messages, by
    the model alone and by the whole reading, and the whole reading's macro F1), and the F1s."""
    k = classes.index("vulnerable")
    crisis = np.array([label == "vulnerable" for label in labels])
    ordinary = ~crisis
    lines = [f"    {crisis.sum()} crisis messages, {ordinary.sum()} ordinary"]
    f1s: dict[float, float] = {}
    saved = understanding.VULNERABLE_FLOOR
    try:
        for floor in CANDIDATES:
            alone = proba[:, k] >= floor
            understanding.VULNERABLE_FLOOR = floor
            predicted = [
                understanding.decide(t, classes, p)[0] for t, p in zip(texts, proba, strict=True)
            ]
            whole = np.array([intent == "vulnerable" for intent in predicted])
            f1 = f1s[floor] = dataset.macro_f1(labels, predicted)
            lines.append(
                f"    floor {floor:.2f}: model alone {alone[crisis].mean():6.1%} caught, "
                f"{1000 * alone[ordinary].mean():5.1f} false per 1,000 | with the rules "
                f"{whole[crisis].mean():6.1%} caught, {1000 * whole[ordinary].mean():5.1f} "
                f"false per 1,000 ({int(whole[ordinary].sum())}); macro F1 {f1:.3f}"
            )
    finally:
        understanding.VULNERABLE_FLOOR = saved
    return lines, f1s


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ids", type=Path, help="also read these train messages alone")
    parser.add_argument("--no-unseen", action="store_true", help="leave the unseen sets out")
    args = parser.parse_args()
    rows = [r for r in dataset.load() if r.split == "train"]
    texts = [r.message.text for r in rows]
    labels = [r.intent for r in rows]
    extras = [understanding.message_signals(r.message.text, r.message.at) for r in rows]
    classes: list[str] = []
    proba = np.zeros((len(rows), len(understanding.INTENTS)))
    for fit, held in StratifiedKFold(5, shuffle=True, random_state=0).split(texts, labels):
        model = classifier.train(
            [texts[i] for i in fit], [labels[i] for i in fit], extras=[extras[i] for i in fit]
        )
        classes = list(model.classes)
        for i in held:
            proba[i] = model.predict_proba(texts[i], extras[i])
    k = classes.index("vulnerable")
    crisis = np.array([label == "vulnerable" for label in labels])
    lines, f1s = read(texts, labels, classes, proba)
    print(f"train split, out of fold ({len(rows)} messages):")
    print("\n".join(lines))
    every = [f for f in CANDIDATES if (proba[crisis, k] >= f).all()]
    print(
        f"  lowest crisis probability out of fold: {proba[crisis, k].min():.3f}; the highest "
        f"floor at which the model alone misses none: {max(every) if every else None}"
    )
    chosen = min(f for f in CANDIDATES if round(f1s[f], 3) >= F1_MIN)
    print(f"  chosen: {chosen} (the lowest floor whose macro F1 is at least {F1_MIN})")
    if args.ids is not None:
        wanted = set(args.ids.read_text(encoding="utf-8").split())
        keep = [i for i, r in enumerate(rows) if r.message.id in wanted]
        sub = read([texts[i] for i in keep], [labels[i] for i in keep], classes, proba[keep])[0]
        print(f"the {len(keep)} of them listed in {args.ids.name}, the same folds:")
        print("\n".join(sub))
    if args.no_unseen:
        return
    shipped = understanding.model()
    for split in UNSEEN:
        held_rows = dataset.load(source=dataset.SPLIT_FILES[split])
        h_texts = [r.message.text for r in held_rows]
        h_extras = [understanding.message_signals(r.message.text, r.message.at) for r in held_rows]
        h_proba = shipped.predict_proba_many(h_texts, h_extras)
        h_labels = [r.intent for r in held_rows]
        print(f"{split}, the shipped model ({len(held_rows)} messages):")
        print("\n".join(read(h_texts, h_labels, list(shipped.classes), h_proba)[0]))


if __name__ == "__main__":
    main()
