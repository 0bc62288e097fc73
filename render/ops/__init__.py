"""Grading ops: immutable descriptions with unit-bearing parameters (see docs/ops.md).

colour (exposure, white balance, lift/gamma/gain, contrast, saturation, vibrance, hue,
split toning, curves), grain (film grain), lighting (vignette, highlight roll-off, relight, bloom),
focus (blur, unsharp, depth of field), lut / cdl (file formats and references),
regions (soft ellipses), transfer (BT.709 / sRGB), plan (the processor that fuses a
grade into passes), grade_file (grades from TOML and the command line).
"""
