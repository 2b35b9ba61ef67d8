"""The dense model's runtime: the device (--device), the ONNX build (--model-build), sorting by length.

The build and device choices are pure functions of what the machine has, so
they are tested on their own (a GPU cannot be tested here); the fp32 build is
made for real from the bundled model, and embeds for real.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
import pytest

from embed_support import bundled_models, catalogue
from plex_loader_tui.embed.builds import CpuFeatures, choose_build, cpu_features, file_sha256, fp32_model_dir
from plex_loader_tui.embed.device import DeviceUnavailable, select_device
from plex_loader_tui.embed.models import ModelSettings, bundled_dense_dir, load_models
from plex_loader_tui.embed.stage import MODEL_TOKENS, Embedder, model_calls
from plex_loader_tui.errors import ConfigError
from plex_loader_tui.exit_codes import ExitCode
from plex_loader_tui.main import main

CPU_ONLY = ["CPUExecutionProvider"]
WITH_CUDA = ["CUDAExecutionProvider", "CPUExecutionProvider"]


# ------------------------------------------------------------------ device
def test_cpu_never_takes_the_gpu_even_when_there_is_one():
    assert select_device("cpu", WITH_CUDA).providers == ("CPUExecutionProvider",)


def test_cuda_runs_on_cuda_with_the_cpu_as_fallback():
    choice = select_device("cuda", WITH_CUDA)
    assert choice.device == "cuda" and choice.providers == ("CUDAExecutionProvider", "CPUExecutionProvider")


def test_auto_takes_cuda_only_when_onnxruntime_offers_it():
    assert select_device("auto", WITH_CUDA).device == "cuda"
    assert select_device("auto", CPU_ONLY).device == "cpu"


def test_cuda_without_a_cuda_provider_says_what_to_install():
    with pytest.raises(DeviceUnavailable, match=r"no CUDAExecutionProvider.*\[gpu\]"):
        select_device("cuda", CPU_ONLY)
    with pytest.raises(ConfigError, match="--device must be one of"):
        select_device("tpu", WITH_CUDA)


def test_device_cuda_on_a_machine_without_cuda_exits_2_with_one_line(tmp_path, capsys):
    env = {"PLEX_LOADER_CONFIG_DIR": str(tmp_path / "c"), "PLEX_LOADER_DATA_DIR": str(tmp_path / "d")}
    code = main(["--demo", "--no-ui", "--device", "cuda"], env)
    out, err = capsys.readouterr()
    assert code == ExitCode.USAGE and out == ""
    assert err.count("\n") == 1 and err.startswith("plex-loader-tui: error: --device cuda:"), err


def test_an_unknown_device_is_a_usage_error(tmp_path, capsys):
    env = {"PLEX_LOADER_CONFIG_DIR": str(tmp_path / "c"), "PLEX_LOADER_DATA_DIR": str(tmp_path / "d")}
    assert main(["--demo", "--no-ui", "--device", "TPU"], env) == ExitCode.USAGE
    assert "--device: must be one of cpu, cuda, auto" in capsys.readouterr().err


# ------------------------------------------------------------------- build
def _cpuinfo(tmp_path: Path, flags: str) -> Path:
    path = tmp_path / "cpuinfo"
    path.write_text(f"processor\t: 0\nmodel name\t: test\nflags\t\t: fpu sse2 {flags}\n\n")
    return path


def test_cpu_features_read_avx2_avx512_and_vnni(tmp_path):
    assert cpu_features(_cpuinfo(tmp_path, "avx avx2 fma avx512f avx512_vnni")) == CpuFeatures(True, True, True)
    assert cpu_features(_cpuinfo(tmp_path, "avx avx2 avx_vnni")) == CpuFeatures(True, False, True)
    assert cpu_features(_cpuinfo(tmp_path, "avx avx2 fma")) == CpuFeatures(True, False, False)
    assert cpu_features(tmp_path / "missing") == CpuFeatures()


def test_auto_keeps_int8_and_an_explicit_build_wins():
    vnni, avx2 = CpuFeatures(True, True, True), CpuFeatures(True, False, False)
    assert choose_build("auto", vnni).build == "int8" and "VNNI" in choose_build("auto", vnni).reason
    assert choose_build("auto", avx2).build == "int8"
    assert choose_build("fp32", vnni).build == "fp32"
    assert choose_build("int8", avx2).build == "int8"
    with pytest.raises(ValueError, match="model build"):
        choose_build("fp16", vnni)


def test_the_fp32_build_has_no_quantized_products_and_is_made_once(tmp_path):
    folder = fp32_model_dir(bundled_dense_dir(), tmp_path)
    ops = {node.op_type for node in onnx.load(str(folder / "model.onnx")).graph.node}
    assert "MatMulInteger" not in ops and "DynamicQuantizeLinear" not in ops and "MatMul" in ops
    assert (folder / "tokenizer.json").is_file()
    built = (folder / "model.onnx").stat().st_mtime_ns
    assert fp32_model_dir(bundled_dense_dir(), tmp_path) == folder
    assert (folder / "model.onnx").stat().st_mtime_ns == built  # verified by hash, not rebuilt


def test_a_damaged_fp32_build_is_rebuilt(tmp_path):
    folder = fp32_model_dir(bundled_dense_dir(), tmp_path)
    model = folder / "model.onnx"
    good = file_sha256(model)
    with model.open("r+b") as handle:
        handle.seek(model.stat().st_size // 2)
        handle.write(b"\x7f" * 64)  # weights silently changed: still a loadable model
    assert file_sha256(model) != good
    assert fp32_model_dir(bundled_dense_dir(), tmp_path) == folder
    assert file_sha256(model) == good


def test_fp32_vectors_agree_with_int8_and_find_each_item(tmp_path):
    items = catalogue()
    int8 = Embedder(bundled_models())
    fp32_models = load_models(ModelSettings(onnx_threads=1, build="fp32", build_dir=tmp_path))
    assert fp32_models.describe().dense_build == "fp32"
    fp32 = Embedder(fp32_models)
    a = np.array([p.dense for p in int8.embed(items)])
    b = np.array([p.dense for p in fp32.embed(items)])
    assert float(np.min(np.sum(a * b, axis=1))) > 0.98
    queries = np.array([fp32.embed_query(item.source.summary).dense for item in items])
    top1 = np.argmax(queries @ b.T, axis=1)
    assert np.mean(top1 == np.arange(len(items))) >= 0.9


# ------------------------------------------------------- sorting by length
class RecordingDense:
    """The real dense model, noting the texts of each call (to see how a batch is split)."""

    def __init__(self, model) -> None:
        self.model = model
        self.calls: list[list[str]] = []

    def embed(self, texts, batch_size):
        self.calls.append(list(texts))
        return self.model.embed(texts, batch_size=batch_size)

    def query_embed(self, text):
        return self.model.query_embed(text)


def test_a_batch_is_embedded_in_calls_of_similar_length_and_returned_in_order():
    models = bundled_models()
    recorder = RecordingDense(models.dense)
    embedder = Embedder(type(models)(dense=recorder, sparse=models.sparse, info=models.info,
                                     text_lengths=models.text_lengths), model_batch=8)
    items = catalogue()[:40]
    points = embedder.embed(items)
    assert [p.item_key for p in points] == [item.source.key for item in items]
    assert all(len(call) <= 8 for call in recorder.calls) and sum(map(len, recorder.calls)) == 40
    lengths = [models.text_lengths(call) for call in recorder.calls]
    assert all(max(earlier) <= min(later) for earlier, later in zip(lengths, lengths[1:]))
    assert all(len(call) * max(n) <= MODEL_TOKENS or len(call) == 1 for call, n in zip(recorder.calls, lengths))
    alone = Embedder(models).embed([items[7]])[0]
    assert float(np.dot(points[7].dense, alone.dense)) > 0.99  # padding only, the same vector


def test_model_calls_keep_to_the_text_count_and_the_padded_token_budget():
    # Sorted lengths: a call pads to its longest text, so long texts go fewer to a call.
    lengths = [100, 100, 200, 300, 300, 500, 512, 512, 512, 512, 2100]
    calls = model_calls(list(range(len(lengths))), lengths, 8, 2048)
    assert calls == [[0, 1, 2, 3, 4], [5, 6, 7, 8], [9], [10]]  # 2100: over the budget by itself
    assert model_calls(list(range(10)), [10] * 10, 8, 2048) == [list(range(8)), [8, 9]]
    assert model_calls([], [], 8, 2048) == []

