from __future__ import annotations

from collections.abc import Collection

from sqlalchemy import select

from recoup.kit.repository import Repository
from recoup.models.identity import ApiKey, StaffSession, StaffUser


class StaffRepository(Repository[StaffUser]):
    model = StaffUser

    def by_username(self, username: str) -> StaffUser | None:
        return self.get_one_or_none(select(StaffUser).where(StaffUser.username == username))

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


class ApiKeyRepository(Repository[ApiKey]):
    model = ApiKey

    def by_prefix(self, prefix: str) -> ApiKey | None:
        return self.get_one_or_none(select(ApiKey).where(ApiKey.prefix == prefix))
