"""`python -m tests.console.seed SCOPE...`: one staff member per role (tests.console.conftest's
USERNAMES and PASSWORD) and an integration key with the scopes given, printed last, in the database
the RECOUP_ settings name. One process instead of a `recoup` command per person: the served
console's fixture starts in seconds rather than a minute on a loaded machine."""

from __future__ import annotations

import sys

from recoup.cli.common import runtime
from recoup.identity import service as identity_service
from recoup.identity.permissions import Permission
from tests.console.conftest import PASSWORD, USERNAMES


def main(scopes: list[str]) -> None:
    rt = runtime()
    with rt.transaction() as session:
        for role, username in USERNAMES.items():
            identity_service.create_staff(
                session,
                username=username,
                display_name=username.title(),
                role=role,
                password=PASSWORD,
                clock=rt.clock,
            )
        key, _ = identity_service.create_api_key(
            session,
            name="wallet",
            scopes=[Permission(s) for s in scopes],
            created_by="tests",
            clock=rt.clock,
        )
    print(key)


if __name__ == "__main__":
    main(sys.argv[1:])
