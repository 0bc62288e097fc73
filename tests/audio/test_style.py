import pytest

from render.audio.style import RANGES, SoundtrackStyle
from render.errors import MoodgradeError


def test_defaults_are_valid_and_every_field_has_a_range():
    style = SoundtrackStyle()
    assert set(RANGES) == set(vars(style))


def test_from_mapping_reads_a_toml_table():
    style = SoundtrackStyle.from_mapping({"reverb_wet_max": 0.5, "compressor_ratio_range": [2, 8], "ramp_ms": 400})
    assert style.reverb_wet_max == 0.5
    assert style.compressor_ratio_range == (2.0, 8.0)
    assert style.ramp_ms == 400.0
    assert style.shelf_gain_db_max == SoundtrackStyle().shelf_gain_db_max


@pytest.mark.parametrize("table, words", [
    ({"reverb_wet": 0.5}, ["noir.toml [soundtrack]", "unknown key 'reverb_wet'"]),
    ({"reverb_wet_max": 1.5}, ["noir.toml [soundtrack]", "reverb_wet_max = 1.5", "0..1"]),
    ({"ramp_ms": "fast"}, ["noir.toml [soundtrack]", "ramp_ms must be a number"]),
    ({"ramp_ms": True}, ["ramp_ms must be a number"]),
    ({"compressor_ratio_range": [8, 2]}, ["compressor_ratio_range = [8, 2]", "low <= high"]),
    ({"compressor_ratio_range": [0.5, 2]}, ["compressor_ratio_range", "1..20"]),
    ({"compressor_ratio_range": 4}, ["compressor_ratio_range must be a pair"]),
])
def test_bad_values_name_the_file_the_key_and_the_range(table, words):
    with pytest.raises(MoodgradeError) as error:
        SoundtrackStyle.from_mapping(table, where="noir.toml [soundtrack]")
    message = str(error.value)
    assert "\n" not in message
    for word in words:
        assert word in message


def test_constructor_checks_ranges_too():
    with pytest.raises(MoodgradeError, match="ramp_ms = 10 is out of range 50..5000"):
        SoundtrackStyle(ramp_ms=10)
