import Foundation
import GlassboxNN
import Synchronization

extension PredictionFunction {
    /// Like ``stream(chunks:maxRows:fill:consume:)`` but differentiating: for every row of a
    /// batch it hands `consume(chunk, values, gradients, rows)` the outputs `[rows, outputs]` and
    /// `∂f_c/∂x` for each `c` of `selected`, as `[rows, selected.count, features]`.
    ///
    /// Rows are independent in inference mode, so the gradient of `Σ_rows f_c` with respect to
    /// the batch is every row's own gradient: one forward pass per batch and one backward pass
    /// per selected output. Each worker differentiates its own replica of the model.
    func gradientStream(chunks: Int, maxRows: Int, selected: [Int],
                        fill: (_ chunk: Int, _ input: UnsafeMutablePointer<Float>) -> Int,
                        consume: (_ chunk: Int, _ values: UnsafePointer<Float>, _ gradients: UnsafePointer<Float>, _ rows: Int) -> Void) throws {
        guard case .layers(let replicas, _) = engine else {
            throw GlassboxError.invalidArgument("gradient methods need a model built from layers (PredictionFunction.logits or .probabilities), not a closure")
        }
        if let bad = selected.first(where: { !(0..<outputs).contains($0) }) {
            throw GlassboxError.invalidArgument("output \(bad) is outside the model's \(outputs) outputs (0..<\(outputs))")
        }
        guard chunks > 0 else { return }
        let workers = min(replicas.count, chunks)
        let next = Atomic<Int>(0)
        let failed = Atomic<Bool>(false)
        var errors = [(any Error)?](repeating: nil, count: workers)
        errors.withUnsafeMutableBufferPointer { errorSlots in
            Compute.parallelFor(workers) { lane in
                var input = [Float](repeating: 0, count: maxRows * features)
                while !failed.load(ordering: .relaxed) {
                    let chunk = next.wrappingAdd(1, ordering: .relaxed).oldValue
                    guard chunk < chunks else { break }
                    do {
                        try Interruption.check("after \(chunk) of \(chunks) model batches")
                        let rows = input.withUnsafeMutableBufferPointer { fill(chunk, $0.baseAddress!) }
                        let x = Tensor(uncheckedShape: [rows, features], scalars: Array(input[0..<(rows * features)]))
                        let (values, gradients) = try replicas[lane].with { try differentiate($0, at: x, selected: selected) }
                        values.scalars.withUnsafeBufferPointer { v in
                            gradients.withUnsafeBufferPointer { g in consume(chunk, v.baseAddress!, g.baseAddress!, rows) }
                        }
                    } catch {
                        errorSlots[lane] = error
                        failed.store(true, ordering: .relaxed)
                    }
                }
            }
        }
        if let error = errors.lazy.compactMap({ $0 }).first { throw error }
    }

    /// Values `[n, outputs]` and gradients `[n, selected.count, features]` of one batch.
    private func differentiate(_ layer: any Layer, at x: Tensor, selected: [Int]) throws -> (Tensor, [Float]) {
        let (n, d) = (x.shape[0], features)
        let input = Variable(x, requiresGrad: true)
        let logits = try layer.forward(input, context: ForwardContext(training: false))
        guard logits.shape == [n, outputs] else {
            throw GlassboxError.shapeMismatch("the model returned \(logits.shape) for [\(n), \(d)] inputs; expected [\(n), \(outputs)]")
        }
        try logits.value.checkFinite("model output")
        let out = output == .probability ? (outputs == 1 ? sigmoid(logits) : try softmax(logits, axis: 1)) : logits
        // Values as evaluation computes them, so f(x) is bit-identical on both paths.
        let values = output == .probability ? PredictionFunction.probabilities(fromLogits: logits.value) : logits.value
        var gradients = [Float](repeating: 0, count: n * selected.count * d)
        for (s, c) in selected.enumerated() {
            var seed = Tensor.zeros([n, outputs])
            for r in 0..<n { seed.scalars[r * outputs + c] = 1 }
            input.zeroGrad()
            try out.backward(seed)
            guard let g = input.grad else { continue }
            g.scalars.withUnsafeBufferPointer { source in
                gradients.withUnsafeMutableBufferPointer { target in
                    for r in 0..<n {
                        (target.baseAddress! + (r * selected.count + s) * d).update(from: source.baseAddress! + r * d, count: d)
                    }
                }
            }
        }
        return (values, gradients)
    }
}

/// Shared driver of the gradient explainers: each explained row expands into `pointsPerRow`
/// model inputs (interpolation steps, noisy copies…) whose gradients are reduced per row.
struct GradientSweep {
    let model: PredictionFunction
    /// Output indices differentiated.
    let selected: [Int]

    init(model: PredictionFunction, outputs: [Int]?) throws {
        guard model.isDifferentiable else {
            throw GlassboxError.invalidArgument("gradient methods need a model built from layers (PredictionFunction.logits or .probabilities), not a closure")
        }
        let selected = outputs ?? Array(0..<model.outputs)
        guard !selected.isEmpty else { throw GlassboxError.invalidArgument("no outputs selected to explain") }
        if let bad = selected.first(where: { !(0..<model.outputs).contains($0) }) {
            throw GlassboxError.invalidArgument("output \(bad) is outside the model's \(model.outputs) outputs (0..<\(model.outputs))")
        }
        self.model = model
        self.selected = selected
    }

    /// Calls `point(row, k, x, input)` to write input `k` of row `row` (whose features are `x`),
    /// and `reduce(row, k, values, gradients)` with that input's outputs `[outputs]` and
    /// gradients `[selected.count, features]`. All points of a row are reduced by one thread,
    /// in order of `k`. Returns the number of gradient evaluations.
    func run(_ rows: Tensor, pointsPerRow: Int,
             point: (_ row: Int, _ k: Int, _ x: UnsafePointer<Float>, _ input: UnsafeMutablePointer<Float>) -> Void,
             reduce: (_ row: Int, _ k: Int, _ values: UnsafePointer<Float>, _ gradients: UnsafePointer<Float>) -> Void) throws -> Int {
        let (n, d, o, s) = (rows.shape[0], model.features, model.outputs, selected.count)
        let rowsPerChunk = max(1, model.batchRows / pointsPerRow)
        let chunks = (n + rowsPerChunk - 1) / rowsPerChunk
        try rows.scalars.withUnsafeBufferPointer { xs in
            let x = xs.baseAddress!
            try model.gradientStream(chunks: chunks, maxRows: rowsPerChunk * pointsPerRow, selected: selected, fill: { c, input in
                let lo = c * rowsPerChunk, hi = min(n, lo + rowsPerChunk)
                for r in lo..<hi {
                    for k in 0..<pointsPerRow { point(r, k, x + r * d, input + ((r - lo) * pointsPerRow + k) * d) }
                }
                return (hi - lo) * pointsPerRow
            }, consume: { c, values, gradients, _ in
                let lo = c * rowsPerChunk, hi = min(n, lo + rowsPerChunk)
                for r in lo..<hi {
                    for k in 0..<pointsPerRow {
                        let q = (r - lo) * pointsPerRow + k
                        reduce(r, k, values + q * o, gradients + q * s * d)
                    }
                }
            })
        }
        return n * pointsPerRow
    }
}
