"""The bundled int8 model's own weights as an fp32 graph (a graph rewrite, no new weights).

The bundled bge-small export is *dynamically* quantized: before every matrix
product the activations are quantized to uint8 on the fly
(``DynamicQuantizeLinear``), multiplied as integers (``MatMulInteger``) and the
int32 result scaled back (``Cast`` → ``Mul`` by activation scale × weight
scale). Quantizing the activations is what costs retrieval quality; the int8
weights themselves are close to the originals. :func:`dequantize_matmuls`
replaces each such chain by one float ``MatMul`` against the weights
dequantized once, ``(W_q - W_zp) × W_scale``: the same weights, float
activations. Everything else in the graph (the embedding tables' own
``DequantizeLinear``, layer norms, attention) is left as it is.
"""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

import numpy as np


class DequantizeError(ValueError):
    """The graph does not have the dynamic-quantization shape this rewrite knows."""


def dequantize_matmuls(src: Path, dst: Path) -> int:
    """Write ``src`` with every ``MatMulInteger`` chain turned into a float ``MatMul``; return how many.

    Raises :class:`DequantizeError` when a chain does not look like
    onnxruntime's dynamic quantization (then nothing is written).
    """
    import onnx
    from onnx import helper, numpy_helper

    model = onnx.load(str(src))
    graph = model.graph
    inits = {init.name: init for init in graph.initializer}
    producer = {out: node for node in graph.node for out in node.output}
    consumers: dict[str, list[onnx.NodeProto]] = defaultdict(list)
    for node in graph.node:
        for name in node.input:
            consumers[name].append(node)

    def array(name: str) -> np.ndarray:
        if name not in inits:
            raise DequantizeError(f"{name} is not a constant weight")
        return numpy_helper.to_array(inits[name])

    def only_consumer(name: str, op: str) -> onnx.NodeProto:
        users = consumers[name]
        if len(users) != 1 or users[0].op_type != op:
            raise DequantizeError(f"{name} should feed exactly one {op}")
        return users[0]

    drop: set[int] = set()
    added: list[tuple[onnx.NodeProto, onnx.NodeProto]] = []  # (new MatMul, node it replaces in order)
    new_inits: list[onnx.TensorProto] = []
    for node in graph.node:
        if node.op_type != "MatMulInteger":
            continue
        a_q, w_q, _a_zp, w_zp = node.input
        quantize = producer.get(a_q)
        if quantize is None or quantize.op_type != "DynamicQuantizeLinear":
            raise DequantizeError(f"{node.name}: its activation is not dynamically quantized")
        cast = only_consumer(node.output[0], "Cast")
        rescale = only_consumer(cast.output[0], "Mul")
        scales_name = next(i for i in rescale.input if i != cast.output[0])
        scales = producer.get(scales_name)
        if scales is None or scales.op_type != "Mul" or quantize.output[1] not in scales.input:
            raise DequantizeError(f"{node.name}: the rescale is not activation scale x weight scale")
        w_scale = next(i for i in scales.input if i != quantize.output[1])
        weight = (array(w_q).astype(np.float32) - array(w_zp).astype(np.float32)) * array(w_scale).astype(np.float32)
        weight_name = f"{w_q}_fp32"
        new_inits.append(numpy_helper.from_array(weight.astype(np.float32), weight_name))
        matmul = helper.make_node("MatMul", [quantize.input[0], weight_name], [rescale.output[0]],
                                  name=f"{node.name}_fp32")
        added.append((matmul, rescale))
        drop.update({id(node), id(cast), id(rescale)})
        if len(consumers[scales_name]) == 1:
            drop.add(id(scales))
    if not added:
        raise DequantizeError("no MatMulInteger in the graph: nothing to dequantize")

    replacement = {id(old): new for new, old in added}
    nodes = []
    for node in graph.node:
        if id(node) in replacement:
            nodes.append(replacement[id(node)])
        elif id(node) not in drop:
            nodes.append(node)
    # The quantize nodes (and their constants) that fed only the removed products go too.
    nodes = _prune(nodes, [out.name for out in graph.output])
    del graph.node[:]
    graph.node.extend(nodes)
    graph.initializer.extend(new_inits)
    used = {name for node in graph.node for name in node.input}
    kept = [init for init in graph.initializer if init.name in used]
    del graph.initializer[:]
    graph.initializer.extend(kept)
    onnx.checker.check_model(model)
    dst.parent.mkdir(parents=True, exist_ok=True)
    onnx.save(model, str(dst))
    return len(added)


def _prune(nodes: list, outputs: list[str]) -> list:
    """``nodes`` without those whose outputs nothing reads (in their original order)."""
    needed = set(outputs)
    keep = []
    for node in reversed(nodes):
        if any(out in needed for out in node.output):
            keep.append(node)
            needed.update(node.input)
    return list(reversed(keep))
