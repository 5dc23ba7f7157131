"""The service catalog and the intake channel vocabulary, checked when tickets are classified."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import attrs

from itsm_core.errors import InvalidValueError
from itsm_core.routing._staff import names

__all__ = ["DEFAULT_CHANNELS", "Service", "ServiceCatalog", "check_channel"]

#: The intake channels of the seeds: how a request reached the desk.
DEFAULT_CHANNELS: tuple[str, ...] = ("phone", "email", "portal", "chat", "messenger", "walk_in")


def check_channel(
    value: object, channels: tuple[str, ...] = DEFAULT_CHANNELS, field: str = "channel"
) -> str | None:
    """``value`` if it is ``None`` or one of ``channels``, else an error naming ``field``.

    >>> check_channel("phone")
    'phone'
    >>> check_channel("fax", field="command.channel")
    Traceback (most recent call last):
    ...
    itsm_core.errors.InvalidValueError: command.channel: expected one of phone, email, \
portal, chat, messenger, walk_in, got 'fax'
    """
    if value is None or (isinstance(value, str) and value in channels):
        return value
    raise InvalidValueError(field, value, f"one of {', '.join(channels)}")


def _service_name(_: Any, __: Any, value: Any) -> None:
    if not isinstance(value, str) or not value.strip():
        raise InvalidValueError("service.name", value, "a non-empty service name")


def _service_categories(value: object) -> tuple[str, ...]:
    return names(value, "service.categories")


def _service_groups(value: object) -> tuple[str, ...]:
    return names(value, "service.groups")


def _service_components(value: object) -> tuple[str, ...]:
    return names(value, "service.components")


@attrs.frozen(kw_only=True)
class Service:
    """A service of the catalog: its categories, the groups that support it, its components.

    ``groups`` are in order of preference (the first is where tickets of the
    service are routed when they name no group); ``components`` are the
    configuration items a ticket of the service may point at.

    >>> Service(name="kiosk", categories=("paper jam", "screen"), groups=("first-line",)).groups
    ('first-line',)
    """

    name: str = attrs.field(validator=_service_name)
    categories: tuple[str, ...] = attrs.field(default=(), converter=_service_categories)
    groups: tuple[str, ...] = attrs.field(default=(), converter=_service_groups)
    components: tuple[str, ...] = attrs.field(default=(), converter=_service_components)
    description: str = ""


def _services(value: object) -> tuple[Service, ...]:
    if isinstance(value, str) or not isinstance(value, Iterable):
        raise InvalidValueError("catalog.services", value, "a list of Service")
    out = tuple(value)
    seen: set[str] = set()
    for index, item in enumerate(out):
        if not isinstance(item, Service):
            raise InvalidValueError(f"catalog.services[{index}]", item, "a Service")
        if item.name in seen:
            raise InvalidValueError(
                f"catalog.services[{index}].name", item.name, "a service name not listed before"
            )
        seen.add(item.name)
    return out


@attrs.frozen(kw_only=True)
class ServiceCatalog:
    """The services a desk supports; a ticket's service and category must come from it.

    >>> catalog = ServiceCatalog(services=(
    ...     Service(name="kiosk", categories=("paper jam", "screen"), groups=("first-line",)),
    ...     Service(name="email", categories=("mailbox",), groups=("messaging",)),
    ... ))
    >>> catalog.check(service="kiosk", category="paper jam")
    >>> catalog.check(service="kiosk", category="mailbox")
    Traceback (most recent call last):
    ...
    itsm_core.errors.InvalidValueError: category: expected a category of service 'kiosk' \
(paper jam, screen), got 'mailbox'
    >>> catalog.check(service="kisok", category=None, field="command.")
    Traceback (most recent call last):
    ...
    itsm_core.errors.InvalidValueError: command.service: expected a service of the catalog \
(kiosk, email), got 'kisok'
    """

    services: tuple[Service, ...] = attrs.field(default=(), converter=_services)

    def service(self, name: str) -> Service | None:
        """The service called ``name``, ``None`` when the catalog has none."""
        for service in self.services:
            if service.name == name:
                return service
        return None

    def check(
        self,
        *,
        service: object,
        category: object,
        component: object = None,
        field: str = "",
    ) -> None:
        """Raise naming ``{field}service``, ``{field}category`` or ``{field}component`` if the
        classification is not in the catalog (``None`` is always allowed)."""
        found: Service | None = None
        if service is not None:
            found = self.service(service) if isinstance(service, str) else None
            if found is None:
                known = ", ".join(s.name for s in self.services) or "none"
                raise InvalidValueError(
                    f"{field}service", service, f"a service of the catalog ({known})"
                )
        if category is not None:
            if found is not None:
                if category not in found.categories:
                    known = ", ".join(found.categories) or "none"
                    raise InvalidValueError(
                        f"{field}category",
                        category,
                        f"a category of service {found.name!r} ({known})",
                    )
            elif not any(category in s.categories for s in self.services):
                known = ", ".join(sorted({c for s in self.services for c in s.categories}))
                raise InvalidValueError(
                    f"{field}category", category, f"a category of the catalog ({known or 'none'})"
                )
        if component is not None and (found is None or component not in found.components):
            where = f"service {found.name!r}" if found is not None else "the ticket's service"
            raise InvalidValueError(f"{field}component", component, f"a component of {where}")
