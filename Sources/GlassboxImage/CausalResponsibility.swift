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
/// `docs/methods/activation-deactivation.md`), with the search and aggregation of the reference
/// implementation rex-xai 0.4.1 (its defaults: uniform split points, queue style "area" of
/// length 1, multiplicative responsibility).
///
/// One iteration grows a tree of boxes from the whole image (depth 0). A *job* is a list of
/// sibling boxes, at first the whole image. For each box `B` of the job, in order:
/// - `B` is split into four rectangles at a point drawn uniformly from the flattened box,
///   `p ∈ [1, h·w)` → row `p / w`, column `p mod w` (so a child may be empty); a box whose area is
///   below ``Options/minBoxSize`` or whose depth exceeds ``Options/treeDepth`` is not split, and
///   then the job's remaining boxes are skipped;
/// - the 14 mutants keep a non-empty proper subset of `B`'s children visible together with the
///   job's other boxes (everything else removed by ``Options/removal``), in one batch of 14;
/// - a mutant passes when its top-1 class is the target. A passing mutant with `k` children
///   visible adds `1/k` to every pixel of each of them (the job's other boxes get nothing);
/// - the passing mutant with the fewest visible pixels (first in subset order on ties) is kept.
/// The kept mutant of the job's *last* box becomes the next job: its visible children, without
/// the boxes it kept from the previous job. The iteration stops when that box had no passing
/// mutant, when a kept mutant lies deeper than ``Options/treeDepth`` (after the whole job), or
/// when more than ``Options/searchLimit`` mutants were evaluated.
///
/// Iteration `i`'s map is `Rᵢ` (the sum above). With ``Aggregation/multiplicative`` (rex-xai's
/// default) the map is `∏ᵢ (1 + Rᵢ)`, renormalised to a maximum of 1 after each factor (in
/// iteration order, as rex-xai does); with ``Aggregation/additive`` it is `Σᵢ Rᵢ`.
///
/// Cost: 14 model evaluations per split box; a job holds at most 3 boxes after the first, so at
/// most `14 · (1 + 3 · treeDepth)` per iteration (about 65 on average for MNIST digits at the
/// defaults, so ~1,300 for 20 iterations). Iterations are independent: they run in parallel
/// (`Compute.parallelFor`), each from its own seed split off ``Options/seed``, and are combined in
/// order, so the map is bit-identical for a seed.
public enum CausalResponsibility {
    /// How the iterations' maps are combined.
    public enum Aggregation: String, Sendable, CaseIterable {
        /// `∏ᵢ (1 + Rᵢ)`, renormalised to maximum 1 (rex-xai's default "multiplicative").
        case multiplicative
        /// `Σᵢ Rᵢ` (rex-xai's "additive").
        case additive
    }

    /// Settings of ``explain(_:image:target:options:)``.
    public struct Options: Sendable {
        /// Independent iterations combined into the map.
        public var iterations = 20
        /// Deepest box (the whole image is depth 0) that is still split.
        public var treeDepth = 10
        /// Smallest box AREA, in pixels, that is still split; nil = rex-xai's 10 (``reXMinBoxSize``).
        public var minBoxSize: Int?
        /// Stop an iteration once it has evaluated more than this many mutants (nil: no limit).
        public var searchLimit: Int?
        /// How the iterations' maps are combined.
        public var aggregation: Aggregation = .multiplicative
        /// How occluded pixels are removed from the mutants (default: the constant 0, the training
        /// mean in normalised space).
        public var removal: Removal = .constant(0)
        /// Seed the iterations' random split points (and any noise removal) derive from.
        public var seed: UInt64 = 0
        /// Options with rex-xai's defaults: 20 iterations of depth 10, minimum box area 10,
        /// multiplicative aggregation, removal by the constant 0.
        public init(iterations: Int = 20, treeDepth: Int = 10, minBoxSize: Int? = nil, searchLimit: Int? = nil,
                    aggregation: Aggregation = .multiplicative, removal: Removal = .constant(0), seed: UInt64 = 0) {
            (self.iterations, self.treeDepth, self.minBoxSize, self.searchLimit, self.aggregation, self.removal, self.seed) =
                (iterations, treeDepth, minBoxSize, searchLimit, aggregation, removal, seed)
        }
    }

    /// rex-xai's `min_box_size`: boxes with fewer pixels are not split.
    public static let reXMinBoxSize = 10

    struct Box: Equatable {
        var y0, y1, x0, x1: Int
        var area: Int { (y1 - y0) * (x1 - x0) }
    }

    /// The responsibility map of `image` for `target` (nil: the model's top-1 on the image).
    public static func explain(_ classifier: MaskedClassifier, image: Tensor, target: Int? = nil,
                               options: Options = Options()) throws -> AttributionMap {
        let start = Date()
        let x = try MaskedClassifier.single(image)
        let h = x.shape[2], w = x.shape[3]
        guard options.iterations > 0, options.treeDepth >= 0 else {
            throw GlassboxError.invalidArgument("ReX needs iterations ≥ 1 and tree depth ≥ 0, got \(options.iterations), \(options.treeDepth)")
        }
        if let limit = options.searchLimit, limit < 0 {
            throw GlassboxError.invalidArgument("ReX search limit must be ≥ 0, got \(limit)")
        }
        // One map per iteration is kept until they are combined: bound that memory first.
        try Limits.checkValues([options.iterations, h, w], "ReX maps [iterations, H, W]")
        let cls = try TargetClass.resolve(target, logits: classifier.logits(image: x), place: "ReX responsibility")
        let minBox = options.minBoxSize ?? reXMinBoxSize
        var seeder = SeededGenerator(seed: options.seed)
        let seeds = (0..<options.iterations).map { _ in seeder.next() }
        let initial: Float = options.aggregation == .multiplicative ? 1 : 0
        var maps = [[Float]](repeating: [], count: options.iterations)
        var evaluations = [Int](repeating: 0, count: options.iterations)
        var errors = [Error?](repeating: nil, count: options.iterations)
        maps.withUnsafeMutableBufferPointer { mp in
            evaluations.withUnsafeMutableBufferPointer { ep in
                errors.withUnsafeMutableBufferPointer { errp in
                    Compute.parallelFor(options.iterations) { it in
                        do {
                            var rng = SeededGenerator(seed: seeds[it])
                            let noise = rng.next()
                            var batches: UInt64 = 0
                            (mp[it], ep[it]) = try iteration(height: h, width: w, minBox: minBox, treeDepth: options.treeDepth,
                                                             searchLimit: options.searchLimit, initial: initial,
                                                             splitPoint: { 1 + rng.int(below: $0 - 1) }) { masks in
                                batches += 1
                                let logits = try classifier.logits(image: x, masks: masks, removal: options.removal,
                                                                   seed: noise &+ batches)
                                return (0..<masks.shape[0]).map { argmaxRow(logits, $0) == cls }
                            }
                        } catch { errp[it] = error }
                    }
                }
            }
        }
        if let error = errors.compactMap({ $0 }).first { throw error }
        return AttributionMap(map: Tensor(uncheckedShape: [h, w], scalars: combine(maps, options.aggregation, count: h * w)),
                              target: cls, evaluations: evaluations.reduce(0, +), seconds: Date().timeIntervalSince(start),
                              seed: options.seed, method: "responsibility(\(options.removal))")
    }

    /// Combines the iterations' maps in order (see ``Aggregation``). Iterations whose map never
    /// changed (nothing passed) leave the product unchanged, as in rex-xai.
    static func combine(_ maps: [[Float]], _ aggregation: Aggregation, count: Int) -> [Float] {
        switch aggregation {
        case .additive:
            var total = [Float](repeating: 0, count: count)
            for m in maps { for j in 0..<count { total[j] += m[j] } }
            return total
        case .multiplicative:
            var total = [Float](repeating: 1, count: count)
            for m in maps {
                for j in 0..<count { total[j] *= m[j] }
                let top = total.max() ?? 1
                if top > 0 { for j in 0..<count { total[j] /= top } }
            }
            return total
        }
    }

    /// One iteration of the search on an `height`×`width` image, returning its map (`initial` +
    /// the responsibility added) and the mutants evaluated. `splitPoint(area)` draws the flat
    /// split position in `1..<area`; `passes` takes keep-masks `[n, 1, H, W]` and says which
    /// mutants the model classifies as the target. Both are injected so tests can script them.
    static func iteration(height h: Int, width w: Int, minBox: Int, treeDepth: Int, searchLimit: Int?, initial: Float,
                          splitPoint: (Int) -> Int, passes: (Tensor) throws -> [Bool]) throws -> ([Float], Int) {
        let plane = h * w
        var map = [Float](repeating: initial, count: plane)
        // The box tree: node i's box, depth and children (nil: not split yet; []: cannot be).
        var boxes = [Box(y0: 0, y1: h, x0: 0, x1: w)], depths = [0]
        var children: [[Int]?] = [nil]
        var job = [0]
        var work = 0, depthReached = 0
        while true {
            var kept: [Int] = []
            var lastBox = -1
            for (ai, active) in job.enumerated() {
                lastBox = ai
                if children[active] == nil {
                    let b = boxes[active]
                    // rex-xai splits only boxes at depth ≤ tree depth with area ≥ min_box_size;
                    // numpy's randint(1, 1) would fail for a one-pixel box, which is never split.
                    if depths[active] <= treeDepth, b.area >= max(minBox, 2) {
                        let p = splitPoint(b.area)
                        let row = b.y0 + p / (b.x1 - b.x0), col = b.x0 + p % (b.x1 - b.x0)
                        let parts = [Box(y0: b.y0, y1: row, x0: b.x0, x1: col), Box(y0: b.y0, y1: row, x0: col, x1: b.x1),
                                     Box(y0: row, y1: b.y1, x0: b.x0, x1: col), Box(y0: row, y1: b.y1, x0: col, x1: b.x1)]
                        children[active] = parts.map { part in
                            boxes.append(part); depths.append(depths[active] + 1); children.append(nil)
                            return boxes.count - 1
                        }
                    } else {
                        children[active] = []
                    }
                }
                let parts = children[active]!
                if parts.isEmpty { break }
                var staticMask = [Float](repeating: 0, count: plane)
                for (other, node) in job.enumerated() where other != ai { fill(&staticMask, boxes[node], w) }
                let staticArea = job.enumerated().reduce(0) { $0 + ($1.offset == ai ? 0 : boxes[$1.element].area) }
                var masks = [Float]()
                masks.reserveCapacity(14 * plane)
                for subset in subsets {
                    var m = staticMask
                    for i in subset { fill(&m, boxes[parts[i]], w) }
                    masks += m
                }
                let passed = try passes(Tensor(uncheckedShape: [14, 1, h, w], scalars: masks))
                work += 14
                var best: (subset: [Int], area: Int)?
                for (s, subset) in subsets.enumerated() where passed[s] {
                    let share = Float(1.0 / Double(subset.count))
                    for i in subset { add(&map, boxes[parts[i]], w, share) }
                    let area = staticArea + subset.reduce(0) { $0 + boxes[parts[$1]].area }
                    if best == nil || area < best!.area { best = (subset, area) }
                }
                kept = best.map { $0.subset.map { parts[$0] } } ?? []
                if !kept.isEmpty { depthReached = max(depthReached, depths[active] + 1) }
            }
            if depthReached > treeDepth, lastBox == job.count - 1 { break }
            if let limit = searchLimit, work > limit { break }
            if kept.isEmpty { break }
            job = kept
        }
        return (map, work)
    }

    /// The 14 non-empty proper subsets of the four children, in rex-xai's order.
    static let subsets: [[Int]] = [[0], [1], [2], [3], [0, 1], [0, 2], [0, 3], [1, 2], [1, 3], [2, 3],
                                   [0, 1, 2], [0, 1, 3], [0, 2, 3], [1, 2, 3]]

    static func fill(_ m: inout [Float], _ b: Box, _ w: Int) {
        for y in b.y0..<b.y1 { for x in b.x0..<b.x1 { m[y * w + x] = 1 } }
    }

    static func add(_ m: inout [Float], _ b: Box, _ w: Int, _ v: Float) {
        for y in b.y0..<b.y1 { for x in b.x0..<b.x1 { m[y * w + x] += v } }
    }
}
