/// Max pooling of one `H × W` plane at a time, vectorised over output positions.
///
/// Why it looks like this: a per-window loop `if v > best { … }` mispredicts about half its
/// branches on real data, and scalar selects compile back to branches. Here, for each kernel
/// offset `k = (i, j)` in row-major order, the candidates of 8 outputs are gathered at once
/// (`src[origin[o] + offset[k]]`) and merged with SIMD compares and masked selects, recording
/// the winning offset `k`; only a strictly greater value or a NaN replaces the current one,
/// which keeps PyTorch's rule (first maximum in row-major window order, NaN propagates).
///
/// Padding is handled by copying the plane into a buffer bordered with −∞, so every gather is in
/// bounds and no candidate needs a mask. Output counts that are not a multiple of 8 reprocess an
/// overlapping last group, which is harmless because a merge is idempotent; planes with fewer
/// than 8 outputs repeat the last output to fill the group.
struct MaxPoolKernel {
    let h: Int, w: Int, ph: Int, pw: Int
    let paddedWidth: Int, paddedCount: Int
    let outPlane: Int
    /// Window origin of each output in the (padded) plane; `paddedCount = max(outPlane, 8)` entries.
    let origins: [Int32]
    /// Position of kernel offset `k` relative to the window origin, in the padded plane.
    let offsets: [Int]
    /// Per output: the first in-bounds kernel offset (where an all −∞ window points, as PyTorch).
    let firstOffset: [Int32]
    /// Per output and per offset: the same positions in the unpadded plane, to turn a winning `k`
    /// into a flat input index.
    let planeOrigins: [Int32], planeOffsets: [Int32]

    init(_ geo: PoolGeometry) {
        let k = geo.window
        (h, w, ph, pw) = (geo.h, geo.w, k.ph, k.pw)
        paddedWidth = w + 2 * pw
        outPlane = geo.outPlane
        paddedCount = Swift.max(outPlane, 8)
        var origins: [Int32] = [], planeOrigins: [Int32] = [], firstOffset: [Int32] = []
        for (oh, rs) in geo.rowSpans.enumerated() {
            for (ow, cs) in geo.colSpans.enumerated() {
                origins.append(Int32(oh * k.sh * paddedWidth + ow * k.sw))
                planeOrigins.append(Int32(rs.start * w + cs.start))
                firstOffset.append(Int32(rs.lo * k.kw + cs.lo))
            }
        }
        for _ in outPlane..<paddedCount {
            origins.append(origins[outPlane - 1])
            firstOffset.append(firstOffset[outPlane - 1])
        }
        (self.origins, self.planeOrigins, self.firstOffset) = (origins, planeOrigins, firstOffset)
        let (width, paddedWidth) = (w, paddedWidth)
        offsets = (0..<k.kh * k.kw).map { ($0 / k.kw) * k.dh * paddedWidth + ($0 % k.kw) * k.dw }
        planeOffsets = (0..<k.kh * k.kw).map { Int32(($0 / k.kw) * k.dh * width + ($0 % k.kw) * k.dw) }
    }

    /// Per-worker buffers: the −∞-bordered plane copy (padding only), and the running maxima and
    /// winning offsets of one plane.
    final class Scratch {
        let padded: UnsafeMutablePointer<Float>?
        let best: UnsafeMutablePointer<Float>
        let winner: UnsafeMutablePointer<Int32>

        init(_ kernel: MaxPoolKernel, paddedHeight: Int) {
            if kernel.ph > 0 || kernel.pw > 0 {
                let count = paddedHeight * kernel.paddedWidth
                padded = .allocate(capacity: count)
                padded!.initialize(repeating: -.infinity, count: count)
            } else {
                padded = nil
            }
            best = .allocate(capacity: kernel.paddedCount)
            winner = .allocate(capacity: kernel.paddedCount)
        }

        deinit {
            padded?.deallocate()
            best.deallocate()
            winner.deallocate()
        }
    }

    /// Pools one plane into `out[outPlane]` and, if given, the flat input index of each maximum
    /// into `at[outPlane]`.
    func run(_ plane: UnsafePointer<Float>, scratch: Scratch, out: UnsafeMutablePointer<Float>,
             at: UnsafeMutablePointer<Int32>?) {
        var src = plane
        if let padded = scratch.padded {
            for r in 0..<h { (padded + (r + ph) * paddedWidth + pw).update(from: plane + r * w, count: w) }
            src = UnsafePointer(padded)
        }
        let best = UnsafeMutableRawPointer(scratch.best), winner = UnsafeMutableRawPointer(scratch.winner)
        scratch.best.update(repeating: -.infinity, count: paddedCount)
        firstOffset.withUnsafeBufferPointer { scratch.winner.update(from: $0.baseAddress!, count: paddedCount) }
        origins.withUnsafeBufferPointer { originBuffer in
            let origin = originBuffer.baseAddress!
            for (k, offset) in offsets.enumerated() {
                let base = src + offset
                let kv = SIMD8<Int32>(repeating: Int32(k))
                var o = 0
                while true {
                    let start = Swift.min(o, paddedCount - 8)
                    let g = origin + start
                    let v = SIMD8(base[Int(g[0])], base[Int(g[1])], base[Int(g[2])], base[Int(g[3])],
                                  base[Int(g[4])], base[Int(g[5])], base[Int(g[6])], base[Int(g[7])])
                    let current = best.loadUnaligned(fromByteOffset: 4 * start, as: SIMD8<Float>.self)
                    let take = (v .> current) .^ (v .!= v)
                    best.storeBytes(of: current.replacing(with: v, where: take), toByteOffset: 4 * start, as: SIMD8<Float>.self)
                    if at != nil {
                        let currentWinner = winner.loadUnaligned(fromByteOffset: 4 * start, as: SIMD8<Int32>.self)
                        winner.storeBytes(of: currentWinner.replacing(with: kv, where: take), toByteOffset: 4 * start,
                                          as: SIMD8<Int32>.self)
                    }
                    if start + 8 >= paddedCount { break }
                    o += 8
                }
            }
        }
        out.update(from: scratch.best, count: outPlane)
        if let at {
            planeOrigins.withUnsafeBufferPointer { po in
                planeOffsets.withUnsafeBufferPointer { pk in
                    for o in 0..<outPlane { at[o] = po[o] &+ pk[Int(scratch.winner[o])] }
                }
            }
        }
    }
}
