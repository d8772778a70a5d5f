import Testing
@testable import GlassboxImage
import GlassboxNN

/// CausalResponsibility's search against rex-xai 0.4.1 itself: with the split points scripted
/// (the same 64-bit LCG on both sides) and a linear classifier, every iteration's map, its
/// evaluation count and the combined map must be rex-xai's (fixture written by
/// benchmarks/tools/make_rex_fixture.py, which runs rex-xai's own search code).
@Suite("ReX against rex-xai 0.4.1")
struct ReXReferenceTests {
    /// The scripted split stream of make_rex_fixture.py.
    struct Stream {
        var state: UInt64
        mutating func position(area: Int) -> Int {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return 1 + Int((state >> 33) % UInt64(area - 1))
        }
    }

    /// Logits `W · (x ⊙ mask) + b` of the fixture's linear classifier, one row per mask.
    static func logits(_ c: ReXReferenceFixture.Case, masks: Tensor) -> [[Float]] {
        let plane = c.height * c.width, classes = c.bias.count
        return (0..<masks.shape[0]).map { n in
            (0..<classes).map { k in
                var s = c.bias[k]
                for p in 0..<plane { s += c.weights[k * plane + p] * (c.image[p] * masks.scalars[n * plane + p]) }
                return s
            }
        }
    }

    static func argmax(_ row: [Float]) -> Int { row.indices.max { row[$0] < row[$1] || (row[$0] == row[$1] && $0 > $1) }! }

    @Test(arguments: ReXReferenceFixture.cases.indices)
    func scriptedSearchMatchesTheReference(_ index: Int) throws {
        let c = ReXReferenceFixture.cases[index]
        let aggregation = CausalResponsibility.Aggregation(rawValue: c.aggregation)!
        var maps: [[Float]] = []
        for i in 0..<c.iterations {
            var stream = Stream(state: UInt64(1000 + i + 1))
            let (map, work) = try CausalResponsibility.iteration(
                height: c.height, width: c.width, minBox: c.minBoxSize, treeDepth: c.treeDepth, searchLimit: c.searchLimit,
                initial: aggregation == .multiplicative ? 1 : 0, splitPoint: { stream.position(area: $0) }
            ) { masks in Self.logits(c, masks: masks).map { Self.argmax($0) == c.target } }
            #expect(work == c.evaluations[i], "\(c.name): iteration \(i + 1) evaluations")
            #expect(map == c.iterationMaps[i], "\(c.name): iteration \(i + 1) map")
            maps.append(map)
        }
        let combined = CausalResponsibility.combine(maps, aggregation, count: c.height * c.width)
        #expect(combined == c.map, "\(c.name): combined map")
        // The fixture is not degenerate: the search went deeper than one level and the map varies.
        #expect(c.evaluations.contains { $0 > 14 } && Set(c.map).count > 3)
    }

    /// `explain` wires the same search to a real classifier: a Glassbox linear layer with the
    /// fixture's weights, removal by 0, gives the map of the search driven by the pure-Swift
    /// logits with the same per-iteration split generators.
    @Test func explainRunsTheSearchOnTheClassifier() throws {
        let c = ReXReferenceFixture.cases[0]
        let plane = c.height * c.width
        var rng = SeededGenerator(seed: 0)
        let linear = try Linear(inFeatures: plane, outFeatures: c.bias.count, rng: &rng)
        linear.weight.value = Tensor(uncheckedShape: [c.bias.count, plane], scalars: c.weights)
        linear.bias!.value = Tensor(uncheckedShape: [c.bias.count], scalars: c.bias)
        let classifier = MaskedClassifier(model: Sequential([Flatten(), linear]))
        let image = Tensor(uncheckedShape: [1, 1, c.height, c.width], scalars: c.image)
        let options = CausalResponsibility.Options(iterations: 3, seed: 11)
        let result = try CausalResponsibility.explain(classifier, image: image, options: options)
        #expect(result.target == c.target)

        var seeder = SeededGenerator(seed: 11)
        var maps: [[Float]] = [], work = 0
        for seed in (0..<3).map({ _ in seeder.next() }) {
            var split = SeededGenerator(seed: seed)
            _ = split.next()  // the removal-noise seed
            let (map, w) = try CausalResponsibility.iteration(
                height: c.height, width: c.width, minBox: 10, treeDepth: 10, searchLimit: nil, initial: 1,
                splitPoint: { 1 + split.int(below: $0 - 1) }
            ) { masks in Self.logits(c, masks: masks).map { Self.argmax($0) == c.target } }
            maps.append(map)
            work += w
        }
        #expect(result.evaluations == work)
        #expect(result.map.scalars == CausalResponsibility.combine(maps, .multiplicative, count: plane))
        #expect(result.map.scalars.max() == 1)
    }

    /// Additive maps are the plain sum of the iterations; multiplicative ones rank like the sum
    /// of log(1 + Rᵢ) and peak at exactly 1.
    @Test func aggregationRules() {
        let maps: [[Float]] = [[1, 1.5, 2, 1], [1, 2, 1, 1.25]]
        // (1 + R₁)/2 = [0.5, 0.75, 1, 0.5]; × (1 + R₂) = [0.5, 1.5, 1, 0.625]; / 1.5:
        let third: Float = 1 / 3, twoThirds: Float = 2 / 3, fiveTwelfths: Float = 1.25 / 3
        let product = CausalResponsibility.combine(maps, .multiplicative, count: 4)
        #expect(product == [third, 1, twoThirds, fiveTwelfths])
        let additive: [[Float]] = [[0, 0.5, 1, 0], [0, 1, 0, 0.25]]
        let sum = CausalResponsibility.combine(additive, .additive, count: 4)
        #expect(sum == [0, 1.5, 1, 0.25])
        let flat = CausalResponsibility.combine([[1, 1], [1, 1]], .multiplicative, count: 2)
        #expect(flat == [1, 1])
    }

    /// The split point: the flat position p ∈ [1, area) of rex-xai gives row p / w and column
    /// p mod w, so children may be empty (row or column 0); boxes below the minimum area and
    /// beyond the tree depth are not split.
    @Test func splitGeometryAndStoppingRules() throws {
        // Everything passes; split at p = 3 on a 4×5 image → row 0, column 3: children 0 and 1
        // are empty, 2 is rows 0..<4 × columns 0..<3 and 3 is rows 0..<4 × columns 3..<5.
        var draws: [Int] = []
        let (map, work) = try CausalResponsibility.iteration(
            height: 4, width: 5, minBox: 10, treeDepth: 10, searchLimit: nil, initial: 0,
            splitPoint: { draws.append($0); return 3 }
        ) { masks in Array(repeating: true, count: masks.shape[0]) }
        // One split of the whole image (area 20); the smallest passing mutant is {0}, which shows
        // nothing, and its empty box cannot be split, so the iteration ends after 14 evaluations.
        #expect(draws == [20] && work == 14)
        // Child 2's pixels are visible in {2}, {0,2}, {1,2}, {2,3}, {0,1,2}, {0,2,3}, {1,2,3}:
        // 1 + 3·(1/2) + 3·(1/3) = 3.5; child 3's likewise (empty children count in k).
        #expect(map.allSatisfy { abs($0 - 3.5) < 1e-6 })

        // Depth 0: only the whole image may be split, once.
        let (_, shallow) = try CausalResponsibility.iteration(
            height: 8, width: 8, minBox: 2, treeDepth: 0, searchLimit: nil, initial: 0,
            splitPoint: { $0 / 2 + 4 }
        ) { masks in Array(repeating: true, count: masks.shape[0]) }
        #expect(shallow == 14)
        // A box smaller than the minimum area is never split.
        let (_, none) = try CausalResponsibility.iteration(
            height: 3, width: 3, minBox: 10, treeDepth: 10, searchLimit: nil, initial: 0,
            splitPoint: { _ in Issue.record("no split expected"); return 1 }
        ) { masks in Array(repeating: true, count: masks.shape[0]) }
        #expect(none == 0)
    }
}
