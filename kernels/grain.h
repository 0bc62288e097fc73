/* grain.h: film grain (device side of render/ops/grain.py): a source pass making seeded
 * noise, blurred by the plan's Gaussian passes, and a combine step adding it to the picture.
 * p = [0.1 * amount, chroma, frame key low 16 bits, frame key high 16 bits,
 *      EDGE_FACTORS x 1 / std of the blurred noise by distance to the nearest edge]
 */
#ifndef MOODGRADE_GRAIN_H
#define MOODGRADE_GRAIN_H

#define EDGE_FACTORS 64

/* sum of four 16-bit uniforms from two hashes, centred and scaled to unit variance */
DEVFN VF grain_noise(VU base, uint stream) {
    VU h1 = hash32(base + (2u * stream + 1u)), h2 = hash32(base + (2u * stream + 2u));
    VU s = (h1 & 0xFFFFu) + (h1 >> 16) + (h2 & 0xFFFFu) + (h2 >> 16);
    return (VF_OF_VU(s) * (1.0f / 65536.0f) - 2.0f) * 1.7320508f;
}

/* the noise of the pixel and frame (the picture c is not read): per channel, the luma noise
 * moved towards the channel's own by chroma */
DEVFN RGB op_grain_noise(RGB c, CONSTANT const float* p, GLOBAL const float* t, PixelCtx px) {
    uint key = (uint)p[2] | ((uint)p[3] << 16);
    VU base = hash32(px.index ^ key);
    VF nl = grain_noise(base, 0u);
    return rgb(nl + (grain_noise(base, 1u) - nl) * p[1], nl + (grain_noise(base, 2u) - nl) * p[1],
               nl + (grain_noise(base, 3u) - nl) * p[1]);
}

/* s: display values; n: the blurred noise, brought back to unit variance by the edge factors
 * of the column and the row, added with a response strongest at mid-grey */
DEVFN RGB combine_film_grain(RGB s, RGB n, CONSTANT const float* p, PixelCtx px) {
    int dy = min(px.y, px.height - 1 - px.y);
    VF dx = fmin(px.x, (float)(px.width - 1) - px.x);
    VF fx = GATHER(p + 4, VI_OF_VF(fmin(dx, (VF)(float)(EDGE_FACTORS - 1))));
    VF scale = p[4 + min(dy, EDGE_FACTORS - 1)] * (p[0] * fx);
    VF y = clamp01(luma709(s));
    VF k = scale * (4.0f * y * (1.0f - y));
    return rgb(s.r + k * n.r, s.g + k * n.g, s.b + k * n.b);
}

#endif
