"""Articles and their versions. A version's life follows the message templates': `draft` when
saved (an edit is always a new version, never a change to an old one), `submitted` for review,
`approved` by a person other than its author (four eyes), `retired` when a later approval of the
same article and language replaces it. The portal shows the one approved version per language.
The shipped articles are seeded as approved first versions by `recoup init` (the system's own, no
second person). Every step is audited. A read is counted without its reader."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import Any

import yaml
from sqlalchemy.orm import Session

from recoup.audit import service as audit_service
from recoup.compliance import Guard, deployment_guard
from recoup.config import get_settings
from recoup.contact.templates import LANGUAGES
from recoup.education.body import Block, blocks, for_country, problems
from recoup.education.repository import (
    ArticleReadRepository,
    ArticleRepository,
    ArticleVersionRepository,
)
from recoup.education.rights import Section, sections
from recoup.kit.clock import Clock
from recoup.kit.errors import Conflict, Forbidden, NotFound, ValidationFailed
from recoup.models import Article, ArticleStatus, ArticleVersion

SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{1,62}[a-z0-9]$")
MAX_TITLE = 200
MAX_SUMMARY = 400
MAX_BODY = 20_000
SYSTEM = "recoup"


class ArticleNotSubmitted(Conflict):
    code = "article_not_submitted"
    description = "Only a draft is submitted, only a submitted version is approved"


class OwnArticle(Forbidden):
    code = "own_article"
    description = "An article version is approved by a person other than its author"


@dataclass(frozen=True)
class Listed:
    """An article as the learning centre lists it, in one language."""

    slug: str
    title: str
    summary: str


@dataclass(frozen=True)
class Reading:
    """An article as the portal shows it: its approved words in blocks, and the rights from the
    packs for the reader's jurisdiction when the body asks for them."""

    article: Article
    version: ArticleVersion
    blocks: tuple[Block, ...]
    rights: tuple[Section, ...]


def _language(language: str) -> str:
    if language not in LANGUAGES:
        raise ValidationFailed(f"language must be one of {', '.join(LANGUAGES)}")
    return language


def _bounded(value: str, what: str, most: int) -> str:
    value = value.strip()
    if not value:
        raise ValidationFailed(f"the {what} is empty")
    if len(value) > most:
        raise ValidationFailed(f"the {what} is at most {most:,} characters")
    return value


def save(
    session: Session,
    slug: str,
    *,
    language: str,
    title: str,
    summary: str,
    body: str,
    author: str,
    clock: Clock,
    position: int | None = None,
) -> ArticleVersion:
    """A new draft version of the article in a language (the article itself made on its first
    save). Saving never changes what the portal shows: only an approval does."""
    if not SLUG.match(slug):
        raise ValidationFailed("a slug is 3 to 64 lower-case letters, digits and hyphens")
    language = _language(language)
    title = _bounded(title, "title", MAX_TITLE)
    summary = _bounded(summary, "summary", MAX_SUMMARY)
    body = _bounded(body, "body", MAX_BODY)
    wrong = problems(body)
    if wrong:
        raise ValidationFailed(f"the body's markers: {'; '.join(wrong)}")
    articles = ArticleRepository(session)
    article = articles.by_slug(slug) or articles.add(
        slug=slug, position=100 if position is None else position, at=clock.now()
    )
    versions = ArticleVersionRepository(session)
    version = versions.add(
        article_id=article.id,
        language=language,
        version=versions.latest_number(article.id, language) + 1,
        title=title,
        summary=summary,
        body=body,
        status=ArticleStatus.draft,
        author=author,
        created_at=clock.now(),
    )
    _audit(session, "article.saved", version, slug, actor=author, clock=clock)
    return version


def _version(session: Session, version_id: int) -> ArticleVersion:
    version = ArticleVersionRepository(session).get(version_id)
    if version is None:
        raise NotFound(f"no article version {version_id}")
    return version


def submit(session: Session, version_id: int, *, actor: str, clock: Clock) -> ArticleVersion:
    """A draft put forward for review."""
    version = _version(session, version_id)
    if version.status != ArticleStatus.draft:
        raise ArticleNotSubmitted(
            f"article version {version_id} is {version.status}; only a draft is submitted"
        )
    ArticleVersionRepository(session).set_status(version, ArticleStatus.submitted)
    _audit(session, "article.submitted", version, None, actor=actor, clock=clock)
    return version


def approve(session: Session, version_id: int, *, actor: str, clock: Clock) -> ArticleVersion:
    """Four eyes: a submitted version, approved by someone other than its author. It replaces
    (retires) the language's approved version, if any, in the portal."""
    version = _version(session, version_id)
    if version.status != ArticleStatus.submitted:
        raise ArticleNotSubmitted(
            f"article version {version_id} is {version.status}; submit it for approval first"
        )
    if actor == version.author:
        raise OwnArticle(
            f"article version {version_id} is yours; another person approves it (four eyes)"
        )
    return _approve(session, version, actor=actor, clock=clock)


def _approve(
    session: Session, version: ArticleVersion, *, actor: str, clock: Clock
) -> ArticleVersion:
    retired = ArticleVersionRepository(session).approve(version, actor=actor, at=clock.now())
    _audit(
        session,
        "article.approved",
        version,
        None,
        actor=actor,
        clock=clock,
        more={"author": version.author, "retired": retired},
    )
    return version


def _audit(
    session: Session,
    action: str,
    version: ArticleVersion,
    slug: str | None,
    *,
    actor: str,
    clock: Clock,
    more: dict[str, Any] | None = None,
) -> None:
    details: dict[str, Any] = {
        "article": version.article_id,
        "language": version.language,
        "version": version.version,
        **({"slug": slug} if slug else {}),
        **(more or {}),
    }
    audit_service.record(
        session,
        actor=actor,
        action=action,
        subject_type="article_version",
        subject_id=version.id,
        clock=clock,
        details=details,
    )


def catalogue(session: Session, language: str) -> list[Listed]:
    """The learning centre's list in a language: every article with an approved version in it."""
    approved = {v.article_id: v for v in ArticleVersionRepository(session).approved_in(language)}
    return [
        Listed(a.slug, approved[a.id].title, approved[a.id].summary)
        for a in ArticleRepository(session).all()
        if a.id in approved
    ]


def read(
    session: Session,
    slug: str,
    *,
    language: str,
    jurisdiction: str,
    clock: Clock,
    guard: Guard | None = None,
    collectors: Sequence[str] = ("creditor",),
) -> Reading:
    """The approved article in a language, counted as read (the article and the language, no
    reader). A slug with no approved version in the language is not found. The rights are those
    of the packs binding `collectors` (the guard's roles of the reader's accounts); a block marked
    for other countries than the reader's (`jurisdiction`) is left out."""
    language = _language(language)
    article = ArticleRepository(session).by_slug(slug) if SLUG.match(slug) else None
    version = ArticleVersionRepository(session).approved(article.id, language) if article else None
    if article is None or version is None:
        raise NotFound("no such article")
    # A block marked for some countries is read only there (`[[only CN]]`): China's law to a
    # reader in China, the article's neutral words to everyone else.
    shown = for_country(blocks(version.body), jurisdiction.split("-")[0])
    rights: tuple[Section, ...] = ()
    if any(b.kind == "rights" for b in shown):
        rights = sections(
            guard or deployment_guard(get_settings().compliance_house_file),
            jurisdiction,
            language,
            collectors,
        )
    ArticleReadRepository(session).add(article.id, language, clock.now())
    return Reading(article, version, shown, rights)


def versions_of(session: Session, slug: str) -> tuple[Article, Sequence[ArticleVersion]]:
    article = ArticleRepository(session).by_slug(slug)
    if article is None:
        raise NotFound(f"no article {slug!r}")
    return article, ArticleVersionRepository(session).of_article(article.id)


def articles(session: Session) -> Sequence[Article]:
    return ArticleRepository(session).all()


def article_version(session: Session, version_id: int) -> ArticleVersion:
    return _version(session, version_id)


def reads(
    session: Session, *, since: dt.datetime | None = None, until: dt.datetime | None = None
) -> list[tuple[str, str, int]]:
    """The KPI: reads per article and language, in [since, until)."""
    return ArticleReadRepository(session).counts(since=since, until=until)


@lru_cache(maxsize=1)
def shipped() -> tuple[dict[str, Any], ...]:
    """The articles shipped with Recoup (`articles.yaml`)."""
    text = (resources.files("recoup.education") / "articles.yaml").read_text("utf-8")
    return tuple(yaml.safe_load(text)["articles"])


def seed(session: Session, *, clock: Clock) -> int:
    """Save and approve the shipped articles' languages that have no version yet. Safe to run
    twice; an article edited in the console is never overwritten."""
    existing = {(v.article_id, v.language) for v in ArticleVersionRepository(session).all()}
    articles = ArticleRepository(session)
    added = 0
    for position, doc in enumerate(shipped()):
        article = articles.by_slug(doc["slug"])
        for language, words in doc["languages"].items():
            if article is not None and (article.id, language) in existing:
                continue
            version = save(
                session,
                doc["slug"],
                language=language,
                title=words["title"],
                summary=words["summary"],
                body=words["body"],
                author=SYSTEM,
                clock=clock,
                position=position * 10,
            )
            article = articles.by_slug(doc["slug"])
            _approve(session, version, actor=SYSTEM, clock=clock)  # the system's own
            added += 1
    return added
