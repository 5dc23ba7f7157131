"""Contracts: KPI targets, service-credit rules, fees per workstation and caps."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from decimal import Decimal, InvalidOperation

import attrs

from itsm_core.errors import InvalidValueError
from itsm_core.metrics._compliance import Compliance

__all__ = ["CreditRule", "Kpi", "KpiResult", "ServiceCredit", "kpi_report", "service_credit"]

#: Counts of a measured KPI: ``(met, missed)``, e.g. satisfied and other answers.
KpiCounts = Mapping[str, tuple[int, int]]


def _decimal(value: object) -> object:
    # Converter: keep what cannot be a number as it is, for the validator to name.
    if isinstance(value, Decimal):
        return value
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        return value
    try:
        return Decimal(str(value))
    except InvalidOperation:
        return value


def _finite(value: object) -> bool:
    return isinstance(value, Decimal) and value.is_finite()


def _percentage(field: str, value: object) -> Decimal:
    if not _finite(value) or not Decimal(0) <= value <= Decimal(100):  # type: ignore[operator]
        raise InvalidValueError(field, value, "a percentage from 0 to 100")
    assert isinstance(value, Decimal)
    return value


def _amount(field: str, value: object) -> Decimal:
    if not _finite(value) or value < 0:  # type: ignore[operator]
        raise InvalidValueError(field, value, "a finite amount >= 0")
    assert isinstance(value, Decimal)
    return value


def _name(field: str, value: object) -> None:
    if not isinstance(value, str) or not value.strip():
        raise InvalidValueError(field, value, "a non-empty name")


@attrs.frozen(kw_only=True)
class CreditRule:
    """A contract clause: below ``below_percent`` on ``metric``, credit part of the fee.

    ``metric`` is an SLA metric counted by :class:`Compliance` or a measured
    KPI passed to :func:`service_credit` as ``kpi_counts`` (``"csat"``,
    ``"fcr"``). The credit is ``credit_percent`` of the period's fee plus
    ``credit_per_breach`` for every breach (every missed cycle or answer) of
    the period. ``policy`` restricts an SLA rule to one policy's counts
    (default: all). Several tiers for one metric and policy: the largest
    credit whose threshold applies; rules of different metrics or policies
    add up.

    >>> CreditRule(metric="resolution", below_percent=95, credit_percent=10).below_percent
    Decimal('95')
    >>> CreditRule(metric="resolution", below_percent=100, credit_per_breach="-5")
    Traceback (most recent call last):
    ...
    itsm_core.errors.InvalidValueError: credit_rule.credit_per_breach: expected a finite \
amount >= 0, got Decimal('-5')
    """

    metric: str
    below_percent: Decimal = attrs.field(converter=_decimal)
    credit_percent: Decimal = attrs.field(default=Decimal(0), converter=_decimal)
    credit_per_breach: Decimal = attrs.field(default=Decimal(0), converter=_decimal)
    policy: str | None = None

    def __attrs_post_init__(self) -> None:
        _name("credit_rule.metric", self.metric)
        for name in ("below_percent", "credit_percent"):
            _percentage(f"credit_rule.{name}", getattr(self, name))
        _amount("credit_rule.credit_per_breach", self.credit_per_breach)
        if self.policy is not None:
            _name("credit_rule.policy", self.policy)


@attrs.frozen(kw_only=True)
class ServiceCredit:
    """What a period's results cost the provider.

    ``fee`` is the period's fee (the fixed fee plus the fee per workstation
    times the workstations); ``applied`` lists, per metric and policy, the rule
    that set its credit and the percentage it saw; ``amount`` is the credit
    after the caps and ``credit_percent`` its share of the fee; ``uncapped``
    is the credit before the caps.

    >>> from itsm_core.metrics import ComplianceKey
    >>> key = ComplianceKey(period="2026-03", policy="p", metric="resolution")
    >>> late = Compliance({key: (3, 1)})
    >>> rule = CreditRule(metric="resolution", below_percent=90, credit_per_breach=500)
    >>> credit = service_credit(late, period="2026-03", fee="1000.00", rules=[rule],
    ...                         cap_percent=30)
    >>> credit.uncapped, credit.amount, credit.credit_percent
    (Decimal('500.00'), Decimal('300.00'), Decimal('30'))
    """

    period: str
    fee: Decimal
    credit_percent: Decimal
    amount: Decimal
    applied: tuple[tuple[CreditRule, float], ...]
    uncapped: Decimal = Decimal(0)


def _measured(
    compliance: Compliance, period: str, rule_metric: str, policy: str | None, kpis: KpiCounts
) -> tuple[float | None, int]:
    if rule_metric in kpis:
        met, missed = kpis[rule_metric]
    else:
        match = {"period": period, "metric": rule_metric}
        if policy is not None:
            match["policy"] = policy
        met, missed = compliance.totals(**match)
    total = met + missed
    return (None if total == 0 else met * 100 / total), missed


def _check_counts(kpis: object) -> KpiCounts:
    if not isinstance(kpis, Mapping):
        raise InvalidValueError("kpi_counts", kpis, "a mapping of KPI name to (met, missed)")
    for key, value in kpis.items():
        if (
            not isinstance(value, tuple)
            or len(value) != 2
            or not all(isinstance(n, int) and not isinstance(n, bool) and n >= 0 for n in value)
        ):
            raise InvalidValueError(f"kpi_counts[{key!r}]", value, "a pair (met, missed) of counts")
    return kpis


def service_credit(
    compliance: Compliance,
    *,
    period: str,
    fee: Decimal | int | str,
    rules: Iterable[CreditRule],
    cap_percent: Decimal | int | str = 100,
    cap_amount: Decimal | int | str | None = None,
    fee_per_workstation: Decimal | int | str = 0,
    workstations: int = 0,
    kpi_counts: KpiCounts | None = None,
) -> ServiceCredit:
    """The credit owed for ``period`` under the contract's ``rules``.

    Per metric and policy the largest credit among the rules whose threshold
    the measured percentage falls below applies; credits of different
    metrics or policies add up; the total is capped at ``cap_percent`` of the
    fee and at ``cap_amount``. A metric with nothing counted owes nothing.
    The period's fee is ``fee + fee_per_workstation * workstations``. Fees and
    caps must be finite and not negative (an ``InvalidValueError`` names the
    argument otherwise).

    >>> rules = [CreditRule(metric="resolution", below_percent=95, credit_percent=10)]
    >>> credit = service_credit(Compliance(), period="2026-03", fee="1000.00", rules=rules)
    >>> credit.amount
    Decimal('0.00')
    >>> service_credit(Compliance(), period="2026-03", fee="NaN", rules=rules)
    Traceback (most recent call last):
    ...
    itsm_core.errors.InvalidValueError: fee: expected a finite amount >= 0, got Decimal('NaN')
    """
    base = _amount("fee", _decimal(fee))
    per_seat = _amount("fee_per_workstation", _decimal(fee_per_workstation))
    if not isinstance(workstations, int) or isinstance(workstations, bool) or workstations < 0:
        raise InvalidValueError("workstations", workstations, "a count >= 0")
    cap = _percentage("cap_percent", _decimal(cap_percent))
    cap_abs = None if cap_amount is None else _amount("cap_amount", _decimal(cap_amount))
    kpis = _check_counts({} if kpi_counts is None else kpi_counts)
    fee_value = base + per_seat * workstations
    best: dict[tuple[str, str | None], tuple[CreditRule, float, Decimal]] = {}
    for index, rule in enumerate(rules):
        if not isinstance(rule, CreditRule):
            raise InvalidValueError(f"rules[{index}]", rule, "a CreditRule")
        percent, missed = _measured(compliance, period, rule.metric, rule.policy, kpis)
        if percent is None or Decimal(str(percent)) >= rule.below_percent:
            continue
        owed = fee_value * rule.credit_percent / 100 + rule.credit_per_breach * missed
        group = (rule.metric, rule.policy)
        current = best.get(group)
        if current is None or owed > current[2]:
            best[group] = (rule, percent, owed)
    uncapped = sum((owed for _, _, owed in best.values()), Decimal(0))
    amount = min(uncapped, fee_value * cap / 100)
    if cap_abs is not None:
        amount = min(amount, cap_abs)
    exponent = fee_value.as_tuple().exponent
    if isinstance(exponent, int) and exponent < 0:  # keep the fee's precision (cents)
        amount = amount.quantize(Decimal(1).scaleb(exponent))
    share = Decimal(0) if fee_value == 0 else amount * 100 / fee_value
    applied = sorted(best.values(), key=lambda item: (item[0].metric, item[0].policy or ""))
    return ServiceCredit(
        period=period,
        fee=fee_value,
        credit_percent=share,
        amount=amount,
        applied=tuple((rule, percent) for rule, percent, _ in applied),
        uncapped=uncapped,
    )


@attrs.frozen(kw_only=True)
class Kpi:
    """A contract target: at least ``target_percent`` on ``metric`` per period.

    ``metric`` is an SLA metric (compliance, optionally of one ``policy``) or
    a measured KPI such as ``"csat"`` or ``"fcr"``.

    >>> Kpi(name="satisfaction", metric="csat", target_percent="97.5").target_percent
    Decimal('97.5')
    >>> Kpi(name="fcr", metric="fcr", target_percent=150)
    Traceback (most recent call last):
    ...
    itsm_core.errors.InvalidValueError: kpi.target_percent: expected a percentage from 0 to \
100, got Decimal('150')
    """

    name: str
    metric: str
    target_percent: Decimal = attrs.field(converter=_decimal)
    policy: str | None = None

    def __attrs_post_init__(self) -> None:
        _name("kpi.name", self.name)
        _name("kpi.metric", self.metric)
        _percentage("kpi.target_percent", self.target_percent)
        if self.policy is not None:
            _name("kpi.policy", self.policy)


@attrs.frozen(kw_only=True)
class KpiResult:
    """A KPI's outcome in a period: the measured percentage (``None``: nothing counted) and
    whether it met the target (``None`` when nothing was counted).

    >>> kpi = Kpi(name="fcr", metric="fcr", target_percent=50)
    >>> kpi_report([kpi], Compliance(), period="2026-03", kpi_counts={"fcr": (1, 3)})[0].met
    False
    """

    kpi: Kpi
    percent: float | None
    met: bool | None


def kpi_report(
    kpis: Iterable[Kpi],
    compliance: Compliance,
    *,
    period: str,
    kpi_counts: KpiCounts | None = None,
) -> tuple[KpiResult, ...]:
    """Each KPI's outcome in ``period``: SLA compliance and measured KPIs side by side.

    >>> kpi_report([Kpi(name="csat", metric="csat", target_percent=90)], Compliance(),
    ...            period="2026-03", kpi_counts={"csat": (9, 1)})[0].met
    True
    """
    counts = _check_counts({} if kpi_counts is None else kpi_counts)
    results = []
    for index, kpi in enumerate(kpis):
        if not isinstance(kpi, Kpi):
            raise InvalidValueError(f"kpis[{index}]", kpi, "a Kpi")
        percent, _ = _measured(compliance, period, kpi.metric, kpi.policy, counts)
        met = None if percent is None else Decimal(str(percent)) >= kpi.target_percent
        results.append(KpiResult(kpi=kpi, percent=percent, met=met))
    return tuple(results)
