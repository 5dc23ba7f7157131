"""Satisfaction surveys and quality-control call-backs: CSAT, response rate, net score."""

from __future__ import annotations

import operator
from collections import Counter
from collections.abc import Iterable, Sequence

import attrs

from itsm_core.calendar import CalendarLike
from itsm_core.errors import InvalidValueError
from itsm_core.metrics._stats import bucket_total, check_grouping, merge_entries
from itsm_core.metrics._walk import DIMENSIONS, walk
from itsm_core.ticket import Event

__all__ = ["RatingScale", "Satisfaction", "SatisfactionKey", "SatisfactionTally"]


def _int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _labels(value: object) -> tuple[str, ...]:
    if isinstance(value, str) or not isinstance(value, Iterable):
        raise InvalidValueError("rating_scale.labels", value, "a sequence of labels")
    return tuple(value)


@attrs.frozen(kw_only=True)
class RatingScale:
    """A survey's scale as data: integer points ``low..high``, satisfied from ``satisfied_from``.

    ``labels`` names the points in order (``("bad", "good")``); ``detractors_to``
    is the highest detractor point of an NPS-style scale (``None``: no net
    score). The presets: :meth:`five_point` (1-5, satisfied from 4),
    :meth:`good_bad` (0 bad, 1 good) and :meth:`nps` (0-10, promoters from
    9, detractors to 6).

    >>> RatingScale.good_bad().point("good")
    1
    >>> RatingScale(name="stars", low=1, high=5, satisfied_from=6)
    Traceback (most recent call last):
    ...
    itsm_core.errors.InvalidValueError: rating_scale.satisfied_from: expected a point from 1 \
to 5, got 6
    """

    name: str
    low: int
    high: int
    satisfied_from: int
    labels: tuple[str, ...] = attrs.field(default=(), converter=_labels)
    detractors_to: int | None = None

    def __attrs_post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name.strip():
            raise InvalidValueError("rating_scale.name", self.name, "a non-empty name")
        if not _int(self.low) or not _int(self.high) or not self.low < self.high:
            raise InvalidValueError(
                "rating_scale.high", self.high, f"an integer above low ({self.low!r})"
            )
        for name in ("satisfied_from", "detractors_to"):
            value = getattr(self, name)
            if (value is not None or name == "satisfied_from") and not self.contains(value):
                raise InvalidValueError(
                    f"rating_scale.{name}", value, f"a point from {self.low} to {self.high}"
                )
        if self.labels and len(self.labels) != self.high - self.low + 1:
            raise InvalidValueError(
                "rating_scale.labels", self.labels, f"{self.high - self.low + 1} labels or none"
            )

    def contains(self, rating: object) -> bool:
        """Whether ``rating`` is a point of the scale."""
        return _int(rating) and self.low <= rating <= self.high  # type: ignore[operator]

    def point(self, label: str) -> int:
        """The point a label names."""
        if label not in self.labels:
            raise InvalidValueError("label", label, f"one of {', '.join(self.labels) or '(none)'}")
        return self.low + self.labels.index(label)

    @classmethod
    def five_point(cls) -> RatingScale:
        """1 (very dissatisfied) to 5 (very satisfied); satisfied from 4."""
        return cls(name="five_point", low=1, high=5, satisfied_from=4)

    @classmethod
    def good_bad(cls) -> RatingScale:
        """0 = bad, 1 = good; satisfied when good."""
        return cls(name="good_bad", low=0, high=1, satisfied_from=1, labels=("bad", "good"))

    @classmethod
    def nps(cls) -> RatingScale:
        """0-10 "how likely to recommend": promoters from 9, detractors to 6."""
        return cls(name="nps", low=0, high=10, satisfied_from=9, detractors_to=6)


@attrs.frozen(kw_only=True, order=True)
class SatisfactionKey:
    """One bucket: a dimension, its value and the period of the survey's first request.

    >>> SatisfactionKey(by="all", value="", period="2026-03").period
    '2026-03'
    """

    by: str
    value: str
    period: str


def _histogram(value: Iterable[tuple[int, int]]) -> tuple[tuple[int, int], ...]:
    found: Counter[int] = Counter()
    for rating, n in value:
        found[rating] += n
    return tuple(sorted((r, n) for r, n in found.items() if n))


@attrs.frozen(kw_only=True)
class SatisfactionTally:
    """Surveys requested and answered, the answers by point, and the call-backs of one bucket.

    ``ratings`` holds ``(point, answers)`` pairs; ``+`` merges two buckets.

    >>> t = SatisfactionTally(requested=4, answered=3, ratings=((5, 2), (2, 1)))
    >>> t.csat(4), t.response_rate(), (t + t).ratings
    (66.66666666666667, 75.0, ((2, 2), (5, 4)))
    """

    requested: int = 0
    answered: int = 0
    ratings: tuple[tuple[int, int], ...] = attrs.field(default=(), converter=_histogram)
    callbacks: int = 0
    reached: int = 0
    confirmed: int = 0

    def __add__(self, other: SatisfactionTally) -> SatisfactionTally:
        if not isinstance(other, SatisfactionTally):
            return NotImplemented
        ratings = Counter(dict(self.ratings))
        ratings.update(dict(other.ratings))
        return SatisfactionTally(
            requested=self.requested + other.requested,
            answered=self.answered + other.answered,
            ratings=ratings.items(),
            callbacks=self.callbacks + other.callbacks,
            reached=self.reached + other.reached,
            confirmed=self.confirmed + other.confirmed,
        )

    def satisfied(self, threshold: int) -> int:
        """How many answers rate at or above ``threshold``."""
        return sum(n for rating, n in self.ratings if rating >= threshold)

    def csat(self, threshold: int) -> float | None:
        """The satisfied share of the answers, in percent (``None``: no answer)."""
        if not self.answered:
            return None
        return self.satisfied(threshold) * 100 / self.answered

    def response_rate(self) -> float | None:
        """Answered surveys per requested survey, in percent (``None``: none requested)."""
        return None if not self.requested else self.answered * 100 / self.requested

    def net_score(self, promoters_from: int, detractors_to: int) -> float | None:
        """Promoters minus detractors, in percent of the answers (``None``: no answer)."""
        if not self.answered:
            return None
        detractors = sum(n for rating, n in self.ratings if rating <= detractors_to)
        return (self.satisfied(promoters_from) - detractors) * 100 / self.answered


def _entries(
    value: Iterable[tuple[SatisfactionKey, SatisfactionTally]],
) -> tuple[tuple[SatisfactionKey, SatisfactionTally], ...]:
    return tuple(sorted(value, key=lambda item: item[0]))


@attrs.frozen(kw_only=True)
class Satisfaction:
    """Survey results per dimension value and period, on one scale; ``+`` merges two.

    Per ticket and survey, the survey counts once as requested (at its first
    request, or at the answer when it was never requested) and once as
    answered when answered; a later answer replaces an earlier one (the
    requester changed their mind); ``survey`` chooses which survey (empty:
    the usual satisfaction survey). The bucket is the one of the first
    request: the agent and group then assigned and the ticket's
    classification. A call-back counts at its own instant. CSAT is the share
    of answers at or above the threshold (the scale's ``satisfied_from``
    unless given).

    >>> Satisfaction(scale=RatingScale.five_point()).csat()
    """

    scale: RatingScale
    survey: str = ""
    entries: tuple[tuple[SatisfactionKey, SatisfactionTally], ...] = attrs.field(
        default=(), converter=_entries
    )
    by: tuple[str, ...] = DIMENSIONS
    period: str = "month"

    @classmethod
    def of(
        cls,
        histories: Iterable[Sequence[Event]],
        *,
        scale: RatingScale,
        calendar: CalendarLike,
        survey: str = "",
        period: str = "month",
        timezone: str | None = None,
        by: Iterable[str] = DIMENSIONS,
    ) -> Satisfaction:
        """Survey results of many tickets; a rating outside ``scale`` raises, naming the event."""
        if not isinstance(scale, RatingScale):
            raise InvalidValueError("scale", scale, "a RatingScale")
        histories, period, dims, name_of = check_grouping(histories, calendar, period, timezone, by)
        wanted = set(dims)
        # Per bucket: requested, answered, callbacks, reached, confirmed, then the ratings.
        found: dict[tuple[str, str, str], tuple[list[int], Counter[int]]] = {}

        def add(
            at_us: int,
            where: tuple[tuple[str, str], ...],
            counts: tuple[int, ...],
            rating: int | None = None,
        ) -> None:
            name = name_of(at_us)
            for dim, value in where:
                if dim in wanted:
                    bucket = found.get((dim, value, name))
                    if bucket is None:
                        bucket = found[(dim, value, name)] = ([0, 0, 0, 0, 0], Counter())
                    numbers = bucket[0]
                    for column, n in enumerate(counts):
                        numbers[column] += n
                    if rating is not None:
                        bucket[1][rating] += 1

        for index, events in enumerate(histories):
            seen = walk(events, index, calendar)
            for name, at_us, where, rating, j in seen.surveys:
                if name != survey:
                    continue
                if rating is not None and not scale.contains(rating):
                    raise InvalidValueError(
                        f"histories[{index}][{j}].rating",
                        rating,
                        f"a point of scale {scale.name!r} from {scale.low} to {scale.high}",
                    )
                add(at_us, where, (1, int(rating is not None), 0, 0, 0), rating)
            for at_us, where, reached, confirmed in seen.callbacks:
                add(at_us, where, (0, 0, 1, int(reached), int(bool(confirmed))))
        entries = [
            (
                SatisfactionKey(by=dim, value=value, period=name),
                SatisfactionTally(
                    requested=numbers[0],
                    answered=numbers[1],
                    callbacks=numbers[2],
                    reached=numbers[3],
                    confirmed=numbers[4],
                    ratings=ratings.items(),
                ),
            )
            for (dim, value, name), (numbers, ratings) in found.items()
        ]
        return cls(scale=scale, survey=survey, entries=entries, by=dims, period=period)

    def __add__(self, other: Satisfaction) -> Satisfaction:
        if not isinstance(other, Satisfaction):
            return NotImplemented
        mine = (self.scale, self.survey, self.by, self.period)
        if mine != (other.scale, other.survey, other.by, other.period):
            raise InvalidValueError("other", other.survey, f"results of the same survey {mine}")
        merged = merge_entries(self.entries, other.entries, operator.add)
        return attrs.evolve(self, entries=merged.items())

    def tally(
        self, by: str = "all", value: str = "", period: str | None = None
    ) -> SatisfactionTally:
        """The bucket of ``by`` = ``value`` in ``period`` (all periods merged when ``None``)."""
        where = (by, value, period)
        return bucket_total(self.entries, self.by, where, SatisfactionTally(), operator.add)

    def _threshold(self, threshold: int | None) -> int:
        if threshold is None:
            return self.scale.satisfied_from
        if not self.scale.contains(threshold):
            raise InvalidValueError(
                "threshold", threshold, f"a point from {self.scale.low} to {self.scale.high}"
            )
        return threshold

    def csat(
        self,
        by: str = "all",
        value: str = "",
        period: str | None = None,
        *,
        threshold: int | None = None,
    ) -> float | None:
        """CSAT of the bucket in percent (``None``: no answer); ``threshold`` overrides."""
        return self.tally(by, value, period).csat(self._threshold(threshold))

    def response_rate(
        self, by: str = "all", value: str = "", period: str | None = None
    ) -> float | None:
        """Answered per requested surveys of the bucket, in percent."""
        return self.tally(by, value, period).response_rate()

    def net_score(
        self, by: str = "all", value: str = "", period: str | None = None
    ) -> float | None:
        """The NPS-style net score of the bucket (the scale must define detractors)."""
        if self.scale.detractors_to is None:
            raise InvalidValueError(
                "scale.detractors_to", None, "a detractor point for a net score"
            )
        tally = self.tally(by, value, period)
        return tally.net_score(self.scale.satisfied_from, self.scale.detractors_to)

    def kpi_counts(
        self, period: str | None = None, *, threshold: int | None = None
    ) -> tuple[int, int]:
        """``(satisfied, other answers)`` over everything in ``period``: a KPI's counts."""
        tally = self.tally("all", "", period)
        satisfied = tally.satisfied(self._threshold(threshold))
        return satisfied, tally.answered - satisfied
