"""Every table has one owning package, and only that package's repository writes it
(ARCHITECTURE.md, invariant 10; STYLE.md 21): other packages ask the owner's service.

The check reads the source of every module under src/recoup with `ast` and finds writes:

- `insert(X)`, `update(X)`, `delete(X)` (SQLAlchemy's, or a dialect's `insert`), and
  `X.__table__.insert()` / `.update()` / `.delete()`;
- `frames.insert_frame / update_frame / upsert_frame(session, X.__table__, ...)` and
  `bulk.insert_rows / update_rows / upsert_rows(session, table, ...)` (kit/frames.py, kit/bulk.py);
- `session.add(X(...))`, `session.add_all([...])`, `session.merge(...)`, `session.delete(...)`;

where X is a model class, `X.__table__`, a helper call given one (`_table(X)`), or a name that the
same function (or the module) binds to one of those: `bill = Bill(...)` then `session.add(bill)`,
`c = ContactPlan` then `update(c)`, `for model in (CustomerPhone, CustomerEmail): delete(model)`,
`events: list[AuditEvent]` or `events.append(AuditEvent(...))` then `session.add_all(events)`, a
parameter annotated with a model (`bill: Bill`), `repo.find(...) or DelinquencyRun(...)`.
Each write is mapped to its table and to the module that makes it.

It can fail: adding `session.add(Bill(account_id=1, ...))` to any function in
`recoup/ingest/importer.py` makes `test_the_ledger_tables_are_written_only_by_the_ledger_repository`
fail with `recoup.ingest.importer writes bills`, and adding a new write of a non-ledger table outside
its owner (say `session.add(Case(...))` in `recoup/contact/flows.py`) makes
`test_other_tables_are_written_outside_their_owner_only_where_known` fail.

Attribute changes on loaded rows (`bill.principal_minor = x`, `setattr(bill, ...)`), flushed later
by the unit of work, are writes too: `TestAttributeWrites` finds them where the function shows the
row's model (an annotation, a loop over an annotated name, a constructor, `session.get(Model, ...)`)
and fails when a package changes another owner's rows.

What it cannot see, so what still needs review:
- attribute changes on rows that come back from a call or through an attribute
  (`for bill in repo.bills(...)`, `self.row.status = ...`), or within the owner's own package
  outside its repository (a service setting its own rows' status is allowed);
- objects attached through a relationship (`customer.phones.append(CustomerPhone(...))`) or cascades;
- writes through a repository's generic `create(obj)` (kit/repository.py): the write is in the
  repository named at the call, which the check does not trace back to its package;
- writes to a table passed in as a parameter or chosen at run time (key rotation's
  `keys.repository.reseal(session, table, ...)` re-seals every encrypted column in place: it is the
  keys package's job by design, over every owner's table), and raw SQL text;
- a model reached through a name bound in another function, an attribute (`self.model`), or any
  other indirection than the ones listed above.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

from recoup.models import Model

SRC = Path(__file__).parents[1] / "src" / "recoup"

# The owning package of every table in recoup.models (ARCHITECTURE.md lists the packages).
OWNERS: dict[str, str] = {
    # ledger: customers, accounts, bills, payments, payment allocation, products
    "customers": "ledger",
    "customer_phones": "ledger",
    "customer_emails": "ledger",
    "customer_addresses": "ledger",
    "products": "ledger",
    "accounts": "ledger",
    "bills": "ledger",
    "payments": "ledger",
    "allocations": "ledger",
    # delinquency: DPD, buckets, stages, their history
    "account_delinquency": "delinquency",
    "delinquency_events": "delinquency",
    "delinquency_pauses": "delinquency",
    "delinquency_runs": "delinquency",
    # arrangements: pay links, payment plans, extensions, promises, settlements
    "arrangements": "arrangements",
    "arrangement_instalments": "arrangements",
    "bill_adjustments": "arrangements",
    "payment_intents": "arrangements",
    "pay_link_revocations": "arrangements",
    "one_time_codes": "arrangements",
    # autopay: the debtors' mandates at the wallet and the collections asked under them
    "autopay_mandates": "autopay",
    "autopay_collections": "autopay",
    # audit: the hash-chained ledger, checkpoints, the data-access log
    "audit_events": "audit",
    "audit_head": "audit",
    "audit_checkpoints": "audit",
    "data_access_log": "audit",
    # assistant: the conversations with debtors and their turns
    "conversations": "assistant",
    "conversation_turns": "assistant",
    # cases: disputes, complaints, hardship and vulnerability
    "cases": "cases",
    "survey_responses": "cases",  # the debtor's answers after repaying: their voice, like a case
    # education: the learning centre's articles, their versions and their (anonymous) reads
    "articles": "education",
    "article_versions": "education",
    "article_reads": "education",
    # contact: templates, the outbox, decision records, opt-outs, inbound replies
    "contact_plans": "contact",
    "contact_events": "contact",
    "contact_messages": "contact",
    "contact_preferences": "contact",
    "provider_pacing": "contact",
    "opt_outs": "contact",
    "inbound_messages": "contact",
    "template_versions": "contact",
    # agents: the agents' queues
    # risk: the models' registry, the daily scores, drift
    "risk_models": "risk",
    "account_scores": "risk",
    "risk_drift": "risk",
    "agent_tasks": "agents",
    "agent_task_events": "agents",
    "account_notes": "agents",
    # daily: the record of each business day's run
    "daily_runs": "daily",
    # identity: staff users, sessions, API keys
    "staff_users": "identity",
    "staff_sessions": "identity",
    "api_keys": "identity",
    "staff_proposals": "identity",
    "staff_password_codes": "identity",
    # http: request plumbing: idempotency keys, signed webhook deliveries already seen
    "idempotency_records": "http",
    "webhook_receipts": "http",
    # keys: data keys for field encryption
    "encryption_keys": "keys",
    # privacy: consents and erasure requests
    "consents": "privacy",
    "erasure_requests": "privacy",
    # quality: QA samples of sent messages and placed calls, and their reviews
    "qa_samples": "quality",
    "qa_reviews": "quality",
    # strategy: policies and the decisions made with them
    "policy_versions": "strategy",
    "strategy_decisions": "strategy",
    "learning_arms": "strategy",
}

# Writes outside the owner's repository, as (module, table): none is left, and a new one fails the
# test. Were one ever allowed for a while, it would be listed here, and the list may only shrink
# (a pair that no longer occurs fails the test until it is taken out); the ledger's tables never.
KNOWN_VIOLATIONS: set[tuple[str, str]] = set()

TABLE_OF_CLASS = {m.class_.__name__: m.local_table.name for m in Model.registry.mappers}  # type: ignore[attr-defined]

FRAME_WRITES = {"insert_frame", "update_frame", "upsert_frame"}
ROW_WRITES = {"insert_rows", "update_rows", "upsert_rows"}
STATEMENTS = {"insert", "update", "delete"}
SESSION_WRITES = {"add", "add_all", "merge", "delete"}


def _tables(node: ast.AST | None, names: dict[str, set[str]]) -> set[str]:
    """The tables an expression stands for (a model, its `__table__`, an instance, a collection
    of them, or a name bound to one of those)."""
    match node:
        case ast.Name(id=name) if name in TABLE_OF_CLASS:
            return {TABLE_OF_CLASS[name]}
        case ast.Name(id=name):
            return names.get(name, set())
        case ast.Attribute(value=value, attr="__table__"):
            return _tables(value, names)
        case ast.Call(func=func, args=args):
            found = _tables(func, names)  # a constructor: Bill(...)
            if found:
                return found
            # a helper handed a model: _table(AgentTask), cast(Table, Bill.__table__)
            return set().union(*(_tables(a, names) for a in args if not isinstance(a, ast.Call)))
        case ast.List(elts=elts) | ast.Tuple(elts=elts) | ast.Set(elts=elts):
            return set().union(*(_tables(e, names) for e in elts))
        case ast.ListComp(elt=elt) | ast.GeneratorExp(elt=elt) | ast.SetComp(elt=elt):
            return _tables(elt, names)
        case ast.Starred(value=value):
            return _tables(value, names)
        case ast.BoolOp(values=values):  # repo.run_for(day) or DelinquencyRun(...)
            return set().union(*(_tables(v, names) for v in values))
        case ast.IfExp(body=body, orelse=orelse):
            return _tables(body, names) | _tables(orelse, names)
    return set()


def _annotated(annotation: ast.AST | None) -> set[str]:
    """The tables a type annotation names: `Bill`, `list[AuditEvent]`, `Case | None`."""
    if annotation is None:
        return set()
    return {
        TABLE_OF_CLASS[n.id]
        for n in ast.walk(annotation)
        if isinstance(n, ast.Name) and n.id in TABLE_OF_CLASS
    }


def _bindings(scope: ast.AST, outer: dict[str, set[str]]) -> dict[str, set[str]]:
    """Names the scope binds to models, tables or model instances (every binding counts)."""
    names = {k: set(v) for k, v in outer.items()}
    for _ in range(2):  # a name bound from another bound name, in either order
        for node in ast.walk(scope):
            match node:
                case ast.arg(arg=name, annotation=annotation):  # bill: Bill
                    names.setdefault(name, set()).update(_annotated(annotation))
                case ast.AnnAssign(target=ast.Name(id=name), annotation=annotation, value=value):
                    names.setdefault(name, set()).update(
                        _annotated(annotation) | _tables(value, names)
                    )
                case ast.Assign(targets=[ast.Name(id=name)], value=value):
                    names.setdefault(name, set()).update(_tables(value, names))
                case ast.Call(
                    func=ast.Attribute(value=ast.Name(id=name), attr="append" | "extend"),
                    args=[item],
                ):  # events.append(event)
                    names.setdefault(name, set()).update(_tables(item, names))
                case (
                    ast.For(target=ast.Name(id=name), iter=it)
                    | ast.comprehension(target=ast.Name(id=name), iter=it)
                ):
                    names.setdefault(name, set()).update(_tables(it, names))
    return names


def _written(call: ast.Call, names: dict[str, set[str]]) -> set[str]:
    func = call.func
    attr = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
    if attr in FRAME_WRITES | ROW_WRITES:
        return set().union(*(_tables(a, names) for a in call.args[1:2]))
    if attr in STATEMENTS and call.args:  # insert(Bill), update(c), delete(model)
        return _tables(call.args[0], names)
    if attr in STATEMENTS and isinstance(func, ast.Attribute):  # Bill.__table__.insert()
        return _tables(func.value, names)
    if attr in SESSION_WRITES and isinstance(func, ast.Attribute) and call.args:
        return _tables(call.args[0], names)
    return set()


def writes(path: Path) -> Iterator[tuple[int, str]]:
    """(line, table) of each write the module makes."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    module_names = _bindings(
        ast.Module(
            body=[
                s
                for s in tree.body
                if not isinstance(s, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef)
            ],
            type_ignores=[],
        ),
        {},
    )
    scopes: list[ast.AST] = [
        n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef)
    ]
    seen: set[int] = set()
    for scope in scopes:
        names = _bindings(scope, module_names)
        for node in ast.walk(scope):
            if isinstance(node, ast.Call) and id(node) not in seen:
                seen.add(id(node))
                for table in _written(node, names):
                    yield node.lineno, table
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and id(node) not in seen:
            for table in _written(node, module_names):
                yield node.lineno, table


def module_name(path: Path) -> str:
    parts = path.relative_to(SRC.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def in_repository(module: str, owner: str) -> bool:
    return module == f"recoup.{owner}.repository" or module.startswith(
        f"recoup.{owner}.repository."
    )


def violations() -> dict[tuple[str, str], list[int]]:
    """(module, table) of every write outside the table owner's repository, with its lines."""
    found: dict[tuple[str, str], list[int]] = {}
    for path in sorted(SRC.rglob("*.py")):
        if "migrations" in path.parts:
            continue  # Alembic revisions change the schema and backfill, by design
        module = module_name(path)
        for line, table in writes(path):
            if not in_repository(module, OWNERS[table]):
                found.setdefault((module, table), []).append(line)
    return found


class TestOwners:
    def test_every_table_has_one_owner(self) -> None:
        assert set(OWNERS) == set(Model.metadata.tables)

    def test_each_owner_is_a_package(self) -> None:
        missing = {o for o in OWNERS.values() if not (SRC / o).is_dir()}
        assert missing == set()


class TestWrites:
    def test_the_detector_finds_the_writes_it_claims_to(self, tmp_path: Path) -> None:
        source = tmp_path / "sample.py"
        source.write_text(
            "def f(session, ids):\n"
            "    session.add(Bill(account_id=1))\n"
            "    payment = Payment(account_id=1)\n"
            "    session.add(payment)\n"
            "    session.add_all([CustomerPhone(position=i) for i in ids])\n"
            "    c = Account\n"
            "    session.execute(update(c).values(status='closed'))\n"
            "    for model in (CustomerEmail, CustomerAddress):\n"
            "        session.execute(delete(model))\n"
            "    frames.insert_frame(session, Allocation.__table__, frame)\n"
            "    bulk.insert_rows(session, _table(Customer), rows)\n"
            "    session.execute(Product.__table__.insert(), rows)\n"
            "    bill.principal_minor = 0  # not seen: attribute mutation\n"
            "    seen.add(account_id)  # not a write\n"
            "    events = []\n"
            "    events.append(AuditEvent(seq=1))\n"
            "    session.add_all(events)\n"
            "def g(session, case: Case | None):\n"
            "    session.add(case)\n",
            encoding="utf-8",
        )
        assert sorted(writes(source)) == [
            (2, "bills"),
            (4, "payments"),
            (5, "customer_phones"),
            (7, "accounts"),
            (9, "customer_addresses"),
            (9, "customer_emails"),
            (10, "allocations"),
            (11, "customers"),
            (12, "products"),
            (17, "audit_events"),
            (19, "cases"),
        ]

    def test_the_ledger_tables_are_written_only_by_the_ledger_repository(self) -> None:
        ledger = {t for t, owner in OWNERS.items() if owner == "ledger"}
        outside = {
            f"{module} writes {table} (lines {lines})"
            for (module, table), lines in violations().items()
            if table in ledger
        }
        assert outside == set()
        assert not {t for _, t in KNOWN_VIOLATIONS} & ledger

    def test_other_tables_are_written_outside_their_owner_only_where_known(self) -> None:
        found = set(violations())
        assert found - KNOWN_VIOLATIONS == set(), "new writes outside the owner's repository"
        assert KNOWN_VIOLATIONS - found == set(), "fixed: take these out of KNOWN_VIOLATIONS"


# Attribute changes on loaded rows (`bill.principal_minor -= x`, `setattr(bill, ...)`): the unit of
# work writes them at the next flush, so they are writes too. Seen where the row's model is
# visible in the function: a parameter or variable annotated with it (`bill: Bill`,
# `unpaid: list[tuple[Bill, dict[str, int]]]`), a loop over such a name (`for bill, left in
# unpaid`), a constructor (`bill = Bill(...)`) or `session.get(Customer, ...)`. Not seen: rows that
# come back from a call (`for bill in repo.bills(...)`) or through an attribute.


def _rows(scope: ast.AST) -> dict[str, set[str]]:
    names: dict[str, set[str]] = {}
    for _ in range(2):  # a loop over a name bound later in the walk
        for node in ast.walk(scope):
            match node:
                case ast.arg(arg=name, annotation=annotation):
                    names.setdefault(name, set()).update(_annotated(annotation))
                case ast.AnnAssign(target=ast.Name(id=name), annotation=annotation):
                    names.setdefault(name, set()).update(_annotated(annotation))
                case ast.Assign(
                    targets=[ast.Name(id=name)],
                    value=ast.Call(func=ast.Name(id=model))
                    | ast.Call(func=ast.Attribute(attr="get"), args=[ast.Name(id=model), *_]),
                ) if model in TABLE_OF_CLASS:
                    names.setdefault(name, set()).add(TABLE_OF_CLASS[model])
                case (
                    ast.For(target=target, iter=ast.Name(id=it))
                    | ast.comprehension(target=target, iter=ast.Name(id=it))
                ):
                    for e in target.elts if isinstance(target, ast.Tuple) else [target]:
                        if isinstance(e, ast.Name):
                            names.setdefault(e.id, set()).update(names.get(it, set()))
    return names


def attribute_writes(source: str) -> Iterator[tuple[int, str]]:
    """(line, table) of each attribute set on a row whose model the function shows."""
    tree = ast.parse(source)
    for scope in ast.walk(tree):
        if not isinstance(scope, ast.FunctionDef | ast.AsyncFunctionDef):
            continue
        names = _rows(scope)
        for node in ast.walk(scope):
            targets: list[ast.expr] = []
            if isinstance(node, ast.Assign):
                targets = node.targets
            elif isinstance(node, ast.AugAssign):
                targets = [node.target]
            for target in targets:
                for e in target.elts if isinstance(target, ast.Tuple) else [target]:
                    if isinstance(e, ast.Attribute) and isinstance(e.value, ast.Name):
                        for table in names.get(e.value.id, set()):
                            yield node.lineno, table
            match node:
                case ast.Call(func=ast.Name(id="setattr"), args=[ast.Name(id=name), *_]):
                    for table in names.get(name, set()):
                        yield node.lineno, table


class TestAttributeWrites:
    def test_the_detector_finds_the_attribute_writes_it_claims_to(self) -> None:
        source = (
            "def f(session, unpaid: list[tuple[Bill, dict[str, int]]], case: Case | None):\n"
            "    for bill, left in unpaid:\n"
            "        setattr(bill, 'fees_minor', 0)\n"  # 3
            "    customer = session.get(Customer, 1)\n"
            "    customer.preferred_language = 'en'\n"  # 5
            "    case.status, case.resolution = 'resolved', 'ok'\n"  # 6
            "    out = schemas.Payment.model_validate(left)\n"
            "    out.allocations = []\n"  # a schema, not a row
            "    for row in repo.bills(session):\n"
            "        row.paid_minor = 0\n"  # not seen: the row came back from a call
        )
        assert sorted(set(attribute_writes(source))) == [
            (3, "bills"),
            (5, "customers"),
            (6, "cases"),
        ]

    def test_no_package_changes_another_owners_rows(self) -> None:
        """Arrangements take bill components off through `ledger.service.take_off`, and contact
        sets a debtor's language through `ledger.service.set_language`: putting back
        `setattr(bill, ...)` in `arrangements/effects.py` `reschedule`, or
        `customer.preferred_language = language` after `session.get(Customer, ...)` in
        `contact/flows.py`, fails this test."""
        found = set()
        for path in sorted(SRC.rglob("*.py")):
            if "migrations" in path.parts:
                continue
            module = module_name(path)
            for line, table in attribute_writes(path.read_text(encoding="utf-8")):
                if not module.startswith(f"recoup.{OWNERS[table]}."):
                    found.add(f"{module}:{line} changes a row of {table}")
        assert found == set()
