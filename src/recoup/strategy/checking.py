"""A policy's text checked as an editor needs it: the first problem at its line and column.

`parse_policy` finds the problem (a YAML syntax error at the parser's mark, a key or value the
policy does not accept, an expression that does not compile); a problem that names a path down the
YAML (`stages[1].treatments[0].channel`) but no position is placed by walking the composed YAML
nodes, which keep their marks, to the node at fault (its key when the key itself is the fault, e.g.
an unknown one; the nearest node that exists when a required one is missing). Pure: no database.
"""

from __future__ import annotations

from dataclasses import dataclass

import yaml

from recoup.strategy.policy import Policy, PolicyError, parse_policy

# A policy is a few kilobytes (the shipped ones are under 10 KB); the editor takes up to this.
MAX_POLICY_CHARS = 200_000


@dataclass(frozen=True)
class Problem:
    line: int  # 1-based
    column: int  # 1-based
    path: str  # e.g. "stages[1].treatments[0].channel"; "" for the whole text
    message: str


@dataclass(frozen=True)
class Checked:
    policy: Policy | None
    problem: Problem | None


def check(text: str, *, source: str = "policy") -> Checked:
    """The policy compiled, or the first problem with its position."""
    if len(text) > MAX_POLICY_CHARS:
        return Checked(
            None, Problem(1, 1, "", f"the policy is longer than {MAX_POLICY_CHARS:,} characters")
        )
    if "\x00" in text:
        return Checked(None, Problem(1, 1, "", "the policy holds a NUL character"))
    try:
        return Checked(parse_policy(text, source=source), None)
    except PolicyError as exc:
        return Checked(None, problem_of(text, exc))


def problem_of(text: str, exc: PolicyError) -> Problem:
    path = dotted(exc.path)
    if exc.line is not None:
        return Problem(exc.line, exc.column or 1, path, exc.problem)
    line, column = locate(text, exc.path, at_key=exc.at_key)
    return Problem(line, column, path, exc.problem)


def dotted(path: tuple[str | int, ...]) -> str:
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else part)
    return out


def locate(text: str, path: tuple[str | int, ...], *, at_key: bool = False) -> tuple[int, int]:
    """The 1-based line and column of the node `path` names (or of its key), or of the deepest
    node on the way that exists."""
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError:
        return 1, 1
    if node is None:
        return 1, 1
    mark = node.start_mark
    for n, part in enumerate(path):
        last = n == len(path) - 1
        if isinstance(node, yaml.MappingNode) and isinstance(part, str):
            pair = next((kv for kv in node.value if getattr(kv[0], "value", None) == part), None)
            if pair is None:
                break
            key, value = pair
            if last and at_key:
                mark = key.start_mark
                break
            node = value
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int):
            if not 0 <= part < len(node.value):
                break
            node = node.value[part]
        else:
            break
        mark = node.start_mark
    return mark.line + 1, mark.column + 1
