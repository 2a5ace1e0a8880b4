"""The floors of `recoup.assistant.understanding` (VULNERABLE_FLOOR, STOP_FLOOR), chosen on the
train split alone: 5-fold out-of-fold probabilities of the model (no rules), and for each candidate
floor the share of the intent's messages it would catch and the share of the others it would flag.
The rule: the lowest candidate flagging at most 2 % of the other messages. It chooses STOP_FLOOR;
it chose VULNERABLE_FLOOR until the fifth wave's train-only crisis lines, after which no candidate
flags 2 % or less and `scripts/assistant_crisis_floor.py` chooses it.

    PYTHONPATH=src .venv/bin/python scripts/assistant_floors.py
"""

from __future__ import annotations

import numpy as np
from sklearn.model_selection import StratifiedKFold

from recoup.assistant import classifier, dataset, understanding

CANDIDATES = (0.1, 0.15, 0.2, 0.25, 0.3)
MAX_FLAGGED = 0.02


def main() -> None:
    rows = [r for r in dataset.load() if r.split == "train"]
    texts = [r.message.text for r in rows]
    labels = [r.intent for r in rows]
    extras = [understanding.message_signals(r.message.text, r.message.at) for r in rows]
    proba: dict[int, dict[str, float]] = {}
    for fit, held in StratifiedKFold(5, shuffle=True, random_state=0).split(texts, labels):
        model = classifier.train(
            [texts[i] for i in fit], [labels[i] for i in fit], extras=[extras[i] for i in fit]
        )
        for i in held:
            proba[i] = dict(
                zip(model.classes, model.predict_proba(texts[i], extras[i]), strict=True)
            )
    for intent in ("vulnerable", "stop"):
        mine = np.array([proba[i][intent] for i in proba if labels[i] == intent])
        others = np.array([proba[i][intent] for i in proba if labels[i] != intent])
        chosen = None
        print(f"{intent}: {len(mine)} messages, {len(others)} others")
        for floor in CANDIDATES:
            flagged = float(np.mean(others >= floor))
            print(
                f"  floor {floor:.2f}: catches {np.mean(mine >= floor):.1%}, "
                f"flags {flagged:.1%} of the others ({int((others >= floor).sum())})"
            )
            if chosen is None and flagged <= MAX_FLAGGED:
                chosen = floor
        print(f"  chosen: {chosen}")


if __name__ == "__main__":
    main()
