/* common.h: what every moodgrade kernel needs, written once for two dialects.
 *
 * The same text compiles as OpenCL C 1.2 (PyOpenCL; PoCL on CPUs) and as CUDA C++
 * (CuPy RawModule / NVRTC, or nvcc). Op code is written on the lane type VF:
 *   OpenCL: VF = float8, each work-item grades LANES = 8 neighbouring pixels of a row
 *           (explicit SIMD: PoCL does not vectorise the scalar per-pixel form, and 8
 *           lanes measured 2x faster than 4 on the AVX-512 CI machine);
 *   CUDA:   VF = a struct of 4 floats with lane-wise operators, each thread grades
 *           LANES = 4 neighbouring pixels of a row.
 * Op code uses only the helpers and macros below, the OpenCL-named maths functions
 * fmin, fmax, floor, sqrt, fabs on lanes (defined lane-wise for CUDA), cosf/sinf on scalars,
 * and SEL(cond, a, b) for lane-wise selection.
 */
#ifndef MOODGRADE_COMMON_H
#define MOODGRADE_COMMON_H

/* LANES, ROWS and the record sizes shared with Python (ELLIPSE_FLOATS, RELIGHT_RECORD,
 * CURVE_SAMPLES) are defined by the generated program's first lines, from Python's constants
 * (render/backends/codegen.py, KERNEL_CONSTANTS): no number is written twice. */
#if !defined(LANES) || !defined(ROWS) || !defined(ELLIPSE_FLOATS)
#error "compile the program render.backends.codegen.program_source makes"
#endif

#ifdef __OPENCL_VERSION__
#define KERNEL __kernel
#define GLOBAL __global
#define CONSTANT __constant
#define DEVFN static inline
#define GID_X ((int)get_global_id(0))
#define GID_Y ((int)get_global_id(1))
#if LANES != 8 || ROWS != 1
#error "OpenCL work-items grade 8 lanes (float8) of one row"
#endif
#define UNROLL
#define cosf cos
#define sinf sin
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
#define SELI(cond, a, b) select((VI)(b), (VI)(a), (cond))
#define ANY_LANE(cond) any(cond)
#define GATHER(t, i) ((VF)((t)[(i).s0], (t)[(i).s1], (t)[(i).s2], (t)[(i).s3], \
                           (t)[(i).s4], (t)[(i).s5], (t)[(i).s6], (t)[(i).s7]))
#define LANE_OFFSETS ((VI)(0, 1, 2, 3, 4, 5, 6, 7))
#define RESTRICT restrict
/* the per-frame parameters P: a kernel argument in __constant memory */
#define DECLARE_PARAMS(n)
#define PARAMS_ARG CONSTANT const float* RESTRICT P,
#else /* CUDA */
#define KERNEL extern "C" __global__
#define GLOBAL
#define CONSTANT
#define DEVFN __device__ __forceinline__
#define GID_X ((int)(blockIdx.x * blockDim.x + threadIdx.x))
#define GID_Y ((int)(blockIdx.y * blockDim.y + threadIdx.y))
/* a pixel pass's thread grades the same LANES (4) columns of ROWS rows: the next row's loads issue
 * before this row's stores and the setup is shared (an H200 measured 41.9 against 42.9 us for the
 * fused pass; benchmarks/NOTES.md). The launch grid has ROWS times fewer rows of threads. */
#if LANES != 4
#error "CUDA threads grade 4 lanes (struct VF)"
#endif
#define UNROLL _Pragma("unroll")
typedef unsigned char uchar;
typedef unsigned short ushort;
typedef unsigned int uint;
/* 4 lanes as small structs with the operators the op code uses (one thread, 4 pixels) */
#define FOR_LANES _Pragma("unroll") for (int j = 0; j < 4; ++j)
struct VF { float v[4]; __device__ VF() {} __device__ VF(float x) { FOR_LANES v[j] = x; } };
struct VI { int v[4]; __device__ VI() {} __device__ VI(int x) { FOR_LANES v[j] = x; }
            __device__ VI(int a, int b, int c, int d) { v[0] = a; v[1] = b; v[2] = c; v[3] = d; } };
struct VU { uint v[4]; __device__ VU() {} __device__ VU(uint x) { FOR_LANES v[j] = x; } };
#define LANEWISE_OP(T, S, R, OP)                                                                      \
    DEVFN R operator OP(T a, T b) { R r; FOR_LANES r.v[j] = a.v[j] OP b.v[j]; return r; }            \
    DEVFN R operator OP(T a, S b) { R r; FOR_LANES r.v[j] = a.v[j] OP b; return r; }                 \
    DEVFN R operator OP(S a, T b) { R r; FOR_LANES r.v[j] = a OP b.v[j]; return r; }
LANEWISE_OP(VF, float, VF, +) LANEWISE_OP(VF, float, VF, -) LANEWISE_OP(VF, float, VF, *)
LANEWISE_OP(VF, float, VF, /)
LANEWISE_OP(VF, float, VI, <) LANEWISE_OP(VF, float, VI, >) LANEWISE_OP(VF, float, VI, <=)
LANEWISE_OP(VF, float, VI, >=) LANEWISE_OP(VF, float, VI, ==) LANEWISE_OP(VF, float, VI, !=)
LANEWISE_OP(VI, int, VI, +) LANEWISE_OP(VI, int, VI, -) LANEWISE_OP(VI, int, VI, *)
LANEWISE_OP(VI, int, VI, &) LANEWISE_OP(VI, int, VI, |) LANEWISE_OP(VI, int, VI, >>) LANEWISE_OP(VI, int, VI, <<)
LANEWISE_OP(VU, uint, VU, +) LANEWISE_OP(VU, uint, VU, *) LANEWISE_OP(VU, uint, VU, &)
LANEWISE_OP(VU, uint, VU, ^)
DEVFN VU operator>>(VU a, int b) { VU r; FOR_LANES r.v[j] = a.v[j] >> b; return r; }
DEVFN VU& operator^=(VU& a, VU b) { FOR_LANES a.v[j] ^= b.v[j]; return a; }
DEVFN VU& operator*=(VU& a, uint b) { FOR_LANES a.v[j] *= b; return a; }
DEVFN VI operator!(VI a) { VI r; FOR_LANES r.v[j] = !a.v[j]; return r; }
#define LANEWISE_FN1(NAME, F) DEVFN VF NAME(VF a) { VF r; FOR_LANES r.v[j] = F(a.v[j]); return r; }
#define LANEWISE_FN2(NAME, F) DEVFN VF NAME(VF a, VF b) { VF r; FOR_LANES r.v[j] = F(a.v[j], b.v[j]); return r; }
LANEWISE_FN1(floor, floorf) LANEWISE_FN1(sqrt, sqrtf) LANEWISE_FN1(fabs, fabsf)
LANEWISE_FN2(fmin, fminf) LANEWISE_FN2(fmax, fmaxf)
DEVFN VF vsel(VI c, VF a, VF b) { VF r; FOR_LANES r.v[j] = c.v[j] ? a.v[j] : b.v[j]; return r; }
DEVFN VI vseli(VI c, VI a, VI b) { VI r; FOR_LANES r.v[j] = c.v[j] ? a.v[j] : b.v[j]; return r; }
DEVFN bool any_lane(VI c) { bool r = false; FOR_LANES r = r || c.v[j]; return r; }
DEVFN VF VF_OF_VU(VU a) { VF r; FOR_LANES r.v[j] = (float)a.v[j]; return r; }
DEVFN VF VF_OF_VI(VI a) { VF r; FOR_LANES r.v[j] = (float)a.v[j]; return r; }
DEVFN VI VI_OF_VF(VF a) { VI r; FOR_LANES r.v[j] = (int)a.v[j]; return r; }
DEVFN VU VU_OF_VI(VI a) { VU r; FOR_LANES r.v[j] = (uint)a.v[j]; return r; }
DEVFN VI BITS_OF_VF(VF a) { VI r; FOR_LANES r.v[j] = __float_as_int(a.v[j]); return r; }
DEVFN VF VF_OF_BITS(VI a) { VF r; FOR_LANES r.v[j] = __int_as_float(a.v[j]); return r; }
DEVFN VF gather(const float* t, VI i) { VF r; FOR_LANES r.v[j] = t[i.v[j]]; return r; }
#define SEL(cond, a, b) vsel((cond), (VF)(a), (VF)(b))
#define SELI(cond, a, b) vseli((cond), (VI)(a), (VI)(b))
#define ANY_LANE(cond) any_lane(cond)
#define GATHER(t, i) gather((t), (i))
#define LANE_OFFSETS VI(0, 1, 2, 3)
#ifndef RESTRICT
#define RESTRICT __restrict__
#endif
/* the per-frame parameters P: a module-level __constant__ array the host writes before the
 * launches, so uniform reads are constant-bank operands instead of global loads (an H100
 * measured 47.0 against 49.0 us for the fused pass: benchmarks/NOTES.md) */
#define DECLARE_PARAMS(n) __constant__ float P[n];
#define PARAMS_ARG
#endif

typedef struct { VF r, g, b; } RGB;
/* 8-bit codes (0..255) of LANES pixels, for ops that look codes up (load_u8_codes) */
typedef struct { VI r, g, b; } CODES;

/* Where the pixels being graded sit: normalised centres u, v (0..1), pixel number, column x
 * (as floats) and row y. */
typedef struct { VF u, v; VU index; VF x; int y, width, height; uint frame_index; } PixelCtx;

DEVFN RGB rgb(VF r, VF g, VF b) { RGB c; c.r = r; c.g = g; c.b = b; return c; }
#ifdef __OPENCL_VERSION__
DEVFN VF clamp01(VF v) { return fmin(fmax(v, (VF)0.0f), (VF)1.0f); }  /* NaN -> 0 */
DEVFN VF clamp01_fma(VF a, float b, float c) { return clamp01(a * b + c); }
#else  /* __saturatef: the same (NaN -> 0), and free where it folds into the op before it */
DEVFN VF clamp01(VF v) { VF r; FOR_LANES r.v[j] = __saturatef(v.v[j]); return r; }
/* clamp01(a * b + c) as one saturating multiply-add: ptxas folds a saturation into a multiply
 * but not into a multiply-add, so the device code says it in PTX (NaN -> 0 too) */
DEVFN VF clamp01_fma(VF a, float b, float c) {
#ifdef __CUDA_ARCH__
    VF r;
    FOR_LANES asm("fma.rn.ftz.sat.f32 %0, %1, %2, %3;" : "=f"(r.v[j]) : "f"(a.v[j]), "f"(b), "f"(c));
    return r;
#else  /* the dialect compiled as host C++ (tests) */
    return clamp01(a * b + c);
#endif
}
#endif
DEVFN VF vmax(VF a, VF b) { return fmax(a, b); }
DEVFN VF vmin(VF a, VF b) { return fmin(a, b); }
/* edges e0 != e1 are uniform scalars: one reciprocal per call, a multiply-add per lane */
DEVFN VF smoothstepv(float e0, float e1, VF v) {
    float k = 1.0f / (e1 - e0);
    VF t = clamp01_fma(v, k, -e0 * k);
    return t * t * (3.0f - 2.0f * t);
}
/* Rec.709 / sRGB luma weights (ITU-R BT.709-6 item 3.2). */
DEVFN VF luma709(RGB c) { return 0.2126f * c.r + 0.7152f * c.g + 0.0722f * c.b; }

DEVFN PixelCtx pixel_ctx(int x0, int y, int width, int height, uint frame_index) {
    PixelCtx px;
    VI xs = x0 + LANE_OFFSETS;
    float du = 1.0f / (float)width;  /* lane j: u0 + j du, one multiply-add a lane */
    px.u = VF_OF_VI(LANE_OFFSETS) * du + ((float)x0 + 0.5f) * du;
    px.v = (VF)(((float)y + 0.5f) / (float)height);
    px.index = (uint)(y * width) + VU_OF_VI(xs);
    px.x = VF_OF_VI(xs); px.y = y;
    px.width = width; px.height = height; px.frame_index = frame_index;
    return px;
}

/* Adding ROUND_MAGIC (1.5 * 2^23) to 0 <= x < 2^22 rounds it to the nearest integer (ties to
 * even), held in the low mantissa bits: float -> integer without a conversion instruction (GPUs
 * run those at a quarter of the rate of arithmetic). */
#define ROUND_MAGIC 12582912.0f

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

/* ---- soft elliptical masks in 0..1 frame units: e = (cx, cy, cos/rx, sin/rx, cos/ry, sin/ry,
 * feather), the rotation and radii folded on the host (render/ops/regions.py) ---- */
DEVFN VF ellipse_mask(CONSTANT const float* e, PixelCtx px) {
    VF du = px.u - e[0], dv = px.v - e[1];
    VF a = du * e[2] + dv * e[3], b = dv * e[4] - du * e[5];
    VF d = sqrt(a * a + b * b);
    return 1.0f - smoothstepv(1.0f - e[6], 1.0f, d);
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
#define DEFINE_LOAD(NAME, T, SCALE_EXPR)                                                      \
DEVFN RGB NAME(GLOBAL const T* s, int base, int n) {                                           \
    RGB c;                                                                                     \
    FOR_LANES { int k = 3 * (base + min(j, n - 1));                                            \
        c.r.v[j] = (float)s[k]; c.g.v[j] = (float)s[k + 1]; c.b.v[j] = (float)s[k + 2]; }     \
    return SCALE_EXPR;                                                                         \
}
#define DEFINE_STORE(NAME, T, CONV)                                                            \
DEVFN void NAME(GLOBAL T* d, int base, int n, RGB c) {                                         \
    VF r = CONV(c.r), g = CONV(c.g), b = CONV(c.b);                                            \
    FOR_LANES if (j < n) {                                                                     \
        d[3 * (base + j)] = (T)r.v[j]; d[3 * (base + j) + 1] = (T)g.v[j]; d[3 * (base + j) + 2] = (T)b.v[j]; } \
}
#endif
#define U8_SCALE (1.0f / 255.0f)
#define U16_SCALE (1.0f / 65535.0f)
#ifdef __OPENCL_VERSION__
DEFINE_LOAD(load_u8, uchar, rgb(c.r * U8_SCALE, c.g * U8_SCALE, c.b * U8_SCALE))
#else
DEFINE_LOAD(load_u8_lanes, uchar, rgb(c.r * U8_SCALE, c.g * U8_SCALE, c.b * U8_SCALE))
/* byte k (0..3) of w as a value 0..1 without a conversion instruction (those run at a quarter
 * of the rate): the byte put in bits 8..15 of 1.0f is 1 + byte / 2^15, and one multiply-add
 * (exact before its rounding) takes that to byte / 255 */
#define U8_UNIT(w, k) \
    fmaf(__int_as_float(__byte_perm((w), 0x3F800000u, 0x7604u | ((k) << 4))), 32768.0f / 255.0f, -32768.0f / 255.0f)
/* BYTE(word, k) of each channel of 4 whole, 4-byte aligned pixels into o: three 32-bit loads
 * (little-endian: r0 g0 b0 r1 | g1 b1 r2 g2 | b2 r3 g3 b3) */
#define UNPACK_ALIGNED_U8(o, s, base, BYTE) do {                                                           \
    const uint* w_ = (const uint*)((s) + 3 * (base));                                                      \
    uint a = w_[0], b = w_[1], c = w_[2];                                                                  \
    o.r.v[0] = BYTE(a, 0); o.r.v[1] = BYTE(a, 3); o.r.v[2] = BYTE(b, 2); o.r.v[3] = BYTE(c, 1);            \
    o.g.v[0] = BYTE(a, 1); o.g.v[1] = BYTE(b, 0); o.g.v[2] = BYTE(b, 3); o.g.v[3] = BYTE(c, 2);            \
    o.b.v[0] = BYTE(a, 2); o.b.v[1] = BYTE(b, 1); o.b.v[2] = BYTE(c, 0); o.b.v[3] = BYTE(c, 3); } while (0)
/* NAME: LANES_NAME's pixels, aligned whole groups of 4 through three 32-bit loads */
#define DEFINE_U8_LOAD(NAME, T, LANES_NAME, BYTE)                                                           \
DEVFN T NAME(GLOBAL const uchar* s, int base, int n) {                                                     \
    if (n < 4 || (base & 3)) return LANES_NAME(s, base, n);                                                \
    T o;                                                                                                   \
    UNPACK_ALIGNED_U8(o, s, base, BYTE);                                                                   \
    return o;                                                                                              \
}
DEFINE_U8_LOAD(load_u8, RGB, load_u8_lanes, U8_UNIT)
#endif
/* the codes themselves, for a first step that looks them up (PixelOp.reads_codes) */
#ifdef __OPENCL_VERSION__
DEVFN CODES load_u8_codes(GLOBAL const uchar* s, int base, int n) {
    int kr[LANES], kg[LANES], kb[LANES];
    for (int j = 0; j < LANES; ++j) {
        int k = 3 * (base + min(j, n - 1)); kr[j] = s[k]; kg[j] = s[k + 1]; kb[j] = s[k + 2]; }
    CODES o; o.r = VLOAD(kr); o.g = VLOAD(kg); o.b = VLOAD(kb);
    return o;
}
#else
DEVFN CODES load_u8_codes_lanes(GLOBAL const uchar* s, int base, int n) {
    CODES o;
    FOR_LANES { int k = 3 * (base + min(j, n - 1)); o.r.v[j] = s[k]; o.g.v[j] = s[k + 1]; o.b.v[j] = s[k + 2]; }
    return o;
}
#define U8_CODE(w, k) ((int)__byte_perm((w), 0u, 0x4440u | (k)))  /* byte k of w, one permute */
DEFINE_U8_LOAD(load_u8_codes, CODES, load_u8_codes_lanes, U8_CODE)
#endif
/* the leading per-channel ops of the first pass on 8-bit frames, baked per frame into their
 * results for the 256 codes: t = [r 256][g 256][b 256] (CodeTable in render/ops/plan.py) */
DEVFN RGB op_code_table(CODES k, CONSTANT const float* p, GLOBAL const float* t, PixelCtx px) {
    return rgb(GATHER(t, k.r), GATHER(t, k.g + 256), GATHER(t, k.b + 512));
}
DEFINE_LOAD(load_u16, ushort, rgb(c.r * U16_SCALE, c.g * U16_SCALE, c.b * U16_SCALE))
DEFINE_LOAD(load_f32, float, rgb(clamp01(c.r), clamp01(c.g), clamp01(c.b)))
DEFINE_LOAD(load_buf, float, c)
/* rounded to nearest by truncation in the store's conversion (the values are >= 0.5) */
#define TO_U8(v) (clamp01(v) * 255.0f + 0.5f)
#define TO_U16(v) (clamp01(v) * 65535.0f + 0.5f)
#define TO_F32(v) clamp01(v)
#define RAW(v) (v)
#ifdef __OPENCL_VERSION__
DEFINE_STORE(store_u8, uchar, TO_U8)
#else
DEFINE_STORE(store_u8_lanes, uchar, TO_U8)
/* 8-bit codes through ROUND_MAGIC (ties to even, where TO_U8 rounds them up: within the 1 code
 * value bound; every other value rounds the same) */
DEVFN VU u8_codes(VF v) {
    VU r;
    FOR_LANES r.v[j] = __float_as_uint(__saturatef(v.v[j]) * 255.0f + ROUND_MAGIC) & 255u;
    return r;
}
DEVFN void store_u8(GLOBAL uchar* d, int base, int n, RGB c) {
    if (n < 4 || (base & 3)) { store_u8_lanes(d, base, n, c); return; }
    VU r = u8_codes(c.r), g = u8_codes(c.g), b = u8_codes(c.b);
    uint* w = (uint*)(d + 3 * base);
    w[0] = r.v[0] | (g.v[0] << 8) | (b.v[0] << 16) | (r.v[1] << 24);
    w[1] = g.v[1] | (b.v[1] << 8) | (r.v[2] << 16) | (g.v[2] << 24);
    w[2] = b.v[2] | (r.v[3] << 8) | (g.v[3] << 16) | (b.v[3] << 24);
}
#endif
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
DEVFN VF load_flat(GLOBAL const float* row, int f, int n) {
    VF v;
    FOR_LANES v.v[j] = row[f + min(j, n - 1)];
    return v;
}
DEVFN void store_flat(GLOBAL float* row, int f, int n, VF x) { FOR_LANES if (j < n) row[f + j] = x.v[j]; }
DEVFN VF load_flat_clamped(GLOBAL const float* row, int f, int rowlen) {
    VF v;
    FOR_LANES {
        int i = f + j, ch = ((i % 3) + 3) % 3;
        v.v[j] = row[i < 0 ? ch : (i >= rowlen ? rowlen - 3 + ch : i)];
    }
    return v;
}
#endif

#endif
