/* common.h: what every moodgrade kernel needs, written once for two dialects.
 *
 * The same text compiles as OpenCL C 1.2 (PyOpenCL; PoCL on CPUs) and as CUDA C++
 * (CuPy RawModule / NVRTC, or nvcc). Op code is written on the lane type VF:
 *   OpenCL: VF = float8, each work-item grades LANES = 8 neighbouring pixels of a row
 *           (explicit SIMD: PoCL does not vectorise the scalar per-pixel form, and 8
 *           lanes measured 2x faster than 4 on the AVX-512 CI machine);
 *   CUDA:   VF = float, one thread per pixel.
 * Op code uses only the helpers and macros below, the OpenCL-named maths builtins that
 * CUDA overloads for float (fmin, fmax, floor, sqrt, fabs), and SEL(cond, a, b).
 */
#ifndef MOODGRADE_COMMON_H
#define MOODGRADE_COMMON_H

#ifdef __OPENCL_VERSION__
#define KERNEL __kernel
#define GLOBAL __global
#define CONSTANT __constant
#define DEVFN static inline
#define GID_X ((int)get_global_id(0))
#define GID_Y ((int)get_global_id(1))
#define LANES 8
typedef float8 VF;
typedef int8 VI;
typedef uint8 VU;
#define VF_OF_VU(x) convert_float8(x)
#define VF_OF_VI(x) convert_float8(x)
#define VI_OF_VF(x) convert_int8(x)
#define VU_OF_VI(x) as_uint8(x)
#define BITS_OF_VF(x) as_int8(x)
#define VF_OF_BITS(x) as_float8(x)
#define VLOAD(p) vload8(0, p)
#define VSTORE(v, p) vstore8(v, 0, p)
#define SEL(cond, a, b) select((VF)(b), (VF)(a), (cond))
#define GATHER(t, i) ((VF)((t)[(i).s0], (t)[(i).s1], (t)[(i).s2], (t)[(i).s3], \
                           (t)[(i).s4], (t)[(i).s5], (t)[(i).s6], (t)[(i).s7]))
#define LANE_OFFSETS ((VI)(0, 1, 2, 3, 4, 5, 6, 7))
#else /* CUDA */
#define KERNEL extern "C" __global__
#define GLOBAL
#define CONSTANT
#define DEVFN __device__ __forceinline__
#define GID_X ((int)(blockIdx.x * blockDim.x + threadIdx.x))
#define GID_Y ((int)(blockIdx.y * blockDim.y + threadIdx.y))
#define LANES 1
typedef unsigned char uchar;
typedef unsigned short ushort;
typedef unsigned int uint;
typedef float VF;
typedef int VI;
typedef unsigned int VU;
#define VF_OF_VU(x) ((float)(x))
#define VF_OF_VI(x) ((float)(x))
#define VI_OF_VF(x) ((int)(x))
#define VU_OF_VI(x) ((unsigned int)(x))
#define BITS_OF_VF(x) __float_as_int(x)
#define VF_OF_BITS(x) __int_as_float(x)
#define SEL(cond, a, b) ((cond) ? (VF)(a) : (VF)(b))
#define GATHER(t, i) ((t)[i])
#define LANE_OFFSETS 0
#endif

typedef struct { VF r, g, b; } RGB;

/* Where the pixels being graded sit: normalised centres u, v (0..1), pixel number. */
typedef struct { VF u, v; VU index; int width, height; uint frame_index; } PixelCtx;

DEVFN RGB rgb(VF r, VF g, VF b) { RGB c; c.r = r; c.g = g; c.b = b; return c; }
DEVFN VF clamp01(VF v) { return fmin(fmax(v, (VF)0.0f), (VF)1.0f); }  /* NaN -> 0 */
DEVFN VF vmax(VF a, VF b) { return fmax(a, b); }
DEVFN VF vmin(VF a, VF b) { return fmin(a, b); }
DEVFN VF smoothstepv(VF e0, VF e1, VF v) {
    VF t = clamp01((v - e0) / (e1 - e0));
    return t * t * (3.0f - 2.0f * t);
}
/* Rec.709 / sRGB luma weights (ITU-R BT.709-6 item 3.2). */
DEVFN VF luma709(RGB c) { return 0.2126f * c.r + 0.7152f * c.g + 0.0722f * c.b; }

DEVFN PixelCtx pixel_ctx(int x0, int y, int width, int height, uint frame_index) {
    PixelCtx px;
    VI xs = x0 + LANE_OFFSETS;
    px.u = (VF_OF_VI(xs) + 0.5f) / (float)width;
    px.v = (VF)(((float)y + 0.5f) / (float)height);
    px.index = (uint)(y * width) + VU_OF_VI(xs);
    px.width = width; px.height = height; px.frame_index = frame_index;
    return px;
}

/* ---- log2 / exp2 / pow in plain arithmetic (|rel. error| < 1e-6), vectorisable on every
 * device and the same on all; the maths-library pow is 20x slower on PoCL. ---- */
DEVFN VF log2v(VF x) {  /* x > 0 */
    VI bits = BITS_OF_VF(x);
    VI e = ((bits >> 23) & 255) - 127;
    VF m = VF_OF_BITS((bits & 0x7FFFFF) | 0x3F800000);
    VF big = SEL(m > 1.41421356f, 1.0f, 0.0f);
    m = m * (1.0f - 0.5f * big);
    VF t = (m - 1.0f) / (m + 1.0f), t2 = t * t;
    VF s = t * (2.0f + t2 * (0.6666666667f + t2 * (0.4f + t2 * (0.2857142857f + t2 * 0.2222222222f))));
    return VF_OF_VI(e) + big + s * 1.4426950409f;
}
DEVFN VF exp2v(VF y) {
    y = fmin(fmax(y, (VF)-126.0f), (VF)126.0f);
    VF i = floor(y + 0.5f);
    VF f = (y - i) * 0.6931471806f;
    VF p = 1.0f + f * (1.0f + f * (0.5f + f * (0.1666666667f + f * (0.0416666667f + f * (0.0083333333f +
           f * (0.0013888889f + f * 0.0001984127f))))));
    return p * VF_OF_BITS((VI_OF_VF(i) + 127) << 23);
}
/* x ** g for x > 0, 0 for x <= 0 (and NaN) */
DEVFN VF powv(VF x, float g) { return SEL(x > 0.0f, exp2v(g * log2v(fmax(x, (VF)1e-30f))), 0.0f); }

/* ---- transfer functions (negative values map to 0) ---- */
/* ITU-R BT.709-6 OETF and its inverse, with the continuous constants alpha = 1.09929682680944,
 * beta = 0.018053968510807 of ITU-R BT.2020-2 Table 4 (BT.709 rounds them to 1.099 and 0.018). */
DEVFN VF bt709_to_linear(VF v) {
    v = fmax(v, (VF)0.0f);
    return SEL(v < 0.081242859f, v / 4.5f, powv((v + 0.09929682681f) / 1.09929682681f, 1.0f / 0.45f));
}
DEVFN VF bt709_from_linear(VF l) {
    l = fmax(l, (VF)0.0f);
    return SEL(l < 0.018053968511f, 4.5f * l, 1.09929682681f * powv(l, 0.45f) - 0.09929682681f);
}
/* IEC 61966-2-1 sRGB EOTF and its inverse. */
DEVFN VF srgb_to_linear(VF v) {
    v = fmax(v, (VF)0.0f);
    return SEL(v <= 0.04045f, v / 12.92f, powv((v + 0.055f) / 1.055f, 2.4f));
}
DEVFN VF srgb_from_linear(VF l) {
    l = fmax(l, (VF)0.0f);
    return SEL(l <= 0.0031308f, 12.92f * l, 1.055f * powv(l, 1.0f / 2.4f) - 0.055f);
}
/* A generated program defines TO_LINEAR / FROM_LINEAR as one of the pairs above. */
DEVFN RGB rgb_to_linear(RGB c) { return rgb(TO_LINEAR(c.r), TO_LINEAR(c.g), TO_LINEAR(c.b)); }
DEVFN RGB rgb_from_linear(RGB c) { return rgb(FROM_LINEAR(c.r), FROM_LINEAR(c.g), FROM_LINEAR(c.b)); }

/* the processor's domain changes, as ops (p, t unused) */
DEVFN RGB op_to_linear(RGB c, CONSTANT const float* p, GLOBAL const float* t, PixelCtx px) { return rgb_to_linear(c); }
DEVFN RGB op_from_linear(RGB c, CONSTANT const float* p, GLOBAL const float* t, PixelCtx px) { return rgb_from_linear(c); }

/* ---- soft elliptical masks: e = (cx, cy, rx, ry, angle_rad, feather) in 0..1 frame units ---- */
DEVFN VF ellipse_mask(CONSTANT const float* e, PixelCtx px) {
    VF du = px.u - e[0], dv = px.v - e[1];
    float ca = cos(e[4]), sa = sin(e[4]);
    VF a = (du * ca + dv * sa) / e[2], b = (dv * ca - du * sa) / e[3];
    VF d = sqrt(a * a + b * b);
    return 1.0f - smoothstepv((VF)(1.0f - e[5]), (VF)1.0f, d);
}

/* ---- counter-based hash (Chris Wellons' lowbias32): the same bits on every device ---- */
DEVFN VU hash32(VU x) {
    x ^= x >> 16; x *= 0x7feb352du;
    x ^= x >> 15; x *= 0x846ca68bu;
    x ^= x >> 16;
    return x;
}

/* ---- loads and stores of interleaved RGB: LANES pixels from pixel number `base`, of which
 * `n` (1..LANES) are inside the row; lanes past the row repeat the last pixel and are not stored.
 * u8/u16 frames map to 0..1; float frames are clamped to 0..1 (NaN -> 0); "buf" is an
 * intermediate float buffer, raw. Stores clamp to 0..1 (NaN -> 0) and round. ---- */
#ifdef __OPENCL_VERSION__
#define DEFINE_LOAD(NAME, T, SCALE_EXPR)                                                     \
DEVFN RGB NAME(GLOBAL const T* s, int base, int n) {                                          \
    float fr[LANES], fg[LANES], fb[LANES];                                                    \
    if (n == LANES) {                                                                         \
        for (int j = 0; j < LANES; ++j) {                                                     \
            fr[j] = (float)s[3 * (base + j)]; fg[j] = (float)s[3 * (base + j) + 1];           \
            fb[j] = (float)s[3 * (base + j) + 2]; }                                           \
    } else {                                                                                  \
        for (int j = 0; j < LANES; ++j) { int k = 3 * (base + min(j, n - 1));                \
            fr[j] = (float)s[k]; fg[j] = (float)s[k + 1]; fb[j] = (float)s[k + 2]; }         \
    }                                                                                         \
    RGB c = rgb(VLOAD(fr), VLOAD(fg), VLOAD(fb));                                             \
    return SCALE_EXPR;                                                                        \
}
#define DEFINE_STORE(NAME, T, CONV)                                                           \
DEVFN void NAME(GLOBAL T* d, int base, int n, RGB c) {                                        \
    float fr[LANES], fg[LANES], fb[LANES];                                                    \
    VSTORE(CONV(c.r), fr); VSTORE(CONV(c.g), fg); VSTORE(CONV(c.b), fb);                      \
    for (int j = 0; j < n; ++j) {                                                             \
        d[3 * (base + j)] = (T)fr[j]; d[3 * (base + j) + 1] = (T)fg[j]; d[3 * (base + j) + 2] = (T)fb[j]; } \
}
#else
#define DEFINE_LOAD(NAME, T, SCALE_EXPR)                                                     \
DEVFN RGB NAME(GLOBAL const T* s, int base, int n) {                                          \
    RGB c = rgb((float)s[3 * base], (float)s[3 * base + 1], (float)s[3 * base + 2]);          \
    return SCALE_EXPR;                                                                        \
}
#define DEFINE_STORE(NAME, T, CONV)                                                           \
DEVFN void NAME(GLOBAL T* d, int base, int n, RGB c) {                                        \
    d[3 * base] = (T)CONV(c.r); d[3 * base + 1] = (T)CONV(c.g); d[3 * base + 2] = (T)CONV(c.b); \
}
#endif
DEFINE_LOAD(load_u8, uchar, rgb(c.r / 255.0f, c.g / 255.0f, c.b / 255.0f))
DEFINE_LOAD(load_u16, ushort, rgb(c.r / 65535.0f, c.g / 65535.0f, c.b / 65535.0f))
DEFINE_LOAD(load_f32, float, rgb(clamp01(c.r), clamp01(c.g), clamp01(c.b)))
DEFINE_LOAD(load_buf, float, c)
#define TO_U8(v) floor(clamp01(v) * 255.0f + 0.5f)
#define TO_U16(v) floor(clamp01(v) * 65535.0f + 0.5f)
#define TO_F32(v) clamp01(v)
#define RAW(v) (v)
DEFINE_STORE(store_u8, uchar, TO_U8)
DEFINE_STORE(store_u16, ushort, TO_U16)
DEFINE_STORE(store_f32, float, TO_F32)
DEFINE_STORE(store_buf, float, RAW)

/* LANES consecutive floats of a flat row from index f, of which n are inside the row
 * (the blur passes work on interleaved RGB floats directly: no de-interleaving) */
#ifdef __OPENCL_VERSION__
DEVFN VF load_flat(GLOBAL const float* row, int f, int n) {
    if (n == LANES) return vload8(0, row + f);
    float v[LANES];
    for (int j = 0; j < LANES; ++j) v[j] = row[f + min(j, n - 1)];
    return VLOAD(v);
}
DEVFN void store_flat(GLOBAL float* row, int f, int n, VF x) {
    if (n == LANES) { vstore8(x, 0, row + f); return; }
    float v[LANES];
    VSTORE(x, v);
    for (int j = 0; j < n; ++j) row[f + j] = v[j];
}
/* floats f..f+LANES-1 of a row of rowlen floats (interleaved RGB), each index clamped to the
 * same channel of the first or last pixel */
DEVFN VF load_flat_clamped(GLOBAL const float* row, int f, int rowlen) {
    if (f >= 0 && f + LANES <= rowlen) return vload8(0, row + f);
    float v[LANES];
    for (int j = 0; j < LANES; ++j) {
        int i = f + j;
        int ch = ((i % 3) + 3) % 3;
        v[j] = row[i < 0 ? ch : (i >= rowlen ? rowlen - 3 + ch : i)];
    }
    return VLOAD(v);
}
#else
DEVFN VF load_flat(GLOBAL const float* row, int f, int n) { return row[f]; }
DEVFN void store_flat(GLOBAL float* row, int f, int n, VF x) { row[f] = x; }
DEVFN VF load_flat_clamped(GLOBAL const float* row, int i, int rowlen) {
    int ch = ((i % 3) + 3) % 3;
    return row[i < 0 ? ch : (i >= rowlen ? rowlen - 3 + ch : i)];
}
#endif

#endif
