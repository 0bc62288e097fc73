"""The farm's recipe on disk: JSON that rebuilds the same grade, and refuses what it is not."""

import json

import numpy as np
import pytest

from render.backends.numpy_backend import NumpyBackend
from render.errors import MoodgradeError
from render.farm.job_dir import load_job
from render.farm.recipe_json import recipe_from_json, recipe_to_json
from render.grading import GradeRecipe
from render.looks.preset import load_preset
from render.looks.schedule import build_schedule
from tests.backends.examples import OP_EXAMPLES, sample_frame
from tests.looks.test_presets import _random_timeline


def _recipe() -> GradeRecipe:
    """Every example op as the fixed part, and noir's schedule (LUT, grain, faces, soft clip)."""
    schedule = build_schedule(load_preset("noir"), _random_timeline(30, cuts=[12]), intensity=0.8)
    return GradeRecipe(ops=tuple(OP_EXAMPLES.values()), schedule=schedule, backend="numpy")


def test_the_recipe_comes_back_as_it_was():
    recipe = _recipe()
    text = recipe_to_json(recipe)
    again = recipe_from_json(text, "recipe.json")
    assert recipe_to_json(again) == text
    frame = sample_frame(np.uint16)
    for index in (0, 11, 12, 29):
        assert np.array_equal(NumpyBackend().apply(frame, again.ops_at(index), frame_index=index),
                              NumpyBackend().apply(frame, recipe.ops_at(index), frame_index=index))
    assert np.array_equal(again.schedule.face_box, recipe.schedule.face_box, equal_nan=True)


def _tampered(change) -> str:
    doc = json.loads(recipe_to_json(GradeRecipe(ops=(OP_EXAMPLES["exposure"], OP_EXAMPLES["lut1d"]))))
    change(doc["recipe"])
    return json.dumps(doc)


@pytest.mark.parametrize("change, words", [
    (lambda r: r["ops"][0].update({"$": "Popen"}), "unknown class 'Popen'"),
    (lambda r: r["ops"][0].update({"exposure_ev": 99.0}), "exposure_ev = 99.0 is outside the allowed range"),
    (lambda r: r["ops"][1]["table"].update({"shape": [1 << 20, 1 << 20, 3]}), "array shape"),
    (lambda r: r["ops"][1]["table"].update({"shape": [2, 3]}), "array data of"),
    (lambda r: r["ops"][1]["table"].update({"$array": "object"}), "array dtype 'object'"),
    (lambda r: r.update({"$": "Parameter"}), "not a recipe this version can read"),
])
def test_a_tampered_recipe_is_refused_in_one_line(change, words):
    with pytest.raises(MoodgradeError) as err:
        recipe_from_json(_tampered(change), "JOBDIR/recipe.json")
    message = str(err.value)
    assert message.startswith("JOBDIR/recipe.json: ") and words in message and "\n" not in message


def test_a_pickle_or_another_schema_is_refused():
    with pytest.raises(MoodgradeError, match="not valid JSON"):
        recipe_from_json("\x80\x05\x95", "r")
    with pytest.raises(MoodgradeError, match="not a moodgrade.grade-recipe/1 recipe"):
        recipe_from_json('{"schema": "moodgrade.grade-recipe/0"}', "r")


def test_a_job_planned_by_the_pickling_version_says_to_plan_again(tmp_path):
    (tmp_path / "manifest.json").write_text(json.dumps({"schema": "moodgrade.farm-job/1", "chunks": []}))
    (tmp_path / "recipe.pickle").write_bytes(b"\x80\x05N.")
    with pytest.raises(MoodgradeError, match="planned by an older moodgrade .* plan the job again"):
        load_job(tmp_path)
