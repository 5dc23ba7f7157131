"""Writers of frozen attrs records for values already checked (hot paths only).

A frozen slotted record takes a descriptor call per slot to write. A *draft* class
of the same layout is written by plain attribute stores, the interpreter's
cheapest write; assigning ``__class__`` then makes the draft the record (the
interpreter allows it between classes of one layout, and checks it). Where it
refuses, the writers call the slot descriptors instead: slower, same records.

Writers are straight-line functions generated once per use (as attrs generates
its own ``__init__``): no loop, no introspection and no validation.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

_new = object.__new__

_DRAFTS: dict[type, type | None] = {}


def draft_class(cls: type) -> type | None:
    """A mutable class with the layout of ``cls`` whose instances can be finished into
    ``cls``, or ``None`` where the interpreter refuses (or ``cls`` has a ``__dict__`` or
    weak-reference slot of its own)."""
    if cls in _DRAFTS:
        return _DRAFTS[cls]
    _DRAFTS[cls] = None
    slots = cls.__dict__.get("__slots__")
    if not isinstance(slots, tuple) or "__weakref__" in slots or "__dict__" in slots:
        return None
    namespace = {
        "__slots__": slots,
        # Both share the interpreter's attribute-setting slot: the frozen ones of a base
        # would route every store through Python code.
        "__setattr__": object.__setattr__,
        "__delattr__": object.__delattr__,
        "__module__": __name__,
    }
    draft = type(f"_{cls.__name__}Draft", cls.__bases__, namespace)
    try:
        probe: Any = _new(draft)
        probe.__class__ = cls
    except TypeError:  # pragma: no cover - an interpreter without layout-compatible classes
        return None
    _DRAFTS[cls] = draft
    return draft


def record_writer(
    cls: type,
    args: Sequence[str],
    values: Mapping[str, str],
    constants: Mapping[str, Any] | None = None,
    *,
    finish: bool = True,
    label: str = "writer",
) -> Callable[..., Any]:
    """A function of ``args`` that makes a new ``cls`` record and writes its slots.

    ``values`` maps each slot to write to a Python expression (of ``args`` and of
    ``constants``). With ``finish=False`` it returns the draft (unset slots may still
    be written with ``object.__setattr__``); :func:`finisher` makes it the record.

    >>> import attrs
    >>> @attrs.frozen
    ... class Pair:
    ...     left: int
    ...     right: int
    >>> swap = record_writer(Pair, ["old"], {"left": "old.right", "right": "old.left"})
    >>> swap(Pair(left=1, right=2))
    Pair(left=2, right=1)
    """
    namespace: dict[str, Any] = {"_new": _new, "cls": cls, **(constants or {})}
    draft = draft_class(cls)
    if draft is None:
        lines = ["    record = _new(cls)"]
        for index, (name, expression) in enumerate(values.items()):
            namespace[f"put_{index}"] = getattr(cls, name).__set__
            lines.append(f"    put_{index}(record, {expression})")
    else:
        namespace["draft"] = draft
        lines = ["    record = _new(draft)"]
        lines += [f"    record.{name} = {expression}" for name, expression in values.items()]
        if finish:
            lines.append("    record.__class__ = cls")
    source = f"def write({', '.join(args)}):\n" + "\n".join(lines) + "\n    return record\n"
    exec(compile(source, f"<{label} of {cls.__qualname__}>", "exec"), namespace)
    write: Callable[..., Any] = namespace["write"]
    return write


def finisher(cls: type) -> Callable[[Any], Any]:
    """What turns a draft of ``cls`` (``finish=False``) into the record (or the identity)."""
    if draft_class(cls) is None:  # pragma: no cover - see draft_class
        return lambda record: record

    def finish(record: Any) -> Any:
        record.__class__ = cls
        return record

    return finish
