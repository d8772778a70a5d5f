/// Layer normalisation over the trailing axes given by `normalizedShape`, as PyTorch's `layer_norm`.
///
/// Each row (one index of the leading axes; `D = normalizedShape.product` elements) is
/// normalised by its own mean and biased variance, then scaled elementwise:
/// `y = γ ⊙ (x − μ)/√(σ² + eps) + β`, with `gamma`/`beta` of shape `normalizedShape` (nil for
/// no affine transform).
///
/// Backward, with `x̂ = (x − μ)/σ` and `ĝ = dy ⊙ γ`:
/// `dx = (ĝ − mean(ĝ) − x̂·mean(ĝ ⊙ x̂)) / σ` per row, `dγ = Σ_rows dy ⊙ x̂`, `dβ = Σ_rows dy`.
/// Rows are split over workers; the `dγ`/`dβ` partials of each worker are added in worker order.
/// Cost: three passes forward, three backward.
public func layerNorm(_ x: Variable, normalizedShape: [Int], gamma: Variable? = nil, beta: Variable? = nil,
                      eps: Float = 1e-5) throws -> Variable {
    let shape = x.shape
    guard !normalizedShape.isEmpty, normalizedShape.allSatisfy({ $0 > 0 }),
          shape.count >= normalizedShape.count, Array(shape.suffix(normalizedShape.count)) == normalizedShape else {
        throw GlassboxError.shapeMismatch(
            "layerNorm: input \(shape) does not end with the normalized shape \(normalizedShape)")
    }
    for (name, v) in [("gamma", gamma), ("beta", beta)] {
        if let v, v.shape != normalizedShape {
            throw GlassboxError.shapeMismatch("layerNorm: \(name) \(v.shape) must have the normalized shape \(normalizedShape)")
        }
    }
    guard eps >= 0 else { throw GlassboxError.invalidArgument("layerNorm: eps must be non-negative, got \(eps)") }
    let d = normalizedShape.reduce(1, *)
    let rows = x.value.count / d
    guard rows > 0 else { throw GlassboxError.invalidArgument("layerNorm: empty input \(shape)") }

    let xv = x.value
    let g = gamma?.value.scalars ?? [Float](repeating: 1, count: d)
    let b = beta?.value.scalars ?? [Float](repeating: 0, count: d)
    // x̂ is kept for backward: it is needed for dγ and dx and costs one tensor.
    var xHat = [Float](repeating: 0, count: xv.count)
    var y = [Float](repeating: 0, count: xv.count)
    var invStd = [Float](repeating: 0, count: rows)
    xv.scalars.withUnsafeBufferPointer { px in
        xHat.withUnsafeMutableBufferPointer { ph in
            y.withUnsafeMutableBufferPointer { py in
                invStd.withUnsafeMutableBufferPointer { pr in
                    g.withUnsafeBufferPointer { pgamma in
                        b.withUnsafeBufferPointer { pbeta in
                            Compute.parallelRanges(rows, costPerItem: 3 * d) { range in
                                for r in range {
                                    let x = px.baseAddress! + r * d, h = ph.baseAddress! + r * d, out = py.baseAddress! + r * d
                                    let mu = Runs.sum(x, d) / Float(d)
                                    let inv = 1 / (Runs.squaredDeviations(x, d, mean: mu) / Float(d) + eps).squareRoot()
                                    let gm = pgamma.baseAddress!, bt = pbeta.baseAddress!
                                    Runs.apply(d, { i in
                                        let hv = (Runs.load(x, i) - mu) * inv
                                        Runs.store(hv, h, i)
                                        Runs.store(hv * Runs.load(gm, i) + Runs.load(bt, i), out, i)
                                    }, { i in
                                        h[i] = (x[i] - mu) * inv
                                        out[i] = h[i] * gm[i] + bt[i]
                                    })
                                    pr[r] = inv
                                }
                            }
                        }
                    }
                }
            }
        }
    }
    let value = Tensor(uncheckedShape: shape, scalars: y)
    let normalized = xHat, rowInvStd = invStd
    let ranges = workerRanges(rows, costPerItem: 4 * d)
    return Variable.result(value, inputs: [x] + [gamma, beta].compactMap { $0 }) { dy in
        let needX = x.requiresGrad
        var dx = [Float](repeating: 0, count: needX ? dy.count : 0)
        // Per worker: dγ partial then dβ partial, each of length d.
        var partials = [Float](repeating: 0, count: ranges.count * 2 * d)
        dy.scalars.withUnsafeBufferPointer { pg in
            normalized.withUnsafeBufferPointer { ph in
                dx.withUnsafeMutableBufferPointer { pdx in
                    partials.withUnsafeMutableBufferPointer { pp in
                        g.withUnsafeBufferPointer { pgamma in
                            let gammaBase = pgamma.baseAddress!
                            Compute.parallelFor(ranges.count) { w in
                                let dGamma = pp.baseAddress! + w * 2 * d, dBeta = dGamma + d
                                for r in ranges[w] {
                                    let gRow = pg.baseAddress! + r * d, h = ph.baseAddress! + r * d
                                    Runs.apply(d, { i in
                                        Runs.store(Runs.load(dGamma, i) + Runs.load(gRow, i) * Runs.load(h, i), dGamma, i)
                                        Runs.store(Runs.load(dBeta, i) + Runs.load(gRow, i), dBeta, i)
                                    }, { i in
                                        dGamma[i] += gRow[i] * h[i]
                                        dBeta[i] += gRow[i]
                                    })
                                    guard needX else { continue }
                                    // With ĝ = dy ⊙ γ: mean(ĝ) and mean(ĝ ⊙ x̂).
                                    let meanG = Runs.dot(gRow, gammaBase, d) / Float(d)
                                    let meanGH = Runs.dot(gRow, gammaBase, h, d) / Float(d)
                                    let inv = rowInvStd[r], out = pdx.baseAddress! + r * d
                                    Runs.apply(d, { i in
                                        let v = (Runs.load(gRow, i) * Runs.load(gammaBase, i) - meanG - Runs.load(h, i) * meanGH) * inv
                                        Runs.store(v, out, i)
                                    }, { i in out[i] = (gRow[i] * gammaBase[i] - meanG - h[i] * meanGH) * inv })
                                }
                            }
                        }
                    }
                }
            }
        }
        if needX { x.accumulate(Tensor(uncheckedShape: shape, scalars: dx)) }
        var dGamma = [Float](partials[0..<d]), dBeta = [Float](partials[d..<2 * d])
        for w in 1..<ranges.count {
            for i in 0..<d {
                dGamma[i] += partials[w * 2 * d + i]
                dBeta[i] += partials[w * 2 * d + d + i]
            }
        }
        gamma?.accumulate(Tensor(uncheckedShape: normalizedShape, scalars: dGamma))
        beta?.accumulate(Tensor(uncheckedShape: normalizedShape, scalars: dBeta))
    }
}
