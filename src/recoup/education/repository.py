"""SQL for the learning centre: the only writer of `articles`, `article_versions` and
`article_reads`."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from sqlalchemy import func, select, update

from recoup.kit.repository import Repository
from recoup.models import Article, ArticleRead, ArticleStatus, ArticleVersion


class ArticleRepository(Repository[Article]):
    model = Article

    def by_slug(self, slug: str) -> Article | None:
        return self.get_one_or_none(select(Article).where(Article.slug == slug))

    def add(self, *, slug: str, position: int, at: dt.datetime) -> Article:
        return self.create(Article(slug=slug, position=position, created_at=at))

    def all(self) -> Sequence[Article]:
        return self.list(select(Article).order_by(Article.position, Article.slug))


class ArticleVersionRepository(Repository[ArticleVersion]):
    model = ArticleVersion

    def latest_number(self, article_id: int, language: str) -> int:
        v = ArticleVersion
        stmt = select(func.max(v.version)).where(v.article_id == article_id, v.language == language)
        return int(self.session.execute(stmt).scalar_one() or 0)

    def add(self, **values: object) -> ArticleVersion:
        return self.create(ArticleVersion(**values))

    def approve(self, version: ArticleVersion, *, actor: str, at: dt.datetime) -> list[int]:
        """The version approved and the language's earlier approved version retired (one approved
        version per article and language: what the portal shows). The retired ids."""
        v = ArticleVersion
        retired = list(
            self.session.scalars(
                select(v.id).where(
                    v.article_id == version.article_id,
                    v.language == version.language,
                    v.status == ArticleStatus.approved,
                    v.id != version.id,
                )
            )
        )
        if retired:
            self.session.execute(
                update(v).where(v.id.in_(retired)).values(status=ArticleStatus.retired)
            )
        version.status, version.approved_by, version.approved_at = (
            ArticleStatus.approved,
            actor,
            at,
        )
        self.session.flush()
        return retired

    def set_status(self, version: ArticleVersion, status: str) -> None:
        version.status = status
        self.session.flush()

    def approved(self, article_id: int, language: str) -> ArticleVersion | None:
        v = ArticleVersion
        stmt = (
            select(v)
            .where(
                v.article_id == article_id,
                v.language == language,
                v.status == ArticleStatus.approved,
            )
            .order_by(v.version.desc())
            .limit(1)
        )
        return self.session.execute(stmt).scalars().first()

    def approved_in(self, language: str) -> Sequence[ArticleVersion]:
        """Every article's approved version in a language."""
        v = ArticleVersion
        stmt = select(v).where(v.language == language, v.status == ArticleStatus.approved)
        return self.list(stmt)

    def of_article(self, article_id: int) -> Sequence[ArticleVersion]:
        v = ArticleVersion
        stmt = select(v).where(v.article_id == article_id).order_by(v.language, v.version.desc())
        return self.list(stmt)

    def all(self) -> Sequence[ArticleVersion]:
        v = ArticleVersion
        return self.list(select(v).order_by(v.article_id, v.language, v.version))


class ArticleReadRepository(Repository[ArticleRead]):
    model = ArticleRead

    def add(self, article_id: int, language: str, at: dt.datetime) -> None:
        self.create(ArticleRead(article_id=article_id, language=language, read_at=at))

    def counts(
        self, *, since: dt.datetime | None, until: dt.datetime | None
    ) -> list[tuple[str, str, int]]:
        """Reads per article (slug) and language, in [since, until)."""
        r = ArticleRead
        stmt = (
            select(Article.slug, r.language, func.count(r.id))
            .join(Article, Article.id == r.article_id)
            .group_by(Article.slug, r.language)
            .order_by(Article.slug, r.language)
        )
        if since is not None:
            stmt = stmt.where(r.read_at >= since)
        if until is not None:
            stmt = stmt.where(r.read_at < until)
        return [(str(s), str(lang), int(n)) for s, lang, n in self.session.execute(stmt)]
