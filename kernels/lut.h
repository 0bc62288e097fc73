/* lut.h: 1D LUTs, 3D LUTs (tetrahedral and trilinear) and the ASC CDL v1.2 on display
 * values (device side of render/ops/lut.py, render/ops/cdl.py via render/ops/lut_steps.py).
 * LUT p = [-domain_min / (domain_max - domain_min) rgb, reach, 1 / (domain_max - domain_min) rgb, size],
 * reach = (size - 1)(1 - 2^-22) (see lut_index);
 * t = the table, float32 C order: 1D (M, 3); 3D (N, N, N, 4) indexed [r][g][b], the 4th
 * channel zero, or half floats for op_lut3d_tetrahedral_half (see render/ops/lut_steps.py).
 */
#ifndef MOODGRADE_LUT_H
#define MOODGRADE_LUT_H

/* Adding LUT_MAGIC - 0.5 (2^23 - 1/2, exact) to 0 <= x < 2^22 and rounding to float gives
 * 2^23 + floor(x) (ties to even: at a grid point, possibly the point below), or 2^23 - 1/2 for
 * x < 1/2, which a lower clamp maps to 2^23: floor and clamp in two instructions. */
#define LUT_MAGIC 8388608.0f
#define LUT_MAGIC_BITS 0x4B000000

/* position of v in the LUT's sample grid (v clamped to the domain, NaN -> its minimum): lower
 * index (0..size-2) and fraction (0..1; 1 at a grid point whose index is the point below,
 * which interpolates to the same value). origin = -domain_min * unit, unit = 1 / (domain_max -
 * domain_min). Positions run from 0 to reach = (size - 1)(1 - 2^-22), short of the last point
 * by 2 float steps or more at any size, so the lower index never needs an upper clamp (even
 * where the multiply and add are rounded apart); the scale differs from the grid's by 2^-22,
 * 2 to 4 float steps of a position near the top. */
DEVFN VI lut_index(VF v, float origin, float unit, float reach, VF* frac) {
    VF t = clamp01_fma(v, unit, origin);
    VF r = fmax(t * reach + (LUT_MAGIC - 0.5f), (VF)LUT_MAGIC);
    *frac = t * reach - (r - LUT_MAGIC);
    return BITS_OF_VF(r) - LUT_MAGIC_BITS;
}

DEVFN RGB op_lut1d(RGB c, CONSTANT const float* p, GLOBAL const float* t, PixelCtx px) {
    VF fr, fg, fb;
    VI ir = 3 * lut_index(c.r, p[0], p[4], p[3], &fr);
    VI ig = 3 * lut_index(c.g, p[1], p[5], p[3], &fg) + 1;
    VI ib = 3 * lut_index(c.b, p[2], p[6], p[3], &fb) + 2;
    VF r0 = GATHER(t, ir), g0 = GATHER(t, ig), b0 = GATHER(t, ib);
    return rgb(r0 + (GATHER(t, ir + 3) - r0) * fr, g0 + (GATHER(t, ig + 3) - g0) * fg,
               b0 + (GATHER(t, ib + 3) - b0) * fb);
}

/* 3D tables are stored (N, N, N, 4), the 4th channel zero and the table 16-byte aligned */
#ifdef __OPENCL_VERSION__
DEVFN RGB lut3d_corner(GLOBAL const float* t, VI k) {
    return rgb(GATHER(t, 4 * k), GATHER(t, 4 * k + 1), GATHER(t, 4 * k + 2));
}
#else
DEVFN RGB lut3d_corner(const float* t, VI k) {  /* one 16-byte load per corner and lane */
    RGB c;
    FOR_LANES { float4 e = ((const float4*)t)[k.v[j]]; c.r.v[j] = e.x; c.g.v[j] = e.y; c.b.v[j] = e.z; }
    return c;
}
#endif

/* Tetrahedral (Kasson et al. 1995; as FFmpeg's interp_tetrahedral), walking from the lower
 * corner along the axes in order of decreasing fraction; same tie-breaking as the reference:
 * the four corners' indices and barycentric weights (they sum to 1). */
typedef struct { VI k0, k1, k2, k3; VF w0, w1, w2, w3; } Tetrahedron;
DEVFN Tetrahedron tetrahedron(RGB c, CONSTANT const float* p) {
    int n = (int)p[7];
    VF fr, fg, fb;
    VI base = lut_index(c.r, p[0], p[4], p[3], &fr) * (n * n) + lut_index(c.g, p[1], p[5], p[3], &fg) * n +
              lut_index(c.b, p[2], p[6], p[3], &fb);
    /* ties go to r, then g, for the largest fraction; to b, then g, for the smallest */
    VF lo_rg = fmin(fr, fg), hi_rg = fmax(fr, fg);
    VF f_max = fmax(hi_rg, fb), f_min = fmin(lo_rg, fb), f_mid = fmax(lo_rg, fmin(hi_rg, fb));
    VI step_max = SELI(fr == f_max, n * n, SELI(fg == f_max, n, 1));
    VI step_min = SELI(fb == f_min, 1, SELI(fg == f_min, n, n * n));
    Tetrahedron q;
    q.k0 = base; q.k1 = base + step_max; q.k3 = base + (n * n + n + 1); q.k2 = q.k3 - step_min;
    q.w0 = 1.0f - f_max; q.w1 = f_max - f_mid; q.w2 = f_mid - f_min; q.w3 = f_min;
    return q;
}
DEVFN RGB tetrahedral_blend(Tetrahedron q, RGB c0, RGB c1, RGB c2, RGB c3) {
    return rgb(c0.r * q.w0 + c1.r * q.w1 + c2.r * q.w2 + c3.r * q.w3,
               c0.g * q.w0 + c1.g * q.w1 + c2.g * q.w2 + c3.g * q.w3,
               c0.b * q.w0 + c1.b * q.w1 + c2.b * q.w2 + c3.b * q.w3);
}
DEVFN RGB op_lut3d_tetrahedral(RGB c, CONSTANT const float* p, GLOBAL const float* t, PixelCtx px) {
    Tetrahedron q = tetrahedron(c, p);
    return tetrahedral_blend(q, lut3d_corner(t, q.k0), lut3d_corner(t, q.k1), lut3d_corner(t, q.k2),
                             lut3d_corner(t, q.k3));
}

/* The same with the table's corners as half floats (N, N, N, 4 x fp16: 8 bytes a corner), for
 * 8-bit frames on GPUs (Lut3DStep.half in render/ops/lut_steps.py): half the cache traffic of
 * float corners, which with the position arithmetic bound the fused pass (an H200 measured 39.4
 * against 42.3 us: benchmarks/NOTES.md). On CUDA the blend runs in half2 arithmetic, r with g and
 * b with the zero 4th channel; corners (2^-12 relative), weights and sums in fp16 cost an 8-bit
 * output about 0.3 of a code value at most by estimate (the agreement tests bound it by 1). */
#ifdef __OPENCL_VERSION__
#define GATHER_HALF(h, i) ((VF)(vload_half((i).s0, h), vload_half((i).s1, h), vload_half((i).s2, h), \
    vload_half((i).s3, h), vload_half((i).s4, h), vload_half((i).s5, h), vload_half((i).s6, h), vload_half((i).s7, h)))
DEVFN RGB lut3d_corner_half(GLOBAL const float* t, VI k) {
    GLOBAL const half* h = (GLOBAL const half*)t;
    return rgb(GATHER_HALF(h, 4 * k), GATHER_HALF(h, 4 * k + 1), GATHER_HALF(h, 4 * k + 2));
}
DEVFN RGB op_lut3d_tetrahedral_half(RGB c, CONSTANT const float* p, GLOBAL const float* t, PixelCtx px) {
    Tetrahedron q = tetrahedron(c, p);
    return tetrahedral_blend(q, lut3d_corner_half(t, q.k0), lut3d_corner_half(t, q.k1), lut3d_corner_half(t, q.k2),
                             lut3d_corner_half(t, q.k3));
}
#else
#ifndef __CUDA_ARCH__  /* the dialect compiled as host C++ (tests): corners decoded, blended in float */
DEVFN float half_value(uint bits) {
    int e = (bits >> 10) & 31;
    float m = (float)(bits & 1023);
    float v = e ? ldexpf(1024.0f + m, e - 25) : ldexpf(m, -24);
    return (bits & 0x8000u) ? -v : v;
}
DEVFN RGB lut3d_corner_half(const float* t, VI k) {
    RGB c;
    FOR_LANES { uint2 e = ((const uint2*)t)[k.v[j]];
        c.r.v[j] = half_value(e.x & 0xFFFFu); c.g.v[j] = half_value(e.x >> 16); c.b.v[j] = half_value(e.y & 0xFFFFu); }
    return c;
}
#endif
DEVFN RGB op_lut3d_tetrahedral_half(RGB c, CONSTANT const float* p, GLOBAL const float* t, PixelCtx px) {
    Tetrahedron q = tetrahedron(c, p);
#ifdef __CUDA_ARCH__
    RGB o;
    const uint2* h = (const uint2*)t;
    FOR_LANES {
        uint2 a = h[q.k0.v[j]], b = h[q.k1.v[j]], e = h[q.k2.v[j]], d = h[q.k3.v[j]];
        asm("{ .reg .b32 wa, wb, wc, wd, rg, bz; .reg .f16 hr, hg, hb, hz;\n"
            " cvt.rn.f16x2.f32 wa, %3, %3; cvt.rn.f16x2.f32 wb, %4, %4; cvt.rn.f16x2.f32 wc, %5, %5; cvt.rn.f16x2.f32 wd, %6, %6;\n"
            " mul.rn.f16x2 rg, wa, %7; fma.rn.f16x2 rg, wb, %9, rg; fma.rn.f16x2 rg, wc, %11, rg; fma.rn.f16x2 rg, wd, %13, rg;\n"
            " mul.rn.f16x2 bz, wa, %8; fma.rn.f16x2 bz, wb, %10, bz; fma.rn.f16x2 bz, wc, %12, bz; fma.rn.f16x2 bz, wd, %14, bz;\n"
            " mov.b32 {hr, hg}, rg; mov.b32 {hb, hz}, bz; cvt.f32.f16 %0, hr; cvt.f32.f16 %1, hg; cvt.f32.f16 %2, hb; }"
            : "=f"(o.r.v[j]), "=f"(o.g.v[j]), "=f"(o.b.v[j])
            : "f"(q.w0.v[j]), "f"(q.w1.v[j]), "f"(q.w2.v[j]), "f"(q.w3.v[j]),
              "r"(a.x), "r"(a.y), "r"(b.x), "r"(b.y), "r"(e.x), "r"(e.y), "r"(d.x), "r"(d.y));
    }
    return o;
#else
    return tetrahedral_blend(q, lut3d_corner_half(t, q.k0), lut3d_corner_half(t, q.k1), lut3d_corner_half(t, q.k2),
                             lut3d_corner_half(t, q.k3));
#endif
}
#endif

DEVFN RGB lerp_rgb(RGB a, RGB b, VF f) {
    return rgb(a.r + (b.r - a.r) * f, a.g + (b.g - a.g) * f, a.b + (b.b - a.b) * f);
}

DEVFN RGB op_lut3d_trilinear(RGB c, CONSTANT const float* p, GLOBAL const float* t, PixelCtx px) {
    int n = (int)p[7];
    VF fr, fg, fb;
    VI base = lut_index(c.r, p[0], p[4], p[3], &fr) * (n * n) + lut_index(c.g, p[1], p[5], p[3], &fg) * n +
              lut_index(c.b, p[2], p[6], p[3], &fb);
    VI up = base + n * n;
    RGB b0 = lerp_rgb(lut3d_corner(t, base), lut3d_corner(t, base + 1), fb);
    RGB b1 = lerp_rgb(lut3d_corner(t, base + n), lut3d_corner(t, base + n + 1), fb);
    RGB b2 = lerp_rgb(lut3d_corner(t, up), lut3d_corner(t, up + 1), fb);
    RGB b3 = lerp_rgb(lut3d_corner(t, up + n), lut3d_corner(t, up + n + 1), fb);
    return lerp_rgb(lerp_rgb(b0, b1, fg), lerp_rgb(b2, b3, fg), fr);
}

/* a LUT at a mix below 1 (render/ops/lut_steps.py; a mood may drive it): c + (lut(c) - c) mix,
 * mix = p[8] after the domain parameters */
#define LUT_MIX(NAME)                                                                                       \
    DEVFN RGB NAME##_mix(RGB c, CONSTANT const float* p, GLOBAL const float* t, PixelCtx px) {              \
        RGB l = NAME(c, p, t, px);                                                                          \
        return rgb(c.r + (l.r - c.r) * p[8], c.g + (l.g - c.g) * p[8], c.b + (l.b - c.b) * p[8]);            \
    }
LUT_MIX(op_lut1d)
LUT_MIX(op_lut3d_tetrahedral)
LUT_MIX(op_lut3d_tetrahedral_half)
LUT_MIX(op_lut3d_trilinear)

/* ASC CDL v1.2: p = [slope rgb, offset rgb, power rgb, saturation]; clamps after SOP and at the end */
DEVFN RGB op_cdl(RGB c, CONSTANT const float* p, GLOBAL const float* t, PixelCtx px) {
    VF r = powv(clamp01(c.r * p[0] + p[3]), p[6]);
    VF g = powv(clamp01(c.g * p[1] + p[4]), p[7]);
    VF b = powv(clamp01(c.b * p[2] + p[5]), p[8]);
    VF y = 0.2126f * r + 0.7152f * g + 0.0722f * b;
    float s = p[9];
    return rgb(clamp01(s * r + (1.0f - s) * y), clamp01(s * g + (1.0f - s) * y), clamp01(s * b + (1.0f - s) * y));
}

#endif
