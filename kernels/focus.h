/* focus.h: separable Gaussian blur passes and the per-pixel combine steps of the
 * neighbourhood ops (device side of render/ops/focus.py).
 * Blur weights w[0..radius] are one half of a symmetric normalised kernel; edges clamp.
 */
#ifndef MOODGRADE_FOCUS_H
#define MOODGRADE_FOCUS_H

#define DEFINE_BLUR_H(NAME, T, LOAD)                                                       \
KERNEL void NAME(GLOBAL const T* src, GLOBAL float* dst, int width, int height,           \
                 GLOBAL const float* w, int radius) {                                       \
    int x = GID_X, y = GID_Y;                                                               \
    if (x >= width || y >= height) return;                                                  \
    int row = y * width;                                                                    \
    RGB c = LOAD(src, row + x);                                                             \
    float r = c.r * w[0], g = c.g * w[0], b = c.b * w[0];                                   \
    for (int k = 1; k <= radius; ++k) {                                                     \
        RGB a = LOAD(src, row + max(x - k, 0));                                             \
        RGB e = LOAD(src, row + min(x + k, width - 1));                                     \
        r = r + w[k] * (a.r + e.r); g = g + w[k] * (a.g + e.g); b = b + w[k] * (a.b + e.b); \
    }                                                                                       \
    store_buf(dst, row + x, rgb(r, g, b));                                                  \
}
DEFINE_BLUR_H(blur_h_u8, uchar, load_u8)
DEFINE_BLUR_H(blur_h_u16, ushort, load_u16)
DEFINE_BLUR_H(blur_h_f32, float, load_f32)
DEFINE_BLUR_H(blur_h_buf, float, load_buf)

KERNEL void blur_v_buf(GLOBAL const float* src, GLOBAL float* dst, int width, int height,
                       GLOBAL const float* w, int radius) {
    int x = GID_X, y = GID_Y;
    if (x >= width || y >= height) return;
    RGB c = load_buf(src, y * width + x);
    float r = c.r * w[0], g = c.g * w[0], b = c.b * w[0];
    for (int k = 1; k <= radius; ++k) {
        RGB a = load_buf(src, max(y - k, 0) * width + x);
        RGB e = load_buf(src, min(y + k, height - 1) * width + x);
        r = r + w[k] * (a.r + e.r); g = g + w[k] * (a.g + e.g); b = b + w[k] * (a.b + e.b);
    }
    store_buf(dst, y * width + x, rgb(r, g, b));
}

DEVFN RGB combine_blur(RGB s, RGB b, CONSTANT const float* p, PixelCtx px) { return b; }

/* p = [amount] */
DEVFN RGB combine_unsharp(RGB s, RGB b, CONSTANT const float* p, PixelCtx px) {
    return rgb(s.r + (s.r - b.r) * p[0], s.g + (s.g - b.g) * p[0], s.b + (s.b - b.b) * p[0]);
}

/* p = [band centre y, band half height, band feather, sin * aspect, cos, count, 8 ellipses] */
DEVFN RGB combine_depth_of_field(RGB s, RGB b, CONSTANT const float* p, PixelCtx px) {
    float mask = 0.0f;
    if (p[1] > 0.0f) {
        float dist = fabsf((frame_u(px) - 0.5f) * p[3] + (frame_v(px) - p[0]) * p[4]);
        mask = 1.0f - smoothstepf(p[1] * (1.0f - p[2]), p[1], dist);
    }
    int n = (int)p[5];
    for (int i = 0; i < n; ++i) mask = fmaxf(mask, ellipse_mask(p + 6 + 6 * i, px));
    return rgb(b.r + (s.r - b.r) * mask, b.g + (s.g - b.g) * mask, b.b + (s.b - b.b) * mask);
}

#endif
