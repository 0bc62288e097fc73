"""ONNX Runtime sessions for the shipped models, created once per process and reused.

The CUDA execution provider is used when this ONNX Runtime build offers it;
ONNX Runtime silently falls back to the CPU when CUDA cannot load, so
:func:`execution_provider` reports what a session really runs on.
"""

from __future__ import annotations

import functools
import os
from pathlib import Path

import onnxruntime

MODELS_DIR = Path(__file__).resolve().parent / "models"
_PREFERRED_PROVIDERS = ("CUDAExecutionProvider", "CPUExecutionProvider")


@functools.cache
def model_session(model_file: str) -> onnxruntime.InferenceSession:
    """The shared session for ``render/emotion/models/<model_file>``."""
    available = onnxruntime.get_available_providers()
    providers = [p for p in _PREFERRED_PROVIDERS if p in available]
    options = onnxruntime.SessionOptions()
    options.log_severity_level = 3  # the CUDA fallback warning is reported by execution_provider()
    # Half the cores: these small networks gain little from more threads, and the
    # decoder and the scene analysis run beside them (on 2 cores, 1 thread was
    # 10-50% faster than ONNX Runtime's default of 2).
    options.intra_op_num_threads = max(1, (os.cpu_count() or 2) // 2)
    return onnxruntime.InferenceSession(str(MODELS_DIR / model_file), options, providers=providers)


def execution_provider(model_file: str) -> str:
    """Name of the provider that runs the model, e.g. ``"CPUExecutionProvider"``."""
    return model_session(model_file).get_providers()[0]
