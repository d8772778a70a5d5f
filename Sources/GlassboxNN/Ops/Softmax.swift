import CKernels
import Foundation

/// Softmax along `axis` (negative counts from the end): `yᵢ = e^{xᵢ−m} / Σⱼ e^{xⱼ−m}` with
/// `m = maxⱼ xⱼ`, so no exponential overflows however large the inputs.
///
/// Backward: `dx = y ⊙ (g − Σ_axis g⊙y)`.
/// Cost: three passes and one `exp` per element forward, two passes backward.
public func softmax(_ x: Variable, axis: Int) throws -> Variable {
    let view = try AxisView(x.shape, axis: axis)
    let y = SoftmaxKernel.forward(x.value, view, takeLog: false)
    return Variable.result(y, inputs: [x]) { g in
        x.accumulate(SoftmaxKernel.backward(g, y, view, takeLog: false))
    }
}

/// Log-softmax along `axis`: `yᵢ = xᵢ − m − log Σⱼ e^{xⱼ−m}`, accurate even where the softmax
/// itself underflows to 0.
///
/// Backward: `dx = g − softmax(x)·Σ_axis g`, with `softmax(x) = eʸ`.
/// Cost: as ``softmax(_:axis:)`` plus one `exp` per element backward.
public func logSoftmax(_ x: Variable, axis: Int) throws -> Variable {
    let view = try AxisView(x.shape, axis: axis)
    let y = SoftmaxKernel.forward(x.value, view, takeLog: true)
    return Variable.result(y, inputs: [x]) { g in
        x.accumulate(SoftmaxKernel.backward(g, y, view, takeLog: true))
    }
}

/// Softmax loops over a tensor viewed as `[outer, extent, inner]`, parallel over `outer`.
///
/// With `inner == 1` (the last axis) each softmax is one contiguous row, handled by the C
/// reductions and exponentials of `gb_pointwise.h`. Otherwise the loops run over whole rows of
/// `inner` contiguous values at a time (one softmax per column), keeping the running maxima and
/// sums in a per-worker scratch buffer so those loops vectorise across columns.
enum SoftmaxKernel {
    static func forward(_ x: Tensor, _ v: AxisView, takeLog: Bool) -> Tensor {
        var out = [Float](repeating: 0, count: x.count)
        let block = v.extent * v.inner
        guard block > 0 else { return Tensor(uncheckedShape: x.shape, scalars: out) }
        x.scalars.withUnsafeBufferPointer { px in
            out.withUnsafeMutableBufferPointer { po in
                Compute.parallelRanges(v.outer, costPerItem: block, minimumCost: Elementwise.minimumCost) { range in
                    var scratch = [Float](repeating: 0, count: v.inner == 1 ? 0 : 3 * v.inner)
                    scratch.withUnsafeMutableBufferPointer { s in
                        for o in range {
                            let xs = px.baseAddress! + o * block, ys = po.baseAddress! + o * block
                            if v.inner == 1 {
                                row(xs, ys, v.extent, takeLog: takeLog)
                            } else {
                                columns(xs, ys, v, s.baseAddress!, takeLog: takeLog)
                            }
                        }
                    }
                }
            }
        }
        return Tensor(uncheckedShape: x.shape, scalars: out)
    }

    private static func row(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, _ n: Int, takeLog: Bool) {
        let m = gb_max(x, n)
        let s = gb_exp_shifted_sum(x, m, y, n)
        if takeLog {
            let shift = m + log(s)
            for j in 0..<n { y[j] = x[j] - shift }
        } else {
            let r = 1 / s
            for j in 0..<n { y[j] *= r }
        }
    }

    /// `inner` independent softmaxes whose elements lie `inner` apart; `scratch` holds 3·inner.
    private static func columns(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, _ v: AxisView,
                                _ scratch: UnsafeMutablePointer<Float>, takeLog: Bool) {
        let inner = v.inner
        let m = scratch, s = scratch + inner, shifted = scratch + 2 * inner
        for k in 0..<inner { m[k] = -.infinity; s[k] = 0 }
        for j in 0..<v.extent {
            let xr = x + j * inner
            for k in 0..<inner { m[k] = xr[k] > m[k] ? xr[k] : m[k] }
        }
        for j in 0..<v.extent {
            let xr = x + j * inner, yr = y + j * inner
            for k in 0..<inner { shifted[k] = xr[k] - m[k] }
            gb_exp(shifted, yr, inner)
            for k in 0..<inner { s[k] += yr[k] }
        }
        if takeLog {
            for k in 0..<inner { m[k] += log(s[k]) }
            for j in 0..<v.extent {
                let xr = x + j * inner, yr = y + j * inner
                for k in 0..<inner { yr[k] = xr[k] - m[k] }
            }
        } else {
            for k in 0..<inner { s[k] = 1 / s[k] }
            for j in 0..<v.extent {
                let yr = y + j * inner
                for k in 0..<inner { yr[k] *= s[k] }
            }
        }
    }

    /// `y ⊙ (g − Σ g⊙y)` for softmax, `g − eʸ·Σ g` for log-softmax.
    static func backward(_ g: Tensor, _ y: Tensor, _ v: AxisView, takeLog: Bool) -> Tensor {
        var out = [Float](repeating: 0, count: y.count)
        let block = v.extent * v.inner
        guard block > 0 else { return Tensor(uncheckedShape: y.shape, scalars: out) }
        g.scalars.withUnsafeBufferPointer { pg in
            y.scalars.withUnsafeBufferPointer { py in
                out.withUnsafeMutableBufferPointer { po in
                    Compute.parallelRanges(v.outer, costPerItem: block, minimumCost: Elementwise.minimumCost) { range in
                        // Per worker: the column sums, and eʸ of one block for log-softmax.
                        var scratch = [Float](repeating: 0, count: v.inner + (takeLog ? block : 0))
                        scratch.withUnsafeMutableBufferPointer { s in
                            let dot = s.baseAddress!, e = dot + v.inner
                            for o in range {
                                let base = o * block
                                let gs = pg.baseAddress! + base, ys = py.baseAddress! + base, dx = po.baseAddress! + base
                                if takeLog { gb_exp(ys, e, block) }
                                if v.inner == 1 {
                                    let d = takeLog ? gb_sum(gs, v.extent) : gb_dot(gs, ys, v.extent)
                                    if takeLog {
                                        for j in 0..<v.extent { dx[j] = gs[j] - e[j] * d }
                                    } else {
                                        for j in 0..<v.extent { dx[j] = ys[j] * (gs[j] - d) }
                                    }
                                    continue
                                }
                                for k in 0..<v.inner { dot[k] = 0 }
                                for j in 0..<v.extent {
                                    let r = j * v.inner
                                    if takeLog {
                                        for k in 0..<v.inner { dot[k] += gs[r + k] }
                                    } else {
                                        for k in 0..<v.inner { dot[k] += gs[r + k] * ys[r + k] }
                                    }
                                }
                                for j in 0..<v.extent {
                                    let r = j * v.inner
                                    if takeLog {
                                        for k in 0..<v.inner { dx[r + k] = gs[r + k] - e[r + k] * dot[k] }
                                    } else {
                                        for k in 0..<v.inner { dx[r + k] = ys[r + k] * (gs[r + k] - dot[k]) }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        return Tensor(uncheckedShape: y.shape, scalars: out)
    }
}
