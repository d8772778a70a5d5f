/// Batch normalisation over axis 1 (channels) of `[N, C]`, `[N, C, L]` or `[N, C, H, W]`, as
/// PyTorch's `batch_norm`.
///
/// Per channel `c`, over the `m = N·(spatial size)` elements of that channel:
/// `y = γ_c · (x − μ_c) / √(σ²_c + eps) + β_c`.
/// - `training`: `μ`, `σ²` are the batch mean and biased variance; when running statistics are
///   given they are updated in place (`value` of the buffer variables, not differentiated):
///   `mean ← (1 − momentum)·mean + momentum·μ`, `var ← (1 − momentum)·var + momentum·σ²·m/(m − 1)`
///   (the unbiased variance, as PyTorch).
/// - inference: `μ`, `σ²` are the running statistics (constants).
///
/// `gamma`/`beta` (`[C]`) may be nil (no affine transform). Backward in training mode goes
/// through the batch statistics:
/// `dx = γ/σ · (dy − mean(dy) − x̂·mean(dy·x̂))`, `dγ = Σ dy·x̂`, `dβ = Σ dy` with
/// `x̂ = (x − μ)/σ`; in inference mode `dx = γ/σ · dy`.
/// Cost: three passes forward in training (two in inference), two backward.
public func batchNorm(_ x: Variable, gamma: Variable?, beta: Variable?,
                      runningMean: Variable?, runningVar: Variable?,
                      training: Bool, momentum: Float = 0.1, eps: Float = 1e-5) throws -> Variable {
    let shape = x.shape
    guard shape.count >= 2 else {
        throw GlassboxError.shapeMismatch("batchNorm expects input [N, C, …], got \(shape)")
    }
    guard shape[0] > 0 else { throw GlassboxError.invalidArgument("batchNorm: empty batch (input \(shape))") }
    let channels = shape[1]
    for (name, v) in [("gamma", gamma), ("beta", beta), ("running mean", runningMean), ("running var", runningVar)] {
        if let v, v.shape != [channels] {
            throw GlassboxError.shapeMismatch("batchNorm: \(name) \(v.shape) does not match the \(channels) channels of input \(shape)")
        }
    }
    guard (runningMean == nil) == (runningVar == nil) else {
        throw GlassboxError.invalidArgument("batchNorm: give both running mean and running variance, or neither")
    }
    guard eps >= 0 else { throw GlassboxError.invalidArgument("batchNorm: eps must be non-negative, got \(eps)") }
    let stats = BatchNormStats(shape: shape)
    guard training || runningMean != nil else {
        throw GlassboxError.invalidArgument("batchNorm: inference needs running statistics")
    }
    if training, stats.perChannel < 2 {
        throw GlassboxError.invalidArgument("batchNorm: training needs more than one value per channel, got input \(shape)")
    }

    let xv = x.value
    let mean: [Float], variance: [Float]
    if training {
        (mean, variance) = stats.moments(xv)
        if let runningMean, let runningVar {
            let m = Float(stats.perChannel), keep = 1 - momentum
            for c in 0..<channels {
                runningMean.value.scalars[c] = keep * runningMean.value.scalars[c] + momentum * mean[c]
                runningVar.value.scalars[c] = keep * runningVar.value.scalars[c] + momentum * variance[c] * m / (m - 1)
            }
        }
    } else {
        (mean, variance) = (runningMean!.value.scalars, runningVar!.value.scalars)
    }
    let invStd = variance.map { 1 / ($0 + eps).squareRoot() }
    let g = gamma?.value.scalars ?? [Float](repeating: 1, count: channels)
    let b = beta?.value.scalars ?? [Float](repeating: 0, count: channels)
    let scale = (0..<channels).map { g[$0] * invStd[$0] }
    let shift = (0..<channels).map { b[$0] - mean[$0] * scale[$0] }
    let y = stats.affine(xv, scale: scale, shift: shift)

    let inputs = [x] + [gamma, beta].compactMap { $0 }
    return Variable.result(y, inputs: inputs) { dy in
        let (sumG, sumGX) = stats.gradientSums(dy, x: xv, mean: mean, invStd: invStd)
        if x.requiresGrad {
            // Training: dx = scale·(dy − Σdy/m − x̂·Σdy·x̂/m) = scale·dy + slope·(x − μ) + offset.
            let m = Float(stats.perChannel)
            let slope = (0..<channels).map { training ? -scale[$0] * invStd[$0] * Float(sumGX[$0]) / m : 0 }
            let offset = (0..<channels).map { training ? -scale[$0] * Float(sumG[$0]) / m : 0 }
            x.accumulate(stats.gradientInput(dy, x: xv, mean: mean, scale: scale, slope: slope, offset: offset))
        }
        gamma?.accumulate(Tensor(uncheckedShape: [channels], scalars: sumGX.map { Float($0) }))
        beta?.accumulate(Tensor(uncheckedShape: [channels], scalars: sumG.map { Float($0) }))
    }
}

/// Per-channel passes over `[N, C, inner]` data; channels are split over workers.
private struct BatchNormStats {
    let shape: [Int]
    let n: Int, channels: Int, inner: Int
    /// Elements per channel, `N · inner`.
    var perChannel: Int { n * inner }

    init(shape: [Int]) {
        self.shape = shape
        (n, channels, inner) = (shape[0], shape[1], shape.dropFirst(2).reduce(1, *))
    }

    /// Calls `body(offset)` for the start of each contiguous run of channel `c` (length `inner`).
    @inline(__always)
    private func runs(of c: Int, _ body: (Int) -> Void) {
        for i in 0..<n { body((i * channels + c) * inner) }
    }

    private func forChannels(_ body: (Range<Int>) -> Void) {
        Compute.parallelRanges(channels, costPerItem: perChannel, body)
    }

    /// Batch mean and biased variance per channel (two passes; each contiguous run is summed in
    /// Float SIMD lanes, runs are added in Double).
    func moments(_ x: Tensor) -> ([Float], [Float]) {
        var mean = [Float](repeating: 0, count: channels), variance = mean
        x.scalars.withUnsafeBufferPointer { px in
            mean.withUnsafeMutableBufferPointer { pm in
                variance.withUnsafeMutableBufferPointer { pv in
                    forChannels { range in
                        let x = px.baseAddress!
                        for c in range {
                            var s = 0.0
                            runs(of: c) { o in s += Double(Runs.sum(x + o, inner)) }
                            let mu = Float(s / Double(perChannel))
                            var ss = 0.0
                            runs(of: c) { o in ss += Double(Runs.squaredDeviations(x + o, inner, mean: mu)) }
                            pm[c] = mu
                            pv[c] = Float(ss / Double(perChannel))
                        }
                    }
                }
            }
        }
        return (mean, variance)
    }

    /// `y = x·scale_c + shift_c`.
    func affine(_ x: Tensor, scale: [Float], shift: [Float]) -> Tensor {
        var y = [Float](repeating: 0, count: x.count)
        x.scalars.withUnsafeBufferPointer { px in
            y.withUnsafeMutableBufferPointer { py in
                forChannels { range in
                    for c in range {
                        let a = scale[c], b = shift[c]
                        runs(of: c) { o in
                            let x = px.baseAddress! + o, y = py.baseAddress! + o
                            Runs.apply(inner, { Runs.store(Runs.load(x, $0) * a + b, y, $0) }, { y[$0] = x[$0] * a + b })
                        }
                    }
                }
            }
        }
        return Tensor(uncheckedShape: shape, scalars: y)
    }

    /// Per channel `Σ dy` and `Σ dy·x̂` with `x̂ = (x − mean)·invStd`.
    func gradientSums(_ dy: Tensor, x: Tensor, mean: [Float], invStd: [Float]) -> ([Double], [Double]) {
        var sumG = [Double](repeating: 0, count: channels), sumGX = sumG
        dy.scalars.withUnsafeBufferPointer { pg in
            x.scalars.withUnsafeBufferPointer { px in
                sumG.withUnsafeMutableBufferPointer { psg in
                    sumGX.withUnsafeMutableBufferPointer { psgx in
                        forChannels { range in
                            let (g, x) = (pg.baseAddress!, px.baseAddress!)
                            for c in range {
                                let mu = mean[c]
                                var sg = 0.0, sgx = 0.0
                                runs(of: c) { o in
                                    sg += Double(Runs.sum(g + o, inner))
                                    sgx += Double(Runs.productDeviations(g + o, x + o, inner, mean: mu))
                                }
                                psg[c] = sg
                                psgx[c] = sgx * Double(invStd[c])
                            }
                        }
                    }
                }
            }
        }
        return (sumG, sumGX)
    }

    /// `dx = scale_c·dy + slope_c·(x − mean_c) + offset_c`.
    func gradientInput(_ dy: Tensor, x: Tensor, mean: [Float], scale: [Float], slope: [Float],
                       offset: [Float]) -> Tensor {
        var dx = [Float](repeating: 0, count: x.count)
        dy.scalars.withUnsafeBufferPointer { pg in
            x.scalars.withUnsafeBufferPointer { px in
                dx.withUnsafeMutableBufferPointer { pdx in
                    forChannels { range in
                        for c in range {
                            let a = scale[c], b = slope[c], mu = mean[c], d = offset[c]
                            runs(of: c) { o in
                                let g = pg.baseAddress! + o, x = px.baseAddress! + o, dx = pdx.baseAddress! + o
                                Runs.apply(inner, { Runs.store(a * Runs.load(g, $0) + b * (Runs.load(x, $0) - mu) + d, dx, $0) },
                                           { dx[$0] = a * g[$0] + b * (x[$0] - mu) + d })
                            }
                        }
                    }
                }
            }
        }
        return Tensor(uncheckedShape: shape, scalars: dx)
    }
}
