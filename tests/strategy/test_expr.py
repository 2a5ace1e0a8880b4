"""The policy expression language: what it computes, and the errors a manager sees."""

from __future__ import annotations

import polars as pl
import pytest

from recoup.strategy.expr import ExprError, compile_expression, condition, evaluate, number

pytestmark = pytest.mark.pure
FIELDS = {
    "dpd": "int",
    "overdue_minor": "int",
    "p_pay": "float",
    "product": "str",
    "promise_pending": "bool",
    "payments_30d": "int",
    "agent_minutes": "int",
}
SCHEMA = {
    "dpd": pl.Int64,
    "overdue_minor": pl.Int64,
    "p_pay": pl.Float64,
    "product": pl.String,
    "promise_pending": pl.Boolean,
    "payments_30d": pl.Int64,
    "agent_minutes": pl.Int64,
}
ROWS = [
    {
        "dpd": 35,
        "overdue_minor": 80_000,
        "p_pay": 0.5,
        "product": "bnpl",
        "promise_pending": False,
        "payments_30d": 0,
        "agent_minutes": 4,
    },
    {
        "dpd": 5,
        "overdue_minor": 1_000,
        "p_pay": None,
        "product": "credit_line",
        "promise_pending": True,
        "payments_30d": 2,
        "agent_minutes": 0,
    },
    {
        "dpd": 61,
        "overdue_minor": 50_000,
        "p_pay": 0.1,
        "product": "micro_loan",
        "promise_pending": None,
        "payments_30d": None,
        "agent_minutes": 10,
    },
]


def check(text: str) -> list[object]:
    return evaluate(condition(text, FIELDS), ROWS, SCHEMA)


class TestMeaning:
    def test_conditions(self) -> None:
        assert check("dpd between 31 and 60") == [True, False, False]
        assert check('product in ["bnpl", "micro_loan"]') == [True, False, True]
        assert check('product not in ["bnpl"]') == [False, True, True]
        assert check("dpd > 30 and overdue_minor >= 50_000") == [True, False, True]
        assert check("not promise_pending and (payments_30d == 0 or dpd > 60)") == [
            True,
            False,
            False,
        ]

    def test_missing_values_make_a_condition_false_unless_defaulted(self) -> None:
        assert check("payments_30d == 0") == [True, False, False]
        assert check("coalesce(payments_30d, 0) == 0") == [True, False, True]
        assert check("p_pay > 0.2") == [True, False, False]

    def test_priorities_are_arithmetic(self) -> None:
        value = number("overdue_minor * p_pay / max(agent_minutes, 1)", FIELDS)
        assert evaluate(value, ROWS, SCHEMA) == [10_000.0, None, 500.0]
        assert evaluate(number("-dpd + abs(-3) % 2", FIELDS), ROWS, SCHEMA) == [-34, -4, -60]
        assert evaluate(number("round(p_pay * 10)", FIELDS), ROWS, SCHEMA) == [5.0, None, 1.0]

    def test_the_fields_an_expression_reads_are_known(self) -> None:
        compiled = compile_expression("dpd > 3 and product == 'bnpl'", FIELDS)
        assert compiled.fields == {"dpd", "product"}


class TestErrors:
    @pytest.mark.parametrize(
        ("text", "message", "column"),
        [
            ("dpdd > 30", "unknown field 'dpdd'; did you mean 'dpd'? fields are: agent_minutes", 1),
            ("dpd > 30 and", "expected a value, found the end", 13),
            ("dpd > 'thirty'", "'>' compares a number with a string", 5),
            ("dpd and product", "'and' needs a condition, not a number", 5),
            ("product in [1, 2]", "'in' compares a string with a list holding number values", 9),
            ("dpd == null", "'==' with null is never true; use coalesce()", 5),
            ("dpd > 3)", "unexpected ')'", 8),
            (
                "eval(dpd)",
                "unknown function 'eval'; functions are: abs, coalesce, max, min, round",
                1,
            ),
            ("dpd > 3 ; drop", "unexpected character ';'", 9),
            ("max()", "max() takes 1 or more arguments, got 0", 1),
            ("dpd in []", "an empty list matches nothing", 9),
        ],
    )
    def test_errors_say_what_and_where(self, text: str, message: str, column: int) -> None:
        with pytest.raises(ExprError) as caught:
            condition(text, FIELDS, source="policy.yaml", line=12, column=5)
        assert message in caught.value.message
        assert caught.value.line == 12
        assert caught.value.column == 5 + column - 1
        assert str(caught.value).startswith(f"policy.yaml:12:{5 + column - 1}: ")

    def test_a_condition_must_be_a_condition_and_a_priority_a_number(self) -> None:
        with pytest.raises(ExprError, match="must be true or false"):
            condition("dpd + 1", FIELDS)
        with pytest.raises(ExprError, match="must be a number"):
            number("dpd > 1", FIELDS)

    def test_multi_line_expressions_report_the_right_line(self) -> None:
        with pytest.raises(ExprError) as caught:
            condition("dpd > 30\n  and bogus", FIELDS, source="p.yaml", line=4, column=11)
        assert (caught.value.line, caught.value.column) == (5, 7)
