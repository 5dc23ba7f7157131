"""``itsm-core report --format html``: one self-contained page of charts for people.

The page works offline: every chart is an SVG drawn by matplotlib and written
into the page itself, with no script and no external file. Charts: compliance by
priority, by group and by month (share of SLA cycles met, per metric); the
breach timeline (breaches per day, per metric); reassignment ping-pong (tickets
by their number of reassignments); time on hold (tickets by paused business
hours of their resolution clock); CSAT by group (share of satisfied survey
answers) and resolved per agent (with the reopened among them). matplotlib is
the optional ``cli`` extra.
"""

from __future__ import annotations

import html
import io
from collections import Counter
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

import attrs

from itsm_core.cli._common import InputError
from itsm_core.lifecycle import History
from itsm_core.metrics import Compliance, FirstContact, Satisfaction, Stats
from itsm_core.sla import SlaStatus
from itsm_core.ticket import Reassigned

__all__ = ["CHARTS", "Analytics", "TicketFacts", "facts_of", "render_html"]

#: The charts of the page: (element id, title), in page order.
CHARTS: tuple[tuple[str, str], ...] = (
    ("compliance-by-priority", "Compliance by priority"),
    ("compliance-by-group", "Compliance by group"),
    ("compliance-by-month", "Compliance by month"),
    ("breach-timeline", "Breaches per day"),
    ("reassignment-ping-pong", "Reassignment ping-pong"),
    ("time-on-hold", "Time on hold"),
    ("csat-by-group", "CSAT by group"),
    ("resolved-by-agent", "Resolved per agent"),
)


@attrs.frozen(kw_only=True)
class Analytics:
    """The service-desk figures of the report beside compliance, merged over every ticket.

    ``satisfaction`` and ``first_contact`` are grouped at least by ``all``,
    ``agent`` and ``group``; ``stats`` at least by ``agent`` and ``group``.
    ``left_out`` names each ticket the figures could not count, with why (a
    survey rating outside the report's scale): its SLA rows are still there.
    """

    satisfaction: Satisfaction
    first_contact: FirstContact
    stats: Stats
    left_out: tuple[tuple[str, str], ...] = ()


@attrs.frozen(kw_only=True)
class TicketFacts:
    """What the page shows of one ticket: its SLA status and how often it moved."""

    status: SlaStatus
    reassignments: int


def facts_of(history: History, status: SlaStatus) -> TicketFacts:
    """The facts of one evaluated ticket."""
    moves = sum(1 for event in history if isinstance(event, Reassigned))
    return TicketFacts(status=status, reassignments=moves)


def _pyplot() -> Any:
    try:
        import matplotlib

        matplotlib.use("svg")
        import matplotlib.pyplot as plt
    except ImportError:  # pragma: no cover - the cli extra is part of the dev install
        raise InputError(
            "--format", "html needs matplotlib: pip install 'itsm-core[cli]'"
        ) from None
    plt.rcParams["svg.fonttype"] = "none"  # text stays text: smaller, searchable
    plt.rcParams["svg.hashsalt"] = "itsm-core"  # the same input draws the same page
    return plt


def _svg(plt: Any, fig: Any) -> str:
    buffer = io.StringIO()
    fig.savefig(buffer, format="svg", bbox_inches="tight", metadata={"Date": None})
    plt.close(fig)
    text = buffer.getvalue()
    return text[text.index("<svg") :]


def _bars(plt: Any, groups: dict[str, dict[str, float]], ylabel: str) -> str:
    """Grouped bars: one group per key of ``groups``, one bar per series inside."""
    series = sorted({name for values in groups.values() for name in values})
    labels = list(groups)
    fig, ax = plt.subplots(figsize=(7, 3.2))
    width = 0.8 / max(len(series), 1)
    for i, name in enumerate(series):
        xs = [j + i * width for j in range(len(labels))]
        ax.bar(xs, [groups[label].get(name, 0.0) for label in labels], width, label=name)
    ax.set_xticks([j + width * (len(series) - 1) / 2 for j in range(len(labels))], labels)
    if len(labels) > 6:  # many groups or days: slanted labels stay readable
        ax.tick_params(axis="x", labelrotation=40)
        for label in ax.get_xticklabels():
            label.set_horizontalalignment("right")
    ax.set_ylabel(ylabel)
    if series:
        ax.legend(fontsize="small")
    ax.spines[["top", "right"]].set_visible(False)
    return _svg(plt, fig)


def _compliance_by(compliance: Compliance, field: str) -> dict[str, dict[str, float]]:
    groups: dict[str, dict[str, list[int]]] = {}
    for key, (met, breached) in compliance.counts:
        label = getattr(key, field) or "(none)"
        totals = groups.setdefault(label, {}).setdefault(key.metric, [0, 0])
        totals[0] += met
        totals[1] += breached
    return {
        label: {metric: 100.0 * m / (m + b) for metric, (m, b) in metrics.items() if m + b}
        for label, metrics in sorted(groups.items())
    }


def _histogram(counts: Counter[str], order: Sequence[str]) -> dict[str, dict[str, float]]:
    return {label: {"tickets": float(counts.get(label, 0))} for label in order}


def _breaches(facts: Sequence[TicketFacts]) -> dict[str, dict[str, float]]:
    days: dict[str, Counter[str]] = {}
    for fact in facts:
        for clock in fact.status.clocks:
            for cycle in clock.cycles:
                breached: datetime | None = cycle.breached_at
                if breached is not None:
                    days.setdefault(breached.date().isoformat(), Counter())[clock.metric] += 1
    return {day: {m: float(n) for m, n in per.items()} for day, per in sorted(days.items())}


def _reassignments(facts: Sequence[TicketFacts]) -> dict[str, dict[str, float]]:
    counts = Counter(str(min(f.reassignments, 4)) for f in facts)
    labels = ["0", "1", "2", "3", "4"]
    return {("4+" if k == "4" else k): v for k, v in _histogram(counts, labels).items()}


def _hold(facts: Sequence[TicketFacts]) -> dict[str, dict[str, float]]:
    bins = (("none", 0.0), ("< 1 h", 1.0), ("1-8 h", 8.0), ("8-40 h", 40.0))
    counts: Counter[str] = Counter()
    for fact in facts:
        hours = 0.0
        for clock in fact.status.clocks:
            if clock.metric == "resolution":
                hours = sum(c.paused.total_seconds() for c in clock.cycles) / 3600
        label = next((name for name, top in bins if hours <= top), "> 40 h")
        counts[label] += 1
    return _histogram(counts, [name for name, _ in bins] + ["> 40 h"])


def _csat_by_group(analytics: Analytics | None) -> dict[str, dict[str, float]]:
    if analytics is None:
        return {}
    satisfaction = analytics.satisfaction
    groups = sorted({key.value for key, _ in satisfaction.entries if key.by == "group"})
    shares = {group: satisfaction.csat("group", group) for group in groups}
    return {
        group or "(none)": {"CSAT": share} for group, share in shares.items() if share is not None
    }


def _resolved_by_agent(analytics: Analytics | None) -> dict[str, dict[str, float]]:
    if analytics is None:
        return {}
    stats = analytics.stats
    bars: dict[str, dict[str, float]] = {}
    for agent in stats.values("agent"):
        tally = stats.tally("agent", agent)
        if tally.resolved or tally.reopened:
            bars[agent or "(none)"] = {
                "resolved": float(tally.resolved),
                "reopened": float(tally.reopened),
            }
    return bars


def _analytics_lines(analytics: Analytics | None) -> str:
    if analytics is None:
        return ""
    satisfaction = analytics.satisfaction.tally()
    csat = analytics.satisfaction.csat()
    if not satisfaction.answered:
        survey = f"Satisfaction: no survey answers ({satisfaction.requested} requested)."
    else:
        rate = satisfaction.response_rate()
        assert csat is not None
        assert rate is not None
        survey = (
            f"Satisfaction: CSAT {csat:.1f} % of {satisfaction.answered} answers, "
            f"response rate {rate:.1f} % of {satisfaction.requested} surveys."
        )
    resolved, first = analytics.first_contact.counts()
    rate = analytics.first_contact.rate()
    fcr = (
        "First-contact resolution: no resolved ticket."
        if rate is None
        else f"First-contact resolution: {rate:.1f} % ({first} of {resolved} resolved)."
    )
    lines = [survey, fcr]
    lines += [f"Left out of the analytics: ticket {t}: {why}" for t, why in analytics.left_out]
    return "\n".join(f"<p>{html.escape(line)}</p>" for line in lines)


def render_html(
    facts: Iterable[TicketFacts],
    compliance: Compliance,
    *,
    title: str,
    now: datetime,
    analytics: Analytics | None = None,
) -> str:
    """The whole page: a summary table and every chart of :data:`CHARTS`, self-contained.

    Without ``analytics`` the CSAT and per-agent charts are drawn empty.
    """
    facts = list(facts)
    plt = _pyplot()
    charts = {
        "compliance-by-priority": _bars(plt, _compliance_by(compliance, "priority"), "% met"),
        "compliance-by-group": _bars(plt, _compliance_by(compliance, "group"), "% met"),
        "compliance-by-month": _bars(plt, _compliance_by(compliance, "period"), "% met"),
        "breach-timeline": _bars(plt, _breaches(facts), "breaches"),
        "reassignment-ping-pong": _bars(plt, _reassignments(facts), "tickets"),
        "time-on-hold": _bars(plt, _hold(facts), "tickets"),
        "csat-by-group": _bars(plt, _csat_by_group(analytics), "% satisfied"),
        "resolved-by-agent": _bars(plt, _resolved_by_agent(analytics), "tickets"),
    }
    rows = []
    for metric in sorted({key.metric for key, _ in compliance.counts}):
        met, breached = compliance.totals(metric=metric)
        percent = compliance.percent(metric=metric)
        shown = "n/a" if percent is None else f"{percent:.1f} %"
        rows.append(
            f"<tr><td>{html.escape(metric)}</td><td>{met}</td><td>{breached}</td>"
            f"<td>{shown}</td></tr>"
        )
    figures = "\n".join(
        f'<figure id="{chart_id}"><figcaption>{html.escape(name)}</figcaption>\n'
        f"{charts[chart_id]}</figure>"
        for chart_id, name in CHARTS
    )
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{html.escape(title)}</title>
<style>
body {{ font-family: system-ui, sans-serif; margin: 2rem auto; max-width: 60rem; }}
table {{ border-collapse: collapse; }} td, th {{ border: 1px solid #ccc; padding: .3rem .6rem; }}
figure {{ margin: 2rem 0; }} figcaption {{ font-weight: bold; margin-bottom: .5rem; }}
svg {{ max-width: 100%; height: auto; }}
</style></head>
<body>
<h1>{html.escape(title)}</h1>
<p>{len(facts)} tickets with an SLA policy, evaluated as of {html.escape(now.isoformat())}.</p>
<table><thead><tr><th>metric</th><th>met</th><th>breached</th><th>compliance</th></tr></thead>
<tbody>{"".join(rows)}</tbody></table>
{_analytics_lines(analytics)}
{figures}
</body></html>
"""
