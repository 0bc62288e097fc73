/* lighting.h: vignette (display values), highlight roll-off, regional relight (linear light), the
 * bloom bright pass and combine step (device side of render/ops/lighting.py). */
#ifndef MOODGRADE_LIGHTING_H
#define MOODGRADE_LIGHTING_H

/* p = [amount, start radius, end radius, x aspect, 1 / corner distance] */
DEVFN RGB op_vignette(RGB c, CONSTANT const float* p, GLOBAL const float* t, PixelCtx px) {
    float sx = 2.0f * p[3] * p[4], sy = 2.0f * p[4];  /* (u - 0.5) * 2 * aspect / corner distance */
    VF dx = px.u * sx - 0.5f * sx, dy = px.v * sy - 0.5f * sy;
    VF d = sqrt(dx * dx + dy * dy);
    /* 1 - amount * smoothstep(p[1], p[2], d) as 1 + e^2 (2 amount e - 3 amount): 3 instructions */
    float k = 1.0f / (p[2] - p[1]), a = p[0];
    VF e = clamp01_fma(d, k, -p[1] * k);
    VF g = e * e * (e * (2.0f * a) - 3.0f * a) + 1.0f;
    return rgb(c.r * g, c.g * g, c.b * g);
}

/* p = [knee, 1 / (1 - knee), strength] */
DEVFN RGB op_highlight_rolloff(RGB c, CONSTANT const float* p, GLOBAL const float* t, PixelCtx px) {
    VF m = vmax(vmax(c.r, c.g), c.b);
    VF over = fmax(m - p[0], (VF)0.0f);
    VF shoulder = p[0] + over / (1.0f + over * p[1]);
    VF s = SEL(m > p[0], 1.0f + (shoulder / m - 1.0f) * p[2], 1.0f);
    return rgb(c.r * s, c.g * s, c.b * s);
}

/* display values in and out, relit in linear light; pixels that no region reaches are left as
 * they are (the reference's transfer round trip differs from them by about 1e-7)
 * p = [count, 8 x (ellipse (ELLIPSE_FLOATS), exposure_ev, warmth)] */
DEVFN RGB op_relight(RGB c, CONSTANT const float* p, GLOBAL const float* t, PixelCtx px) {
    int n = (int)p[0];
    VF ev = (VF)0.0f, warm = (VF)0.0f;
    for (int i = 0; i < n; ++i) {
        CONSTANT const float* e = p + 1 + RELIGHT_RECORD * i;
        VF m = ellipse_mask(e, px);
        ev = ev + m * e[ELLIPSE_FLOATS];
        warm = warm + m * e[ELLIPSE_FLOATS + 1];
    }
    if (!ANY_LANE((ev != 0.0f) | (warm != 0.0f))) return c;
    VF g = exp2v(ev);
    RGB l = rgb_to_linear(c);
    return rgb_from_linear(rgb(l.r * (g * (1.0f + 0.2f * warm)), l.g * g, l.b * (g * (1.0f - 0.2f * warm))));
}

/* bloom bright pass, display values in, linear light out: p = [threshold, strength] */
DEVFN RGB op_bloom_bright(RGB c, CONSTANT const float* p, GLOBAL const float* t, PixelCtx px) {
    RGB l = rgb_to_linear(c);
    return rgb(fmax(l.r - p[0], (VF)0.0f), fmax(l.g - p[0], (VF)0.0f), fmax(l.b - p[0], (VF)0.0f));
}

/* sharp: display values; blurred: blurred bright pass (linear) */
DEVFN RGB combine_bloom(RGB s, RGB b, CONSTANT const float* p, PixelCtx px) {
    RGB l = rgb_to_linear(s);
    return rgb_from_linear(rgb(l.r + p[1] * b.r, l.g + p[1] * b.g, l.b + p[1] * b.b));
}

#endif
