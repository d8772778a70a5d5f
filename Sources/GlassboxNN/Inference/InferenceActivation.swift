import CKernels

/// One layer's output for a chunk of samples, as an ``InferencePlan`` observer sees it: the
/// plan's own memory, valid only during the observer call, and writable — a mask multiplied in
/// here is what every later step reads.
public struct InferenceActivation {
    /// The observed layer path.
    public let path: String
    /// Positions of these samples in the batch of the call (a chunk of it).
    public let samples: Range<Int>
    /// Per-sample logical shape in PyTorch's order (`[C, H, W]`, `[F]`…).
    public let shape: [Int]
    /// How each sample is stored (channels-last images have a zero border that must stay zero).
    public let layout: ActivationLayout
    /// First float of the first sample; sample `i` starts `i · sampleStride` floats later.
    public let storage: UnsafeMutablePointer<Float>
    /// Floats from one sample's start to the next's.
    public let sampleStride: Int

    /// A copy in canonical order, shaped `[samples.count] + shape`.
    public func tensor() -> Tensor {
        let per = shape.reduce(1, *), n = samples.count
        let scalars = [Float](unsafeUninitializedCapacity: n * per) { out, initialized in
            for i in 0..<n {
                let src = storage + i * sampleStride, dst = out.baseAddress! + i * per
                switch layout {
                case .canonical:
                    dst.update(from: src, count: per)
                case .channelsLast(let padding):
                    let g = ImageGeometry(c: shape[0], h: shape[1], w: shape[2], ph: padding.height, pw: padding.width)
                    gb_nhwc_to_nchw(src + g.interior, g.c, g.h, g.w, g.rowStride, g.c, dst)
                case .channelsLastFlat(let c, let h, let w):
                    gb_nhwc_to_nchw(src, c, h, w, w * c, c, dst)
                }
            }
            initialized = n * per
        }
        return Tensor(uncheckedShape: [samples.count] + shape, scalars: scalars)
    }

    /// Multiplies image sample `i`, pixel `(y, x)`, every channel, by
    /// `mask[(i·H + y)·W + x]`: a spatial mask `[samples.count, H, W]` per chunk (offset it by
    /// `samples.lowerBound` images into a whole-batch mask). Throws unless the samples are
    /// images `[C, H, W]`.
    public func multiply(bySpatialMask mask: UnsafePointer<Float>) throws {
        guard shape.count == 3 else {
            throw GlassboxError.shapeMismatch("InferenceActivation '\(path)': a spatial mask needs image samples [C, H, W], got \(shape)")
        }
        let (c, h, w) = (shape[0], shape[1], shape[2])
        for i in 0..<samples.count {
            let m = mask + i * h * w, sample = storage + i * sampleStride
            switch layout {
            case .channelsLast(let padding):
                let g = ImageGeometry(c: c, h: h, w: w, ph: padding.height, pw: padding.width)
                for y in 0..<h {
                    for x in 0..<w {
                        let p = sample + g.interior + y * g.rowStride + x * c, v = m[y * w + x]
                        for ch in 0..<c { p[ch] *= v }
                    }
                }
            default:
                for ch in 0..<c {
                    let plane = sample + ch * h * w
                    for k in 0..<h * w { plane[k] *= m[k] }
                }
            }
        }
    }

    /// Multiplies every value by `mask`, laid out `[samples.count] + shape` in canonical order
    /// (an elementwise mask per chunk).
    public func multiply(byMask mask: UnsafePointer<Float>) {
        let per = shape.reduce(1, *)
        for i in 0..<samples.count {
            let m = mask + i * per, sample = storage + i * sampleStride
            switch layout {
            case .canonical:
                for k in 0..<per { sample[k] *= m[k] }
            case .channelsLast(let padding):
                let g = ImageGeometry(c: shape[0], h: shape[1], w: shape[2], ph: padding.height, pw: padding.width)
                for ch in 0..<g.c {
                    for y in 0..<g.h {
                        for x in 0..<g.w { sample[g.interior + y * g.rowStride + x * g.c + ch] *= m[(ch * g.h + y) * g.w + x] }
                    }
                }
            case .channelsLastFlat(let c, let h, let w):
                for ch in 0..<c {
                    for p in 0..<h * w { sample[p * c + ch] *= m[ch * h * w + p] }
                }
            }
        }
    }

    /// Switches off image units: sets every channel of pixel `(y, x)` of sample `i` to `+0`
    /// wherever `keep[(i·H + y)·W + x] == 0`, one byte per pixel of the chunk's samples (offset
    /// a whole-batch mask by `samples.lowerBound` images). A select, not a product, so kept
    /// values stay bit for bit and non-finite occluded values cannot leak as NaN. Throws unless
    /// the samples are images `[C, H, W]`. Cost: one pass over the occluded pixels' channels.
    public func deactivate(keeping keep: UnsafePointer<UInt8>) throws {
        guard shape.count == 3 else {
            throw GlassboxError.shapeMismatch("InferenceActivation '\(path)': a spatial mask needs image samples [C, H, W], got \(shape)")
        }
        let (c, h, w) = (shape[0], shape[1], shape[2])
        for i in 0..<samples.count {
            let m = keep + i * h * w, sample = storage + i * sampleStride
            switch layout {
            case .channelsLast(let padding):
                let g = ImageGeometry(c: c, h: h, w: w, ph: padding.height, pw: padding.width)
                for y in 0..<h {
                    let row = sample + g.interior + y * g.rowStride, mrow = m + y * w
                    var x = 0
                    while x < w {
                        // Zero each run of occluded pixels with one fill (they are contiguous).
                        guard mrow[x] == 0 else { x += 1; continue }
                        var end = x + 1
                        while end < w && mrow[end] == 0 { end += 1 }
                        (row + x * c).update(repeating: 0, count: (end - x) * c)
                        x = end
                    }
                }
            case .canonical:
                for ch in 0..<c {
                    let plane = sample + ch * h * w
                    for k in 0..<h * w { plane[k] = m[k] != 0 ? plane[k] : 0 }
                }
            case .channelsLastFlat:
                throw GlassboxError.shapeMismatch("InferenceActivation '\(path)': a flattened image has no spatial layout to mask")
            }
        }
    }

    /// Multiplies every value of sample `i` by `factors[i]` (one factor per sample of the chunk;
    /// offset a whole-batch array by `samples.lowerBound`). Factors equal to 1 leave their sample
    /// untouched.
    public func scale(bySampleFactors factors: UnsafePointer<Float>) {
        let per = shape.reduce(1, *)
        for i in 0..<samples.count where factors[i] != 1 {
            let f = factors[i], sample = storage + i * sampleStride
            switch layout {
            case .canonical, .channelsLastFlat:
                for k in 0..<per { sample[k] *= f }
            case .channelsLast(let padding):
                let g = ImageGeometry(c: shape[0], h: shape[1], w: shape[2], ph: padding.height, pw: padding.width)
                for y in 0..<g.h {
                    let row = sample + g.interior + y * g.rowStride
                    for k in 0..<g.w * g.c { row[k] *= f }
                }
            }
        }
    }
}
