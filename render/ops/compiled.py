"""The compiled grade: a grade planned once per structure, only its values packed per frame.

OpenColorIO compiles a Processor once and runs it on every pixel; a mood-driven grade is
the same grade on every frame of a shot except for its values. So a :class:`CompiledGrade`
keeps, per structure (which ops, which of them are identity, the frame kind, transfer and
size), the plan, the program's key and the values of the frame that first had it (the
template). For a later frame only the ops that are not the template's own objects (the
schedule's driven ops, the face ops) are looked at: when their structure matches, their
steps are packed into a copy of the template's parameters and their tables are handed on
as updates of the template's tables; everything else is reused as it is. The result is
exactly ``pack(build_plan(grade, ...))`` (tested), at a fraction of the cost
(benchmarks/bench_host_cost.py).

A CompiledGrade is safe to use from several threads: each call reads shared, immutable
structures and makes its own arrays; a new structure is built under a short lock.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass, replace

import numpy as np

from render.errors import MoodgradeError
from render.ops.base import FrameContext, apply_references, gaussian_weights, with_fields
from render.ops.plan import (BlurPass, BlurSource, CodeTable, CODES_LOADED, Packed, Plan, device_op, pack,
                             plan_of)
from render.ops.transfer import TRANSFERS

MAX_STRUCTURES = 8   # structures kept per compiled grade (a schedule has one or two: faces, no faces)


@dataclass(frozen=True)
class FramePlan:
    """What a backend runs for one frame: the structure's plan and program, and this frame's values.

    ``plan`` holds the template frame's ops: launch from it (its passes and buffers are this
    frame's too), but run references from :meth:`frame_plan`, which holds this frame's ops.
    """

    plan: Plan
    packed: Packed
    program_key: tuple
    frame_kind: str
    ctx: FrameContext         # this frame's size, index and transfer
    _rebound: dict            # id(template device op) -> this frame's device op

    @property
    def width(self) -> int:
        return self.ctx.width

    @property
    def height(self) -> int:
        return self.ctx.height

    @property
    def transfer(self) -> str:
        return self.ctx.transfer

    @property
    def frame_index(self) -> int:
        return self.ctx.frame_index

    def frame_plan(self) -> Plan:
        """The plan with this frame's own ops in it (for the NumPy references)."""
        if not self._rebound:
            return self.plan
        passes = tuple(replace(p, op=_rebind(p.op, self._rebound)) if isinstance(p, BlurPass) else
                       replace(p, steps=tuple(_rebind(s, self._rebound) for s in p.steps),
                               combine=_rebind(p.combine, self._rebound))
                       for p in self.plan.passes)
        return Plan(passes, self.plan.key)


@dataclass(frozen=True)
class _Slot:
    """One packed piece of the plan: a step of a pass, a pass's combine op, or a blur's weights."""

    kind: str                  # "step", "combine" or "blur"
    item: object               # the template's step / op
    positions: frozenset       # grade positions whose op it holds
    param_offset: int
    table_offset: int
    always: bool               # params read the frame index: packed on every frame
    stages: tuple = ()         # CodeTable: CODES_LOADED through the first k template steps, per k
    table: object = None       # the template's table (a LUT's: the same object while only its mix moves)


@dataclass(frozen=True)
class _Structure:
    grade: tuple               # the template frame's ops, by position
    device: tuple              # their device ops (None where identity: not in the plan)
    signature: tuple
    plan: Plan
    packed: Packed
    program_key: tuple
    slots: tuple
    plan_options: tuple        # (plan frame kind, half_luts) the device ops were made with


def _signature(op) -> tuple:
    return type(op), op.structure(), op.is_identity()


def _rebind(item, rebound: dict):
    """``item`` (a step, op or None) with the template's ops replaced by this frame's."""
    if item is None:
        return None
    new = rebound.get(id(item))
    if new is not None:
        return new
    if isinstance(item, BlurSource):
        op = _rebind(item.op, rebound)
        return item if op is item.op else with_fields(item, {"op": op})
    steps = getattr(item, "steps", None)   # CodeTable, GreyAffine: runs of ops
    if steps:
        new_steps = tuple(_rebind(s, rebound) for s in steps)
        if any(a is not b for a, b in zip(new_steps, steps)):
            return with_fields(item, {"steps": new_steps})
    return item


def _held(item, position_of: dict) -> frozenset:
    """Grade positions of the ops inside ``item``."""
    found = {position_of[id(item)]} if id(item) in position_of else set()
    for inner in (getattr(item, "op", None), *(getattr(item, "steps", None) or ())):
        if inner is not None:
            found |= _held(inner, position_of)
    return frozenset(found)


class CompiledGrade:
    """Plans and packs the frames of one grade (its ops may change values frame to frame).

    ``plan_options(frame_kind) -> (plan frame kind, half_luts)`` is the backend's planning
    policy (see render.ops.plan.build_plan); ``program_key(plan, packed, kind, transfer)``
    names a compiled program.
    """

    def __init__(self, plan_options, program_key):
        self._plan_options = plan_options
        self._program_key = program_key
        self._structures: OrderedDict = OrderedDict()
        self._current: dict = {}            # (kind, transfer, width, height) -> last structure used
        self._lock = threading.Lock()

    def frame(self, grade: tuple, frame_kind: str, transfer: str, width: int, height: int,
              frame_index: int) -> FramePlan:
        """The frame plan of ``grade`` (a tuple of ops) for one frame."""
        if transfer not in TRANSFERS:
            raise MoodgradeError(f"unknown transfer function {transfer!r}; use one of {sorted(TRANSFERS)}")
        place = (frame_kind, transfer, width, height)
        structure = self._current.get(place)
        changed = self._changed(structure, grade)
        if changed is None:
            structure = self._structure(grade, place)
            changed = self._changed(structure, grade)
            self._current[place] = structure
        ctx = FrameContext(width, height, frame_index, transfer)
        return self._pack(structure, grade, changed, ctx, frame_kind)

    def _changed(self, structure: _Structure | None, grade: tuple):
        """{position: this frame's device op} where ``grade`` differs from the structure's
        template but has its structure; None when the structure does not fit."""
        if structure is None or len(grade) != len(structure.grade):
            return None
        kind, half_luts = structure.plan_options
        changed = {}
        for k, (op, template) in enumerate(zip(grade, structure.grade)):
            if op is template:
                continue
            device = device_op(op, kind, half_luts)
            if _signature(device) != structure.signature[k]:
                return None
            if structure.device[k] is not None:
                changed[k] = device
        return changed

    def _structure(self, grade: tuple, place: tuple) -> _Structure:
        kind, half_luts = self._plan_options(place[0])
        device = [device_op(op, kind, half_luts) for op in grade]
        signature = tuple(_signature(d) for d in device)
        key = (signature, place)
        with self._lock:
            found = self._structures.get(key)
            if found is not None:
                self._structures.move_to_end(key)
                return found
        kept = tuple(None if d.is_identity() else d for d in device)
        plan = plan_of([d for d in kept if d is not None], kind)
        ctx = FrameContext(place[2], place[3], 0, place[1])
        packed = pack(plan, ctx)
        structure = _Structure(tuple(grade), kept, signature, plan, packed,
                               self._program_key(plan, packed, place[0], place[1]),
                               _slots(plan, packed, kept, ctx), (kind, half_luts))
        with self._lock:
            self._structures[key] = structure
            while len(self._structures) > MAX_STRUCTURES:
                self._structures.popitem(last=False)
        return structure

    def _pack(self, structure: _Structure, grade: tuple, changed: dict, ctx: FrameContext,
              frame_kind: str) -> FramePlan:
        base = structure.packed
        rebound = {id(structure.device[k]): d for k, d in changed.items()}
        params, weights, updates = None, base.weights, []
        for slot in structure.slots:
            if not (slot.always or slot.positions.intersection(changed)):
                continue
            item = _rebind(slot.item, rebound)
            if slot.kind == "blur":
                if weights is base.weights:
                    weights = list(weights)
                weights[slot.param_offset] = gaussian_weights(item.blur_sigma(ctx))
                continue
            if params is None:
                params = base.params.copy()
            values = item.params(ctx)
            params[slot.param_offset:slot.param_offset + len(values)] = values
            if slot.kind == "step" and slot.table_offset >= 0:
                table = _table(slot, item, ctx)
                if table is not slot.table:
                    updates.append((slot.table_offset, table))
        packed = Packed(base.params if params is None else params, base.tables, base.offsets, weights,
                        tuple(updates))
        return FramePlan(structure.plan, packed, structure.program_key, frame_kind, ctx, rebound)


def _table(slot: _Slot, item, ctx: FrameContext) -> np.ndarray:
    """This frame's table of a changed step; a code table runs only from its first changed step."""
    if not isinstance(item, CodeTable):
        return np.ascontiguousarray(item.table(ctx), np.float32)
    first = next(k for k, (a, b) in enumerate(zip(item.steps, slot.item.steps)) if a is not b)
    return CodeTable.table_of(apply_references(item.steps[first:], slot.stages[first], ctx))


def _slots(plan: Plan, packed: Packed, device: tuple, ctx: FrameContext) -> tuple:
    """Every packed piece of ``plan`` with the grade positions it holds, in packing order."""
    position_of = {id(d): k for k, d in enumerate(device) if d is not None}
    slots, blur_index = [], 0
    for p in plan.passes:
        if isinstance(p, BlurPass):
            slots.append(_Slot("blur", p.op, _held(p.op, position_of), blur_index, -1, False))
            blur_index += 1
            continue
        combine_offset, step_offsets = packed.offsets[p.kernel]
        if p.combine is not None:
            slots.append(_Slot("combine", p.combine, _held(p.combine, position_of), combine_offset, -1,
                               p.combine.params_use_frame_index))
        for step, (param_offset, table_offset) in zip(p.steps, step_offsets):
            table = step.table(ctx)
            stages = ()
            if isinstance(step, CodeTable):
                stages = [CODES_LOADED]
                for inner in step.steps[:-1]:
                    stages.append(apply_references((inner,), stages[-1], ctx))
            slots.append(_Slot("step", step, _held(step, position_of), param_offset,
                               table_offset if len(table) else -1, step.params_use_frame_index, tuple(stages), table))
    return tuple(slots)
