"""The kinds of setting: one small class per kind of value a setting holds.

A :class:`~plex_loader_tui.config.declaration.Setting` declares how a setting
is spelled; its kind (a subclass here) says what its value means: how text
from a flag or a variable becomes a typed value, how a value is read from a
profile file, what makes a value invalid, how it is shown without leaking a
secret, how it becomes an ``argparse`` option and what a dashboard input
widget needs to edit it. No code elsewhere branches on a setting's kind.
"""

from __future__ import annotations

import argparse
import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar
from urllib.parse import parse_qsl, urlsplit

from plex_loader_tui.secrets import SECRET_QUERY_KEYS, mask, mask_url

from .declaration import InputSpec, Setting, wrong_type
from .flags import AppendFlag, StoreSwitch

_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
_TRUE = frozenset({"1", "true", "yes", "on"})
_FALSE = frozenset({"0", "false", "no", "off"})

# Methods name their base class instead of calling super(): a slotted dataclass is
# rebuilt as a new class, which breaks the zero-argument super() of Python < 3.14.


# --------------------------------------------------------------------------
# Text kinds
# --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class StrSetting(Setting):
    """Free text that must not be blank (a model name, a theme)."""

    def _problem(self, value: Any) -> str | None:
        return "must not be empty" if not value.strip() else None


@dataclass(frozen=True, slots=True)
class SecretSetting(StrSetting):
    """A credential: taken exactly as given, masked wherever it is shown."""

    secret: ClassVar[bool] = True

    def parse_text(self, text: str) -> Any:
        return text

    def shown(self, value: Any) -> Any:
        return mask(value) if value else value

    def input_spec(self) -> InputSpec:
        return InputSpec(password=True)


@dataclass(frozen=True, slots=True)
class NameSetting(Setting):
    """A collection or profile name: letters, digits, ``.``, ``_`` and ``-``, at most ``max_length``."""

    #: Qdrant refuses longer collection names, and embedded Qdrant makes a folder of
    #: the name (255 bytes is also most file systems' limit for one name).
    max_length: int = 255

    def _problem(self, value: Any) -> str | None:
        if len(value) > self.max_length:
            # Not echoed: a name this long is a mistake, and would bury the message.
            return f"is {len(value)} characters long; a name has at most {self.max_length}"
        if not _NAME_RE.match(value):
            return (
                f"{value!r} is not a valid name "
                "(letters, digits, '.', '_' and '-', starting with a letter or digit)"
            )
        return None


@dataclass(frozen=True, slots=True)
class ChoiceSetting(Setting):
    """One of a few words (a log level in upper case, an engine in lower case); given in any case."""

    choices: tuple[str, ...] = ()
    upper: bool = True

    def _case(self, text: str) -> str:
        return text.upper() if self.upper else text.lower()

    def parse_text(self, text: str) -> Any:
        return self._case(text.strip())

    def parse_toml(self, value: Any) -> Any:
        return self._case(str(Setting.parse_toml(self, value)))

    def _problem(self, value: Any) -> str | None:
        if value not in self.choices:
            return f"must be one of {', '.join(self.choices)}, got {value!r}"
        return None

    def input_spec(self) -> InputSpec:
        return InputSpec(widget="select", choices=self.choices)


@dataclass(frozen=True, slots=True)
class WordSetting(ChoiceSetting):
    """One of a few lower-case words (a device); given in any case."""

    def parse_text(self, text: str) -> Any:
        return text.strip().lower()

    def parse_toml(self, value: Any) -> Any:
        return str(Setting.parse_toml(self, value)).lower()


@dataclass(frozen=True, slots=True)
class UrlSetting(Setting):
    """An http(s) URL that carries no credential (the credential has a setting of its own).

    ``credential_home`` tells the user where the credential goes instead.
    """

    credential_home: str = "remove it from the URL"

    def _problem(self, value: Any) -> str | None:
        credential = self._credential_problem(value)
        if credential:
            return credential
        if "#" in value:
            # Never sent to a server, so only good for smuggling a token into our output.
            return "has a fragment (#****); remove it and everything after the #"
        try:
            parts = urlsplit(value)
            port = parts.port  # raises ValueError for a port that is not a number
        except ValueError:
            return f"is not a valid URL: {mask_url(value)!r}"
        if parts.scheme not in ("http", "https") or not parts.hostname:
            return (
                f"is not a valid URL: {mask_url(value)!r} "
                "(expected http:// or https:// followed by a host)"
            )
        if port is not None and not 0 < port < 65536:
            return f"has an invalid port in {mask_url(value)!r}"
        return None

    def _credential_problem(self, value: str) -> str | None:
        """Say that a URL carries a credential, naming where it is but never its value.

        Users paste ``http://h:32400/?X-Plex-Token=…`` from Plex's web app; such a
        URL would travel into logs, summaries and the dashboard header, so it is
        refused and the secret is sent to its own, masked, setting instead.
        """
        try:
            parts = urlsplit(value)
        except ValueError:
            return None
        where = ""
        if "@" in parts.netloc:
            where = "****@ before the host"
        else:
            for key, _ in parse_qsl(parts.query, keep_blank_values=True):
                if key.lower() in SECRET_QUERY_KEYS:
                    where = f"{key}=****"
                    break
        if not where:
            return None
        return f"holds a credential ({where}); {self.credential_home}"

    def shown(self, value: Any) -> Any:
        return mask_url(value) if value else value


@dataclass(frozen=True, slots=True)
class PathSetting(Setting):
    """A file or folder; ``~`` is expanded.

    A path whose default depends on the machine (the platformdirs folders) has
    ``default=None`` and a ``fallback`` that computes it when nothing is given;
    ``fallback_help`` describes it in ``--help`` (else the computed path is shown).
    """

    fallback: Callable[[], Path] | None = None
    fallback_help: str | None = None

    def parse_text(self, text: str) -> Any:
        stripped = text.strip()
        if not stripped:
            raise ValueError("must not be empty")
        return Path(stripped).expanduser()

    def parse_toml(self, value: Any) -> Any:
        return Path(str(Setting.parse_toml(self, value))).expanduser()

    @property
    def default_is_computed(self) -> bool:
        return self.fallback is not None

    def computed_default(self) -> Any:
        return self.fallback() if self.fallback is not None else None

    def default_text(self) -> str:
        if self.fallback is not None:
            return self.fallback_help or str(self.fallback())
        return Setting.default_text(self)


@dataclass(frozen=True, slots=True)
class StrListSetting(Setting):
    """Several names: a repeatable flag, a comma-separated variable, a TOML list."""

    def parse_text(self, text: str) -> Any:
        return tuple(part.strip() for part in text.split(",") if part.strip())

    def parse_toml(self, value: Any) -> Any:
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise wrong_type("a list of strings", value)
        return tuple(str(v).strip() for v in value)

    def _problem(self, value: Any) -> str | None:
        return "contains an empty name" if any(not item.strip() for item in value) else None

    def add_to(self, group: argparse._ArgumentGroup) -> None:
        if self.flags:
            group.add_argument(*self.flags, dest=self.name, action=AppendFlag, default=argparse.SUPPRESS,
                               metavar=self.metavar or self.name.upper(), help=self.help_text())


@dataclass(frozen=True, slots=True)
class BoolSetting(Setting):
    """A switch: ``--flag`` turns it on, its ``neg_flags`` off; variables say true or false."""

    takes_neg_flags: ClassVar[bool] = True

    def parse_text(self, text: str) -> Any:
        lowered = text.strip().lower()
        if lowered in _TRUE:
            return True
        if lowered in _FALSE:
            return False
        raise ValueError(f"expected true or false (1/0, yes/no, on/off), got {text!r}")

    def parse_toml(self, value: Any) -> Any:
        if not isinstance(value, bool):
            raise wrong_type("true or false", value)
        return value

    def default_text(self) -> str:
        return "on" if self.default else "off"

    def add_to(self, group: argparse._ArgumentGroup) -> None:
        if not self.flags:
            return
        group.add_argument(*self.flags, dest=self.name, action=StoreSwitch, const=True,
                           default=argparse.SUPPRESS, help=self.help_text())
        if self.neg_flags:
            group.add_argument(*self.neg_flags, dest=self.name, action=StoreSwitch, const=False,
                               default=argparse.SUPPRESS, help=argparse.SUPPRESS)

    def input_spec(self) -> InputSpec:
        return InputSpec(widget="switch")


# --------------------------------------------------------------------------
# Numbers
# --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Bounded(Setting):
    """A number between ``minimum`` (exclusive with ``exclusive_minimum``) and ``maximum``."""

    minimum: float | None = None
    maximum: float | None = None
    exclusive_minimum: bool = False

    def _problem(self, value: Any) -> str | None:
        low, high = self.minimum, self.maximum
        too_low = low is not None and (value <= low if self.exclusive_minimum else value < low)
        too_high = high is not None and value > high
        if not (too_low or too_high):
            return None
        shown = f"{value:g}" if isinstance(value, float) else str(value)
        if self.exclusive_minimum:
            limit = f"greater than {low:g}" + (f" and at most {high:g}" if high is not None else "")
            return f"must be {limit}, got {shown}"
        if high is None:
            return f"must be at least {low:g}, got {shown}"
        return f"must be between {low:g} and {high:g}, got {shown}"


@dataclass(frozen=True, slots=True)
class IntSetting(_Bounded):
    """A whole number within bounds (workers, batch sizes, days)."""

    def parse_text(self, text: str) -> Any:
        try:
            return int(text.strip())
        except ValueError:
            raise ValueError(f"expected a whole number, got {text!r}") from None

    def parse_toml(self, value: Any) -> Any:
        if isinstance(value, bool) or not isinstance(value, int):
            raise wrong_type("an integer", value)
        return int(value)

    def input_spec(self) -> InputSpec:
        return InputSpec(input_type="integer", minimum=self.minimum, maximum=self.maximum)


@dataclass(frozen=True, slots=True)
class OptIntSetting(IntSetting):
    """A whole number, or ``auto`` (None) to let the library choose."""

    def parse_text(self, text: str) -> Any:
        if text.strip().lower() == "auto":
            return None
        return IntSetting.parse_text(self, text)

    def parse_toml(self, value: Any) -> Any:
        if isinstance(value, str) and value.strip().lower() == "auto":
            return None
        if isinstance(value, bool) or not isinstance(value, int):
            raise wrong_type('an integer or "auto"', value)
        return int(value)

    def to_toml(self, value: Any) -> Any:
        return "auto" if value is None else IntSetting.to_toml(self, value)

    def default_text(self) -> str:
        return "auto" if self.default is None else IntSetting.default_text(self)


@dataclass(frozen=True, slots=True)
class FloatSetting(_Bounded):
    """A finite number within bounds (rates, timeouts)."""

    def parse_text(self, text: str) -> Any:
        try:
            number = float(text.strip())
        except ValueError:
            raise ValueError(f"expected a number, got {text!r}") from None
        if not math.isfinite(number):
            raise ValueError(f"expected a finite number, got {text!r}")
        return number

    def parse_toml(self, value: Any) -> Any:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise wrong_type("a number", value)
        if not math.isfinite(value):
            raise ValueError(f"expected a finite number, got {value!r}")
        return float(value)

    def default_text(self) -> str:
        return f"{self.default:g}" if isinstance(self.default, float) else str(self.default)

    def input_spec(self) -> InputSpec:
        return InputSpec(input_type="number", minimum=self.minimum, maximum=self.maximum)
