/* lighting.h: vignette, highlight roll-off, regional relight (linear light) and the
 * bloom bright pass and combine step (device side of render/ops/lighting.py). */
#ifndef MOODGRADE_LIGHTING_H
#define MOODGRADE_LIGHTING_H

/* p = [amount, start radius, end radius, x aspect, 1 / corner distance] */
DEVFN RGB op_vignette(RGB c, CONSTANT const float* p, GLOBAL const float* t, PixelCtx px) {
    float dx = (frame_u(px) - 0.5f) * 2.0f * p[3];
    float dy = (frame_v(px) - 0.5f) * 2.0f;
    float d = sqrtf(dx * dx + dy * dy) * p[4];
    float g = 1.0f - p[0] * smoothstepf(p[1], p[2], d);
    return rgb(c.r * g, c.g * g, c.b * g);
}

/* p = [knee, 1 / (1 - knee), strength] */
DEVFN RGB op_highlight_rolloff(RGB c, CONSTANT const float* p, GLOBAL const float* t, PixelCtx px) {
    float m = fmaxf(fmaxf(c.r, c.g), c.b);
    if (!(m > p[0])) return c;
    float over = fmaxf(m - p[0], 0.0f);
    float shoulder = p[0] + over / (1.0f + over * p[1]);
    float s = 1.0f + (shoulder / m - 1.0f) * p[2];
    return rgb(c.r * s, c.g * s, c.b * s);
}

/* p = [count, 8 x (cx, cy, rx, ry, angle_rad, feather, exposure_ev, warmth)] */
DEVFN RGB op_relight(RGB c, CONSTANT const float* p, GLOBAL const float* t, PixelCtx px) {
    int n = (int)p[0];
    float ev = 0.0f, warm = 0.0f;
    for (int i = 0; i < n; ++i) {
        CONSTANT const float* e = p + 1 + 8 * i;
        float m = ellipse_mask(e, px);
        ev = ev + m * e[6];
        warm = warm + m * e[7];
    }
    float g = exp2f(ev);
    return rgb(c.r * (g * (1.0f + 0.2f * warm)), c.g * g, c.b * (g * (1.0f - 0.2f * warm)));
}

/* bloom bright pass, display values in, linear light out: p = [threshold, strength] */
DEVFN RGB op_bloom_bright(RGB c, CONSTANT const float* p, GLOBAL const float* t, PixelCtx px) {
    RGB l = rgb_to_linear(c);
    return rgb(fmaxf(l.r - p[0], 0.0f), fmaxf(l.g - p[0], 0.0f), fmaxf(l.b - p[0], 0.0f));
}

/* sharp: display values; blurred: blurred bright pass (linear) */
DEVFN RGB combine_bloom(RGB s, RGB b, CONSTANT const float* p, PixelCtx px) {
    RGB l = rgb_to_linear(s);
    return rgb_from_linear(rgb(l.r + p[1] * b.r, l.g + p[1] * b.g, l.b + p[1] * b.b));
}

#endif
