"""The processor: turns a grade (a tuple of ops) into passes that every backend runs.

``build_plan(grade)`` drops identity ops, wraps LUT/CDL ops for the device,
inserts the linear/display conversions each op needs, folds runs of contrast and
saturation ops into one step, fuses every run of
per-pixel ops into one :class:`PixelPass` and expands each neighbourhood op into
an optional source pass (what is blurred, if not the picture), a horizontal and a
vertical :class:`BlurPass`, and a combine :class:`PixelPass` that also carries the
per-pixel ops that follow.
The first pass always reads the input frame, so blurs only ever read float buffers
(a grade that starts with a neighbourhood op gets a first pass that only converts the
frame, unless the op has a source pass: that pass and the combine read the frame).
``Plan.key`` is the grade's structure (what a compiled program depends on);
``pack(plan, ctx)`` gives the per-frame values (kernel arguments).

Buffers are named: ``input`` and ``output`` (the caller's frames, any dtype) and
float32 HxWx3 intermediates ``s0``, ``s1`` (display values), ``tmp``, ``blurred``,
``source``.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np

from render.errors import MoodgradeError
from render.ops import lut_steps
from render.ops.base import (DISPLAY, LINEAR, FrameContext, NeighbourhoodOp, Op, PixelOp, apply_references,
                             gaussian_weights)
from render.ops.colour import GreyAffine
from render.ops.frames import load_reference
from render.ops.transfer import TRANSFERS, from_linear, to_linear


@dataclass(frozen=True)
class ToLinear(PixelOp):
    """Decode display values to linear light with the frame's transfer function."""

    device_function = "op_to_linear"
    kernel_source = "common.h"
    per_channel = True

    def apply_reference(self, rgb, ctx):
        return to_linear(rgb, ctx.transfer)


@dataclass(frozen=True)
class FromLinear(PixelOp):
    """Encode linear light back to display values."""

    device_function = "op_from_linear"
    kernel_source = "common.h"
    per_channel = True

    def apply_reference(self, rgb, ctx):
        return from_linear(rgb, ctx.transfer)


@dataclass(frozen=True)
class BlurSource(PixelOp):
    """The pass that makes what a neighbourhood op blurs (bloom's bright pass, grain's noise)."""

    op: NeighbourhoodOp = None

    @property
    def device_function(self) -> str:
        return self.op.source_function

    @property
    def kernel_source(self) -> str:
        return self.op.kernel_source

    def structure(self):
        return ("BlurSource", *self.op.structure())

    @property
    def params_use_frame_index(self) -> bool:
        return self.op.params_use_frame_index

    def params(self, ctx):
        return self.op.params(ctx)

    def apply_reference(self, rgb, ctx):
        return self.op.source_reference(rgb, ctx)


CODES_LOADED = load_reference(np.repeat(np.arange(256, dtype=np.uint8)[None, :, None], 3, axis=2))
CODES_LOADED.setflags(write=False)  # what an 8-bit frame's codes 0..255 load as (1x256x3 float32)


@dataclass(frozen=True)
class CodeTable(PixelOp):
    """A run of per-channel ops at the start of the first pass on 8-bit frames, baked per frame
    into a table of their results for the 256 codes: three lookups a pixel instead of the ops
    (a linear-light exposure costs two transfer functions a channel). The table is made by the
    ops' own references on exactly the values an 8-bit frame loads as, so it agrees with them.
    """

    steps: tuple[PixelOp, ...] = ()
    device_function = "op_code_table"
    kernel_source = "common.h"
    reads_codes = True  # the kernel hands it the frame's codes (load_u8_codes in kernels/common.h)

    def structure(self):
        return ("CodeTable",)

    def table(self, ctx):
        return self.table_of(self.apply_reference(CODES_LOADED, ctx))

    @staticmethod
    def table_of(rgb: np.ndarray) -> np.ndarray:
        """The table of the steps' results ``rgb`` (1x256x3) on CODES_LOADED: [r 256][g 256][b 256]."""
        return np.ascontiguousarray(rgb[0].T, np.float32).ravel()

    def apply_reference(self, rgb, ctx):
        return apply_references(self.steps, rgb, ctx)


def _bake_codes(steps: tuple[PixelOp, ...]) -> tuple[PixelOp, ...]:
    """Steps with their leading per-channel run as one CodeTable, where that saves work: the run
    holds a transfer function or more than one op (a lone contrast is cheaper than lookups)."""
    n = 0
    while n < len(steps) and steps[n].per_channel:
        n += 1
    run = steps[:n]
    if n == 0 or (n == 1 and not isinstance(run[0], (ToLinear, FromLinear))):
        return steps
    return (CodeTable(steps=run), *steps[n:])


def _fold_grey_affine(steps: tuple[PixelOp, ...]) -> tuple[PixelOp, ...]:
    """Steps with each run of two or more ops of the form a c + b Y(c) + g (contrast,
    saturation) as one GreyAffine."""
    out, run = [], []
    for step in (*steps, None):
        if step is not None and hasattr(step, "grey_affine"):
            run.append(step)
            continue
        out += [GreyAffine(steps=tuple(run))] if len(run) > 1 else run
        run = []
        if step is not None:
            out.append(step)
    return tuple(out)


@dataclass(frozen=True)
class PixelPass:
    """One fused per-pixel kernel launch: load src (+ combine with aux), run steps, store dst."""

    kernel: str
    src: str
    dst: str
    steps: tuple[PixelOp, ...]
    combine: NeighbourhoodOp | None = None
    aux: str | None = None


@dataclass(frozen=True)
class BlurPass:
    """One direction ("h" or "v") of the separable Gaussian of ``op``."""

    src: str
    dst: str
    direction: str
    op: NeighbourhoodOp


@dataclass(frozen=True)
class Plan:
    passes: tuple
    key: tuple = field(default=())


def device_op(op, frame_kind: str | None = None, half_luts: bool = False) -> Op:
    """The op as the plan holds it: itself, or its device wrapper for the LUT/CDL types of
    render.ops.lut/cdl; on "u8" frames with ``half_luts``, tetrahedral LUTs with half-float corners."""
    if isinstance(op, (PixelOp, NeighbourhoodOp)):
        return op
    wrapped = lut_steps.wrap(op)
    if wrapped is None:
        raise MoodgradeError(f"not a grading op: {op!r}")
    if (half_luts and frame_kind == "u8" and isinstance(wrapped, lut_steps.Lut3DStep)
            and wrapped.lut.interpolation == "tetrahedral"):
        return replace(wrapped, half=True)
    return wrapped


def _with_domains(ops: list[PixelOp]) -> tuple[PixelOp, ...]:
    steps, domain = [], DISPLAY
    for op in ops:
        if op.domain != domain:
            steps.append(ToLinear() if op.domain == LINEAR else FromLinear())
            domain = op.domain
        steps.append(op)
    if domain == LINEAR:
        steps.append(FromLinear())
    return tuple(steps)


def build_plan(grade, frame_kind: str | None = None, half_luts: bool = False) -> Plan:
    """Plan the passes of ``grade`` (a tuple of ops, applied in order) for frames of
    ``frame_kind`` ("u8", "u16", "f32"; None: any). On "u8" the leading per-channel ops of the
    first pass become a CodeTable (device backends; the NumPy reference runs the ops), and with
    ``half_luts`` (GPUs) tetrahedral 3D LUTs keep their corners as half floats: about a third of an
    8-bit code value by estimate, outside the float and 16-bit bounds, so other kinds keep floats."""
    return plan_of([op for op in (device_op(op, frame_kind, half_luts) for op in grade) if not op.is_identity()],
                   frame_kind)


def plan_of(ops: list, frame_kind: str | None) -> Plan:
    """The passes of device ops ``ops`` (none of them identity), in order (see build_plan)."""
    # stages: (neighbourhood op or None, following per-pixel ops)
    stages: list[tuple[NeighbourhoodOp | None, list[PixelOp]]] = [(None, [])]
    for op in ops:
        if isinstance(op, NeighbourhoodOp):
            stages.append((op, []))
        else:
            stages[-1][1].append(op)
    passes, src = [], "input"
    for n, (nop, pixel_ops) in enumerate(stages):
        dst = "output" if n == len(stages) - 1 else f"s{n % 2}"
        steps = _with_domains(pixel_ops)
        if n == 0 and frame_kind == "u8":
            steps = _bake_codes(steps)
        steps = _fold_grey_affine(steps)
        if nop is None:
            if not steps and n + 1 < len(stages) and stages[n + 1][0].source_function:
                continue  # nothing to do before a source pass: it and the combine read the frame
            passes.append(PixelPass(f"pass{len(passes)}", src, dst, steps))
        else:
            blur_src = src
            if nop.source_function:
                passes.append(PixelPass(f"pass{len(passes)}", src, "source", (BlurSource(nop),)))
                blur_src = "source"
            passes.append(BlurPass(blur_src, "tmp", "h", nop))
            passes.append(BlurPass("tmp", "blurred", "v", nop))
            passes.append(PixelPass(f"pass{len(passes)}", src, dst, steps, combine=nop, aux="blurred"))
        src = dst
    key = tuple(_pass_key(p) for p in passes)
    return Plan(tuple(passes), key)


def _pass_key(p) -> tuple:
    if isinstance(p, BlurPass):
        return ("blur", p.src, p.dst, p.direction)
    return ("pixel", p.kernel, p.src, p.dst, p.aux, p.combine.structure() if p.combine else None,
            tuple(s.structure() for s in p.steps))


@dataclass
class Packed:
    """Per-frame values of a plan: P (parameters), T (tables), offsets, blur weights."""

    params: np.ndarray
    tables: np.ndarray
    # per PixelPass kernel name: (combine param offset or None, [(param offset, table offset) per step])
    offsets: dict
    weights: list  # per BlurPass, in order: float32 half kernel
    # (T offset, float32 array) pairs to write over ``tables`` for this frame (render.ops.compiled:
    # ``tables`` is then its structure's template, shared by every frame); pack() leaves it empty
    table_updates: tuple = ()

    def full_tables(self) -> np.ndarray:
        """``tables`` with this frame's updates written in (a copy only when there are updates)."""
        if not self.table_updates:
            return self.tables
        tables = self.tables.copy()
        for offset, values in self.table_updates:
            tables[offset:offset + len(values)] = values
        return tables


def pack(plan: Plan, ctx: FrameContext) -> Packed:
    """Evaluate every op's parameter precompute for this frame."""
    if ctx.transfer not in TRANSFERS:
        raise MoodgradeError(f"unknown transfer function {ctx.transfer!r}; use one of {sorted(TRANSFERS)}")
    params, tables, offsets, weights = [], [], {}, []
    p_len = t_len = 0
    for p in plan.passes:
        if isinstance(p, BlurPass):
            weights.append(gaussian_weights(p.op.blur_sigma(ctx)))
            continue
        comb = None
        if p.combine is not None:
            a = p.combine.params(ctx)
            comb, p_len = p_len, p_len + len(a)
            params.append(a)
        step_offsets = []
        for s in p.steps:
            a, t = s.params(ctx), s.table(ctx)
            if t_len % 4:  # every table starts 16-byte aligned (vector loads on GPUs)
                tables.append(np.zeros(4 - t_len % 4, np.float32))
                t_len += 4 - t_len % 4
            step_offsets.append((p_len, t_len))
            params.append(a)
            tables.append(t)
            p_len += len(a)
            t_len += len(t)
        offsets[p.kernel] = (comb, step_offsets)
    cat = lambda xs: np.concatenate(xs).astype(np.float32) if xs else np.zeros(0, np.float32)
    P, T = cat(params), cat(tables)
    # device buffers must not be empty
    return Packed(P if len(P) else np.zeros(1, np.float32), T if len(T) else np.zeros(1, np.float32),
                  offsets, weights)
