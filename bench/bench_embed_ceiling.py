"""The embedding ceiling: what each change to the dense model's runtime buys, on real demo item texts.

    .venv/bin/python bench/bench_embed_ceiling.py [--items 2000] [--docs 384] [--repeats 3] [--quality-texts 600]
        [--parts batching,builds,threads,options] [--texts texts.json] [--json out.json]

The texts are the ones a load embeds: a demo library of ``--items`` is loaded
(demo server in a child process, no latency) and the ``text`` payloads read
back, unless ``--texts`` names a JSON list of them. Every part runs its
variants interleaved (each repeat in a rotated order) in this one process,
and reports the median CPU milliseconds per text (steady on a shared machine)
and texts per wall second.

* ``batching``: the stage's batch in arrival order (batch 8: what a worker
  took before) vs sorted by token length within the stage batch (64, 256),
  embedded 8 texts per model call; and the sort key (tokens vs characters).
* ``builds``: the shipped int8 model vs the same weights as fp32
  (``embed/dequantize.py``) vs each saved after ONNX Runtime's offline
  optimization: speed, and over ``--quality-texts`` texts the cosine to today's int8
  vectors and retrieval (each text's first summary sentence as the query:
  its item among the top 3 / top 1 of every text).
* ``retrieval``: dense retrieval before/after the batching change over
  ``--quality-texts`` texts (each item's whole summary paragraph as the
  query: its item among the top 3 / top 1), and the cosine between the two.
* ``threads``: 2 workers sharing one 1-thread session (the default) vs
  2 sessions x 1 thread vs 1 worker x a 2-thread session.
* ``options``: ONNX Runtime session options of a raw session (spinning of
  the intra-op pool on/off at 2 threads, graph optimization level).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_load import DemoProcess, _cpu, loaded_texts, make_config  # noqa: E402

from plex_loader_tui.embed.builds import cpu_features, fp32_model_dir  # noqa: E402
from plex_loader_tui.embed.models import Models, ModelSettings, bundled_dense_dir, load_models  # noqa: E402
from plex_loader_tui.embed.stage import MODEL_TOKENS, model_calls  # noqa: E402

MODEL_BATCH = 8


# --------------------------------------------------------------------- texts
def demo_texts(items: int) -> list[str]:
    """The texts a load of a demo library of ``items`` embeds (read back from the collection)."""
    import asyncio

    from plex_loader_tui.load import LoadSession

    server = DemoProcess(items, 0, 7)
    try:
        with tempfile.TemporaryDirectory(prefix="bench-ceiling-") as tmp:
            config = make_config(server, Path(tmp) / "data")
            result = asyncio.run(LoadSession(config).run())
            if result.state != "finished":
                raise SystemExit(f"the demo load did not finish: {result.state}")
            return loaded_texts(config)
    finally:
        server.stop()


def query_of(text: str) -> str:
    """A text's first summary sentence (the line after the title and genres), at most 20 words."""
    lines = text.split("\n")
    body = [line for line in lines[1:] if not line.startswith("Genres:")]
    first = (body[0] if body else lines[0]).split(". ")[0]
    return " ".join(first.split()[:20])


# ------------------------------------------------------------------ measuring
def measure(run: Callable[[], int]) -> tuple[float, float]:
    """(CPU ms per text, texts per wall second) of one call of ``run`` (which returns the texts done)."""
    cpu0, t0 = _cpu(), time.perf_counter()
    done = run()
    wall, cpu = time.perf_counter() - t0, _cpu() - cpu0
    return 1000.0 * cpu / done, done / wall


def interleave(variants: dict[str, Callable[[], int]], repeats: int) -> dict[str, dict[str, float]]:
    names = list(variants)
    cpu: dict[str, list[float]] = {n: [] for n in names}
    rate: dict[str, list[float]] = {n: [] for n in names}
    for rep in range(repeats):
        shift = rep % len(names)
        for name in names[shift:] + names[:shift]:
            ms, per_s = measure(variants[name])
            cpu[name].append(ms)
            rate[name].append(per_s)
            print(f"    rep {rep + 1} {name:<34} {ms:7.1f} CPU ms/text {per_s:7.1f} texts/s "
                  f"(load {os.getloadavg()[0]:.1f})", flush=True)
    return {n: {"cpu_ms_per_text": statistics.median(cpu[n]), "texts_per_s": statistics.median(rate[n])}
            for n in names}


def report(title: str, rows: dict[str, dict[str, float]], base: str) -> None:
    print(f"\n  {title}: median of repeats (speed-up in CPU time vs {base})")
    ref = rows[base]["cpu_ms_per_text"]
    for name, row in rows.items():
        extra = "".join(f"  {k} {v:.3f}" for k, v in row.items() if k not in ("cpu_ms_per_text", "texts_per_s"))
        print(f"    {name:<34} {row['cpu_ms_per_text']:7.1f} CPU ms/text {row['texts_per_s']:7.1f} texts/s"
              f"  x{ref / row['cpu_ms_per_text']:.2f}{extra}")


def dense_calls(models: Models, texts: list[str], window: int, key: Callable[[list[str]], list[int]] | None,
                budget: int | None = None) -> int:
    """Embed ``texts`` as the stage does: windows of ``window`` texts, sorted by ``key``, 8 per call
    (and at most ``budget`` padded tokens per call, as ``embed/stage.py``'s ``model_calls``)."""
    for start in range(0, len(texts), window):
        chunk = texts[start : start + window]
        if key is not None:
            lengths = key(chunk)
            order = sorted(range(len(chunk)), key=lengths.__getitem__)
            if budget is not None:
                parts = [[chunk[i] for i in call] for call in model_calls(order, lengths, MODEL_BATCH, budget)]
            else:
                ordered = [chunk[i] for i in order]
                parts = [ordered[i : i + MODEL_BATCH] for i in range(0, len(ordered), MODEL_BATCH)]
        else:
            parts = [chunk[i : i + MODEL_BATCH] for i in range(0, len(chunk), MODEL_BATCH)]
        for part in parts:
            list(models.dense.embed(part, batch_size=len(part)))
    return len(texts)


# --------------------------------------------------------------------- parts
def part_batching(texts: list[str], repeats: int) -> dict:
    models = load_models(ModelSettings(onnx_threads=1, build="int8"))
    chars: Callable[[list[str]], list[int]] = lambda chunk: [len(t) for t in chunk]  # noqa: E731
    variants = {
        "arrival order, batch 8": lambda: dense_calls(models, texts, 8, None),
        "sorted by tokens, window 64": lambda: dense_calls(models, texts, 64, models.text_lengths),
        f"window 64, <= {MODEL_TOKENS} tokens a call": lambda: dense_calls(models, texts, 64, models.text_lengths,
                                                                           MODEL_TOKENS),
        "sorted by chars, window 64": lambda: dense_calls(models, texts, 64, chars),
        "sorted by tokens, window 256": lambda: dense_calls(models, texts, 256, models.text_lengths),
    }
    rows = interleave(variants, repeats)
    t0 = time.perf_counter()
    for start in range(0, len(texts), 64):
        models.text_lengths(texts[start : start + 64])
    rows["sorted by tokens, window 64"]["key_ms_per_text"] = 1000 * (time.perf_counter() - t0) / len(texts)
    report("length-aware batching (int8, 1 thread, 8 texts per model call)", rows, "arrival order, batch 8")
    return rows


def _ort_optimized(src_dir: Path, dst_dir: Path) -> Path:
    """``src_dir``'s model saved after ONNX Runtime's offline graph optimization (extended level: portable)."""
    import shutil

    import onnxruntime as ort

    dst_dir.mkdir(parents=True, exist_ok=True)
    for f in src_dir.iterdir():
        if f.name != "model.onnx" and f.is_file():
            shutil.copy2(f, dst_dir / f.name)
    options = ort.SessionOptions()
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_EXTENDED
    options.optimized_model_filepath = str(dst_dir / "model.onnx")
    ort.InferenceSession(str(src_dir / "model.onnx"), options, providers=["CPUExecutionProvider"])
    return dst_dir


def _custom_models(name: str, folder: Path) -> Models:
    from fastembed import TextEmbedding
    from fastembed.common.model_description import ModelSource, PoolingType

    if name not in {m["model"] for m in TextEmbedding.list_supported_models()}:
        TextEmbedding.add_custom_model(model=name, pooling=PoolingType.CLS, normalization=True,
                                       sources=ModelSource(hf="BAAI/bge-small-en-v1.5"), dim=384,
                                       model_file="model.onnx")
    base = load_models(ModelSettings(onnx_threads=1, build="int8"))
    dense = TextEmbedding(name, specific_model_path=str(folder), threads=1, providers=["CPUExecutionProvider"])
    return Models(dense=dense, sparse=base.sparse, info=base.info, text_lengths=base.text_lengths)


def retrieval(models: Models, texts: list[str]) -> tuple[np.ndarray, float, float]:
    docs = np.array(list(models.dense.embed(texts, batch_size=MODEL_BATCH)))
    queries = np.array(list(models.dense.query_embed([query_of(t) for t in texts])))
    ranks = np.argsort(-(queries @ docs.T), axis=1)[:, :3]
    truth = np.arange(len(texts))[:, None]
    return docs, float(np.mean(ranks[:, :1] == truth)), float(np.mean(np.any(ranks == truth, axis=1)))


def part_builds(texts: list[str], quality_texts: list[str], repeats: int, scratch: Path) -> dict:
    int8_dir = bundled_dense_dir()
    fp32_dir = fp32_model_dir(int8_dir, scratch / "cache")
    builds = {
        "int8 (shipped)": load_models(ModelSettings(onnx_threads=1, build="int8")),
        "fp32 (same weights)": load_models(ModelSettings(onnx_threads=1, build="fp32", build_dir=scratch / "cache")),
        "int8, ORT-optimized saved": _custom_models("bench/int8-ortopt", _ort_optimized(int8_dir, scratch / "i8o")),
        "fp32, ORT-optimized saved": _custom_models("bench/fp32-ortopt", _ort_optimized(fp32_dir, scratch / "f32o")),
    }
    rows = interleave({n: (lambda m=m: dense_calls(m, texts, 64, m.text_lengths)) for n, m in builds.items()},
                      repeats)
    reference = None
    for name, models in builds.items():
        docs, top1, top3 = retrieval(models, quality_texts)
        if reference is None:
            reference = docs
        cosines = np.sum(docs * reference, axis=1)
        rows[name] |= {"top3": top3, "top1": top1, "cos_to_int8_mean": float(cosines.mean()),
                       "cos_to_int8_min": float(cosines.min())}
    report(f"model builds on this {cpu_features()} CPU (window 64; quality over {len(quality_texts)} texts)",
           rows, "int8 (shipped)")
    return rows


def summary_of(text: str) -> str:
    """A text's summary paragraph (the line after the title and genres)."""
    lines = text.split("\n")
    body = [line for line in lines[1:] if not line.startswith("Genres:")]
    return body[0] if body else lines[0]


def part_retrieval(texts: list[str]) -> dict:
    from plex_loader_tui.embed.stage import Embedder

    models = load_models(ModelSettings(onnx_threads=1, build="int8"))
    embedder = Embedder(models)
    queries = np.array(list(models.dense.query_embed([summary_of(t) for t in texts])))
    variants = {"before: batch 8, arrival order": 8, "after: batch 64 sorted, 8 per call": 64}
    rows, docs = {}, {}
    for name, window in variants.items():
        docs[name] = np.array([v for i in range(0, len(texts), window)
                               for v in embedder.vectors(texts[i : i + window])[0]])
        ranks = np.argsort(-(queries @ docs[name].T), axis=1)[:, :3]
        truth = np.arange(len(texts))[:, None]
        rows[name] = {"top3": float(np.mean(np.any(ranks == truth, axis=1))), "top1": float(np.mean(ranks[:, :1] == truth))}
    a, b = docs.values()
    cos = np.sum(a * b, axis=1)
    print(f"\n  dense retrieval over {len(texts)} texts (summary paragraph as the query):")
    for name, row in rows.items():
        print(f"    {name:<36} top3 {row['top3']:.3f}  top1 {row['top1']:.3f}")
    print(f"    cosine after vs before: mean {cos.mean():.4f}, min {cos.min():.4f}")
    return rows | {"cosine_mean": float(cos.mean()), "cosine_min": float(cos.min())}


def _workers(models_per_worker: list[Models], texts: list[str]) -> int:
    chunks = [texts[i : i + 64] for i in range(0, len(texts), 64)]
    with ThreadPoolExecutor(max_workers=len(models_per_worker)) as pool:
        futures = [pool.submit(lambda c=c, m=models_per_worker[i % len(models_per_worker)]:
                               dense_calls(m, c, 64, m.text_lengths)) for i, c in enumerate(chunks)]
        return sum(f.result() for f in futures)


def part_threads(texts: list[str], repeats: int) -> dict:
    one = load_models(ModelSettings(onnx_threads=1, build="int8"))
    other = load_models(ModelSettings(onnx_threads=1, build="int8"))
    two = load_models(ModelSettings(onnx_threads=2, build="int8"))
    rows = interleave({
        "2 workers x 1 shared 1-thread session": lambda: _workers([one, one], texts),
        "2 workers x own 1-thread session": lambda: _workers([one, other], texts),
        "1 worker x 2-thread session": lambda: _workers([two], texts),
    }, repeats)
    report("threads vs sessions (int8, window 64; compare texts/s: it is wall time)", rows,
           "2 workers x 1 shared 1-thread session")
    return rows


class RawDense:
    """bge-small on a raw onnxruntime session with given options, tokenized as fastembed does."""

    def __init__(self, folder: Path, threads: int, spinning: bool, level: str) -> None:
        import onnxruntime as ort
        from tokenizers import Tokenizer

        self.tokenizer = Tokenizer.from_file(str(folder / "tokenizer.json"))
        self.tokenizer.enable_truncation(512)
        self.tokenizer.enable_padding()
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        options.add_session_config_entry("session.intra_op.allow_spinning", "1" if spinning else "0")
        options.graph_optimization_level = getattr(ort.GraphOptimizationLevel, level)
        self.session = ort.InferenceSession(str(folder / "model.onnx"), options, providers=["CPUExecutionProvider"])

    def embed(self, texts: list[str]) -> np.ndarray:
        enc = self.tokenizer.encode_batch(texts)
        ids = np.array([e.ids for e in enc], dtype=np.int64)
        mask = np.array([e.attention_mask for e in enc], dtype=np.int64)
        out = self.session.run(None, {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)})
        cls = out[0][:, 0]
        return cls / np.linalg.norm(cls, axis=1, keepdims=True)


def part_options(texts: list[str], repeats: int) -> dict:
    folder = bundled_dense_dir()
    base = load_models(ModelSettings(onnx_threads=1, build="int8"))
    ordered = []
    for start in range(0, len(texts), 64):
        chunk = texts[start : start + 64]
        lengths = base.text_lengths(chunk)
        ordered += [chunk[i] for i in sorted(range(len(chunk)), key=lengths.__getitem__)]

    def run(raw: RawDense) -> int:
        for i in range(0, len(ordered), MODEL_BATCH):
            raw.embed(ordered[i : i + MODEL_BATCH])
        return len(ordered)

    sessions = {
        "1 thread, ORT_ENABLE_ALL (today)": RawDense(folder, 1, True, "ORT_ENABLE_ALL"),
        "1 thread, ORT_ENABLE_EXTENDED": RawDense(folder, 1, True, "ORT_ENABLE_EXTENDED"),
        "1 thread, ORT_ENABLE_BASIC": RawDense(folder, 1, True, "ORT_ENABLE_BASIC"),
        "2 threads, spinning on": RawDense(folder, 2, True, "ORT_ENABLE_ALL"),
        "2 threads, spinning off": RawDense(folder, 2, False, "ORT_ENABLE_ALL"),
    }
    rows = interleave({n: (lambda s=s: run(s)) for n, s in sessions.items()}, repeats)
    report("ONNX Runtime session options (raw session, int8, one caller)", rows, "1 thread, ORT_ENABLE_ALL (today)")
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--items", type=int, default=2000, help="demo library whose texts are used")
    parser.add_argument("--docs", type=int, default=384, help="texts per timed pass")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--quality-texts", type=int, default=600, help="texts the retrieval check runs over")
    parser.add_argument("--parts", default="batching,builds,threads,options")
    parser.add_argument("--texts", type=Path, help="a JSON list of texts instead of a demo load")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args(argv)

    texts = json.loads(args.texts.read_text()) if args.texts else demo_texts(args.items)
    timed = texts[: args.docs]
    print(f"{len(texts)} demo item texts ({len(timed)} per timed pass); CPU {cpu_features()}, "
          f"{os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f}", flush=True)
    results: dict[str, dict] = {}
    with tempfile.TemporaryDirectory(prefix="bench-ceiling-") as tmp:
        for part in args.parts.split(","):
            print(f"\n== {part}", flush=True)
            if part == "batching":
                results[part] = part_batching(timed, args.repeats)
            elif part == "builds":
                results[part] = part_builds(timed, texts[: args.quality_texts], args.repeats, Path(tmp))
            elif part == "retrieval":
                results[part] = part_retrieval(texts[: args.quality_texts])
            elif part == "threads":
                results[part] = part_threads(timed, args.repeats)
            elif part == "options":
                results[part] = part_options(timed, args.repeats)
            else:
                raise SystemExit(f"unknown part {part!r}")
    if args.json:
        args.json.write_text(json.dumps({"cpu": str(cpu_features()), "texts": len(texts), "timed": len(timed),
                                         "results": results}, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
