"""Writes the small ONNX graphs that Tests/GlassboxONNXTests use, and onnxruntime's outputs on a
fixed input as goldens (Tests/GlassboxONNXTests/Fixtures/goldens.json).

Together the graphs use every op Glassbox imports and the patterns exporters emit (BatchNorm
after Conv, "same" padding as Shape→Slice→Concat→Pad, flatten as Shape→Gather→Unsqueeze→Concat→
Reshape, residual adds, channel concatenation, depthwise convolutions), across opsets 10–21.
Weights are tiny and random (seeded). Run once: python3 benchmarks/tools/make_onnx_fixtures.py
Needs: pip install onnx onnxruntime numpy
"""
import json
import os

import numpy as np
import onnx
import onnxruntime as ort
from onnx import TensorProto, helper, numpy_helper

OUT = os.path.join(os.path.dirname(__file__), "..", "..", "Tests", "GlassboxONNXTests", "Fixtures")
rng = np.random.default_rng(16)


class G:
    def __init__(self, name, opset):
        self.name, self.opset = name, opset
        self.nodes, self.inits, self.n = [], [], 0

    def w(self, shape, scale=0.5, dtype=np.float32):
        self.n += 1
        name = f"{self.name}.w{self.n}"
        arr = (rng.standard_normal(shape) * scale).astype(dtype)
        self.inits.append(numpy_helper.from_array(arr, name))
        return name

    def c(self, arr, name=None):
        self.n += 1
        name = name or f"{self.name}.c{self.n}"
        self.inits.append(numpy_helper.from_array(np.asarray(arr), name))
        return name

    def op(self, op, inputs, n_out=1, **attrs):
        self.n += 1
        outs = [f"t{self.n}_{i}" for i in range(n_out)]
        self.nodes.append(helper.make_node(op, inputs, outs, name=f"{op.lower()}_{self.n}", **attrs))
        return outs[0] if n_out == 1 else outs

    def save(self, x_name, x_shape, y, batch_dynamic=True):
        in_shape = ["N"] + list(x_shape[1:]) if batch_dynamic else list(x_shape)
        graph = helper.make_graph(
            self.nodes, self.name,
            [helper.make_tensor_value_info(x_name, TensorProto.FLOAT, in_shape)],
            [helper.make_tensor_value_info(y, TensorProto.FLOAT, None)],
            initializer=self.inits)
        model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", self.opset)], producer_name="glassbox-fixtures")
        model.ir_version = 8

        path = os.path.join(OUT, f"{self.name}.onnx")
        onnx.save(model, path)
        return path


def conv_graph():
    """Convolutions of every kind, BN folded, residual add, concat, pools, Gemm head (opset 14)."""
    g = G("conv", 14)
    x = "x"
    a = g.op("Conv", [x, g.w([6, 3, 3, 3]), g.w([6], 0.1)], pads=[0, 1, 1, 2], strides=[2, 1])
    a = g.op("BatchNormalization", [a, g.c(rng.uniform(0.5, 1.5, 6).astype(np.float32)), g.w([6], 0.1),
                                    g.w([6], 0.1), g.c(rng.uniform(0.5, 2, 6).astype(np.float32))], epsilon=1e-3)
    a = g.op("Relu", [a])
    d = g.op("Conv", [a, g.w([6, 1, 3, 3])], group=6, dilations=[2, 2], pads=[2, 2, 2, 2])
    d = g.op("Conv", [d, g.w([6, 1, 4, 4])], group=6, auto_pad="SAME_UPPER")
    d = g.op("Clip", [d, g.c(np.float32(0)), g.c(np.float32(6))])
    r = g.op("Add", [d, a])                                    # residual
    s = g.op("Conv", [r, g.w([4, 6, 2, 2]), g.w([4], 0.1)], auto_pad="SAME_LOWER", strides=[2, 2])
    p = g.op("Conv", [r, g.w([4, 3, 1, 1])], group=2, strides=[2, 2])  # grouped 1x1
    s = g.op("Concat", [s, p], axis=1)
    s = g.op("HardSwish", [s])
    s = g.op("MaxPool", [s], kernel_shape=[2, 2], strides=[2, 2], ceil_mode=1)
    s = g.op("GlobalAveragePool", [s])
    s = g.op("Flatten", [s], axis=1)
    y = g.op("Gemm", [s, g.w([5, 8]), g.w([5], 0.1)], transB=1, alpha=0.7, beta=1.3)
    return g.save(x, [2, 3, 11, 10], y), [2, 3, 11, 10]


def activations_graph():
    """Elementwise activations and broadcasting arithmetic (opset 14)."""
    g = G("activations", 14)
    x = "x"
    a = g.op("LeakyRelu", [x], alpha=0.2)
    b = g.op("PRelu", [x, g.w([4, 1, 1])])
    a = g.op("Add", [a, b])
    a = g.op("Sub", [a, g.w([5])])
    a = g.op("Mul", [a, g.w([1, 4, 1, 1])])
    a = g.op("Div", [a, g.c(rng.uniform(1, 2, [4, 1, 5]).astype(np.float32))])
    h = g.op("HardSigmoid", [a], alpha=0.3, beta=0.4)
    t = g.op("Tanh", [a])
    s = g.op("Sigmoid", [a])
    c = g.op("Clip", [a, g.c(np.float32(-0.5))])               # min only
    a = g.op("Add", [g.op("Add", [h, t]), g.op("Mul", [s, c])])
    a = g.op("Softmax", [a], axis=1)
    y = g.op("LogSoftmax", [a], axis=-1)
    return g.save(x, [2, 4, 3, 5], y), [2, 4, 3, 5]


def pool_graph():
    """Pooling corner cases: asymmetric pads, ceil mode, include/exclude padding, dilation, 1-D (opset 19)."""
    g = G("pool", 19)
    x = "x"
    m = g.op("MaxPool", [x], kernel_shape=[3, 3], strides=[2, 2], pads=[1, 0, 0, 1], ceil_mode=1)
    m2 = g.op("MaxPool", [x], kernel_shape=[2, 2], dilations=[2, 2], strides=[1, 1])
    v = g.op("AveragePool", [x], kernel_shape=[3, 3], strides=[2, 2], pads=[1, 1, 1, 1], count_include_pad=0, ceil_mode=1)
    v2 = g.op("AveragePool", [x], kernel_shape=[3, 2], strides=[2, 2], pads=[0, 1, 2, 0], count_include_pad=1)
    v3 = g.op("AveragePool", [x], kernel_shape=[2, 2], auto_pad="SAME_UPPER", strides=[2, 2])
    outs = [g.op("ReduceMean", [t, g.c(np.array([2, 3], dtype=np.int64))], keepdims=0) for t in [m, m2, v, v2, v3]]
    r = g.op("Concat", outs, axis=1)
    # 1-D conv and pooling on a reshaped view
    one = g.op("Reshape", [x, g.c(np.array([0, 4, -1], dtype=np.int64))])
    one = g.op("Conv", [one, g.w([3, 4, 3])], pads=[2, 1])
    one = g.op("AveragePool", [one], kernel_shape=[4], strides=[3], pads=[1, 2], ceil_mode=1)
    one = g.op("ReduceMean", [one, g.c(np.array([-1], dtype=np.int64))], keepdims=0)
    y = g.op("Concat", [r, one], axis=1)
    return g.save(x, [2, 4, 9, 8], y), [2, 4, 9, 8]


def shape_graph():
    """Exporter shape sub-graphs and data movement (opset 13)."""
    g = G("shape", 13)
    x = "x"
    # PyTorch-style "same" padding: pads computed from the input's spatial shape.
    sh = g.op("Shape", [x])
    hw = g.op("Slice", [sh, g.c(np.array([2], dtype=np.int64)), g.c(np.array([4], dtype=np.int64))])
    odd = g.op("Sub", [g.c(np.array([3, 3], dtype=np.int64)), g.c(np.array([1, 1], dtype=np.int64))])
    half = g.op("Div", [odd, g.c(np.array(2, dtype=np.int64))])
    zeros = g.op("ConstantOfShape", [g.c(np.array([4], dtype=np.int64))], value=helper.make_tensor("v", TensorProto.INT64, [1], [0]))
    pads = g.op("Concat", [g.op("Slice", [zeros, g.c(np.array([0], dtype=np.int64)), g.c(np.array([2], dtype=np.int64))]),
                           half, g.op("Slice", [zeros, g.c(np.array([2], dtype=np.int64)), g.c(np.array([4], dtype=np.int64))]), half], axis=0)
    _ = hw
    p = g.op("Pad", [x, pads], mode="constant")
    p = g.op("Conv", [p, g.w([5, 3, 3, 3])])
    e = g.op("Pad", [x, g.c(np.array([0, 0, 1, 2, 0, 0, 2, 1], dtype=np.int64))], mode="reflect")
    e = g.op("Pad", [e, g.c(np.array([0, 0, 0, 1, 0, 0, 1, 0], dtype=np.int64))], mode="edge")
    e = g.op("Slice", [e, g.c(np.array([1, -2], dtype=np.int64)), g.c(np.array([-1, 0], dtype=np.int64)),
                       g.c(np.array([2, 3], dtype=np.int64)), g.c(np.array([2, -1], dtype=np.int64))])
    e = g.op("ReduceMean", [e], axes=[1, 2, 3], keepdims=1)
    p = g.op("Add", [g.op("Relu", [p]), g.op("Identity", [e])])
    p = g.op("Dropout", [p])
    # Flatten as Shape→Gather→Unsqueeze→Concat→Reshape.
    n = g.op("Gather", [g.op("Shape", [p]), g.c(np.array(0, dtype=np.int64))], axis=0)
    n = g.op("Unsqueeze", [n, g.c(np.array([0], dtype=np.int64))])
    target = g.op("Concat", [n, g.c(np.array([-1], dtype=np.int64))], axis=0)
    f = g.op("Reshape", [p, target])
    f = g.op("Cast", [f], to=TensorProto.DOUBLE)
    f = g.op("Cast", [f], to=TensorProto.FLOAT)
    m = g.op("MatMul", [f, g.w([5 * 7 * 6, 6], 0.1)])
    m = g.op("Unsqueeze", [m, g.c(np.array([1], dtype=np.int64))])
    m = g.op("Transpose", [m], perm=[0, 2, 1])
    m = g.op("Squeeze", [m, g.c(np.array([2], dtype=np.int64))])
    idx = g.op("Cast", [g.c(np.array([[3, 0], [5, 5]], dtype=np.float32))], to=TensorProto.INT64)
    gm = g.op("Gather", [m, idx], axis=1)                      # [N, 2, 2]
    gm = g.op("Flatten", [gm])
    y = g.op("Concat", [m, gm, g.op("Sigmoid", [gm])], axis=1)
    return g.save(x, [2, 3, 7, 6], y), [2, 3, 7, 6]


def opset11_graph():
    """Opset 11 forms: Clip bounds as inputs, Squeeze/Unsqueeze axes attributes, Pad pads as input,
    ReduceMean axes attribute, 2-D-coerced Softmax."""
    g = G("opset11", 11)
    x = "x"
    a = g.op("Clip", [x, g.c(np.float32(0)), g.c(np.float32(0.8))])
    a = g.op("Pad", [a, g.c(np.array([0, 0, 1, 0, 0, 0, 0, 1], dtype=np.int64)), g.c(np.float32(0.25))])
    a = g.op("Conv", [a, g.w([4, 2, 2, 2]), g.w([4], 0.1)])
    a = g.op("ReduceMean", [a], axes=[3], keepdims=1)
    a = g.op("Squeeze", [a], axes=[3])
    a = g.op("Unsqueeze", [a], axes=[1])
    a = g.op("Softmax", [a], axis=2)                           # coerced: over axes 2… flattened
    y = g.op("Flatten", [a], axis=1)
    return g.save(x, [2, 2, 5, 4], y), [2, 2, 5, 4]


def opset10_graph():
    """Opset 10 forms: Clip bounds and Pad pads as attributes, Slice with inputs, Dropout attribute ratio."""
    g = G("opset10", 10)
    x = "x"
    a = g.op("Clip", [x], min=-0.3, max=0.6)
    a = g.op("Pad", [a], pads=[0, 0, 1, 1, 0, 0, 1, 1], value=0.5)
    a = g.op("Slice", [a, g.c(np.array([1], dtype=np.int64)), g.c(np.array([5], dtype=np.int64)), g.c(np.array([3], dtype=np.int64))])
    a = g.op("Unsqueeze", [a], axes=[0])
    a = g.op("Squeeze", [a], axes=[0])
    a = g.op("Softmax", [a])                                   # default axis 1, coerced
    y = g.op("Flatten", [a])
    return g.save(x, [2, 2, 4, 6], y), [2, 2, 4, 6]


def opset18_graph():
    """Opset 18/21 forms: ReduceMean axes as input, Pad with an axes input (opset 21)."""
    g = G("opset21", 21)
    x = "x"
    a = g.op("Pad", [x, g.c(np.array([1, 2, 0, 1], dtype=np.int64)), g.c(np.float32(-1)), g.c(np.array([2, 3], dtype=np.int64))])
    a = g.op("HardSwish", [a])
    a = g.op("ReduceMean", [a, g.c(np.array([-1], dtype=np.int64))], keepdims=1)
    a = g.op("ReduceMean", [a, g.c(np.array([], dtype=np.int64))], keepdims=1, noop_with_empty_axes=1)
    a = g.op("Transpose", [a], perm=[0, 2, 1, 3])
    y = g.op("Flatten", [a])
    return g.save(x, [2, 3, 4, 5], y), [2, 3, 4, 5]


def mlp_graph():
    """A tabular MLP as exporters write it: MatMul+Add, Gemm, Relu, Tanh, Softmax (opset 17)."""
    g = G("mlp", 17)
    x = "x"
    a = g.op("Add", [g.op("MatMul", [x, g.w([6, 8])]), g.w([8], 0.1)])
    a = g.op("Relu", [a])
    a = g.op("Gemm", [a, g.w([8, 8])], transA=0)
    a = g.op("Tanh", [a])
    a = g.op("Gemm", [g.op("Transpose", [a]), g.w([8, 3]), g.w([1, 3], 0.1)], transA=1)
    y = g.op("Softmax", [a], axis=-1)
    return g.save(x, [4, 6], y), [4, 6]


def float16_weights_graph():
    """Initialisers stored as float16, bfloat16, float64 and int32 (converted at import)."""
    g = G("dtypes", 13)
    x = "x"
    w16 = g.c((rng.standard_normal([3, 2, 1, 1]) * 0.5).astype(np.float16))
    a = g.op("Conv", [x, g.op("Cast", [w16], to=TensorProto.FLOAT)])
    w64 = g.c((rng.standard_normal([3]) * 0.5).astype(np.float64))
    a = g.op("Add", [a, g.op("Unsqueeze", [g.op("Unsqueeze", [g.op("Cast", [w64], to=TensorProto.FLOAT), g.c(np.array([1], dtype=np.int64))]),
                                           g.c(np.array([2], dtype=np.int64))])])
    bf = helper.make_tensor("dtypes.bf16", TensorProto.BFLOAT16, [3, 1, 1], [0.5, -1.25, 2.0])
    g.inits.append(bf)
    a = g.op("Mul", [a, g.op("Cast", ["dtypes.bf16"], to=TensorProto.FLOAT)])
    shape32 = g.c(np.array([0, -1], dtype=np.int32))
    a = g.op("Reshape", [a, g.op("Cast", [shape32], to=TensorProto.INT64)])
    y = g.op("Relu", [a])
    return g.save(x, [2, 2, 3, 3], y), [2, 2, 3, 3]


def main():
    os.makedirs(OUT, exist_ok=True)
    goldens = {}
    for make in [conv_graph, activations_graph, pool_graph, shape_graph, opset11_graph, opset10_graph,
                 opset18_graph, mlp_graph, float16_weights_graph]:
        path, shape = make()
        x = rng.standard_normal(shape).astype(np.float32)
        options = ort.SessionOptions()
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL  # the graph as written
        sess = ort.InferenceSession(path, options, providers=["CPUExecutionProvider"])
        y = sess.run(None, {"x": x})[0]
        name = os.path.basename(path)
        goldens[name] = {"input_shape": list(x.shape), "input": [float(v) for v in x.ravel()],
                         "output_shape": list(y.shape), "output": [float(v) for v in y.ravel()]}
        print(name, x.shape, "->", y.shape)
    with open(os.path.join(OUT, "goldens.json"), "w") as f:
        json.dump({"generator": "benchmarks/tools/make_onnx_fixtures.py", "onnxruntime": ort.__version__, "graphs": goldens}, f)


if __name__ == "__main__":
    main()
