import Foundation

/// Small dense linear algebra in Double for the Kernel SHAP regression.
enum LeastSquares {
    /// Solves `A·X = B` for symmetric positive semi-definite `A` (`m×m`, row-major) and `B`
    /// (`m×r`). Cholesky when `A` is positive definite; otherwise the minimum-norm solution from
    /// an eigendecomposition with eigenvalues below `1e-12·λ_max` dropped (what `lstsq` returns
    /// for a rank-deficient system). Returns the solution and whether `A` was singular.
    static func solveSymmetric(_ a: [Double], _ b: [Double], m: Int, r: Int) -> (x: [Double], singular: Bool) {
        if let x = cholesky(a, b, m: m, r: r) { return (x, false) }
        return (pseudoInverseSolve(a, b, m: m, r: r), true)
    }

    private static func cholesky(_ a: [Double], _ b: [Double], m: Int, r: Int) -> [Double]? {
        var l = [Double](repeating: 0, count: m * m)
        let scale = (0..<m).map { a[$0 * m + $0] }.max() ?? 0
        guard scale > 0 else { return nil }
        for i in 0..<m {
            for j in 0...i {
                var s = a[i * m + j]
                for t in 0..<j { s -= l[i * m + t] * l[j * m + t] }
                if i == j {
                    guard s > 1e-12 * scale else { return nil }
                    l[i * m + i] = s.squareRoot()
                } else {
                    l[i * m + j] = s / l[j * m + j]
                }
            }
        }
        var x = b
        for c in 0..<r {
            for i in 0..<m {
                var s = x[i * r + c]
                for t in 0..<i { s -= l[i * m + t] * x[t * r + c] }
                x[i * r + c] = s / l[i * m + i]
            }
            for i in stride(from: m - 1, through: 0, by: -1) {
                var s = x[i * r + c]
                for t in (i + 1)..<m { s -= l[t * m + i] * x[t * r + c] }
                x[i * r + c] = s / l[i * m + i]
            }
        }
        return x
    }

    /// Cyclic Jacobi eigendecomposition `A = V Λ Vᵀ`, then `X = V Λ⁺ Vᵀ B`.
    private static func pseudoInverseSolve(_ a: [Double], _ b: [Double], m: Int, r: Int) -> [Double] {
        var s = a
        var v = [Double](repeating: 0, count: m * m)
        for i in 0..<m { v[i * m + i] = 1 }
        for _ in 0..<100 {
            var off = 0.0
            for i in 0..<m { for j in (i + 1)..<m { off += s[i * m + j] * s[i * m + j] } }
            if off < 1e-30 { break }
            for p in 0..<m {
                for q in (p + 1)..<m where s[p * m + q] != 0 {
                    let theta = (s[q * m + q] - s[p * m + p]) / (2 * s[p * m + q])
                    let t = (theta >= 0 ? 1.0 : -1.0) / (abs(theta) + (theta * theta + 1).squareRoot())
                    let c = 1 / (t * t + 1).squareRoot(), sn = t * c
                    for k in 0..<m {
                        let skp = s[k * m + p], skq = s[k * m + q]
                        s[k * m + p] = c * skp - sn * skq
                        s[k * m + q] = sn * skp + c * skq
                    }
                    for k in 0..<m {
                        let spk = s[p * m + k], sqk = s[q * m + k]
                        s[p * m + k] = c * spk - sn * sqk
                        s[q * m + k] = sn * spk + c * sqk
                    }
                    for k in 0..<m {
                        let vkp = v[k * m + p], vkq = v[k * m + q]
                        v[k * m + p] = c * vkp - sn * vkq
                        v[k * m + q] = sn * vkp + c * vkq
                    }
                }
            }
        }
        let eigen = (0..<m).map { s[$0 * m + $0] }
        let cutoff = 1e-12 * (eigen.map(abs).max() ?? 0)
        var x = [Double](repeating: 0, count: m * r)
        for e in 0..<m where eigen[e] > cutoff {
            for c in 0..<r {
                var proj = 0.0
                for i in 0..<m { proj += v[i * m + e] * b[i * r + c] }
                proj /= eigen[e]
                for i in 0..<m { x[i * r + c] += v[i * m + e] * proj }
            }
        }
        return x
    }

    /// One knot of a least-angle regression path: the active variables (in order of entry) and
    /// the coefficients of all `m` variables there.
    struct Knot {
        let active: [Int]
        let beta: [Double]
    }

    /// The least-angle regression path of `y` on the columns of `x` (`n×m`, row-major, no
    /// intercept or normalisation; Efron, Hastie, Johnstone & Tibshirani, 2004), from all-zero
    /// coefficients until `maxActive` variables are active or the least-squares fit is reached.
    /// With `lasso`, a coefficient that would cross zero is dropped there, which makes the path
    /// the lasso's (scikit-learn's `lars_path(method="lasso")`); without, it is plain LAR
    /// (`method="lar"`). Knots are returned from the empty model on; with `maxActive < m` the
    /// last knot is where the `maxActive`-th variable enters. Cost: `O(steps·n·m)`.
    static func lars(_ x: [Double], _ y: [Double], n: Int, m: Int, lasso: Bool, maxActive: Int) -> [Knot] {
        var beta = [Double](repeating: 0, count: m)
        var residual = y
        var active: [Int] = []
        var isActive = [Bool](repeating: false, count: m)
        var knots = [Knot(active: [], beta: beta)]
        func correlations() -> [Double] {
            var c = [Double](repeating: 0, count: m)
            for i in 0..<n { let ri = residual[i]; for j in 0..<m { c[j] += x[i * m + j] * ri } }
            return c
        }
        var c = correlations()
        let scale = c.map(abs).max() ?? 0
        guard scale > 0, let first = (0..<m).max(by: { abs(c[$0]) < abs(c[$1]) }) else { return knots }
        active.append(first)
        isActive[first] = true
        if maxActive <= 1 && m > 1 { return knots + [Knot(active: active, beta: beta)] }
        for _ in 0..<(8 * m) {
            let big = active.map { abs(c[$0]) }.max()!
            guard big > 1e-12 * scale else { break }
            let signs = active.map { c[$0] >= 0 ? 1.0 : -1.0 }
            let q = active.count
            var gram = [Double](repeating: 0, count: q * q)
            for i in 0..<n {
                for (u, ju) in active.enumerated() {
                    let xu = x[i * m + ju] * signs[u]
                    for (v, jv) in active.enumerated() { gram[u * q + v] += xu * x[i * m + jv] * signs[v] }
                }
            }
            let (w0, singular) = solveSymmetric(gram, [Double](repeating: 1, count: q), m: q, r: 1)
            let total = w0.reduce(0, +)
            guard !singular, total > 0 else { break }
            let norm = 1 / total.squareRoot()
            let direction = (0..<q).map { signs[$0] * w0[$0] * norm }   // change of β_A per unit step
            var u = [Double](repeating: 0, count: n)
            for i in 0..<n { for (t, j) in active.enumerated() { u[i] += x[i * m + j] * direction[t] } }
            var a = [Double](repeating: 0, count: m)
            for i in 0..<n { for j in 0..<m where !isActive[j] { a[j] += x[i * m + j] * u[i] } }
            var gamma = big / norm, entering = -1, dropping = -1
            for j in 0..<m where !isActive[j] {
                for candidate in [(big - c[j]) / (norm - a[j]), (big + c[j]) / (norm + a[j])]
                where candidate > 1e-12 * gamma && candidate < gamma {
                    (gamma, entering) = (candidate, j)
                }
            }
            if lasso {
                for (t, j) in active.enumerated() where direction[t] != 0 {
                    let crossing = -beta[j] / direction[t]
                    if crossing > 1e-12 * gamma && crossing < gamma { (gamma, entering, dropping) = (crossing, -1, t) }
                }
            }
            for (t, j) in active.enumerated() { beta[j] += gamma * direction[t] }
            for i in 0..<n { residual[i] -= gamma * u[i] }
            c = correlations()
            if dropping >= 0 {
                let j = active.remove(at: dropping)
                isActive[j] = false
                beta[j] = 0
            } else if entering >= 0 {
                active.append(entering)
                isActive[entering] = true
            }
            knots.append(Knot(active: active, beta: beta))
            if entering < 0 && dropping < 0 { break }   // reached the least-squares fit
            if maxActive < m && active.count >= maxActive { break }
        }
        return knots
    }

    /// The variables a Lasso fit keeps when its penalty is chosen by an information criterion
    /// (`factor` 2: AIC, `log n`: BIC), as scikit-learn's `LassoLarsIC` behind shap's
    /// `l1_reg="aic"`/`"bic"` does: columns scaled to unit variance, intercept removed by
    /// centring, then along the lasso path `n·log(2πσ²) + RSS/σ² + factor·df` with `σ²` from
    /// the least-squares fit of all columns; the knot with the smallest criterion wins.
    static func informationCriterionSelection(_ x: [Double], _ y: [Double], n: Int, m: Int, factor: Double) -> [Int] {
        guard n > m + 1 else { return Array(0..<m) }
        var xs = x, ys = y
        for j in 0..<m {
            var mean = 0.0
            for i in 0..<n { mean += x[i * m + j] }
            mean /= Double(n)
            var variance = 0.0
            for i in 0..<n { variance += (x[i * m + j] - mean) * (x[i * m + j] - mean) }
            let sd = (variance / Double(n)).squareRoot()
            let scaledMean = sd > 0 ? mean / sd : mean
            for i in 0..<n { xs[i * m + j] = (sd > 0 ? x[i * m + j] / sd : x[i * m + j]) - scaledMean }
        }
        let yMean = y.reduce(0, +) / Double(n)
        for i in 0..<n { ys[i] -= yMean }
        let knots = lars(xs, ys, n: n, m: m, lasso: true, maxActive: m)
        func rss(_ beta: [Double]) -> Double {
            var total = 0.0
            for i in 0..<n {
                var fit = 0.0
                for j in 0..<m where beta[j] != 0 { fit += xs[i * m + j] * beta[j] }
                total += (ys[i] - fit) * (ys[i] - fit)
            }
            return total
        }
        var gram = [Double](repeating: 0, count: m * m), moment = [Double](repeating: 0, count: m)
        for i in 0..<n {
            for j in 0..<m {
                moment[j] += xs[i * m + j] * ys[i]
                for k in 0..<m { gram[j * m + k] += xs[i * m + j] * xs[i * m + k] }
            }
        }
        let noise = rss(solveSymmetric(gram, moment, m: m, r: 1).x) / Double(n - m - 1)
        guard noise > 0 else { return knots.last?.beta.indices.filter { knots.last!.beta[$0] != 0 } ?? [] }
        var best = 0, bestValue = Double.infinity
        for (k, knot) in knots.enumerated() {
            let df = Double(knot.beta.filter { abs($0) > Double.ulpOfOne }.count)
            let value = Double(n) * log(2 * .pi * noise) + rss(knot.beta) / noise + factor * df
            if value < bestValue { (best, bestValue) = (k, value) }
        }
        return knots[best].beta.indices.filter { abs(knots[best].beta[$0]) > Double.ulpOfOne }
    }
}
