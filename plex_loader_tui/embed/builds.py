"""Which ONNX build of the bundled dense model runs on this CPU, and making the fp32 one.

The bundled bge-small export is dynamically quantized int8. The *same
weights* as an fp32 graph (:mod:`.dequantize`) embed with float activations:
better retrieval, and on some CPUs faster. :func:`choose_build` picks one from
the ``--model-build`` setting and the CPU's instruction set;
:func:`fp32_model_dir` builds the fp32 graph once into the model cache and
checks it by hash every start after.
"""

from __future__ import annotations

import hashlib
import json
import logging
import shutil
from dataclasses import dataclass
from pathlib import Path

from ..config.settings import SETTINGS_BY_NAME
from .dequantize import DequantizeError, dequantize_matmuls

logger = logging.getLogger(__name__)

INT8 = "int8"
FP32 = "fp32"
AUTO = "auto"
#: The values of ``--model-build`` (declared with the setting).
BUILDS: tuple[str, ...] = SETTINGS_BY_NAME["model_build"].choices

#: Files fastembed reads from a model folder besides ``model.onnx``.
TOKENIZER_FILES = ("tokenizer.json", "tokenizer_config.json", "config.json", "special_tokens_map.json", "vocab.txt")
_MANIFEST = "build.json"
#: Bump when :func:`dequantize_matmuls` changes what it writes: older cached builds are rebuilt.
_REWRITE_VERSION = 1


class ModelBuildError(RuntimeError):
    """The fp32 build could not be made or verified."""


@dataclass(frozen=True, slots=True)
class CpuFeatures:
    """The instruction-set extensions that decide which build is faster."""

    avx2: bool = False
    avx512: bool = False
    vnni: bool = False  # AVX-512 VNNI or AVX-VNNI: int8 dot products in one instruction

    def __str__(self) -> str:
        names = [n for n, on in (("AVX2", self.avx2), ("AVX-512", self.avx512), ("VNNI", self.vnni)) if on]
        return "+".join(names) or "no AVX2"


def cpu_features(cpuinfo: Path = Path("/proc/cpuinfo")) -> CpuFeatures:
    """Read the CPU flags (Linux); an unreadable file reads as a CPU without them."""
    try:
        text = cpuinfo.read_text(errors="replace")
    except OSError:
        return CpuFeatures()
    for line in text.splitlines():
        if line.startswith("flags"):
            flags = set(line.partition(":")[2].split())
            return CpuFeatures(
                avx2="avx2" in flags,
                avx512="avx512f" in flags,
                vnni=bool({"avx512_vnni", "avx_vnni"} & flags),
            )
    return CpuFeatures()


@dataclass(frozen=True, slots=True)
class BuildChoice:
    """The build that runs, and why (for the log and the summary)."""

    build: str
    reason: str


def choose_build(requested: str, cpu: CpuFeatures) -> BuildChoice:
    """The dense build for ``requested`` (``auto``, ``int8`` or ``fp32``) on ``cpu``.

    ``auto`` keeps int8 unless fp32 was *measured* faster on this kind of CPU
    (``bench/bench_embed_ceiling.py``; figures in the README). fp32 retrieves
    better, but with VNNI (int8 dot products in one instruction) int8 takes
    half its CPU time. No CPU without VNNI has been measured yet, so int8
    stays there too; ``--model-build fp32`` is one flag away.
    """
    if requested not in BUILDS:
        raise ValueError(f"model build must be one of {', '.join(BUILDS)} (got {requested!r})")
    if requested != AUTO:
        return BuildChoice(requested, f"--model-build {requested} on a {cpu} CPU")
    if cpu.vnni:
        return BuildChoice(INT8, f"auto on a {cpu} CPU: int8 measured 2x faster than fp32 with VNNI")
    return BuildChoice(INT8, f"auto on a {cpu} CPU: int8 as shipped (fp32 not measured faster without VNNI)")


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def fp32_model_dir(source_dir: Path, cache_root: Path) -> Path:
    """A folder with the fp32 build of the model in ``source_dir``, made once under ``cache_root``.

    The folder is named after the source model's hash, so a new source gets
    a new build. Its manifest records the built file's hash; a file that no
    longer matches it (a partial write, a disk error, an edit) is rebuilt.
    """
    source = source_dir / "model.onnx"
    source_hash = file_sha256(source)
    folder = cache_root / f"bge-small-en-v1.5-fp32-{source_hash[:16]}-r{_REWRITE_VERSION}"
    manifest = folder / _MANIFEST
    model = folder / "model.onnx"
    if manifest.is_file() and model.is_file():
        try:
            recorded = json.loads(manifest.read_text())["model_sha256"]
        except (ValueError, KeyError, TypeError):
            recorded = None
        if recorded == file_sha256(model):
            return folder
        logger.warning("the cached fp32 model in %s does not match its recorded hash: building it again", folder)
    logger.info("building the fp32 graph of %s into %s (once)", source, folder)
    staging = folder.with_name(folder.name + ".partial")
    shutil.rmtree(staging, ignore_errors=True)
    try:
        staging.mkdir(parents=True)
        count = dequantize_matmuls(source, staging / "model.onnx")
        for name in TOKENIZER_FILES:
            if (source_dir / name).is_file():
                shutil.copy2(source_dir / name, staging / name)
        (staging / _MANIFEST).write_text(json.dumps({
            "source_sha256": source_hash,
            "model_sha256": file_sha256(staging / "model.onnx"),
            "rewritten_matmuls": count,
            "rewrite_version": _REWRITE_VERSION,
        }, indent=2))
        shutil.rmtree(folder, ignore_errors=True)
        staging.rename(folder)  # whole folder at once: a killed build leaves only the .partial
    except (OSError, DequantizeError) as exc:
        shutil.rmtree(staging, ignore_errors=True)
        raise ModelBuildError(f"cannot build the fp32 model in {cache_root}: {exc}") from exc
    return folder
