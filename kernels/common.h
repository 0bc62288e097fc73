/* common.h: what every moodgrade kernel needs, written once for two dialects.
 *
 * The same text compiles as OpenCL C 1.2 (PyOpenCL, PoCL on CPUs) and as CUDA C++
 * (CuPy RawModule / NVRTC, or nvcc).  Kernel sources use only the macros and helpers
 * below, the float maths functions named with CUDA's "f" suffix (mapped to OpenCL's
 * overloads here), and a small RGB struct instead of dialect-specific vector types.
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
#define powf pow
#define exp2f exp2
#define log2f log2
#define fminf fmin
#define fmaxf fmax
#define fabsf fabs
#define sqrtf sqrt
#define floorf floor
#define sinf sin
#define cosf cos
#define tanhf tanh
#else /* CUDA */
#define KERNEL extern "C" __global__
#define GLOBAL
#define CONSTANT
#define DEVFN __device__ __forceinline__
#define GID_X ((int)(blockIdx.x * blockDim.x + threadIdx.x))
#define GID_Y ((int)(blockIdx.y * blockDim.y + threadIdx.y))
typedef unsigned char uchar;
typedef unsigned short ushort;
typedef unsigned int uint;
#endif

typedef struct { float r, g, b; } RGB;

/* Where the pixel being graded sits, for ops that depend on position or time. */
typedef struct { int x, y, width, height; uint frame_index; } PixelCtx;

DEVFN RGB rgb(float r, float g, float b) { RGB c; c.r = r; c.g = g; c.b = b; return c; }
DEVFN float clamp01(float v) { return fminf(fmaxf(v, 0.0f), 1.0f); }  /* NaN -> 0 */
DEVFN float clampf(float v, float lo, float hi) { return fminf(fmaxf(v, lo), hi); }
DEVFN float lerpf(float a, float b, float t) { return a + (b - a) * t; }
DEVFN float smoothstepf(float e0, float e1, float v) {
    float t = clamp01((v - e0) / (e1 - e0));
    return t * t * (3.0f - 2.0f * t);
}
/* Rec.709 / sRGB luma weights (ITU-R BT.709-6 item 3.2). */
DEVFN float luma709(RGB c) { return 0.2126f * c.r + 0.7152f * c.g + 0.0722f * c.b; }
/* Normalised frame coordinates of the pixel centre, 0..1 both ways. */
DEVFN float frame_u(PixelCtx px) { return ((float)px.x + 0.5f) / (float)px.width; }
DEVFN float frame_v(PixelCtx px) { return ((float)px.y + 0.5f) / (float)px.height; }

/* ---- transfer functions (non-negative; negative values map to 0) ---- */
/* ITU-R BT.709-6 OETF and its inverse, with the published constants. */
DEVFN float bt709_to_linear(float v) {
    v = fmaxf(v, 0.0f);
    return v < 0.081f ? v / 4.5f : powf((v + 0.099f) / 1.099f, 1.0f / 0.45f);
}
DEVFN float bt709_from_linear(float l) {
    l = fmaxf(l, 0.0f);
    return l < 0.018f ? 4.5f * l : 1.099f * powf(l, 0.45f) - 0.099f;
}
/* IEC 61966-2-1 sRGB EOTF and its inverse. */
DEVFN float srgb_to_linear(float v) {
    v = fmaxf(v, 0.0f);
    return v <= 0.04045f ? v / 12.92f : powf((v + 0.055f) / 1.055f, 2.4f);
}
DEVFN float srgb_from_linear(float l) {
    l = fmaxf(l, 0.0f);
    return l <= 0.0031308f ? 12.92f * l : 1.055f * powf(l, 1.0f / 2.4f) - 0.055f;
}
/* A generated program defines TO_LINEAR / FROM_LINEAR as one of the pairs above. */
DEVFN RGB rgb_to_linear(RGB c) { return rgb(TO_LINEAR(c.r), TO_LINEAR(c.g), TO_LINEAR(c.b)); }
DEVFN RGB rgb_from_linear(RGB c) { return rgb(FROM_LINEAR(c.r), FROM_LINEAR(c.g), FROM_LINEAR(c.b)); }

/* ---- soft elliptical masks: (cx, cy, rx, ry, angle_rad, feather) in 0..1 frame units ---- */
DEVFN float ellipse_mask(CONSTANT const float* e, PixelCtx px) {
    float du = frame_u(px) - e[0], dv = frame_v(px) - e[1];
    float ca = cosf(e[4]), sa = sinf(e[4]);
    float a = (du * ca + dv * sa) / e[2], b = (-du * sa + dv * ca) / e[3];
    float d = sqrtf(a * a + b * b);
    return 1.0f - smoothstepf(1.0f - e[5], 1.0f, d);
}

/* ---- counter-based hash (Chris Wellons' lowbias32): the same bits on every device ---- */
DEVFN uint hash32(uint x) {
    x ^= x >> 16; x *= 0x7feb352du;
    x ^= x >> 15; x *= 0x846ca68bu;
    x ^= x >> 16;
    return x;
}

/* ---- frame loads and stores: interleaved RGB, index = pixel number ---- */
DEVFN RGB load_u8(GLOBAL const uchar* s, int i) {
    return rgb((float)s[3 * i] / 255.0f, (float)s[3 * i + 1] / 255.0f, (float)s[3 * i + 2] / 255.0f);
}
DEVFN RGB load_u16(GLOBAL const ushort* s, int i) {
    return rgb((float)s[3 * i] / 65535.0f, (float)s[3 * i + 1] / 65535.0f, (float)s[3 * i + 2] / 65535.0f);
}
/* float frames: NaN -> 0, everything clamped to 0..1 */
DEVFN RGB load_f32(GLOBAL const float* s, int i) {
    return rgb(clamp01(s[3 * i]), clamp01(s[3 * i + 1]), clamp01(s[3 * i + 2]));
}
/* intermediate buffers between passes: raw values */
DEVFN RGB load_buf(GLOBAL const float* s, int i) { return rgb(s[3 * i], s[3 * i + 1], s[3 * i + 2]); }

DEVFN void store_u8(GLOBAL uchar* d, int i, RGB c) {
    d[3 * i] = (uchar)floorf(clamp01(c.r) * 255.0f + 0.5f);
    d[3 * i + 1] = (uchar)floorf(clamp01(c.g) * 255.0f + 0.5f);
    d[3 * i + 2] = (uchar)floorf(clamp01(c.b) * 255.0f + 0.5f);
}
DEVFN void store_u16(GLOBAL ushort* d, int i, RGB c) {
    d[3 * i] = (ushort)floorf(clamp01(c.r) * 65535.0f + 0.5f);
    d[3 * i + 1] = (ushort)floorf(clamp01(c.g) * 65535.0f + 0.5f);
    d[3 * i + 2] = (ushort)floorf(clamp01(c.b) * 65535.0f + 0.5f);
}
DEVFN void store_f32(GLOBAL float* d, int i, RGB c) {
    d[3 * i] = clamp01(c.r); d[3 * i + 1] = clamp01(c.g); d[3 * i + 2] = clamp01(c.b);
}
DEVFN void store_buf(GLOBAL float* d, int i, RGB c) { d[3 * i] = c.r; d[3 * i + 1] = c.g; d[3 * i + 2] = c.b; }

#endif

#ifndef MOODGRADE_CONVERT_OPS
#define MOODGRADE_CONVERT_OPS
/* the processor's domain changes, as ops (p, t unused) */
DEVFN RGB op_to_linear(RGB c, CONSTANT const float* p, GLOBAL const float* t, PixelCtx px) { return rgb_to_linear(c); }
DEVFN RGB op_from_linear(RGB c, CONSTANT const float* p, GLOBAL const float* t, PixelCtx px) { return rgb_from_linear(c); }
#endif
