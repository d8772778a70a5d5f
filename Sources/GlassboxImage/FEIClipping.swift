import Foundation
import GlassboxNN

/// Selective gradient clipping (FGVis, Wagner et al. CVPR 2019; FEI's internal faithfulness):
/// record each clipped layer's output `h(x)` on the clean image, then in the backward pass
/// through perturbed inputs `x̃` let the gradient through an output unit only where
///
///     min(h(x), 0) ≤ h(x̃) ≤ max(h(x), 0),
///
/// i.e. where the perturbation did not create (or enlarge) an activation absent from the clean
/// image. For post-ReLU outputs (`h ≥ 0`) this is `h(x̃) ≤ h(x)`. An optimiser following the
/// clipped gradient cannot gain confidence by routing the decision through new pathways.
///
/// The clipped layers are, by default, every ``ReLU`` and every ``Residual`` block (whose
/// output is the ReLU after the sum), and in a ``GraphModel`` every Relu, Clip and residual Add node. The rule runs as a ``ForwardContext/layerBackwardHook``,
/// so it works on any model built from layers. Cost: one clean forward pass to record, then one
/// comparison per activation entry in each backward pass.
public final class SelectiveGradientClipping {
    /// Clean outputs by layer path, each `[1, …]`.
    public let clean: [String: Tensor]
    /// Which layers are clipped.
    public let selects: (any Layer) -> Bool
    /// Batch rows the rule applies to (nil: all); other rows' gradients pass unchanged.
    public var rows: Range<Int>?
    /// Entries let through / seen in the backward passes so far (an audit of how much is clipped).
    public private(set) var passed = 0, seen = 0

    /// The default selection: every ReLU and every residual block output; in graph models every
    /// `Relu`, `Clip` (ReLU6) and `Add` of two activations (a residual join).
    public static func reluAndResidual(_ layer: any Layer) -> Bool {
        layer is ReLU || layer is Residual || layer is ReluOp || layer is ClipOp || ((layer as? AddOp)?.joinsActivations ?? false)
    }

    /// Records the clean activations of `model` on `image` `[1, C, H, W]` (one inference pass).
    public init(model: any Layer, image: Tensor, selects: @escaping (any Layer) -> Bool = SelectiveGradientClipping.reluAndResidual) throws {
        guard image.rank >= 1, image.shape[0] == 1 else {
            throw GlassboxError.shapeMismatch("selective clipping records one clean image [1, …], got \(image.shape)")
        }
        let context = ForwardContext(training: false, recordActivations: true)
        _ = try model.forward(Variable(image), context: context)
        let paths = Set(Self.sites(of: model, selects: selects))
        var clean: [String: Tensor] = [:]
        for (path, value) in context.activations where paths.contains(path) { clean[path] = value.value }
        self.clean = clean
        self.selects = selects
    }

    /// Dotted paths (as ``ForwardContext`` names them when `model.forward` is called directly)
    /// of the layers `selects` picks, depth first.
    public static func sites(of model: any Layer, selects: (any Layer) -> Bool) -> [String] {
        var out: [String] = []
        func walk(_ layer: any Layer, _ path: String) {
            for child in layer.children {
                let p = path.isEmpty ? child.name : path + "." + child.name
                walk(child.layer, p)
                if selects(child.layer) { out.append(p) }
            }
        }
        walk(model, "")
        return out
    }

    /// Installs the rule on `context` (chaining any hook already there).
    public func install(on context: ForwardContext) {
        let previous = context.layerBackwardHook
        context.layerBackwardHook = { [self] site, gradient in
            let g = previous?(site, gradient) ?? gradient
            return self.clip(site, gradient: g)
        }
    }

    /// The gradient `g` of a perturbed batch at `site`, zeroed where the rule fails. Sites are
    /// matched by path (the selected layers' paths recorded on the clean image); any other
    /// site passes unchanged.
    public func clip(_ site: LayerSite, gradient g: Tensor) -> Tensor {
        guard let h = clean[site.path], g.shape == site.output.shape,
              site.output.count % max(1, h.count) == 0, h.count > 0 else { return g }
        var out = g
        let per = h.count, total = site.output.count / per
        let selected = (rows ?? 0..<total).clamped(to: 0..<total)
        let kept = out.scalars.withUnsafeMutableBufferPointer { o in
            h.scalars.withUnsafeBufferPointer { hc in
                site.output.scalars.withUnsafeBufferPointer { ht in
                    Self.mask(clean: hc.baseAddress!, perturbed: ht.baseAddress! + selected.lowerBound * per,
                              gradient: o.baseAddress! + selected.lowerBound * per, rows: selected.count, per: per)
                }
            }
        }
        passed += kept
        seen += selected.count * per
        return out
    }

    /// Zeroes `gradient[r·per + j]` where `perturbed[r·per + j]` leaves `[min(clean_j, 0), max(clean_j, 0)]`;
    /// returns how many entries passed.
    private static func mask(clean: UnsafePointer<Float>, perturbed: UnsafePointer<Float>, gradient: UnsafeMutablePointer<Float>,
                             rows: Int, per: Int) -> Int {
        let lower = (0..<per).map { Swift.min(clean[$0], 0) }, upper = (0..<per).map { Swift.max(clean[$0], 0) }
        return lower.withUnsafeBufferPointer { lb in
            upper.withUnsafeBufferPointer { ub in
                maskRows(lower: lb.baseAddress!, upper: ub.baseAddress!, perturbed: perturbed, gradient: gradient, rows: rows, per: per)
            }
        }
    }

    private static func maskRows(lower lp: UnsafePointer<Float>, upper up: UnsafePointer<Float>, perturbed: UnsafePointer<Float>,
                                 gradient: UnsafeMutablePointer<Float>, rows: Int, per: Int) -> Int {
        // Branch-free four lanes at a time: whether a unit passes is data-dependent and about as
        // often true as false, so a branchy loop mispredicts on every other entry.
        var counts = SIMD4<Int32>(repeating: 0)
        var kept = 0
        let body = per - per % 4
        for r in 0..<rows {
            let t = perturbed + r * per, g = gradient + r * per
            var j = 0
            while j < body {
                let lo = UnsafeRawPointer(lp + j).loadUnaligned(as: SIMD4<Float>.self)
                let hi = UnsafeRawPointer(up + j).loadUnaligned(as: SIMD4<Float>.self)
                let v = UnsafeRawPointer(t + j).loadUnaligned(as: SIMD4<Float>.self)
                let inside = (v .>= lo) .& (v .<= hi)
                var grad = UnsafeRawPointer(g + j).loadUnaligned(as: SIMD4<Float>.self)
                grad.replace(with: 0, where: .!inside)
                counts &+= SIMD4<Int32>(repeating: 0).replacing(with: 1, where: inside)
                UnsafeMutableRawPointer(g + j).storeBytes(of: grad, as: SIMD4<Float>.self)
                j += 4
            }
            while j < per {
                if t[j] >= lp[j] && t[j] <= up[j] { kept += 1 } else { g[j] = 0 }
                j += 1
            }
        }
        return kept + Int(counts.wrappedSum())
    }
}
