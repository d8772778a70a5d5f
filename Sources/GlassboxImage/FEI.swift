import Foundation
import GlassboxNN

/// FEI — faithfulness-guided ensemble interpretation (Zhang & McMillan 2025; this project's
/// reconstruction, spec `docs/methods/fei.md`): an attribution map learned by optimising the
/// insertion/deletion game directly, with the network's own computational pathway preserved.
///
/// Parameters: logits `a` on a `g × g` grid, upsampled bilinearly to `A` `[H, W]` and
/// standardised to `z = (A − mean A)/sd A`. For a kept fraction `q`, `τ_q` is the `(1 − q)`
/// quantile of `z` and `M_q = sigmoid((z − τ_q)/T)` the soft mask keeping the top `q`.
///
///     insertion(q) = M_q ⊙ x + (1 − M_q) ⊙ blur(x)
///     deletion(q)  = (1 − M_q) ⊙ x            (zero = the training mean, in normalised space)
///     L(a) = 1/K Σ_k [ p_c(deletion(q_k)) − p_c(insertion(q_k)) ]
///
/// with `q_k = (k + ½ + u_k)/K`, `u_k ~ U(−½, ½)` fresh each step (stratified jitter over
/// `(0, 1)`), so `L` is a randomised midpoint quadrature of `AUC_del − AUC_ins`. `L` is minimised
/// with Adam while the temperature anneals geometrically from ``Configuration/initialTemperature``
/// to ``Configuration/finalTemperature``. With ``Configuration/clipping`` the backward pass goes
/// through ``SelectiveGradientClipping`` (every ReLU and residual output): the mask may not gain
/// confidence through activations the clean image does not have.
///
/// The map returned is `z` `[H, W]` (higher = more important); only its order matters for
/// insertion/deletion.
///
/// Cost: one clean forward pass, then per step one forward and one backward pass of a batch of
/// `2K` images (all fractions, insertion and deletion together) — `iterations · 2K` image
/// evaluations and as many image gradients. Deterministic for a seed (and thread count).
public enum FEI {
    /// Every knob of the optimisation, with the defaults used by `glassbox experiment fei`.
    public struct Configuration: Sendable, Codable, Equatable {
        /// Side of the logit grid; nil = half the image side but at least 8 (or the full side when
        /// smaller): `min(S, max(S/2, 8))` with `S = min(H, W)` — 14 on 28×28, 8 on 8×8. Coarser
        /// grids (7 on 28×28, 4 on 8×8) scored lower insertion − deletion gaps in this project's runs.
        public var gridSize: Int?
        /// Adam steps.
        public var iterations: Int
        /// Kept fractions per step (`K`); the batch is `2K` images.
        public var fractions: Int
        /// Jitter the fraction grid each step (stratified sampling); off = fixed midpoints.
        public var jitter: Bool
        /// Adam learning rate on the logits.
        public var learningRate: Float
        /// Temperature of the soft masks at the first step, in standard deviations of `z`.
        public var initialTemperature: Float
        /// Temperature at the last step (geometric schedule in between).
        public var finalTemperature: Float
        /// Selective gradient clipping at every ReLU and residual output.
        public var clipping: Bool
        /// With clipping: apply it to the deletion images too (the spec's rule, every perturbed
        /// input), or only to the insertion images (an ablation: deletion gradients unclipped).
        public var clipDeletion: Bool
        /// Blur of the insertion start image (Gaussian σ in pixels); nil = `max(1, min(H, W)/14)`,
        /// the default blur of ``Removal/defaultBlur(height:width:)``.
        public var blurSigma: Float?
        /// What deleted pixels become.
        public var deletion: DeletionBaseline
        /// Seed of the logit initialisation and the jitter.
        public var seed: UInt64

        /// A configuration; the defaults are those of `glassbox experiment fei`.
        public init(gridSize: Int? = nil, iterations: Int = 60, fractions: Int = 8, jitter: Bool = true,
                    learningRate: Float = 0.1, initialTemperature: Float = 0.5, finalTemperature: Float = 0.05,
                    clipping: Bool = true, clipDeletion: Bool = true, blurSigma: Float? = nil, deletion: DeletionBaseline = .zero, seed: UInt64 = 0) {
            (self.gridSize, self.iterations, self.fractions, self.jitter, self.learningRate) =
                (gridSize, iterations, fractions, jitter, learningRate)
            (self.initialTemperature, self.finalTemperature, self.clipping, self.blurSigma, self.deletion, self.seed) =
                (initialTemperature, finalTemperature, clipping, blurSigma, deletion, seed)
            self.clipDeletion = clipDeletion
        }

        /// The grid side used for an `height × width` image.
        public func grid(height: Int, width: Int) -> Int {
            let side = min(height, width)
            return gridSize ?? min(side, max(side / 2, 8))
        }
        /// The insertion blur used for an `height × width` image.
        public func sigma(height: Int, width: Int) -> Float { blurSigma ?? max(1, Float(min(height, width)) / 14) }

        /// Temperature at step `t` of `iterations`: `T₀·(T₁/T₀)^(t/(iterations−1))`.
        public func temperature(step t: Int) -> Float {
            guard iterations > 1 else { return finalTemperature }
            return initialTemperature * Foundation.pow(finalTemperature / initialTemperature, Float(t) / Float(iterations - 1))
        }

        func validate() throws {
            if let g = gridSize, g < 1 { throw GlassboxError.invalidArgument("FEI: grid size must be ≥ 1, got \(g)") }
            guard iterations >= 1 else { throw GlassboxError.invalidArgument("FEI: iterations must be ≥ 1, got \(iterations)") }
            guard fractions >= 1 else { throw GlassboxError.invalidArgument("FEI: fractions must be ≥ 1, got \(fractions)") }
            guard learningRate > 0, learningRate.isFinite else {
                throw GlassboxError.invalidArgument("FEI: learning rate must be positive, got \(learningRate)")
            }
            guard initialTemperature > 0, finalTemperature > 0, initialTemperature.isFinite, finalTemperature.isFinite else {
                throw GlassboxError.invalidArgument("FEI: temperatures must be positive, got \(initialTemperature) → \(finalTemperature)")
            }
            if let s = blurSigma, !(s > 0) { throw GlassboxError.invalidArgument("FEI: blur σ must be positive, got \(s)") }
        }
    }

    /// The value deleted pixels take in the deletion inputs.
    public enum DeletionBaseline: String, Sendable, Codable, Equatable {
        /// 0 in the model's (normalised) input space, as the deletion metric uses.
        case zero
        /// No value: the deleted units are switched off inside the network by a soft,
        /// differentiable form of ConvAD strict (``FEISoftActivationDeactivation``).
        case activationDeactivation = "ad"
    }

    /// An FEI attribution with its optimisation record.
    public struct Result: Sendable {
        /// The map `z` `[H, W]`, target, evaluations (`iterations · 2K + 1`), time, seed.
        public var attribution: AttributionMap
        /// `L` at each step (a noisy curve: the fractions are jittered).
        public var loss: [Double]
        /// Fraction of activation-gradient entries the clipping let through (1 without clipping).
        public var gradientPassFraction: Double
    }

    /// The fixed fraction grid plus jitter for one step: `q_k = (k + ½ + u_k)/K`, clamped to
    /// `[1/(2K·16), 1 − 1/(2K·16)]` so no mask is empty or full.
    static func fractions(_ k: Int, jitter: Bool, rng: inout SeededGenerator) -> [Double] {
        let eps = 1 / (32 * Double(k))
        return (0..<k).map { i in
            let u = jitter ? rng.uniformDouble() - 0.5 : 0
            return min(1 - eps, max(eps, (Double(i) + 0.5 + u) / Double(k)))
        }
    }

    /// Explains `model`'s class `target` (nil: its top-1) on `image` (`[C, H, W]` or
    /// `[1, C, H, W]`, normalised input space).
    public static func explain(model: any Layer, image: Tensor, target: Int? = nil,
                               configuration: Configuration = Configuration()) throws -> Result {
        let start = Date()
        try configuration.validate()
        let x = try MaskedClassifier.single(image)
        let (h, w) = (x.shape[2], x.shape[3])
        let clean = try model.predict(x)
        guard clean.rank == 2, clean.shape[0] == 1 else {
            throw GlassboxError.shapeMismatch("FEI: the model must return class logits [1, classes], got \(clean.shape)")
        }
        let classes = clean.shape[1]
        let cls = target ?? topClass(clean.scalars)
        guard (0..<classes).contains(cls) else {
            throw GlassboxError.invalidArgument("FEI: target \(cls) is outside the model's \(classes) classes")
        }
        let clipping = configuration.clipping ? try SelectiveGradientClipping(model: model, image: x) : nil
        let softAD = configuration.deletion == .activationDeactivation ? try FEISoftActivationDeactivation(model: model) : nil

        let g = configuration.grid(height: h, width: w)
        var rng = SeededGenerator(seed: configuration.seed)
        let a = Variable(Tensor.normal([g, g], using: &rng), requiresGrad: true)
        let optimizer = try Adam([a], learningRate: configuration.learningRate)
        let blurred = Variable(gaussianBlur(x, sigma: configuration.sigma(height: h, width: w)))
        let xv = Variable(x)
        let k = configuration.fractions
        if !configuration.clipDeletion { clipping?.rows = 0..<k }
        var losses: [Double] = []
        for step in 0..<configuration.iterations {
            try Interruption.check("FEI step \(step) of \(configuration.iterations)")
            let q = fractions(k, jitter: configuration.jitter, rng: &rng)
            let context = ForwardContext(training: false)
            clipping?.install(on: context)
            let loss = try Self.loss(a, model: model, image: xv, blurred: blurred, target: cls, keptFractions: q,
                                     temperature: configuration.temperature(step: step), context: context, softAD: softAD)
            optimizer.zeroGrad()
            try loss.backward()
            losses.append(Double(loss.value.scalar))
            try optimizer.step()
        }
        let z = try FEIMasks.standardizedMap(a, height: h, width: w).value
        let pass = clipping.map { $0.seen > 0 ? Double($0.passed) / Double($0.seen) : 1 } ?? 1
        let map = AttributionMap(map: try z.reshaped([h, w]), target: cls,
                                 evaluations: configuration.iterations * 2 * k + 1,
                                 seconds: Date().timeIntervalSince(start), seed: configuration.seed,
                                 method: !configuration.clipping ? "fei(no clipping)"
                                     : configuration.clipDeletion ? "fei" : "fei(insertion clipping)")
        return Result(attribution: map, loss: losses, gradientPassFraction: pass)
    }

    /// The FEI objective `L(a) = 1/K Σ_k [p_c(deletion(q_k)) − p_c(insertion(q_k))]` for logits
    /// `a` `[g, g]`, image `[1, C, H, W]` and its blur, as one batch of `2K` images through
    /// `model` with `context` (hooks such as clipping installed there); with `softAD` the
    /// deletion half runs through soft ConvAD with keep-mask `1 − M_q` instead of zeroing.
    /// Cost: one forward pass of `2K` images (and one backward when differentiated).
    static func loss(_ a: Variable, model: any Layer, image x: Variable, blurred: Variable, target cls: Int,
                     keptFractions q: [Double], temperature: Float, context: ForwardContext,
                     softAD: FEISoftActivationDeactivation? = nil) throws -> Variable {
        let (h, w, k) = (x.shape[2], x.shape[3], q.count)
        let z = try FEIMasks.standardizedMap(a, height: h, width: w)
        let m = try FEIMasks.softMasks(z, keptFractions: q, temperature: temperature, height: h, width: w)
        let insertion = try add(blurred, try mul(m, try sub(x, blurred)))
        let logits: Variable
        if let softAD {
            let ins = try model.forward(insertion, context: context)
            let keep = shift(negate(m), 1)
            let copies = try mul(x, Variable(Tensor.ones([k, 1, 1, 1])))
            logits = try concat([ins, try softAD.forward(images: copies, keep: keep, context: context)], axis: 0)
        } else {
            let deletion = try sub(x, try mul(m, x))
            logits = try model.forward(try concat([insertion, deletion], axis: 0), context: context)
        }
        guard logits.value.rank == 2, logits.shape[0] == 2 * k, (0..<logits.shape[1]).contains(cls) else {
            throw GlassboxError.shapeMismatch("FEI: the model returned \(logits.shape) for \(2 * k) images; target \(cls)")
        }
        let p = try slice(try softmax(logits, axis: 1), axis: 1, range: cls..<(cls + 1))
        let pIns = try sum(try slice(p, axis: 0, range: 0..<k)), pDel = try sum(try slice(p, axis: 0, range: k..<(2 * k)))
        return scale(try sub(pDel, pIns), 1 / Float(k))
    }
}
