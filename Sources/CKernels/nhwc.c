// Channels-last loops around the direct convolution (see include/gb_conv.h).
//
// Each inner loop runs over the contiguous channels of one pixel, so GB_MULTIVERSION
// (gb_dispatch.h) compiles it to 16-wide AVX-512, 8-wide AVX2 and 4-wide SSE2 or NEON with no
// gathers — the reason InferencePlan keeps spatial activations channels-last. Window bounds are hoisted out of the channel loops.

#include "gb_dispatch.h"

// The kernel offsets i with 0 ≤ start + i·d < extent, as [lo, hi).
static inline void nh_span(long start, long d, long k, long extent, long *lo, long *hi) {
    long l = 0;
    while (l < k && start + l * d < 0) l++;
    long h = l;
    while (h < k && start + h * d < extent) h++;
    *lo = l;
    *hi = h;
}

// The running maximum of one window for channels [ch, ch + width): the first in-bounds element,
// then every later one that is strictly greater or NaN. `width` is a constant 64, 32 or 16 in the
// main loops, so the lane loops compile to up to four independent vector chains (one chain of
// compare-and-blend per window element would leave the loop waiting on its latency).
static inline void nh_window_max(const float *in, long in_rs, long in_cs, long y0, long x0, long ilo,
                                 long ihi, long jlo, long jhi, long dh, long dw, long ch, long width,
                                 float *restrict dst) {
    float m[64];
    const float *first = in + (y0 + ilo * dh) * in_rs + (x0 + jlo * dw) * in_cs + ch;
    for (long l = 0; l < width; l++) m[l] = first[l];
    for (long i = ilo; i < ihi; i++) {
        for (long j = (i == ilo ? jlo + 1 : jlo); j < jhi; j++) {
            const float *src = in + (y0 + i * dh) * in_rs + (x0 + j * dw) * in_cs + ch;
            for (long l = 0; l < width; l++) {
                const float x = src[l];
                m[l] = (x > m[l] || x != x) ? x : m[l];
            }
        }
    }
    for (long l = 0; l < width; l++) dst[ch + l] = m[l];
}

GB_INLINE void gb_maxpool_nhwc_impl(const float *in, long h, long w, long c, long in_rs, long in_cs,
                               float *out, long ho, long wo, long out_rs, long out_cs, long kh,
                               long kw, long sh, long sw, long ph, long pw, long dh, long dw) {
    for (long oy = 0; oy < ho; oy++) {
        long ilo, ihi;
        nh_span(oy * sh - ph, dh, kh, h, &ilo, &ihi);
        for (long ox = 0; ox < wo; ox++) {
            long jlo, jhi;
            nh_span(ox * sw - pw, dw, kw, w, &jlo, &jhi);
            float *dst = out + oy * out_rs + ox * out_cs;
            if (ilo >= ihi || jlo >= jhi) {
                for (long ch = 0; ch < c; ch++) dst[ch] = -INFINITY;
                continue;
            }
            const long y0 = oy * sh - ph, x0 = ox * sw - pw;
            long ch = 0;
            for (; ch + 64 <= c; ch += 64)
                nh_window_max(in, in_rs, in_cs, y0, x0, ilo, ihi, jlo, jhi, dh, dw, ch, 64, dst);
            if (ch + 32 <= c) {
                nh_window_max(in, in_rs, in_cs, y0, x0, ilo, ihi, jlo, jhi, dh, dw, ch, 32, dst);
                ch += 32;
            }
            if (ch + 16 <= c) {
                nh_window_max(in, in_rs, in_cs, y0, x0, ilo, ihi, jlo, jhi, dh, dw, ch, 16, dst);
                ch += 16;
            }
            if (ch < c) nh_window_max(in, in_rs, in_cs, y0, x0, ilo, ihi, jlo, jhi, dh, dw, ch, c - ch, dst);
        }
    }
}
GB_MULTIVERSION(void, gb_maxpool_nhwc, (const float *in, long h, long w, long c, long in_rs, long in_cs, float *out, long ho, long wo, long out_rs, long out_cs, long kh, long kw, long sh, long sw, long ph, long pw, long dh, long dw), (in, h, w, c, in_rs, in_cs, out, ho, wo, out_rs, out_cs, kh, kw, sh, sw, ph, pw, dh, dw))

GB_INLINE void gb_avgpool_nhwc_impl(const float *in, long h, long w, long c, long in_rs, long in_cs,
                               float *out, long ho, long wo, long out_rs, long out_cs, long kh,
                               long kw, long sh, long sw, long ph, long pw, int count_include_pad) {
    for (long oy = 0; oy < ho; oy++) {
        long ilo, ihi;
        nh_span(oy * sh - ph, 1, kh, h, &ilo, &ihi);
        for (long ox = 0; ox < wo; ox++) {
            long jlo, jhi;
            nh_span(ox * sw - pw, 1, kw, w, &jlo, &jhi);
            float *restrict dst = out + oy * out_rs + ox * out_cs;
            const long y0 = oy * sh - ph, x0 = ox * sw - pw;
            for (long ch = 0; ch < c; ch++) dst[ch] = 0.0f;
            for (long i = ilo; i < ihi; i++) {
                for (long j = jlo; j < jhi; j++) {
                    const float *restrict src = in + (y0 + i) * in_rs + (x0 + j) * in_cs;
                    for (long ch = 0; ch < c; ch++) dst[ch] += src[ch];
                }
            }
            const float divisor = (float)(count_include_pad ? kh * kw : (ihi - ilo) * (jhi - jlo));
            for (long ch = 0; ch < c; ch++) dst[ch] /= divisor;
        }
    }
}
GB_MULTIVERSION(void, gb_avgpool_nhwc, (const float *in, long h, long w, long c, long in_rs, long in_cs, float *out, long ho, long wo, long out_rs, long out_cs, long kh, long kw, long sh, long sw, long ph, long pw, int count_include_pad), (in, h, w, c, in_rs, in_cs, out, ho, wo, out_rs, out_cs, kh, kw, sh, sw, ph, pw, count_include_pad))

GB_INLINE void gb_channel_mean_nhwc_impl(const float *in, long h, long w, long c, long in_rs,
                                    long in_cs, float *out) {
    float *restrict dst = out;
    for (long ch = 0; ch < c; ch++) dst[ch] = 0.0f;
    for (long y = 0; y < h; y++) {
        for (long x = 0; x < w; x++) {
            const float *restrict src = in + y * in_rs + x * in_cs;
            for (long ch = 0; ch < c; ch++) dst[ch] += src[ch];
        }
    }
    const float n = (float)(h * w);
    for (long ch = 0; ch < c; ch++) dst[ch] /= n;
}
GB_MULTIVERSION(void, gb_channel_mean_nhwc, (const float *in, long h, long w, long c, long in_rs, long in_cs, float *out), (in, h, w, c, in_rs, in_cs, out))

GB_INLINE void gb_channel_affine_nhwc_impl(const float *in, long h, long w, long c, long in_rs,
                                      long in_cs, const float *scale, const float *shift,
                                      float *out, long out_rs, long out_cs) {
    for (long y = 0; y < h; y++) {
        for (long x = 0; x < w; x++) {
            const float *restrict src = in + y * in_rs + x * in_cs;
            float *restrict dst = out + y * out_rs + x * out_cs;
            for (long ch = 0; ch < c; ch++) dst[ch] = src[ch] * scale[ch] + shift[ch];
        }
    }
}
GB_MULTIVERSION(void, gb_channel_affine_nhwc, (const float *in, long h, long w, long c, long in_rs, long in_cs, const float *scale, const float *shift, float *out, long out_rs, long out_cs), (in, h, w, c, in_rs, in_cs, scale, shift, out, out_rs, out_cs))

GB_INLINE void gb_nchw_to_nhwc_impl(const float *in, long c, long h, long w, float *out, long out_rs,
                               long out_cs) {
    if (c == 1) {
        for (long y = 0; y < h; y++) {
            const float *restrict src = in + y * w;
            float *restrict dst = out + y * out_rs;
            for (long x = 0; x < w; x++) dst[x * out_cs] = src[x];
        }
        return;
    }
    for (long y = 0; y < h; y++) {
        for (long x = 0; x < w; x++) {
            float *restrict dst = out + y * out_rs + x * out_cs;
            const float *restrict src = in + y * w + x;
            for (long ch = 0; ch < c; ch++) dst[ch] = src[ch * h * w];
        }
    }
}
GB_MULTIVERSION(void, gb_nchw_to_nhwc, (const float *in, long c, long h, long w, float *out, long out_rs, long out_cs), (in, c, h, w, out, out_rs, out_cs))

GB_INLINE void gb_nhwc_to_nchw_impl(const float *in, long c, long h, long w, long in_rs, long in_cs,
                               float *out) {
    for (long y = 0; y < h; y++) {
        for (long x = 0; x < w; x++) {
            const float *restrict src = in + y * in_rs + x * in_cs;
            float *restrict dst = out + y * w + x;
            for (long ch = 0; ch < c; ch++) dst[ch * h * w] = src[ch];
        }
    }
}
GB_MULTIVERSION(void, gb_nhwc_to_nchw, (const float *in, long c, long h, long w, long in_rs, long in_cs, float *out), (in, c, h, w, in_rs, in_cs, out))
