/* focus.h: separable Gaussian blur passes over float buffers and the per-pixel combine
 * steps of the neighbourhood ops (device side of render/ops/focus.py).
 * Weights w[0..radius] are one half of a symmetric normalised kernel; edges clamp.
 * They treat a row as 3 * width interleaved floats (the same weights blur every channel).
 * Grid: (ceil(3 * width / LANES), height).
 */
#ifndef MOODGRADE_FOCUS_H
#define MOODGRADE_FOCUS_H

KERNEL void blur_h_buf(GLOBAL const float* src, GLOBAL float* dst, int width, int height,
                       GLOBAL const float* w, int radius) {
    int f0 = GID_X * LANES, y = GID_Y, rowlen = 3 * width;
    if (f0 >= rowlen || y >= height) return;
    int n = min(LANES, rowlen - f0);
    GLOBAL const float* row = src + y * rowlen;
    VF acc = load_flat(row, f0, n) * w[0];
    for (int k = 1; k <= radius; ++k)
        acc = acc + w[k] * (load_flat_clamped(row, f0 - 3 * k, rowlen) + load_flat_clamped(row, f0 + 3 * k, rowlen));
    store_flat(dst + y * rowlen, f0, n, acc);
}

KERNEL void blur_v_buf(GLOBAL const float* src, GLOBAL float* dst, int width, int height,
                       GLOBAL const float* w, int radius) {
    int f0 = GID_X * LANES, y = GID_Y, rowlen = 3 * width;
    if (f0 >= rowlen || y >= height) return;
    int n = min(LANES, rowlen - f0);
    VF acc = load_flat(src + y * rowlen, f0, n) * w[0];
    for (int k = 1; k <= radius; ++k)
        acc = acc + w[k] * (load_flat(src + max(y - k, 0) * rowlen, f0, n) +
                            load_flat(src + min(y + k, height - 1) * rowlen, f0, n));
    store_flat(dst + y * rowlen, f0, n, acc);
}

DEVFN RGB combine_blur(RGB s, RGB b, CONSTANT const float* p, PixelCtx px) { return b; }

/* p = [amount] */
DEVFN RGB combine_unsharp(RGB s, RGB b, CONSTANT const float* p, PixelCtx px) {
    return rgb(s.r + (s.r - b.r) * p[0], s.g + (s.g - b.g) * p[0], s.b + (s.b - b.b) * p[0]);
}

/* p = [band centre y, band half height, band feather, sin * aspect, cos, count, 8 ellipses] */
DEVFN RGB combine_depth_of_field(RGB s, RGB b, CONSTANT const float* p, PixelCtx px) {
    VF mask = (VF)0.0f;
    if (p[1] > 0.0f) {
        VF dist = fabs((px.u - 0.5f) * p[3] + (px.v - p[0]) * p[4]);
        mask = 1.0f - smoothstepv(p[1] * (1.0f - p[2]), p[1], dist);
    }
    int n = (int)p[5];
    for (int i = 0; i < n; ++i) mask = vmax(mask, ellipse_mask(p + 6 + ELLIPSE_FLOATS * i, px));
    return rgb(b.r + (s.r - b.r) * mask, b.g + (s.g - b.g) * mask, b.b + (s.b - b.b) * mask);
}

#endif
