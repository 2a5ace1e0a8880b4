"""Roles and permissions: who may do what. A pure table, read by the API, the console and the tests.

Every endpoint declares one permission. Staff get permissions from their role; API keys from their
scopes (a subset of the permissions, fixed at creation). Revealing personal data is its own permission,
held by few, and every reveal is logged where the customer can see it.
"""

from __future__ import annotations

from enum import StrEnum


class Permission(StrEnum):
    customers_read = "customers:read"
    customers_write = "customers:write"
    customers_reveal = "customers:reveal"
    accounts_read = "accounts:read"
    accounts_write = "accounts:write"
    payments_write = "payments:write"
    payments_reverse = "payments:reverse"
    delinquency_read = "delinquency:read"
    delinquency_pause = "delinquency:pause"
    staff_manage = "staff:manage"
    api_keys_manage = "api_keys:manage"
    audit_read = "audit:read"
    contacts_read = "contacts:read"
    contacts_inbox = "contacts:inbox"
    calls_place = "calls:place"
    arrangements_read = "arrangements:read"
    arrangements_write = "arrangements:write"  # make or cancel one on the debtor's behalf
    arrangements_approve = "arrangements:approve"  # settlements past the policy's threshold
    cases_write = "cases:write"  # open a dispute, hardship case or complaint for a debtor
    cases_resolve = "cases:resolve"
    preferences_write = "preferences:write"  # a debtor's contact preferences and opt-outs
    links_revoke = "links:revoke"  # withdraw pay links (a message to a wrong number, a lost phone)
    analytics_read = "analytics:read"  # KPIs, roll rates, experiment results (no personal data)
    tasks_work = "tasks:work"  # take the next account from a queue, wrap up a call
    tasks_manage = "tasks:manage"  # see queues' load per agent, reassign tasks
    notes_write = "notes:write"  # notes on an account
    consents_write = "consents:write"  # record or withdraw a debtor's consent, with its evidence
    replies_handle = (
        "replies:handle"  # the inbound replies inbox: make a case, record consent, opt out
    )
    policies_write = "policies:write"  # edit a policy, dry-run it, submit it for activation
    policies_approve = "policies:approve"  # approve another person's activation (four eyes)
    templates_write = "templates:write"  # write or edit a message template, submit it
    templates_approve = "templates:approve"  # approve another person's template version
    articles_write = "articles:write"  # write a learning-centre article's version, submit it
    articles_approve = "articles:approve"  # approve another person's article version
    qa_review = "qa:review"  # sample sent messages and calls, record a QA checklist and findings
    privacy_requests = "privacy:requests"  # data-subject requests: export, erasure
    staff_approve = "staff:approve"  # approve another administrator's staff or key proposal
    contacts_retry = "contacts:retry"  # put a dead letter back in the outbox
    # The assistant's conversations handed over to a person: read them (the debtor's words),
    # and resolve one once a person has dealt with it.
    conversations_handle = "conversations:handle"
    models_read = "models:read"  # risk models, their performance and drift, the bandit's arms
    models_activate = "models:activate"  # activate another person's trained model (four eyes)


class Role(StrEnum):
    agent = "agent"
    supervisor = "supervisor"
    strategist = "strategist"
    compliance_officer = "compliance_officer"
    administrator = "administrator"
    auditor = "auditor"


P = Permission
_READ = {
    P.customers_read,
    P.accounts_read,
    P.delinquency_read,
    P.contacts_read,
    P.arrangements_read,
}
# Portfolio figures: for those who steer, check or oversee collection, not the agents on the line.
_OVERSIGHT = {P.analytics_read}
# What an agent does for the debtor on the line: arrangements, cases, preferences.
_FOR_DEBTOR = {
    P.arrangements_write,
    P.cases_write,
    P.preferences_write,
    P.links_revoke,
    P.consents_write,
    P.notes_write,
}
# Working a queue: the next account, the call, its wrap-up; an agent may reveal a number it must
# dial (the reason is recorded and the customer sees it).
_ON_THE_LINE = {P.calls_place, P.tasks_work, P.customers_reveal, P.conversations_handle}

MATRIX: dict[Role, frozenset[Permission]] = {
    Role.agent: frozenset(_READ | _FOR_DEBTOR | _ON_THE_LINE),
    Role.supervisor: frozenset(
        _READ
        | _FOR_DEBTOR
        | {
            P.arrangements_approve,
            P.cases_resolve,
            P.delinquency_pause,
            P.payments_reverse,
            P.accounts_write,
            P.tasks_manage,
            P.replies_handle,
            P.contacts_retry,
        }
        | _ON_THE_LINE
        | _OVERSIGHT
    ),
    # The collections manager: the policy, its experiments and its templates.
    Role.strategist: frozenset(
        _READ
        | _OVERSIGHT
        | {P.policies_write, P.policies_approve, P.templates_write, P.templates_approve}
        | {P.articles_write, P.articles_approve}
        | {P.models_read, P.models_activate}
    ),
    Role.compliance_officer: frozenset(
        _READ
        | _OVERSIGHT
        | {
            P.customers_reveal,
            P.audit_read,
            P.cases_resolve,
            P.consents_write,
            P.templates_write,
            P.templates_approve,
            P.articles_write,  # the rights article: what the debtor is told they may do
            P.articles_approve,
            P.qa_review,
            P.privacy_requests,
            P.models_read,
        }
    ),
    Role.administrator: frozenset(
        _READ
        | {
            P.customers_write,
            P.accounts_write,
            P.payments_write,
            P.payments_reverse,
            P.delinquency_pause,
            P.staff_manage,
            P.staff_approve,
            P.contacts_retry,
            P.api_keys_manage,
            P.audit_read,
        }
        | _OVERSIGHT
    ),
    Role.auditor: frozenset(_READ | _OVERSIGHT | {P.audit_read}),
}

# What an integration (the wallet's backend) may be granted; never staff management or reveals.
API_KEY_SCOPES = frozenset(
    {
        P.customers_read,
        P.customers_write,
        P.accounts_read,
        P.accounts_write,
        P.payments_write,
        P.payments_reverse,
        P.delinquency_read,
        P.contacts_inbox,
        P.arrangements_read,
        P.arrangements_write,
        P.cases_write,
        P.preferences_write,
        P.links_revoke,
        P.consents_write,
    }
)


def role_allows(role: Role, permission: Permission) -> bool:
    return permission in MATRIX[role]
