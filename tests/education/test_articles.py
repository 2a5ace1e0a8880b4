"""The learning centre's articles: four eyes on every version, an edit is a new version and the
portal shows the latest approved one, the shipped articles seeded approved in three languages, the
rights article in the rule packs' own words, and reads counted without their reader."""

from __future__ import annotations

import pytest
from sqlalchemy import inspect
from sqlalchemy.orm import Session

from recoup.compliance import load_guard
from recoup.compliance.packs import HoursRule
from recoup.contact.templates import LANGUAGES
from recoup.education import service as education_service
from recoup.education.body import blocks
from recoup.education.rights import sections
from recoup.kit.clock import SettableClock
from recoup.kit.errors import NotFound, ValidationFailed
from recoup.models import ArticleRead, ArticleStatus

SHIPPED = (
    "repayment-and-late-fees",
    "credit-record",
    "choosing-a-plan",
    "your-rights",
    "spotting-fraud",
)


def rule_cites(guard, rule_id: str, language: str = "zh") -> str:  # type: ignore[no-untyped-def]
    return str(guard.rule(rule_id).cites["CN"][language])


def draft(session: Session, clock: SettableClock, *, title: str = "Budgeting", author: str = "ana"):  # type: ignore[no-untyped-def]
    return education_service.save(
        session,
        "budgeting",
        language="en",
        title=title,
        summary="Plan a month",
        body="Write down what comes in.\n\n- rent\n- food",
        author=author,
        clock=clock,
    )


def shown(
    session: Session, clock: SettableClock, slug: str = "budgeting", language: str = "en"
) -> str:
    return education_service.read(
        session, slug, language=language, jurisdiction="CN", clock=clock
    ).version.title


class TestFourEyes:
    def test_the_author_cannot_approve_their_own_version(
        self, session: Session, clock: SettableClock
    ) -> None:
        version = draft(session, clock)
        education_service.submit(session, version.id, actor="ana", clock=clock)
        with pytest.raises(education_service.OwnArticle):
            education_service.approve(session, version.id, actor="ana", clock=clock)
        assert version.status == ArticleStatus.submitted
        with pytest.raises(NotFound):  # nothing approved: the portal has no such article
            shown(session, clock)
        education_service.approve(session, version.id, actor="ben", clock=clock)
        assert (version.status, version.approved_by) == (ArticleStatus.approved, "ben")
        assert shown(session, clock) == "Budgeting"

    def test_only_a_submitted_version_is_approved(
        self, session: Session, clock: SettableClock
    ) -> None:
        version = draft(session, clock)
        with pytest.raises(education_service.ArticleNotSubmitted):
            education_service.approve(session, version.id, actor="ben", clock=clock)
        education_service.submit(session, version.id, actor="ana", clock=clock)
        with pytest.raises(education_service.ArticleNotSubmitted):
            education_service.submit(session, version.id, actor="ana", clock=clock)


class TestVersions:
    def test_an_edit_is_a_new_version_and_the_portal_shows_the_latest_approved(
        self, session: Session, clock: SettableClock
    ) -> None:
        first = draft(session, clock)
        education_service.submit(session, first.id, actor="ana", clock=clock)
        education_service.approve(session, first.id, actor="ben", clock=clock)
        second = draft(session, clock, title="Budgeting, revised")
        assert (first.version, second.version) == (1, 2)
        assert second.id != first.id
        assert first.title == "Budgeting"
        assert shown(session, clock) == "Budgeting"  # a draft changes nothing shown
        education_service.submit(session, second.id, actor="ana", clock=clock)
        assert shown(session, clock) == "Budgeting"  # nor does a submitted one
        education_service.approve(session, second.id, actor="ben", clock=clock)
        assert shown(session, clock) == "Budgeting, revised"
        assert first.status == ArticleStatus.retired

    def test_bounds_and_canonical_forms_are_refused_with_a_reason(
        self, session: Session, clock: SettableClock
    ) -> None:
        ok = {"language": "en", "title": "t", "summary": "s", "body": "b", "author": "a"}
        for slug, changes in [
            ("Bad Slug", {}),
            ("../etc", {}),
            ("fine-slug", {"language": "fr"}),
            ("fine-slug", {"title": "x" * 201}),
            ("fine-slug", {"body": "x" * 20_001}),
            ("fine-slug", {"summary": "   "}),
        ]:
            with pytest.raises(ValidationFailed):
                education_service.save(session, slug, clock=clock, **{**ok, **changes})  # type: ignore[arg-type]


class TestShipped:
    def test_init_seeds_every_article_approved_in_three_languages(
        self, session: Session, clock: SettableClock
    ) -> None:
        for language in LANGUAGES:
            listed = [a.slug for a in education_service.catalogue(session, language)]
            assert listed == list(SHIPPED), language
        assert education_service.seed(session, clock=clock) == 0  # twice: nothing more


class TestRights:
    def test_the_rights_article_is_the_packs_own_words_for_the_debtors_jurisdiction(
        self, session: Session, clock: SettableClock
    ) -> None:
        guard = load_guard()
        reading = education_service.read(
            session, "your-rights", language="zh-CN", jurisdiction="CN", clock=clock, guard=guard
        )
        shown_rights = {r.source: r for s in reading.rights for r in s.rights}
        hours = [r for r in guard.rules_for("CN", "creditor") if isinstance(r, HoursRule)]
        assert hours
        for rule in hours:  # every hours rule the guard enforces, in its own words
            assert shown_rights[rule.id].text.startswith(rule.title_zh)
            assert rule.window.label() in shown_rights[rule.id].text
        # the law cited is China's own, in Chinese; a house rule cites no law at all
        assert shown_rights["cn.hours.legal"].citation == rule_cites(guard, "cn.hours.legal")
        assert shown_rights["cn.hours.house"].citation is None
        deadline = guard.deadline("CN", "creditor", "complaint")
        assert deadline is not None
        assert shown_rights[deadline.id].text == deadline.title_zh
        assert {"base.opt_out", "base.cease", "base.dispute"} <= set(shown_rights)
        english = sections(guard, "US", "en")
        us = {r.source: r.text for s in english for r in s.rights}
        assert us["us.deadline.dispute"] == guard.deadline("US", "creditor", "dispute").title  # type: ignore[union-attr]

    def test_a_debtor_is_cited_only_their_own_countrys_law(self) -> None:
        """Every shipped jurisdiction, every language: no citation of another country's law
        and no internal reference (`regulation-rules`). Without `cites` (the rights page
        showing the shared packs' `citation`), a Chinese debtor reads "12 CFR 1006.14(h)"."""
        guard = load_guard()
        laws = {
            "US": ("CFR", "U.S.C", "USC", "FDCPA"),
            "CN": ("PIPL", "个人信息保护法", "GB/T", "CBA", "银保监"),
            "GB": ("FCA", "CONC", "DISP"),
        }
        places = {j.replace("-*", "") for p in guard.packs for j in p.jurisdictions} - {"*"}
        assert {"CN", "US", "GB", "US-MA"} <= places
        for place in sorted(places):
            country = place.split("-")[0]
            for language in LANGUAGES:
                for collectors in (("creditor",), ("third_party",)):
                    shown = [
                        r.citation
                        for s in sections(guard, place, language, collectors)
                        for r in s.rights
                        if r.citation is not None
                    ]
                    for citation in shown:
                        assert "regulation-rules" not in citation, (place, citation)
                        for other, marks in laws.items():
                            if other != country:
                                assert not any(m in citation for m in marks), (place, citation)
        chinese = {r.source: r.citation for s in sections(guard, "CN", "zh-CN") for r in s.rights}
        assert chinese["base.opt_out"] == "《个人信息保护法》第十五条"
        assert chinese["base.cease"] is None  # ours: China's law has no general cease right
        english = {r.source: r.citation for s in sections(guard, "US", "en") for r in s.rights}
        assert english["base.opt_out"] == "12 CFR 1006.14(h), 1006.6(e); 47 CFR 64.1200(a)(10)"

    def test_a_rule_the_house_disables_leaves_the_article(
        self, session: Session, clock: SettableClock
    ) -> None:
        """The mechanism: the article is rendered from the guard at read time, not stored."""
        house = load_guard({"disable": ["cn.hours.house"]})
        reading = education_service.read(
            session, "your-rights", language="en", jurisdiction="CN", clock=clock, guard=house
        )
        sources = {r.source for s in reading.rights for r in s.rights}
        assert "cn.hours.legal" in sources
        assert "cn.hours.house" not in sources

    def test_the_body_format_carries_no_markup(self) -> None:
        parts = blocks("## Title\n\n<script>x</script> text\n\n- a\n- b\n\n[[rights]]")
        assert [b.kind for b in parts] == ["heading", "paragraph", "list", "rights"]
        assert parts[1].lines == ("<script>x</script> text",)  # text, escaped by the page
        snug = blocks("## Heading\nits paragraph\n- one\n- two\nafter")
        assert [(b.kind, b.lines) for b in snug] == [
            ("heading", ("Heading",)),
            ("paragraph", ("its paragraph",)),
            ("list", ("one", "two")),
            ("paragraph", ("after",)),
        ]


class TestReads:
    def test_a_read_is_counted_per_article_and_language_without_its_reader(
        self, session: Session, clock: SettableClock
    ) -> None:
        before = {(s, lang): n for s, lang, n in education_service.reads(session)}
        for language in ("en", "zh-TW", "zh-TW"):
            education_service.read(
                session, "credit-record", language=language, jurisdiction="CN", clock=clock
            )
        after = {(s, lang): n for s, lang, n in education_service.reads(session)}
        assert after[("credit-record", "zh-TW")] - before.get(("credit-record", "zh-TW"), 0) == 2
        assert after[("credit-record", "en")] - before.get(("credit-record", "en"), 0) == 1
        columns = {c.key for c in inspect(ArticleRead).columns}
        assert columns == {"id", "article_id", "language", "read_at"}  # no one is recorded
