"""Content checks: forbidden categories and required elements, from lexicons per language.

The same checks run on a template when it is saved (its placeholders such as `{{ opt_out_url }}`
satisfy the elements they stand for) and on every rendered message before it leaves.
Lexicons live in `lexicons/` as data: English matches on word boundaries, Chinese on substrings.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache, lru_cache
from importlib import resources

import yaml

LANGUAGES = ("en", "zh-Hans", "zh-Hant")
# A Chinese SMS names its sender in a signature 【…】 at its start or end (the operators require
# one, registered to the sender); such a signature identifies the sender, whatever the language
# of the creditor's name on file.
SIGNATURE = re.compile(r"^\s*【[^【】\s][^【】]{0,29}】|【[^【】\s][^【】]{0,29}】\s*$")


@dataclass(frozen=True)
class Lexicon:
    language: str
    categories: dict[str, re.Pattern[str]]
    elements: dict[str, re.Pattern[str]]


@cache  # few distinct tags; asked once per category of every message checked
def language_of(tag: str | None) -> tuple[str, ...]:
    """The lexicons for a BCP 47 tag; all of them when the tag is unknown or absent."""
    if not tag:
        return LANGUAGES
    t = tag.replace("_", "-").lower()
    if t.startswith("zh"):
        if any(x in t for x in ("hant", "-tw", "-hk", "-mo")):
            return ("zh-Hant",)
        return ("zh-Hans",)
    if t.startswith("en"):
        return ("en",)
    return LANGUAGES


@cache
def lexicon(language: str) -> Lexicon:
    text = (resources.files("recoup.compliance") / "lexicons" / f"{language}.yaml").read_text(
        encoding="utf-8"
    )
    data = yaml.safe_load(text)
    words = language == "en"
    return Lexicon(
        language=language,
        categories={k: _pattern(v, words=words) for k, v in data["categories"].items()},
        elements={k: _pattern(v, words=False) for k, v in data["elements"].items()},
    )


def _pattern(phrases: Iterable[str], *, words: bool) -> re.Pattern[str]:
    """One alternation, longest phrase first; English phrases must stand as whole words."""
    ordered = sorted(phrases, key=len, reverse=True)
    group = "(?:" + "|".join(re.escape(normalise(p)) for p in ordered) + ")"
    return re.compile(rf"(?<!\w){group}(?!\w)" if words else group)


@lru_cache(maxsize=256)  # a rendered message is asked about a dozen times in a row
def normalise(text: str) -> str:
    """NFKC (full-width letters become ASCII) and case-folded, so 'ＳＴＯＰ' reads as 'stop'."""
    return unicodedata.normalize("NFKC", text).casefold()


def found(text: str, category: str, language: str | None) -> list[str]:
    """The phrases of a forbidden category in the text, in the order they appear."""
    body = normalise(text)
    hits: list[str] = []
    for lang in language_of(language):
        pattern = lexicon(lang).categories.get(category)
        if pattern is not None:
            hits.extend(m.group(0) for m in pattern.finditer(body))
    return list(dict.fromkeys(hits))


def found_each(
    text: str, categories: tuple[str, ...], language: str | None
) -> dict[str, list[str]]:
    """`found` for each of the categories (the same lists), the text scanned once per language
    when none of their phrases is in it: a category's match is a match of their union."""
    body = normalise(text)
    hits: dict[str, list[str]] = {c: [] for c in categories}
    for lang in language_of(language):
        union = _union(lang, categories)
        if union is None or union.search(body) is None:
            continue
        patterns = lexicon(lang).categories
        for category in categories:
            pattern = patterns.get(category)
            if pattern is not None:
                hits[category].extend(m.group(0) for m in pattern.finditer(body))
    return {c: list(dict.fromkeys(h)) if h else h for c, h in hits.items()}


@lru_cache(maxsize=64)
def _union(language: str, categories: tuple[str, ...]) -> re.Pattern[str] | None:
    """One alternation of the phrases of these categories of a language's lexicon."""
    data = yaml.safe_load(
        (resources.files("recoup.compliance") / "lexicons" / f"{language}.yaml").read_text(
            encoding="utf-8"
        )
    )["categories"]
    phrases = [p for c in categories for p in data.get(c) or ()]
    return _pattern(phrases, words=language == "en") if phrases else None


def has_element(text: str, element: str, language: str | None, *, creditor: str = "") -> bool:
    body = normalise(text)
    if element == "creditor_identity":
        if creditor and normalise(creditor) in body:
            return True
        if any(lang.startswith("zh") for lang in language_of(language)) and SIGNATURE.search(
            unicodedata.normalize("NFKC", text)
        ):
            return True
    return any(
        (p := lexicon(lang).elements.get(element)) is not None and p.search(body) is not None
        for lang in language_of(language)
    )
