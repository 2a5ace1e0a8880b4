"""Reason words in the three languages, for every feature, and the fallback for unknown columns."""

from __future__ import annotations

import math

import pytest

from recoup.risk import features, reasons

pytestmark = pytest.mark.pure


class TestWords:
    def test_broken_promises_in_both_languages(self) -> None:
        assert reasons.words("promises_broken_60d", 2.0, "en") == "2 broken promises in 60 days"
        assert reasons.words("promises_broken_60d", 2.0, "zh-CN") == "60天内2次未兑现还款承诺"

    def test_shares_amounts_and_flags_read_as_people_say_them(self) -> None:
        assert reasons.words("on_time_ratio_180d", 0.25, "en").startswith("25%")
        amount = math.log1p(123_456)  # 1,234.56 in minor units
        assert reasons.words("overdue_log", amount, "en") == "1,234.56 overdue"
        assert reasons.words("overdue_log", amount, "zh-CN") == "逾期金额1,234.56"
        assert reasons.words("hardship_open", 1.0, "zh-CN") == "已申报经济困难：是"
        assert reasons.words("bucket", "M2", "en") == "in bucket M2"

    def test_every_feature_has_words_in_both_languages(self) -> None:
        # The catalogue is what makes a feature explainable: a feature added without words
        # would fall back to "code = value" on the debtor's page.
        assert set(features.FEATURES) <= set(reasons.WORDS)
        for code in features.FEATURES:
            en = reasons.words(code, 1.0, "en")
            zh = reasons.words(code, 1.0, "zh-CN")
            assert en != zh
            assert "=" not in en
            assert "=" not in zh

    def test_traditional_chinese_reads_its_own_characters(self) -> None:
        """zh-TW readers get zh-TW words (they read zh-CN's before): fails if `words` falls back
        to the simplified catalogue for zh-TW."""
        assert reasons.words("promises_broken_60d", 2.0, "zh-TW") == "60天內2次未兌現還款承諾"
        assert reasons.words("dispute_open", 1.0, "zh-TW") == "存在未解決的爭議：是"
        assert reasons.words("x", None, "zh-TW") == "x = 未知"
        for code in features.FEATURES:
            assert reasons.words(code, 1.0, "zh-TW") != reasons.words(code, 1.0, "en")

    def test_an_unknown_column_reads_as_its_name_and_value(self) -> None:
        assert reasons.words("RevolvingUtilization", 0.5, "en") == "RevolvingUtilization = 0.5"
        assert reasons.words("x", None, "zh-CN") == "x = 未知"
