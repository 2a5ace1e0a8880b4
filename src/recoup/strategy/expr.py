"""The policy expression language: conditions and priorities, parsed (never `eval`ed), type-checked
against the account facts, and compiled to Polars expressions.

    dpd between 31 and 60 and overdue_minor >= 50000 and product in ["bnpl", "micro_loan"]
    not promise_pending and (payments_30d == 0 or broken_promises >= 2)
    overdue_minor * p_pay / max(agent_minutes, 1)

Operators, loosest first: `or`; `and`; `not`; comparisons (`== != < <= > >=`, `in [...]`,
`not in [...]`, `between A and B`, inclusive); `+ -`; `* / %`; unary `-`. Literals: numbers,
"strings" or 'strings', true, false, null, and lists for `in`. Functions: min, max, abs, round
(to a whole number), coalesce. A comparison with a missing value (null) is false; `coalesce(x, 0)` supplies a default.

Errors name the source (the policy file), line and column, and for an unknown field list the fields
that exist, with the closest one first.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import polars as pl

NUMBER, STRING, BOOL, LIST, NULL = "number", "string", "bool", "list", "null"
FIELD_TYPES = {"int": NUMBER, "float": NUMBER, "str": STRING, "bool": BOOL}


class ExprError(ValueError):
    def __init__(self, message: str, *, source: str, line: int, column: int) -> None:
        super().__init__(f"{source}:{line}:{column}: {message}")
        self.message, self.source, self.line, self.column = message, source, line, column


@dataclass(frozen=True)
class Token:
    kind: str  # number, string, name, op, end
    text: str
    offset: int


_TOKEN = re.compile(
    r"""\s*(?:
      (?P<number>\d+(?:\.\d+)?(?:_\d+)*)
    | (?P<string>"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*')
    | (?P<name>[A-Za-z_][A-Za-z0-9_]*)
    | (?P<op>==|!=|<=|>=|<|>|\+|-|\*|/|%|\(|\)|\[|\]|,)
    )""",
    re.VERBOSE,
)
_KEYWORDS = {"and", "or", "not", "in", "between", "true", "false", "null"}
_FUNCTIONS = {
    "min": (1, None),
    "max": (1, None),
    "abs": (1, 1),
    "round": (1, 1),
    "coalesce": (2, None),
}


@dataclass(frozen=True)
class Compiled:
    expr: pl.Expr
    type: str
    fields: frozenset[str]


# Far past any condition a policy needs (the shipped ones are under 100 characters and nest 2
# deep); the parser descends recursively, so nesting is bounded before the stack is.
MAX_EXPRESSION_CHARS = 2_000
MAX_NESTING = 32


class Parser:
    def __init__(
        self,
        text: str,
        fields: Mapping[str, str],
        *,
        source: str = "<expression>",
        line: int = 1,
        column: int = 1,
    ) -> None:
        self.text, self.fields, self.source = text, fields, source
        self.base_line, self.base_column = line, column
        if len(text) > MAX_EXPRESSION_CHARS:
            raise self.error(f"an expression is at most {MAX_EXPRESSION_CHARS:,} characters", 0)
        self.tokens = self._tokenize()
        self.i = 0
        self.depth = 0
        self.used: set[str] = set()

    def _enter(self) -> None:
        """One level deeper (parentheses, a call, `not`, unary minus), refused past the bound."""
        self.depth += 1
        if self.depth > MAX_NESTING:
            raise self.error(f"nested deeper than {MAX_NESTING} levels", self.tok.offset)

    # -- errors and positions -------------------------------------------------------------------

    def error(self, message: str, offset: int) -> ExprError:
        before = self.text[:offset]
        line = before.count("\n")
        column = offset - (before.rfind("\n") + 1) + 1
        return ExprError(
            message,
            source=self.source,
            line=self.base_line + line,
            column=(self.base_column if line == 0 else 1) + column - 1,
        )

    def _tokenize(self) -> list[Token]:
        tokens, pos = [], 0
        while pos < len(self.text):
            if self.text[pos:].strip() == "":
                break
            m = _TOKEN.match(self.text, pos)
            if m is None or m.end() == pos:
                start = len(self.text[pos:]) - len(self.text[pos:].lstrip()) + pos
                raise self.error(f"unexpected character {self.text[start]!r}", start)
            kind = m.lastgroup or "op"
            tokens.append(Token(kind, m.group(kind), m.start(kind)))
            pos = m.end()
        tokens.append(Token("end", "", len(self.text)))
        return tokens

    # -- grammar --------------------------------------------------------------------------------

    @property
    def tok(self) -> Token:
        return self.tokens[self.i]

    def take(self, text: str | None = None) -> Token:
        t = self.tok
        if text is not None and t.text != text:
            shown = repr(t.text) if t.text else "the end"
            raise self.error(f"expected {text!r}, found {shown}", t.offset)
        self.i += 1
        return t

    def at(self, *texts: str) -> bool:
        return self.tok.kind in ("op", "name") and self.tok.text in texts

    def parse(self) -> Compiled:
        if self.tok.kind == "end":
            raise self.error("empty expression", 0)
        node = self.or_()
        if self.tok.kind != "end":
            raise self.error(f"unexpected {self.tok.text!r}", self.tok.offset)
        return Compiled(node[0], node[1], frozenset(self.used))

    def or_(self) -> tuple[pl.Expr, str]:
        self._enter()
        try:
            return self._or()
        finally:
            self.depth -= 1

    def _or(self) -> tuple[pl.Expr, str]:
        left = self.and_()
        while self.at("or"):
            t = self.take()
            right = self.and_()
            self._need(left, BOOL, "or", t)
            self._need(right, BOOL, "or", t)
            left = (left[0] | right[0], BOOL)
        return left

    def and_(self) -> tuple[pl.Expr, str]:
        left = self.not_()
        while self.at("and"):
            t = self.take()
            right = self.not_()
            self._need(left, BOOL, "and", t)
            self._need(right, BOOL, "and", t)
            left = (left[0] & right[0], BOOL)
        return left

    def not_(self) -> tuple[pl.Expr, str]:
        if self.at("not"):
            t = self.take()
            self._enter()
            try:
                operand = self.not_()
            finally:
                self.depth -= 1
            self._need(operand, BOOL, "not", t)
            return (~operand[0], BOOL)
        return self.comparison()

    def comparison(self) -> tuple[pl.Expr, str]:
        left = self.sum_()
        t = self.tok
        if self.at("==", "!=", "<", "<=", ">", ">="):
            op = self.take().text
            right = self.sum_()
            self._comparable(left, right, op, t)
            ops = {
                "==": pl.Expr.__eq__,
                "!=": pl.Expr.__ne__,
                "<": pl.Expr.__lt__,
                "<=": pl.Expr.__le__,
                ">": pl.Expr.__gt__,
                ">=": pl.Expr.__ge__,
            }
            return (ops[op](left[0], right[0]), BOOL)
        if self.at("in") or (self.at("not") and self.tokens[self.i + 1].text == "in"):
            negate = self.at("not")
            if negate:
                self.take()
            self.take("in")
            values = self.list_literal()
            for v in values:
                if left[1] != NULL and _type_of(v) not in (left[1], NULL):
                    raise self.error(
                        f"'in' compares a {left[1]} with a list holding {_type_of(v)} values",
                        t.offset,
                    )
            test = left[0].is_in(values)
            return ((~test if negate else test), BOOL)
        if self.at("between"):
            self.take()
            low = self.sum_()
            self.take("and")
            high = self.sum_()
            for bound in (low, high):
                self._comparable(left, bound, "between", t)
            return (left[0].is_between(low[0], high[0], closed="both"), BOOL)
        return left

    def sum_(self) -> tuple[pl.Expr, str]:
        left = self.term()
        while self.at("+", "-"):
            t = self.take()
            right = self.term()
            self._need(left, NUMBER, t.text, t)
            self._need(right, NUMBER, t.text, t)
            left = ((left[0] + right[0]) if t.text == "+" else (left[0] - right[0]), NUMBER)
        return left

    def term(self) -> tuple[pl.Expr, str]:
        left = self.unary()
        while self.at("*", "/", "%"):
            t = self.take()
            right = self.unary()
            self._need(left, NUMBER, t.text, t)
            self._need(right, NUMBER, t.text, t)
            if t.text == "*":
                left = (left[0] * right[0], NUMBER)
            elif t.text == "/":
                left = (left[0] / right[0], NUMBER)
            else:
                left = (left[0] % right[0], NUMBER)
        return left

    def unary(self) -> tuple[pl.Expr, str]:
        if self.at("-"):
            t = self.take()
            self._enter()
            try:
                operand = self.unary()
            finally:
                self.depth -= 1
            self._need(operand, NUMBER, "-", t)
            return (-operand[0], NUMBER)
        return self.atom()

    def atom(self) -> tuple[pl.Expr, str]:
        t = self.tok
        if t.kind == "number":
            self.take()
            value = (
                float(t.text.replace("_", "")) if "." in t.text else int(t.text.replace("_", ""))
            )
            return (pl.lit(value), NUMBER)
        if t.kind == "string":
            self.take()
            return (pl.lit(_unquote(t.text), dtype=pl.String), STRING)
        if t.text == "(" and t.kind == "op":
            self.take()
            inner = self.or_()
            self.take(")")
            return inner
        if t.text == "[":
            raise self.error("a list can only follow 'in'", t.offset)
        if t.kind == "name":
            if t.text in ("true", "false"):
                self.take()
                return (pl.lit(t.text == "true"), BOOL)
            if t.text == "null":
                self.take()
                return (pl.lit(None), NULL)
            if t.text in _KEYWORDS:
                raise self.error(f"{t.text!r} cannot start a value", t.offset)
            self.take()
            if self.at("("):
                return self.call(t)
            return self.field(t)
        shown = repr(t.text) if t.text else "the end"
        raise self.error(f"expected a value, found {shown}", t.offset)

    def field(self, t: Token) -> tuple[pl.Expr, str]:
        kind = self.fields.get(t.text)
        if kind is None:
            known = sorted(self.fields)
            close = difflib.get_close_matches(t.text, known, n=1)
            hint = f"did you mean {close[0]!r}? " if close else ""
            raise self.error(
                f"unknown field {t.text!r}; {hint}fields are: {', '.join(known)}", t.offset
            )
        self.used.add(t.text)
        return (pl.col(t.text), FIELD_TYPES.get(kind, kind))

    def call(self, t: Token) -> tuple[pl.Expr, str]:
        if t.text not in _FUNCTIONS:
            raise self.error(
                f"unknown function {t.text!r}; functions are: {', '.join(sorted(_FUNCTIONS))}",
                t.offset,
            )
        self.take("(")
        args: list[tuple[pl.Expr, str]] = []
        if not self.at(")"):
            args.append(self.or_())
            while self.at(","):
                self.take()
                args.append(self.or_())
        self.take(")")
        low, high = _FUNCTIONS[t.text]
        if len(args) < low or (high is not None and len(args) > high):
            expected = (
                f"{low}"
                if low == high
                else f"{low} or more"
                if high is None
                else f"{low} to {high}"
            )
            raise self.error(f"{t.text}() takes {expected} arguments, got {len(args)}", t.offset)
        if t.text == "coalesce":
            kinds = {k for _, k in args if k != NULL}
            if len(kinds) > 1:
                raise self.error(f"coalesce() mixes {' and '.join(sorted(kinds))}", t.offset)
            return (pl.coalesce([a for a, _ in args]), kinds.pop() if kinds else NULL)
        for arg in args:
            self._need(arg, NUMBER, f"{t.text}()", t)
        exprs = [a for a, _ in args]
        if t.text == "min":
            return (pl.min_horizontal(exprs), NUMBER)
        if t.text == "max":
            return (pl.max_horizontal(exprs), NUMBER)
        if t.text == "abs":
            return (exprs[0].abs(), NUMBER)
        return (exprs[0].round(0), NUMBER)

    def list_literal(self) -> list[Any]:
        self.take("[")
        values: list[Any] = []
        while not self.at("]"):
            t = self.tok
            negative = False
            if self.at("-"):
                self.take()
                negative = True
                t = self.tok
            if t.kind == "number":
                value: Any = float(t.text) if "." in t.text else int(t.text.replace("_", ""))
                values.append(-value if negative else value)
            elif t.kind == "string" and not negative:
                values.append(_unquote(t.text))
            elif t.text in ("true", "false") and not negative:
                values.append(t.text == "true")
            else:
                raise self.error("a list holds numbers, strings or booleans", t.offset)
            self.take()
            if not self.at("]"):
                self.take(",")
        self.take("]")
        if not values:
            raise self.error("an empty list matches nothing", self.tokens[self.i - 1].offset)
        return values

    # -- types ------------------------------------------------------------------------------------

    def _need(self, operand: tuple[pl.Expr, str], kind: str, op: str, t: Token) -> None:
        if operand[1] not in (kind, NULL):
            raise self.error(f"{op!r} needs {_a(kind)}, not {_a(operand[1])}", t.offset)

    def _comparable(
        self, left: tuple[pl.Expr, str], right: tuple[pl.Expr, str], op: str, t: Token
    ) -> None:
        if NULL in (left[1], right[1]):
            raise self.error(
                f"{op!r} with null is never true; use coalesce() to supply a default", t.offset
            )
        if left[1] != right[1]:
            raise self.error(f"{op!r} compares {_a(left[1])} with {_a(right[1])}", t.offset)
        if op not in ("==", "!=") and left[1] == BOOL:
            raise self.error(f"{op!r} does not order true and false", t.offset)


def _a(kind: str) -> str:
    return {"number": "a number", "string": "a string", "bool": "a condition", "null": "null"}.get(
        kind, kind
    )


def _type_of(value: Any) -> str:
    if isinstance(value, bool):
        return BOOL
    if isinstance(value, int | float):
        return NUMBER
    return STRING


def _unquote(text: str) -> str:
    return re.sub(r"\\(.)", r"\1", text[1:-1])


def compile_expression(
    text: str,
    fields: Mapping[str, str],
    *,
    source: str = "<expression>",
    line: int = 1,
    column: int = 1,
) -> Compiled:
    return Parser(text, fields, source=source, line=line, column=column).parse()


def condition(
    text: str | bool,
    fields: Mapping[str, str],
    *,
    source: str = "<expression>",
    line: int = 1,
    column: int = 1,
) -> pl.Expr:
    """A filter: a condition whose missing values count as false."""
    if isinstance(text, bool):
        return pl.lit(text)
    compiled = compile_expression(text, fields, source=source, line=line, column=column)
    if compiled.type != BOOL:
        raise ExprError(
            f"a condition must be true or false, but this is {_a(compiled.type)}",
            source=source,
            line=line,
            column=column,
        )
    return compiled.expr.fill_null(False)


def number(
    text: str | int | float,
    fields: Mapping[str, str],
    *,
    source: str = "<expression>",
    line: int = 1,
    column: int = 1,
) -> pl.Expr:
    if isinstance(text, int | float):
        return pl.lit(text)
    compiled = compile_expression(text, fields, source=source, line=line, column=column)
    if compiled.type != NUMBER:
        raise ExprError(
            f"a priority must be a number, but this is {_a(compiled.type)}",
            source=source,
            line=line,
            column=column,
        )
    return compiled.expr


def evaluate(
    expr: pl.Expr, rows: Sequence[Mapping[str, Any]], schema: Mapping[str, pl.DataType]
) -> list[Any]:
    """Evaluate on plain rows (tests, tools): the same Polars expression over a small frame."""
    frame = pl.DataFrame(list(rows), schema=dict(schema))
    return frame.select(expr.alias("v"))["v"].to_list()
