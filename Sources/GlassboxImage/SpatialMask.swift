import GlassboxNN

/// Spatial keep-masks `[n, 1, h, w]` (1 = visible, 0 = occluded) and the three operations ConvAD
/// needs on them: applying a mask to an activation, moving a mask through a sliding window, and
/// the masked global mean. Masks are tiny next to activations, so these are plain loops.
enum SpatialMask {
    /// How a mask crosses a window op (conv or pool).
    enum Resize {
        /// `m' = 1 − maxpool(1 − m)`: an output unit is kept only if every input in its window
        /// is kept; positions in the padding count as kept.
        case erode
        /// Resize to the output grid: kept iff at least half of the window's in-bounds inputs
        /// are kept (padding ignored).
        case majority
    }

    /// Zeroes `a[i, c, y, x]` wherever `mask[i, 0, y, x] == 0`. Uses a select, not a product, so
    /// kept values are untouched bit for bit and non-finite occluded values cannot leak as NaN.
    static func apply(_ mask: Tensor, to a: inout Tensor) {
        let n = a.shape[0], c = a.shape[1], plane = a.shape[2] * a.shape[3]
        a.scalars.withUnsafeMutableBufferPointer { pa in
            mask.scalars.withUnsafeBufferPointer { pm in
                for i in 0..<n {
                    let mBase = i * plane
                    for ch in 0..<c {
                        let base = (i * c + ch) * plane
                        for j in 0..<plane where pm[mBase + j] == 0 { pa[base + j] = 0 }
                    }
                }
            }
        }
    }

    /// The mask of a window op's output grid.
    static func resize(_ mask: Tensor, window w: Window2D, mode: Resize, op: String) throws -> Tensor {
        let n = mask.shape[0], h = mask.shape[2], wd = mask.shape[3]
        let (ho, wo) = try w.outputSize(height: h, width: wd, inputShape: mask.shape, op: op)
        var out = [Float](repeating: 0, count: n * ho * wo)
        mask.scalars.withUnsafeBufferPointer { pm in
            for i in 0..<n {
                let base = i * h * wd
                for oy in 0..<ho {
                    for ox in 0..<wo {
                        var kept = 0, total = 0
                        for ky in 0..<w.kh {
                            let y = oy * w.sh - w.ph + ky * w.dh
                            guard y >= 0, y < h else { continue }
                            for kx in 0..<w.kw {
                                let x = ox * w.sw - w.pw + kx * w.dw
                                guard x >= 0, x < wd else { continue }
                                total += 1
                                if pm[base + y * wd + x] != 0 { kept += 1 }
                            }
                        }
                        let keep: Bool
                        switch mode {
                        case .erode: keep = kept == total
                        case .majority: keep = total > 0 && 2 * kept >= total
                        }
                        out[(i * ho + oy) * wo + ox] = keep ? 1 : 0
                    }
                }
            }
        }
        return Tensor(uncheckedShape: [n, 1, ho, wo], scalars: out)
    }

    /// Element-wise AND of two masks of the same shape.
    static func and(_ a: Tensor, _ b: Tensor) -> Tensor {
        a.zip(b) { $0 != 0 && $1 != 0 ? 1 : 0 }
    }

    /// Per-image kept count `Σm`.
    static func keptCounts(_ mask: Tensor) -> [Int] {
        let n = mask.shape[0], plane = mask.shape[2] * mask.shape[3]
        return (0..<n).map { i in
            var k = 0
            for j in 0..<plane where mask.scalars[i * plane + j] != 0 { k += 1 }
            return k
        }
    }
}
