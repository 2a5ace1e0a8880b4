"""A decision told to a person, in English or Chinese (`recoup compliance check --explain`)."""

from __future__ import annotations

from recoup.compliance.codes import WEEKDAYS, Code
from recoup.compliance.facts import Decision, Reason
from recoup.compliance.localtime import zone
from recoup.compliance.packs import (
    CapRule,
    ChannelRule,
    ConsentRule,
    ContentRule,
    GraceRule,
    Guard,
    HoursRule,
    PartyRule,
    Rule,
    StatusRule,
)

CODE_TEXT = {
    "en": {
        Code.OUTSIDE_HOURS: "outside the permitted hours",
        Code.REST_DAY: "a rest day or public holiday",
        Code.DEBTOR_INCONVENIENT: "a time the debtor said is inconvenient",
        Code.FREQUENCY_CAP: "the contact limit is reached",
        Code.CONVERSATION_COOLDOWN: "too soon after a conversation",
        Code.GRACE_PERIOD: "too early in the delinquency",
        Code.OPTED_OUT: "the debtor opted out of this channel or address",
        Code.CEASE: "the debtor asked us to stop contacting them",
        Code.DISPUTE_PENDING: "a dispute is open",
        Code.NO_CONSENT: "no consent for this channel or address",
        Code.THIRD_PARTY: "this person may not be contacted",
        Code.DISCLOSURE: "the message would disclose the debt",
        Code.CONTENT_FORBIDDEN: "the message contains forbidden content",
        Code.CONTENT_MISSING: "the message lacks a required element",
        Code.CHANNEL_FORBIDDEN: "this channel is not permitted",
        Code.ACCOUNT_STATUS: "the account's status stops automated contact",
        Code.WRONG_PARTY: "this number or address is not the debtor's",
        Code.HANDOVER_NOTICE_MISSING: "the debtor was not told about the handover to an agency",
        Code.CALENDAR_UNKNOWN: (
            "the official calendar for that day is not known yet (holidays or make-up working "
            "days not published or not loaded): refused rather than guessed"
        ),
    },
    "zh": {
        Code.OUTSIDE_HOURS: "不在允许的联系时段",
        Code.REST_DAY: "当天为休息日或公众假期",
        Code.DEBTOR_INCONVENIENT: "债务人表示此时不便",
        Code.FREQUENCY_CAP: "已达联系次数上限",
        Code.CONVERSATION_COOLDOWN: "距上次通话时间太近",
        Code.GRACE_PERIOD: "逾期天数尚短，暂不联系",
        Code.OPTED_OUT: "债务人已退订此渠道或地址",
        Code.CEASE: "债务人要求停止联系",
        Code.DISPUTE_PENDING: "存在未结争议",
        Code.NO_CONSENT: "此渠道或地址没有同意记录",
        Code.THIRD_PARTY: "不得联系此人",
        Code.DISCLOSURE: "信息会向第三方透露债务",
        Code.CONTENT_FORBIDDEN: "信息含有禁止内容",
        Code.CONTENT_MISSING: "信息缺少必备内容",
        Code.CHANNEL_FORBIDDEN: "不允许使用此渠道",
        Code.ACCOUNT_STATUS: "账户状态不允许自动联系",
        Code.WRONG_PARTY: "此号码或地址不属于债务人",
        Code.HANDOVER_NOTICE_MISSING: "委外前未告知债务人",
        Code.CALENDAR_UNKNOWN: "当天的官方日历（节假日或调休上班日）尚未公布或未载入：不作推测，暂不联系",
    },
}
WORDS = {
    "en": {
        "allow": "ALLOWED: this contact may happen now.",
        "block": "BLOCKED: this contact may not happen now.",
        "next": "Earliest allowed moment",
        "never": "Waiting does not help: a reason above is not about time.",
        "none": "No moment in the next 400 days satisfies every rule.",
        "packs": "Rule packs",
        "zones": "Debtor's candidate time zones",
        "source": "source",
        "confidence": "confidence",
    },
    "zh": {
        "allow": "允许：现在可以联系。",
        "block": "禁止：现在不可联系。",
        "next": "最早可联系时间",
        "never": "等待无济于事：上述原因与时间无关。",
        "none": "未来400天内没有同时满足全部规则的时间。",
        "packs": "规则包",
        "zones": "债务人可能所在时区",
        "source": "依据",
        "confidence": "可信度",
    },
}


def explain(decision: Decision, guard: Guard, language: str = "en") -> str:
    lang = "zh" if language.lower().startswith("zh") else "en"
    w = WORDS[lang]
    lines = [w["allow"] if decision.allowed else w["block"]]
    for r in decision.reasons:
        lines.append(_reason_line(r, guard, lang))
    if not decision.allowed:
        if decision.next_allowed_at is not None:
            local = ", ".join(
                f"{decision.next_allowed_at.astimezone(zone(z)):%Y-%m-%d %H:%M} {z}"
                for z in decision.zones
            )
            lines.append(f"{w['next']}: {local} ({decision.next_allowed_at:%Y-%m-%d %H:%M} UTC)")
        elif decision.curable:
            lines.append(w["none"])
        else:
            lines.append(w["never"])
    lines.append(f"{w['zones']}: {', '.join(decision.zones)}")
    lines.append(f"{w['packs']}: {', '.join(decision.packs)}")
    return "\n".join(lines)


def _reason_line(r: Reason, guard: Guard, lang: str) -> str:
    w = WORDS[lang]
    try:
        rule = guard.rule(r.rule)
        title = rule.title_zh if lang == "zh" and rule.title_zh else rule.title
    except KeyError:
        title = r.message
    detail = _detail(r, lang)
    stop = "。" if lang == "zh" else ". "
    return (
        f"  - [{r.code.value}] {CODE_TEXT[lang][r.code]}{stop}{title}{detail}\n"
        f"    {r.rule} ({r.pack}); {w['source']}: {r.citation}; {w['confidence']}: {r.confidence}"
    )


def _detail(r: Reason, lang: str) -> str:
    d = r.detail
    zh = lang == "zh"
    if "window" in d and "local" in d:
        local = ", ".join(f"{v} {k}" for k, v in d["local"].items())
        return (
            f"（允许 {d['window']}；当地 {local}）"
            if zh
            else f" (allowed {d['window']}; now {local})"
        )
    if "count" in d:
        return (
            f"（已计 {d['count']} 次，上限 {d['max']}）"
            if zh
            else f" ({d['count']} counted, limit {d['max']})"
        )
    if "terms" in d:
        terms = ", ".join(d["terms"])
        return f"（{terms}）" if zh else f" ({terms})"
    if "missing" in d:
        missing = ", ".join(d["missing"])
        return f"（缺少：{missing}）" if zh else f" (missing: {missing})"
    if "flags" in d:
        flags = ", ".join(d["flags"])
        return f"（{flags}）" if zh else f" ({flags})"
    if "dpd" in d:
        return f"（逾期 {d['dpd']} 天）" if zh else f" ({d['dpd']} days past due)"
    return ""


def parameters(rule: Rule) -> str:
    """A rule's parameters in one line, for the rules table."""
    match rule:
        case HoursRule():
            days = (
                "every day"
                if rule.days == frozenset(range(7))
                else " ".join(WEEKDAYS[d] for d in sorted(rule.days))
            )
            parts = [rule.window.label(), days]
            if rule.working_days:
                parts.append("working days only (official calendar)")
            parts += [f"{WEEKDAYS[d]} {w.label()}" for d, w in sorted(rule.day_windows.items())]
            if rule.holidays == "forbid":
                parts.append(f"no public holidays ({rule.calendar or 'debtor country'})")
            elif rule.holidays == "window" and rule.holiday_window:
                parts.append(f"public holidays {rule.holiday_window.label()}")
            if rule.waived_over_dpd is not None:
                parts.append(f"waived over {rule.waived_over_dpd} DPD")
            parts += [f"{p} over {n} DPD" for p, n in rule.waived_over_dpd_by_product.items()]
            parts.append("a consented window opens it" if rule.consent_opens else "no consent")
            return "; ".join(parts)
        case CapRule():
            counted = (
                ", ".join(sorted(rule.count_results))
                if len(rule.count_results) < 9
                else "any result"
            )
            via = (
                ", ".join(sorted(rule.count_channels))
                if len(rule.count_channels) < 12
                else "any channel"
            )
            extra = "; calls with prior consent not counted" if rule.exclude_consented else ""
            exempt = "; a consented call-back is exempt" if rule.exempt_with_consent else ""
            if "inbound" in rule.count_directions:
                extra += "; whoever started it"
            if rule.extends:
                extra += f"; extends {rule.extends}, excluding what it excludes"
            return (
                f"max {rule.max} {rule.window_label()} per {'+'.join(sorted(rule.scope))}; "
                f"counts {via} ({counted}){extra}{exempt}"
            )
        case StatusRule():
            return f"flags: {', '.join(sorted(rule.flags))}"
        case PartyRule():
            terms = []
            for role, t in sorted(rule.roles.items()):
                if not t.allowed:
                    terms.append(f"{role}: never")
                    continue
                cond = [*sorted(t.requires)]
                if t.max_contacts is not None:
                    cond.append(f"at most {t.max_contacts}")
                if t.no_disclosure:
                    cond.append("no debt details")
                terms.append(f"{role}: {', '.join(cond) if cond else 'yes'}")
            return "; ".join(terms) + "; anyone else: never"
        case ChannelRule():
            return f"forbidden: {', '.join(sorted(rule.forbid))}"
        case ConsentRule():
            return f"accepts: {', '.join(sorted(rule.accepts))}"
        case GraceRule():
            return f"none while {rule.days} or fewer days past due"
        case ContentRule():
            if rule.forbid:
                return f"forbidden: {', '.join(sorted(rule.forbid))}"
            return f"required: {', '.join(sorted(rule.require))}"
    return ""


def rules_markdown(guard: Guard) -> str:
    """Every rule of every pack as a Markdown table (docs/compliance.md embeds this output)."""
    out = []
    for pack in guard.packs:
        out.append(f"\n### {pack.id}: {pack.name} (version {pack.version})\n")
        scope = ", ".join(sorted(pack.collectors))
        if pack.house_collectors:
            scope += f"; as a house policy also {', '.join(sorted(pack.house_collectors))}"
        out.append(f"Jurisdictions: {', '.join(pack.jurisdictions)}. Binds: {scope}.\n")
        out.append("| Rule | Kind | Rule text | Parameters | Applies to | Source | Tag |")
        out.append("|---|---|---|---|---|---|---|")
        for r in pack.rules:
            applies = ", ".join(sorted(r.channels)) if len(r.channels) < 12 else "all channels"
            name = f"`{r.id}`" + (" (optional)" if r.optional else "")
            cells = [name, r.kind, r.title, parameters(r), applies, r.citation, r.confidence]
            out.append("| " + " | ".join(c.replace("|", "/") for c in cells) + " |")
    return "\n".join(out) + "\n"
