from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Sequence

from sqlalchemy import select, update

from recoup.kit.repository import Repository
from recoup.models.identity import (
    ApiKey,
    PasswordCode,
    StaffProposal,
    StaffSession,
    StaffUser,
)


class StaffRepository(Repository[StaffUser]):
    model = StaffUser

    def by_username(self, username: str) -> StaffUser | None:
        return self.get_one_or_none(select(StaffUser).where(StaffUser.username == username))

    def all(self) -> Sequence[StaffUser]:
        return self.list(select(StaffUser).order_by(StaffUser.username))

    def active_in_roles(self, roles: Collection[str]) -> list[StaffUser]:
        """The staff users of these roles not disabled, by display name."""
        u = StaffUser
        stmt = select(u).where(u.role.in_(list(roles)), u.disabled_at.is_(None))
        return list(self.list(stmt.order_by(u.display_name, u.id)))


class SessionRepository(Repository[StaffSession]):
    model = StaffSession

    def by_token_hash(self, token_hash: str) -> StaffSession | None:
        return self.get_one_or_none(
            select(StaffSession).where(StaffSession.token_hash == token_hash)
        )

    def revoke_all(self, staff_id: int, *, at: dt.datetime) -> None:
        self.session.execute(
            update(StaffSession)
            .where(StaffSession.staff_id == staff_id, StaffSession.revoked_at.is_(None))
            .values(revoked_at=at)
        )


class ApiKeyRepository(Repository[ApiKey]):
    model = ApiKey

    def by_prefix(self, prefix: str) -> ApiKey | None:
        return self.get_one_or_none(select(ApiKey).where(ApiKey.prefix == prefix))


class ProposalRepository(Repository[StaffProposal]):
    model = StaffProposal

    def recent(self, *, limit: int) -> Sequence[StaffProposal]:
        return self.list(select(StaffProposal).order_by(StaffProposal.id.desc()).limit(limit))

    def pending_username(self, username: str) -> StaffProposal | None:
        return self.get_one_or_none(
            select(StaffProposal)
            .where(StaffProposal.username == username, StaffProposal.status == "pending")
            .order_by(StaffProposal.id.desc())  # the newest: an older one may have expired
            .limit(1)
        )


class PasswordCodeRepository(Repository[PasswordCode]):
    model = PasswordCode

    def by_hash(self, code_hash: str) -> PasswordCode | None:
        return self.get_one_or_none(select(PasswordCode).where(PasswordCode.code_hash == code_hash))

    def retire_open(self, staff_id: int, *, at: dt.datetime) -> None:
        """Any earlier unused code of this person stops working when a new one is issued."""
        self.session.execute(
            update(PasswordCode)
            .where(PasswordCode.staff_id == staff_id, PasswordCode.used_at.is_(None))
            .values(used_at=at)
        )
