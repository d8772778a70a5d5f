import GlassboxNN

/// A multilayer perceptron compiled for fast batched inference: the layers of a model made only
/// of `Linear`, `ReLU`, `LeakyReLU` and inference-time identities (`Dropout`, `Flatten` of
/// `[n, d]`), nested in `Sequential`s.
///
/// Why: post-hoc explainers evaluate the model on millions of synthetic rows (Kernel SHAP with a
/// 100-row background and the default budget makes about 200 000 model rows per explained row).
/// Through the layer graph every op allocates its output and records a backward closure; here
/// each batch runs as one GEMM per layer into per-call scratch, with bias and activation in one
/// pass. The arithmetic is the engine's — the same GEMM call as `matmul(x, W, transposeB: true)`,
/// then `+ b`, then the activation's expression — so results equal `Layer.predict` bit for bit.
struct InferencePlan: Sendable {
    enum Activation: Sendable, Equatable {
        case none, relu, leakyReLU(Float)
    }

    struct Step: Sendable {
        let inputs: Int, outputs: Int
        /// `[outputs, inputs]`, PyTorch's layout.
        let weight: [Float]
        let bias: [Float]?
        var activation: Activation
    }

    let steps: [Step]
    var inputs: Int { steps[0].inputs }
    var outputs: Int { steps[steps.count - 1].outputs }
    /// Widest layer output, for scratch sizing.
    var widest: Int { steps.map(\.outputs).max() ?? 0 }

    /// The plan of `model`, or nil if it contains anything else (the caller then uses the layers).
    init?(_ model: any Layer) {
        var steps: [Step] = []
        guard InferencePlan.collect(model, into: &steps), !steps.isEmpty else { return nil }
        for (a, b) in zip(steps, steps.dropFirst()) where a.outputs != b.inputs { return nil }
        self.steps = steps
    }

    private static func collect(_ layer: any Layer, into steps: inout [Step]) -> Bool {
        switch layer {
        case let sequential as Sequential:
            return sequential.layers.allSatisfy { collect($0, into: &steps) }
        case let linear as Linear:
            steps.append(Step(inputs: linear.inFeatures, outputs: linear.outFeatures, weight: linear.weight.value.scalars,
                              bias: linear.bias?.value.scalars, activation: .none))
            return true
        case is ReLU:
            return setActivation(.relu, on: &steps)
        case let leaky as LeakyReLU:
            return setActivation(.leakyReLU(Float(leaky.negativeSlope)), on: &steps)
        case is Dropout:
            return true
        case let flatten as Flatten:
            // On [n, d] only start_dim 1 through the last axis is the identity.
            return flatten.startDim == 1 && (flatten.endDim == -1 || flatten.endDim == 1)
        default:
            return false
        }
    }

    /// Folds an activation into the preceding linear step (a second activation in a row would not fold).
    private static func setActivation(_ activation: Activation, on steps: inout [Step]) -> Bool {
        guard let last = steps.indices.last, steps[last].activation == .none else { return false }
        steps[last].activation = activation
        return true
    }

    /// `output[rows, outputs] = f(input[rows, inputs])`. `scratch` is resized as needed and reused
    /// across calls by one thread. Cost: `2·rows·Σ inputs·outputs` FLOP on the calling thread.
    func evaluate(rows: Int, input: UnsafePointer<Float>, output: UnsafeMutablePointer<Float>, scratch: inout [Float]) {
        let width = widest
        if scratch.count < 2 * rows * width { scratch = [Float](repeating: 0, count: 2 * rows * width) }
        scratch.withUnsafeMutableBufferPointer { buffer in
            let ping = buffer.baseAddress!, pong = ping + rows * width
            var source = input
            for (index, step) in steps.enumerated() {
                let target = index == steps.count - 1 ? output : (index % 2 == 0 ? ping : pong)
                step.weight.withUnsafeBufferPointer { w in
                    GEMM.sgemm(transA: false, transB: true, m: rows, n: step.outputs, k: step.inputs, alpha: 1,
                               a: source, lda: step.inputs, b: w.baseAddress!, ldb: step.inputs,
                               beta: 0, c: target, ldc: step.outputs, threads: 1)
                }
                InferencePlan.finish(target, rows: rows, width: step.outputs, bias: step.bias, activation: step.activation)
                source = UnsafePointer(target)
            }
        }
    }

    /// Adds the bias and applies the activation in place, in the engine's expressions, in one
    /// pass over the batch (a pass per operation cost as much as the GEMMs on these shapes).
    private static func finish(_ c: UnsafeMutablePointer<Float>, rows: Int, width: Int, bias: [Float]?,
                               activation: Activation) {
        // Branch-free inner loops, so they vectorise.
        guard let bias else {
            let n = rows * width
            switch activation {
            case .none: break
            case .relu: for i in 0..<n { c[i] = c[i] > 0 ? c[i] : 0 }
            case .leakyReLU(let slope): for i in 0..<n { c[i] = c[i] > 0 ? c[i] : slope * c[i] }
            }
            return
        }
        bias.withUnsafeBufferPointer { buffer in
            let b = buffer.baseAddress!
            switch activation {
            case .none:
                for r in 0..<rows {
                    let row = c + r * width
                    for j in 0..<width { row[j] = row[j] + b[j] }
                }
            case .relu:
                for r in 0..<rows {
                    let row = c + r * width
                    for j in 0..<width { let v = row[j] + b[j]; row[j] = v > 0 ? v : 0 }
                }
            case .leakyReLU(let slope):
                for r in 0..<rows {
                    let row = c + r * width
                    for j in 0..<width { let v = row[j] + b[j]; row[j] = v > 0 ? v : slope * v }
                }
            }
        }
    }
}
