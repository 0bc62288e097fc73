/* colour.h: per-pixel colour ops (device side of render/ops/colour.py).
 * Each op: RGB op_x(RGB c, CONSTANT const float* p, GLOBAL const float* t, PixelCtx px);
 * p is the op's parameter block as packed by its params() method, t its table.
 */
#ifndef MOODGRADE_COLOUR_H
#define MOODGRADE_COLOUR_H

/* linear light: p = [2**exposure_ev] */
DEVFN RGB op_exposure(RGB c, CONSTANT const float* p, GLOBAL const float* t, PixelCtx px) {
    return rgb(c.r * p[0], c.g * p[0], c.b * p[0]);
}

/* linear light: p = [gain_r, gain_g, gain_b] */
DEVFN RGB op_white_balance(RGB c, CONSTANT const float* p, GLOBAL const float* t, PixelCtx px) {
    return rgb(c.r * p[0], c.g * p[1], c.b * p[2]);
}

/* p = [lift rgb, 1/gamma rgb, gain rgb, offset rgb] */
DEVFN VF lgg1(VF v, float lift, float inv_gamma, float gain, float offset) {
    VF u = gain * (v + lift * (1.0f - v));
    return powv(u, inv_gamma) + offset;
}
DEVFN RGB op_lift_gamma_gain(RGB c, CONSTANT const float* p, GLOBAL const float* t, PixelCtx px) {
    return rgb(lgg1(c.r, p[0], p[3], p[6], p[9]), lgg1(c.g, p[1], p[4], p[7], p[10]),
               lgg1(c.b, p[2], p[5], p[8], p[11]));
}

/* p = [contrast, pivot] */
DEVFN RGB op_contrast(RGB c, CONSTANT const float* p, GLOBAL const float* t, PixelCtx px) {
    float k = p[0], b = p[1] - p[1] * p[0];  /* pivot + (c - pivot) * k = c * k + b */
    return rgb(c.r * k + b, c.g * k + b, c.b * k + b);
}

/* p = [a, b, g]: a c + b Y(c) + g, Y the Rec.709 luma (a run of contrast and saturation ops
 * folded into one step: GreyAffine in render/ops/colour.py) */
DEVFN RGB op_grey_affine(RGB c, CONSTANT const float* p, GLOBAL const float* t, PixelCtx px) {
    VF o = luma709(c) * p[1] + p[2];
    return rgb(c.r * p[0] + o, c.g * p[0] + o, c.b * p[0] + o);
}

DEVFN RGB saturate_about_luma(RGB c, VF s) {
    VF y = luma709(c);
    VF b = y - y * s;  /* y + (c - y) * s = c * s + b */
    return rgb(c.r * s + b, c.g * s + b, c.b * s + b);
}

/* p = [saturation] */
DEVFN RGB op_saturation(RGB c, CONSTANT const float* p, GLOBAL const float* t, PixelCtx px) {
    return saturate_about_luma(c, (VF)p[0]);
}

/* p = [vibrance] */
DEVFN RGB op_vibrance(RGB c, CONSTANT const float* p, GLOBAL const float* t, PixelCtx px) {
    VF chroma = clamp01(vmax(vmax(c.r, c.g), c.b) - vmin(vmin(c.r, c.g), c.b));
    return saturate_about_luma(c, 1.0f + p[0] * (1.0f - chroma));
}

/* p = 3x3 matrix, row-major (hue rotation) */
DEVFN RGB op_matrix(RGB c, CONSTANT const float* p, GLOBAL const float* t, PixelCtx px) {
    return rgb(p[0] * c.r + p[1] * c.g + p[2] * c.b,
               p[3] * c.r + p[4] * c.g + p[5] * c.b,
               p[6] * c.r + p[7] * c.g + p[8] * c.b);
}

/* p = [shadow tint rgb, highlight tint rgb, balance/2] */
DEVFN RGB op_split_tone(RGB c, CONSTANT const float* p, GLOBAL const float* t, PixelCtx px) {
    VF w = smoothstepv(0.0f, 1.0f, luma709(c) + p[6]);
    VF s = 1.0f - w;
    return rgb(c.r + s * p[0] + w * p[3], c.g + s * p[1] + w * p[4], c.b + s * p[2] + w * p[5]);
}

/* per-channel linear interpolation in an (m, 3) table over 0..1, inputs clamped */
DEVFN VF lut1d_channel(VF v, GLOBAL const float* t, int m, int ch) {
    VF pos = clamp01(v) * (float)(m - 1);
    VF fi = fmin(floor(pos), (VF)(float)(m - 2));
    VI i = 3 * VI_OF_VF(fi) + ch;
    VF f = pos - fi;
    VF a = GATHER(t, i), b = GATHER(t, i + 3);
    return a + (b - a) * f;
}

/* t = CURVE_SAMPLES x 3 table; p unused */
DEVFN RGB op_curves(RGB c, CONSTANT const float* p, GLOBAL const float* t, PixelCtx px) {
    return rgb(lut1d_channel(c.r, t, CURVE_SAMPLES, 0), lut1d_channel(c.g, t, CURVE_SAMPLES, 1),
               lut1d_channel(c.b, t, CURVE_SAMPLES, 2));
}

/* soft clip (render/ops/soft_clip.py): soft_floor(x) = x for x >= w, else
 * w (1 + (w - x) k) ** -1/4 with k = 4 / w */
DEVFN VF soft_floor(VF x, float w, float k) {
    VF q = fmax(1.0f + (w - x) * k, (VF)1.0f);
    return SEL(x < w, w / sqrt(sqrt(q)), x);
}
/* p = [gamut w, k, white w, k, black w, k]; a width of 0 turns its step off */
DEVFN RGB op_soft_clip(RGB c, CONSTANT const float* p, GLOBAL const float* t, PixelCtx px) {
    if (p[0] > 0.0f) {
        VF m = vmax(vmax(c.r, c.g), c.b);
        VF inv = 1.0f / fmax(m, (VF)1e-30f);
        VF rr = c.r * inv, rg = c.g * inv, rb = c.b * inv;
        c = rgb(SEL((m > 0.0f) & (rr < p[0]), m * soft_floor(rr, p[0], p[1]), c.r),
                SEL((m > 0.0f) & (rg < p[0]), m * soft_floor(rg, p[0], p[1]), c.g),
                SEL((m > 0.0f) & (rb < p[0]), m * soft_floor(rb, p[0], p[1]), c.b));
    }
    if (p[2] > 0.0f)
        c = rgb(1.0f - soft_floor(1.0f - c.r, p[2], p[3]), 1.0f - soft_floor(1.0f - c.g, p[2], p[3]),
                1.0f - soft_floor(1.0f - c.b, p[2], p[3]));
    if (p[4] > 0.0f)
        c = rgb(soft_floor(c.r, p[4], p[5]), soft_floor(c.g, p[4], p[5]), soft_floor(c.b, p[4], p[5]));
    return c;
}

#endif
