"""Where the dense model runs: ``--device cpu|cuda|auto``.

``cpu`` (the default) never touches a GPU, even when one is present
(fastembed's own default would take CUDA whenever onnxruntime offers it).
``cuda`` needs the ``[gpu]`` extra (fastembed-gpu, which brings
onnxruntime-gpu) and a working CUDA provider; without it the run stops with
one line before any work. ``auto`` takes CUDA when the provider is there,
else the CPU.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from ..config.settings import SETTINGS_BY_NAME
from ..errors import ConfigError

CPU = "cpu"
CUDA = "cuda"
AUTO = "auto"
#: The values of ``--device`` (declared with the setting).
DEVICES: tuple[str, ...] = SETTINGS_BY_NAME["device"].choices

CPU_PROVIDER = "CPUExecutionProvider"
CUDA_PROVIDER = "CUDAExecutionProvider"


class DeviceUnavailable(ConfigError):
    """``--device cuda`` was asked for and this installation cannot run on a GPU."""


@dataclass(frozen=True, slots=True)
class DeviceChoice:
    """The device the dense model runs on and the onnxruntime providers that make it so."""

    device: str
    providers: tuple[str, ...]


def available_providers() -> list[str]:
    """The execution providers this onnxruntime offers."""
    import onnxruntime

    return list(onnxruntime.get_available_providers())


def select_device(requested: str, available: Sequence[str]) -> DeviceChoice:
    """Map ``--device`` to onnxruntime providers, given what onnxruntime offers.

    Raises :class:`DeviceUnavailable` for ``cuda`` without a CUDA provider.
    """
    if requested not in DEVICES:
        raise ConfigError(f"--device must be one of {', '.join(DEVICES)} (got {requested!r})")
    has_cuda = CUDA_PROVIDER in available
    if requested == CUDA and not has_cuda:
        raise DeviceUnavailable(
            "--device cuda: onnxruntime has no CUDAExecutionProvider here "
            f"(available: {', '.join(available) or 'none'}); install the GPU extra "
            "(pip install 'plex-loader-tui[gpu]', which brings fastembed-gpu and onnxruntime-gpu, "
            "in place of fastembed) on a machine with an NVIDIA GPU and CUDA, or use --device cpu"
        )
    if requested == CUDA or (requested == AUTO and has_cuda):
        # The CPU provider stays as the fallback for operators CUDA does not implement.
        return DeviceChoice(CUDA, (CUDA_PROVIDER, CPU_PROVIDER))
    return DeviceChoice(CPU, (CPU_PROVIDER,))
