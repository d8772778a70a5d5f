import Foundation
import GlassboxNN

/// A pixel attribution map `[H, W]` for one image and target class, with its audit.
public struct AttributionMap: Sendable {
    /// Scores `[H, W]`, higher = more important.
    public var map: Tensor
    /// The class index explained.
    public var target: Int
    /// Model evaluations (mutants) spent.
    public var evaluations: Int
    /// Wall time to compute the map, in seconds.
    public var seconds: Double
    /// Seed the map was computed with (randomised methods are reproducible with it).
    public var seed: UInt64
    /// The method that made the map, e.g. `occlusion(zero)`.
    public var method: String
}

/// Causal responsibility maps, following ReX (Chockler, Kelly et al.; spec in
/// `papers/activation-deactivation.md`).
///
/// Per iteration, starting from the whole image as the active box with nothing else kept:
/// split the active box into four rectangles around a uniformly random interior point; build
/// the 14 mutants keeping a non-empty proper subset of the children plus the boxes kept so far
/// (everything else removed by ``Options/removal``); query them in one batch. A mutant passes if
/// its top-1 class is the target. Each passing mutant with `k` visible children adds `1/k` to
/// every pixel of each visible child. The passing mutant with the smallest visible area is kept
/// (queue style "area", length 1): its largest visible child becomes the next active box and
/// its other visible children join the kept boxes. An iteration stops at ``Options/treeDepth``
/// splits, when nothing passes, or when the active box is too small to split (a side shorter
/// than ``Options/minBoxSize`` or 2). The map is the mean over ``Options/iterations``
/// independent iterations.
///
/// Cost: at most `14 · iterations · treeDepth` model evaluations. Iterations run in parallel
/// (`Compute.parallelFor`), each from its own seed split off ``Options/seed``, and are summed in
/// order, so the map is bit-identical for a seed.
public enum CausalResponsibility {
    /// Settings of ``explain(_:image:target:options:)``.
    public struct Options: Sendable {
        /// Independent iterations averaged into the map.
        public var iterations = 20
        /// Most box splits per iteration.
        public var treeDepth = 10
        /// Smallest box side that is still split; nil = ReX's 10 px scaled to the image:
        /// 10 for images ≥ 100 px a side, else max(1, min(H, W)/14) (2 on 28×28, 1 on 8×8).
        public var minBoxSize: Int?
        /// How occluded pixels are removed from the mutants (default: the constant 0, the training
        /// mean in normalised space).
        public var removal: Removal = .constant(0)
        /// Seed the iterations' random split points (and any noise removal) derive from.
        public var seed: UInt64 = 0
        /// Options with ReX's defaults: 20 iterations of depth 10, removal by the constant 0.
        public init(iterations: Int = 20, treeDepth: Int = 10, minBoxSize: Int? = nil, removal: Removal = .constant(0),
                    seed: UInt64 = 0) {
            (self.iterations, self.treeDepth, self.minBoxSize, self.removal, self.seed) =
                (iterations, treeDepth, minBoxSize, removal, seed)
        }

        /// The minimum box side used when ``minBoxSize`` is nil: 10 for images at least 100 px a
        /// side, else `max(1, min(H, W)/14)`.
        public static func defaultMinBoxSize(height: Int, width: Int) -> Int {
            min(height, width) >= 100 ? 10 : max(1, min(height, width) / 14)
        }
    }

    struct Box { var y0, y1, x0, x1: Int; var area: Int { (y1 - y0) * (x1 - x0) } }

    /// The responsibility map of `image` for `target` (nil: the model's top-1 on the image).
    public static func explain(_ classifier: MaskedClassifier, image: Tensor, target: Int? = nil,
                               options: Options = Options()) throws -> AttributionMap {
        let start = Date()
        let x = try MaskedClassifier.single(image)
        let h = x.shape[2], w = x.shape[3]
        guard options.iterations > 0, options.treeDepth > 0 else {
            throw GlassboxError.invalidArgument("ReX needs iterations and tree depth ≥ 1, got \(options.iterations), \(options.treeDepth)")
        }
        // One map per iteration is kept until they are averaged: bound that memory first.
        try Limits.checkValues([options.iterations, h, w], "ReX maps [iterations, H, W]")
        let cls = try TargetClass.resolve(target, logits: classifier.logits(image: x), place: "ReX responsibility")
        let minBox = max(2, options.minBoxSize ?? Options.defaultMinBoxSize(height: h, width: w))
        var seeder = SeededGenerator(seed: options.seed)
        let seeds = (0..<options.iterations).map { _ in seeder.next() }
        var maps = [[Float]](repeating: [], count: options.iterations)
        var evaluations = [Int](repeating: 0, count: options.iterations)
        var errors = [Error?](repeating: nil, count: options.iterations)
        maps.withUnsafeMutableBufferPointer { mp in
            evaluations.withUnsafeMutableBufferPointer { ep in
                errors.withUnsafeMutableBufferPointer { errp in
                    Compute.parallelFor(options.iterations) { it in
                        do {
                            (mp[it], ep[it]) = try iteration(classifier, x, cls, minBox: minBox, options: options, seed: seeds[it])
                        } catch { errp[it] = error }
                    }
                }
            }
        }
        if let error = errors.compactMap({ $0 }).first { throw error }
        var total = [Float](repeating: 0, count: h * w)
        for m in maps { for j in 0..<h * w { total[j] += m[j] } }
        let scale = 1 / Float(options.iterations)
        return AttributionMap(map: Tensor(uncheckedShape: [h, w], scalars: total.map { $0 * scale }), target: cls,
                              evaluations: evaluations.reduce(0, +), seconds: Date().timeIntervalSince(start),
                              seed: options.seed, method: "responsibility(\(options.removal))")
    }

    static func iteration(_ classifier: MaskedClassifier, _ x: Tensor, _ target: Int, minBox: Int, options: Options,
                          seed: UInt64) throws -> ([Float], Int) {
        let h = x.shape[2], w = x.shape[3], plane = h * w
        var rng = SeededGenerator(seed: seed)
        var map = [Float](repeating: 0, count: plane)
        var active = Box(y0: 0, y1: h, x0: 0, x1: w)
        var keptMask = [Float](repeating: 0, count: plane)
        var evaluations = 0
        for _ in 0..<options.treeDepth {
            guard active.y1 - active.y0 >= minBox, active.x1 - active.x0 >= minBox else { break }
            let py = active.y0 + 1 + rng.int(below: active.y1 - active.y0 - 1)
            let px = active.x0 + 1 + rng.int(below: active.x1 - active.x0 - 1)
            let children = [Box(y0: active.y0, y1: py, x0: active.x0, x1: px), Box(y0: active.y0, y1: py, x0: px, x1: active.x1),
                            Box(y0: py, y1: active.y1, x0: active.x0, x1: px), Box(y0: py, y1: active.y1, x0: px, x1: active.x1)]
            var masks = [Float]()
            masks.reserveCapacity(14 * plane)
            for subset in 1..<15 {
                var m = keptMask
                for (i, b) in children.enumerated() where subset & (1 << i) != 0 { fill(&m, b, w) }
                masks += m
            }
            let logits = try classifier.logits(image: x, masks: Tensor(uncheckedShape: [14, 1, h, w], scalars: masks),
                                               removal: options.removal, seed: rng.next())
            evaluations += 14
            var best: (subset: Int, area: Int)?
            for subset in 1..<15 where argmaxRow(logits, subset - 1) == target {
                let members = children.indices.filter { subset & (1 << $0) != 0 }
                let share = 1 / Float(members.count)
                for i in members { add(&map, children[i], w, share) }
                let area = members.reduce(0) { $0 + children[$1].area }
                if best == nil || area < best!.area { best = (subset, area) }
            }
            guard let chosen = best else { break }
            let members = children.indices.filter { chosen.subset & (1 << $0) != 0 }
            let largest = members.max { children[$0].area < children[$1].area }!
            for i in members where i != largest { fill(&keptMask, children[i], w) }
            active = children[largest]
        }
        return (map, evaluations)
    }

    static func fill(_ m: inout [Float], _ b: Box, _ w: Int) {
        for y in b.y0..<b.y1 { for x in b.x0..<b.x1 { m[y * w + x] = 1 } }
    }

    static func add(_ m: inout [Float], _ b: Box, _ w: Int, _ v: Float) {
        for y in b.y0..<b.y1 { for x in b.x0..<b.x1 { m[y * w + x] += v } }
    }
}

