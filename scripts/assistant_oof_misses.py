"""The train split's out-of-fold reading with the rules: each train message read by a model fitted
on the other four fifths (5 folds, as `scripts/assistant_floors.py`), then `understanding.decide`
(rules, floors, model). Prints the `stop` and `vulnerable` messages missed and the others read as
one of them: the train split is what rules may be written from; the test split's misses are not
read (docs/assistant.md, "Where the crisis and stop rules come from").

    PYTHONPATH=src .venv/bin/python scripts/assistant_oof_misses.py
"""

from __future__ import annotations

from sklearn.model_selection import StratifiedKFold

from recoup.assistant import classifier, dataset, understanding

WATCHED = ("stop", "vulnerable")


def main() -> None:
    rows = [r for r in dataset.load() if r.split == "train"]
    texts = [r.message.text for r in rows]
    labels = [r.intent for r in rows]
    extras = [understanding.message_signals(r.message.text, r.message.at) for r in rows]
    read: dict[int, str] = {}
    for fit, held in StratifiedKFold(5, shuffle=True, random_state=0).split(texts, labels):
        model = classifier.train(
            [texts[i] for i in fit], [labels[i] for i in fit], extras=[extras[i] for i in fit]
        )
        for i in held:
            proba = model.predict_proba(texts[i], extras[i])
            read[i] = understanding.decide(texts[i], model.classes, proba)[0]
    for intent in WATCHED:
        mine = [i for i in read if labels[i] == intent]
        missed = [i for i in mine if read[i] != intent]
        print(f"{intent}: {len(mine) - len(missed)} of {len(mine)} caught out of fold")
        for i in missed:
            print(f"  missed {rows[i].message.id}: {texts[i]!r} read as {read[i]}")
        false = [i for i in read if labels[i] not in WATCHED and read[i] == intent]
        print(f"  {len(false)} of the others read as {intent}")
        for i in false:
            print(f"  false {rows[i].message.id} ({labels[i]}): {texts[i]!r}")


if __name__ == "__main__":
    main()
