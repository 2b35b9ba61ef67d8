"""The run configuration: one typed, validated, frozen :class:`RunConfig`.

A RunConfig checks every value once, when it is built, against its setting in
:data:`~plex_loader_tui.config.settings.SETTINGS` (which is also where each
field's default comes from). It keeps, for every setting, a
:class:`Provenance`: the layer its value came from and the label a user
recognises (``--plex-url``, ``PLEX_URL``, ``profile /…/fast.toml key
stages.enrich.workers``, ``live setting enrich workers``), so that every error
names the setting as the user wrote it.
"""

from __future__ import annotations

import dataclasses
import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any

from plex_loader_tui.errors import ConfigError
from plex_loader_tui.stages import STAGE_NAMES

from .declaration import STAGE_FIELDS
from .settings import (
    DEMO_COLLECTION,
    EXCLUSIONS,
    SECRET_SETTINGS,
    SETTINGS,
    SETTINGS_BY_NAME,
    default_of,
    stage_setting,
)

#: The label of a value nobody set.
DEFAULT_ORIGIN = "default"


class Layer(enum.IntEnum):
    """Where a value came from; a higher layer overrides a lower one."""

    DEFAULT = 0
    PROFILE = 1
    ENV = 2
    FLAG = 3
    #: Changed in the dashboard during the session.
    LIVE = 4


@dataclass(frozen=True, slots=True)
class Provenance:
    """Where one setting's value came from.

    ``label`` is what users see in errors and in the dashboard; ``variable``
    is the environment variable the value was read from, when it was
    (directly, or named by a profile's ``<secret>_env`` key).
    """

    layer: Layer
    label: str
    variable: str | None = None

    @classmethod
    def default(cls) -> Provenance:
        return _DEFAULT

    @classmethod
    def flag(cls, spelling: str) -> Provenance:
        return cls(Layer.FLAG, spelling)

    @classmethod
    def env(cls, variable: str) -> Provenance:
        return cls(Layer.ENV, variable, variable)

    @classmethod
    def profile(cls, path: Path, key: str) -> Provenance:
        return cls(Layer.PROFILE, f"profile {path} key {key}")

    @classmethod
    def named_by_profile(cls, variable: str, path: Path, key: str) -> Provenance:
        """A secret read from the variable that a profile's ``<secret>_env`` key names."""
        return cls(Layer.PROFILE, f"{variable} (named by profile {path} key {key})", variable)

    @classmethod
    def live(cls, words: str) -> Provenance:
        return cls(Layer.LIVE, f"live setting {words}")


_DEFAULT = Provenance(Layer.DEFAULT, DEFAULT_ORIGIN)


@dataclass(frozen=True, slots=True)
class StageConfig:
    """Worker count and batch size of one pipeline stage."""

    workers: int
    batch_size: int


def default_stages() -> Mapping[str, StageConfig]:
    """Every stage's default worker count and batch size (from the settings table)."""
    return MappingProxyType({
        stage: StageConfig(**{f: stage_setting(stage, f).default for f in STAGE_FIELDS}) for stage in STAGE_NAMES
    })


#: Default worker count and batch size per stage (ingest batch = Plex page size).
DEFAULT_STAGES: Mapping[str, StageConfig] = default_stages()


@dataclass(frozen=True, slots=True)
class RunConfig:
    """Everything one run needs to know, validated; build it with ``resolve_config``.

    Constructing it directly (tests, the dashboard) also validates every
    value. Secrets are masked in ``repr()`` and in :meth:`masked`. Every
    default is its setting's default in ``SETTINGS``.
    """

    # Source
    plex_url: str | None = default_of("plex_url")
    plex_token: str | None = default_of("plex_token")
    libraries: tuple[str, ...] = default_of("libraries")
    plex_timeout: float = default_of("plex_timeout")
    demo: bool = default_of("demo")
    demo_items: int = default_of("demo_items")
    demo_seed: int = default_of("demo_seed")
    demo_latency_ms: int = default_of("demo_latency_ms")
    demo_churn: int = default_of("demo_churn")
    # Enrichment
    tmdb_api_key: str | None = default_of("tmdb_api_key")
    tmdb_base_url: str = default_of("tmdb_base_url")
    imdb_base_url: str = default_of("imdb_base_url")
    tmdb_rate: float = default_of("tmdb_rate")
    imdb_rate: float = default_of("imdb_rate")
    http_timeout: float = default_of("http_timeout")
    cache_ttl_days: int = default_of("cache_ttl_days")
    # Target
    qdrant_path: Path | None = default_of("qdrant_path")
    embedded_store: str = default_of("embedded_store")
    qdrant_url: str | None = default_of("qdrant_url")
    qdrant_api_key: str | None = default_of("qdrant_api_key")
    qdrant_grpc: bool = default_of("qdrant_grpc")
    collection: str = default_of("collection")
    # Models
    dense_model: str = default_of("dense_model")
    sparse_model: str = default_of("sparse_model")
    onnx_threads: int | None = default_of("onnx_threads")
    model_build: str = default_of("model_build")
    device: str = default_of("device")
    # Stages
    stages: Mapping[str, StageConfig] = field(default_factory=default_stages)
    queue_size: int = default_of("queue_size")
    # Run
    no_ui: bool = default_of("no_ui")
    full: bool = default_of("full")
    no_delete: bool = default_of("no_delete")
    allow_mass_delete: bool = default_of("allow_mass_delete")
    reset_state: bool = default_of("reset_state")
    retry_failed: bool = default_of("retry_failed")
    data_dir: Path = field(default_factory=SETTINGS_BY_NAME["data_dir"].computed_default)
    config_dir: Path = field(default_factory=SETTINGS_BY_NAME["config_dir"].computed_default)
    profile: str | None = default_of("profile")
    theme: str | None = default_of("theme")
    # Output
    summary_json: Path | None = default_of("summary_json")
    progress_interval: float = default_of("progress_interval")
    log_level: str = default_of("log_level")
    log_file: Path | None = default_of("log_file")
    # Service (serve)
    listen: str = default_of("listen")
    tls_cert: Path | None = default_of("tls_cert")
    tls_key: Path | None = default_of("tls_key")
    metrics_public: bool = default_of("metrics_public")
    allow_insecure_listen: bool = default_of("allow_insecure_listen")
    sync_interval: float = default_of("sync_interval")
    #: setting name -> where its value came from (absent: a default).
    provenance: Mapping[str, Provenance] = field(
        default_factory=lambda: MappingProxyType({}), compare=False, repr=False
    )

    def __post_init__(self) -> None:
        # Freeze the mappings so a shared config cannot be changed behind the engine's back.
        object.__setattr__(self, "stages", MappingProxyType(dict(self.stages)))
        object.__setattr__(self, "provenance", MappingProxyType(dict(self.provenance)))
        self._choose_demo_collection()
        missing = [s for s in STAGE_NAMES if s not in self.stages]
        unknown = [s for s in self.stages if s not in STAGE_NAMES]
        if missing or unknown:
            raise ConfigError(
                f"stages: expected exactly {', '.join(STAGE_NAMES)}; "
                f"missing {missing or 'none'}, unknown {unknown or 'none'}"
            )
        # The one place values are checked against their settings' kinds and bounds.
        for spec in SETTINGS:
            problem = spec.problem(self.setting_value(spec.name))
            if problem:
                raise ConfigError(f"{self.origin(spec.name, spec.name)}: {problem}")
        for exclusion in EXCLUSIONS:
            if exclusion.clash(getattr(self, exclusion.first), getattr(self, exclusion.second)):
                raise ConfigError(
                    f"{self.origin(exclusion.first)} and {self.origin(exclusion.second)}: {exclusion.why}, not both"
                )

    def _choose_demo_collection(self) -> None:
        """A demo load writes its own collection, unless one was named (flag, env, profile).

        Decided on every construction, both ways (``--no-demo`` from a profile loaded
        later, ``dataclasses.replace``), and only for a collection nobody named.
        """
        default = SETTINGS_BY_NAME["collection"].default
        if not self.given("collection") and self.collection in (default, DEMO_COLLECTION):
            object.__setattr__(self, "collection", DEMO_COLLECTION if self.demo else default)

    # -- where values came from ----------------------------------------------

    def provenance_of(self, name: str) -> Provenance:
        """Where the value of setting ``name`` came from (a default when not recorded)."""
        return self.provenance.get(name, _DEFAULT)

    @property
    def origins(self) -> Mapping[str, str]:
        """setting name -> the label of where its value came from (``--plex-url``, ``PLEX_URL``, …)."""
        return MappingProxyType({name: p.label for name, p in self.provenance.items()})

    def given(self, name: str) -> bool:
        """Whether setting ``name`` was set anywhere (not a built-in default)."""
        return self.provenance_of(name).layer is not Layer.DEFAULT

    def origin(self, name: str, fallback: str | None = None) -> str:
        """Where the value of setting ``name`` came from, as the user would write it."""
        if self.given(name):
            return self.provenance_of(name).label
        if fallback is not None:
            return fallback
        spec = SETTINGS_BY_NAME.get(name)
        if spec is not None and spec.flags:
            return spec.flags[0]
        return name

    # -- display -------------------------------------------------------------

    def __repr__(self) -> str:
        parts = []
        for f in dataclasses.fields(self):
            if f.name == "provenance":
                continue
            value = getattr(self, f.name)
            if f.name == "stages":
                value = dict(value)
            else:
                value = SETTINGS_BY_NAME[f.name].shown(value)
            parts.append(f"{f.name}={value!r}")
        return f"RunConfig({', '.join(parts)})"

    def masked(self) -> dict[str, Any]:
        """A JSON-ready dict of every setting, secrets masked, for display and summaries."""
        out: dict[str, Any] = {}
        for f in dataclasses.fields(self):
            if f.name == "provenance":
                continue
            value = getattr(self, f.name)
            if f.name == "stages":
                value = {name: dataclasses.asdict(cfg) for name, cfg in value.items()}
            else:
                value = SETTINGS_BY_NAME[f.name].shown(value)
            if isinstance(value, Path):
                value = str(value)
            elif isinstance(value, tuple):
                value = list(value)
            out[f.name] = value
        out["qdrant_location"] = self.qdrant_location
        return out

    def secret_values(self) -> tuple[str, ...]:
        """The configured secrets, for log redaction."""
        return tuple(v for v in (getattr(self, n) for n in SECRET_SETTINGS) if v)

    # -- derived values ------------------------------------------------------

    def stage(self, name: str) -> StageConfig:
        """The worker count and batch size of stage ``name``."""
        try:
            return self.stages[name]
        except KeyError:
            raise KeyError(f"unknown stage {name!r} (stages: {', '.join(STAGE_NAMES)})") from None

    def setting_value(self, name: str) -> Any:
        """The value of setting ``name`` (stage settings included, e.g. ``enrich_workers``)."""
        key = SETTINGS_BY_NAME[name].stage_key
        if key is not None:
            return getattr(self.stages[key.stage], key.field)
        return getattr(self, name)

    @property
    def effective_qdrant_path(self) -> Path | None:
        """The embedded Qdrant folder, or None when a Qdrant URL is configured."""
        if self.qdrant_url is not None:
            return None
        return self.qdrant_path if self.qdrant_path is not None else self.data_dir / "qdrant"

    @property
    def qdrant_location(self) -> str:
        """The Qdrant target for display: the URL (masked) or the local path."""
        if self.qdrant_url is not None:
            return SETTINGS_BY_NAME["qdrant_url"].shown(self.qdrant_url)
        return str(self.effective_qdrant_path)

    # -- changes ---------------------------------------------------------------

    def with_stage(
        self, name: str, *, workers: int | None = None, batch_size: int | None = None
    ) -> RunConfig:
        """A copy with stage ``name`` retuned (validated); used for live-tuned values."""
        current = self.stage(name)
        changes = {f: v for f, v in (("workers", workers), ("batch_size", batch_size)) if v is not None}
        stages = dict(self.stages)
        stages[name] = dataclasses.replace(current, **changes)
        provenance = dict(self.provenance)
        for field_name in changes:
            key = stage_setting(name, field_name).stage_key
            assert key is not None
            provenance[key.setting_name] = Provenance.live(key.words)
        return dataclasses.replace(self, stages=stages, provenance=provenance)
