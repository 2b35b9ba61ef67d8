"""The declaration of one setting: how it is spelled, where it lives, what it accepts.

:class:`Setting` is the base of every kind of setting
(:mod:`plex_loader_tui.config.kinds`): it holds the spellings (flags,
environment variables, profile key) and the default, and implements what all
kinds share — the ``--help`` line, the ``argparse`` option, the profile
value. A kind overrides what is its own: parsing, checking, showing.

Every problem is reported as text without the setting's name (``"must be
between 1 and 64, got 0"``); the caller prefixes where the value came from.
"""

from __future__ import annotations

import argparse
from dataclasses import KW_ONLY, dataclass
from pathlib import Path
from typing import Any, ClassVar, Literal

from .flags import StoreFlag

#: The fields of a stage's settings, in the order the help and profiles list them.
STAGE_FIELDS: tuple[str, ...] = ("workers", "batch_size")


@dataclass(frozen=True, slots=True)
class StageKey:
    """Where a stage setting lives: ``RunConfig.stages[stage].<field>``.

    The one declaration of how the flat name (``embed_batch_size``), the
    nested place (``stages["embed"].batch_size``) and the profile key
    (``stages.embed.batch_size``) of a stage setting relate.
    """

    stage: str
    field: str

    @property
    def setting_name(self) -> str:
        """The flat setting name, e.g. ``embed_batch_size``."""
        return f"{self.stage}_{self.field}"

    @property
    def profile_key(self) -> str:
        """The dotted key in a profile file, e.g. ``stages.embed.batch_size``."""
        return f"stages.{self.stage}.{self.field}"

    @property
    def words(self) -> str:
        """How the dashboard names it, e.g. ``embed batch size``."""
        return f"{self.stage} {self.field.replace('_', ' ')}"


@dataclass(frozen=True, slots=True)
class InputSpec:
    """What a dashboard widget needs to edit a setting.

    ``widget`` is ``input`` (a Textual ``Input`` of type ``input_type``),
    ``switch`` or ``select`` (one of ``choices``).
    """

    widget: Literal["input", "switch", "select"] = "input"
    input_type: Literal["integer", "number", "text"] = "text"
    minimum: float | None = None
    maximum: float | None = None
    password: bool = False
    choices: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Setting:
    """The declaration of one setting; subclasses are its kind (see the module docstring).

    ``neg_flags`` (switches only) set the value back to off; ``in_profile``
    says whether a profile file may hold it; ``stage_key`` places a stage
    setting in ``RunConfig.stages``.
    """

    name: str
    default: Any
    group: str
    help: str
    _: KW_ONLY
    flags: tuple[str, ...] = ()
    neg_flags: tuple[str, ...] = ()
    env: tuple[str, ...] = ()
    in_profile: bool = True
    metavar: str | None = None
    stage_key: StageKey | None = None

    #: A credential: masked wherever it is shown, never written to a profile file.
    secret: ClassVar[bool] = False
    #: Only switches can be undone by a flag of their own.
    takes_neg_flags: ClassVar[bool] = False

    def __post_init__(self) -> None:
        if self.neg_flags and not self.takes_neg_flags:
            raise TypeError(f"{self.name}: only a switch has undo flags")

    # -- where it lives ------------------------------------------------------

    @property
    def stage(self) -> str | None:
        """The stage a ``<stage>_workers`` / ``<stage>_batch_size`` setting belongs to."""
        return self.stage_key.stage if self.stage_key is not None else None

    @property
    def profile_key(self) -> str:
        """The dotted key of this setting in a profile file."""
        return self.stage_key.profile_key if self.stage_key is not None else self.name

    # -- values --------------------------------------------------------------

    def parse_text(self, text: str) -> Any:
        """The typed value of a flag's or environment variable's text.

        Raises ``ValueError`` with the problem (without the setting's name).
        """
        return text.strip()

    def from_flag(self, raw: Any) -> Any:
        """The typed value of what argparse (or a caller's mapping) holds for this setting."""
        if isinstance(raw, bool) or raw is None:
            return raw
        if isinstance(raw, (list, tuple)):  # a repeatable flag (--library)
            return tuple(str(item).strip() for item in raw)
        return self.parse_text(str(raw))

    def parse_toml(self, value: Any) -> Any:
        """Type-check a value read from a profile file; return it typed.

        Raises ``ValueError`` with the problem (without the file or key).
        """
        if not isinstance(value, str):
            raise wrong_type("a string", value)
        return str(value)

    def to_toml(self, value: Any) -> Any:
        """The form of a typed value that goes into a profile file."""
        if isinstance(value, Path):
            return str(value)
        if isinstance(value, tuple):
            return list(value)
        return value

    def problem(self, value: Any) -> str | None:
        """What is wrong with the typed ``value``, or None; None is always accepted."""
        if value is None:
            return None
        return self._problem(value)

    def _problem(self, value: Any) -> str | None:
        return None

    @property
    def default_is_computed(self) -> bool:
        """Whether the default depends on the machine (a platformdirs folder)."""
        return False

    def computed_default(self) -> Any:
        """The value to use when nothing is given and the default is None."""
        return None

    def shown(self, value: Any) -> Any:
        """``value`` as it may be displayed or logged (secrets and URL credentials masked)."""
        return value

    # -- the command line and the dashboard ----------------------------------

    def default_text(self) -> str:
        """The default as ``--help`` shows it ("" to show none)."""
        if self.default in (None, ()):
            return ""
        return str(self.default)

    def help_text(self) -> str:
        """The ``--help`` line: the help, then the default, the variables and the undo flags."""
        extras = []
        default = self.default_text()
        if default:
            extras.append(f"default: {default}")
        if self.env:
            extras.append("env: " + " or ".join(self.env))
        if self.neg_flags:
            extras.append("undo: " + ", ".join(self.neg_flags))
        text = self.help + (f" ({'; '.join(extras)})" if extras else "")
        return text.replace("%", "%%")  # argparse %-formats help strings

    def add_to(self, group: argparse._ArgumentGroup) -> None:
        """Add this setting's flags to ``group`` (nothing when it has none).

        The parser's default is ``SUPPRESS``: only flags the user gave reach
        the namespace, so a flag that is not given never hides a profile or a
        variable.
        """
        if self.flags:
            group.add_argument(*self.flags, dest=self.name, action=StoreFlag, default=argparse.SUPPRESS,
                               metavar=self.metavar or self.name.upper(), help=self.help_text())

    def input_spec(self) -> InputSpec:
        """What a dashboard input widget needs to edit this setting."""
        return InputSpec()


def wrong_type(expected: str, value: Any) -> ValueError:
    """The problem of a profile value of the wrong type."""
    return ValueError(f"expected {expected}, got {type(value).__name__} {value!r}")
