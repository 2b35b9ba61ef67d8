"""How flags reach the resolver: argparse actions that remember the user's spelling.

Every validation error names a setting as the user wrote it (``--enrichment-workers``
rather than ``--enrich-workers``), so the actions record the flag they were called
for next to the value, and :func:`split_given` reads both back, from an
``argparse.Namespace`` or from a plain mapping (tests, the dashboard, scripts).
"""

from __future__ import annotations

import argparse
from collections.abc import Mapping, Sequence
from typing import Any

#: Namespace attribute prefix under which the actions record how a flag was spelled.
FLAG_NAME_PREFIX = "_flag__"
#: In a mapping given to the resolver: setting name -> the flag's spelling.
FLAG_NAMES_KEY = "_flag_names"


class StoreFlag(argparse.Action):
    """Store a value and remember how the user spelled the flag (for error messages)."""

    def __call__(self, parser: argparse.ArgumentParser, namespace: argparse.Namespace,
                 values: Any, option_string: str | None = None) -> None:
        if self.nargs == 0:  # a switch: its value is its constant
            values = self.const
        if getattr(self, "append", False):
            items = list(getattr(namespace, self.dest, None) or [])
            items.append(values)
            values = items
        setattr(namespace, self.dest, values)
        # One attribute per setting (not one dict): a subcommand's namespace is copied
        # attribute by attribute over the main one, and a dict would be replaced whole.
        setattr(namespace, f"{FLAG_NAME_PREFIX}{self.dest}", option_string or self.dest)


class StoreSwitch(StoreFlag):
    """A flag without a value: stores its constant (``--demo`` True, ``--no-demo`` False)."""

    def __init__(self, option_strings: Sequence[str], dest: str, const: Any = None, **kwargs: Any) -> None:
        super().__init__(option_strings, dest, nargs=0, const=const, **kwargs)


class AppendFlag(StoreFlag):
    """A repeatable flag (``--library A --library B``)."""

    append = True


def split_given(args: Any) -> tuple[dict[str, Any], dict[str, str]]:
    """``(values, spellings)`` from a parsed namespace or a mapping, each keyed by setting name.

    ``values`` holds everything in ``args`` except the spelling records; the
    caller keeps the keys it knows.
    """
    if args is None:
        given: dict[str, Any] = {}
    elif isinstance(args, Mapping):
        given = dict(args)
    else:
        given = dict(vars(args))
    spellings: dict[str, str] = dict(given.pop(FLAG_NAMES_KEY, None) or {})
    spellings.update(
        {k[len(FLAG_NAME_PREFIX):]: str(v) for k, v in given.items() if k.startswith(FLAG_NAME_PREFIX)}
    )
    values = {k: v for k, v in given.items() if not k.startswith(FLAG_NAME_PREFIX)}
    return values, spellings
