import Testing
@testable import GlassboxNN

/// Element of `x` (row-major, `shape`) at multi-index `index`.
private func element(_ x: Tensor, _ index: [Int]) -> Float {
    x.scalars[zip(index, Tensor.strides(of: x.shape)).reduce(0) { $0 + $1.0 * $1.1 }]
}

/// Permutation by the definition, one element at a time: the reference for the fast kernels.
private func naivePermute(_ x: Tensor, _ perm: [Int]) -> Tensor {
    let outShape = perm.map { x.shape[$0] }
    var out = Tensor.zeros(outShape)
    let outStrides = Tensor.strides(of: outShape)
    for flat in 0..<out.count {
        var inIndex = [Int](repeating: 0, count: perm.count)
        for (axis, stride) in outStrides.enumerated() { inIndex[perm[axis]] = flat / stride % outShape[axis] }
        out.scalars[flat] = element(x, inIndex)
    }
    return out
}

private func permutations(_ n: Int) -> [[Int]] {
    n == 0 ? [[]] : permutations(n - 1).flatMap { p in (0...p.count).map { var q = p; q.insert(n - 1, at: $0); return q } }
}

@Suite("Shape ops")
struct ShapeOpsTests {
    static let permutes: [([Int], [Int])] = [
        ([3, 4], [1, 0]), ([2, 3, 4], [0, 2, 1]), ([2, 3, 4], [2, 0, 1]), ([2, 3, 4], [-1, 0, 1]),
        ([2, 1, 3, 2], [3, 1, 0, 2]), ([2, 3, 2, 2], [0, 2, 1, 3]), ([2, 3], [0, 1]),
    ]

    @Test(arguments: permutes)
    func permuteGradients(_ c: ([Int], [Int])) throws {
        let bad = try GradientCheck.mismatches(inputs: [randomTensor(c.0, seed: 31)]) { try permute($0[0], c.1) }
        #expect(bad.isEmpty, "\(bad.prefix(3))")
    }

    @Test(arguments: [[2, 3, 4, 5], [1, 3, 1, 5], [3, 1, 4, 2], [2, 3, 5, 70], [6, 20, 20, 8]])
    func permuteMatchesDefinitionForEveryOrder(_ shape: [Int]) throws {
        let x = randomTensor(shape, seed: 32)
        for perm in permutations(4) {
            #expect(try permute(Variable(x), perm).value == naivePermute(x, perm), "\(shape) by \(perm)")
        }
    }

    @Test(arguments: [[37, 45], [3, 33, 70], [2, 64, 32]])
    func tiledTransposeMatchesDefinition(_ shape: [Int]) throws {
        let x = randomTensor(shape, seed: 33)
        let perm = Array(0..<(shape.count - 2)) + [shape.count - 1, shape.count - 2]
        #expect(try permute(Variable(x), perm).value == naivePermute(x, perm))
        #expect(try transpose(Variable(x), -1, -2).value == naivePermute(x, perm))
    }

    @Test func reshapeFlattenTransposeGradients() throws {
        let x = randomTensor([2, 3, 4], seed: 34)
        let ops: [(Variable) throws -> Variable] = [
            { try reshape($0, [4, -1]) }, { try reshape($0, [-1]) }, { try flatten($0) },
            { try flatten($0, startAxis: 0, endAxis: 1) }, { try flatten($0, startAxis: -2) },
            { try transpose($0, 0, 2) }, { try transpose($0, -1, -2) },
        ]
        for op in ops {
            let bad = try GradientCheck.mismatches(inputs: [x]) { try op($0[0]) }
            #expect(bad.isEmpty, "\(bad.prefix(3))")
        }
        #expect(try flatten(Variable(x)).shape == [2, 12])
        #expect(try flatten(Variable(x), startAxis: 0, endAxis: 1).shape == [6, 4])
        #expect(try reshape(Variable(x), [4, -1]).shape == [4, 6])
    }

    @Test(arguments: [
        ([[2, 1, 3], [2, 4, 3], [2, 2, 3]], 1), ([[3, 2], [3, 1]], -1), ([[1, 4], [2, 4]], 0), ([[2, 2, 3], [2, 2, 1]], -1),
    ] as [([[Int]], Int)])
    func concatGradients(_ c: ([[Int]], Int)) throws {
        let inputs = c.0.enumerated().map { randomTensor($0.element, seed: 40 + UInt64($0.offset)) }
        let bad = try GradientCheck.mismatches(inputs: inputs) { try concat($0, axis: c.1) }
        #expect(bad.isEmpty, "\(bad.prefix(3))")
        // concat then split gives the pieces back.
        let joined = try concat(inputs.map { Variable($0) }, axis: c.1)
        let pieces = try split(joined, sizes: c.0.map { $0[c.1 < 0 ? $0.count + c.1 : c.1] }, axis: c.1)
        #expect(pieces.map(\.value) == inputs)
    }

    @Test(arguments: [(0, 1..<3), (1, 0..<2), (-1, 2..<4), (2, 0..<4), (1, 1..<1)] as [(Int, Range<Int>)])
    func sliceAndSplitGradients(_ c: (Int, Range<Int>)) throws {
        let x = randomTensor([3, 2, 4], seed: 35)
        let bad = try GradientCheck.mismatches(inputs: [x]) { try slice($0[0], axis: c.0, range: c.1) }
        #expect(bad.isEmpty, "\(bad.prefix(3))")
        let extent = x.shape[c.0 < 0 ? c.0 + 3 : c.0]
        let sizes = [c.1.lowerBound, c.1.count, extent - c.1.upperBound]
        let splitBad = try GradientCheck.mismatches(inputs: [x]) {
            let parts = try split($0[0], sizes: sizes, axis: c.0)
            return try concat([parts[2], parts[0], parts[1]], axis: c.0)
        }
        #expect(splitBad.isEmpty, "\(splitBad.prefix(3))")
    }

    @Test(arguments: [(0, [2, 0, 2, 1]), (1, [1, 1]), (-1, [3, 0, 3, 3, 2]), (2, [])] as [(Int, [Int])])
    func gatherGradients(_ c: (Int, [Int])) throws {
        let x = randomTensor([3, 2, 4], seed: 36)
        let bad = try GradientCheck.mismatches(inputs: [x]) { try gather($0[0], indices: c.1, axis: c.0) }
        #expect(bad.isEmpty, "\(bad.prefix(3))")
    }

    @Test func embeddingLookupScatterAddsRepeatedRows() throws {
        let table = randomTensor([5, 3], seed: 37)
        let bad = try GradientCheck.mismatches(inputs: [table]) { try embeddingLookup($0[0], indices: [4, 1, 4, 4]) }
        #expect(bad.isEmpty, "\(bad.prefix(3))")
        let (y, dTable) = try gradient(at: table, seed: .ones([4, 3])) { try embeddingLookup($0, indices: [4, 1, 4, 4]) }
        #expect(Array(y.scalars[0..<3]) == Array(table.scalars[12..<15]))
        #expect(dTable.scalars == [0, 0, 0, 1, 1, 1, 0, 0, 0, 0, 0, 0, 3, 3, 3])
    }

    @Test func shapeErrorsNameTheOffendingValues() {
        let x = Variable(randomTensor([2, 4, 3], seed: 38))
        expectError(mentioning: ["input 1", "[2, 5, 4]", "[2, 4, 3]"]) {
            try concat([x, Variable(.zeros([2, 5, 4]))], axis: 1)
        }
        expectError(mentioning: ["input 2", "[2, 4]"]) { try concat([x, x, Variable(.zeros([2, 4]))], axis: 0) }
        expectError(mentioning: ["empty"]) { try concat([], axis: 0) }
        expectError(mentioning: ["[0, 0, 2]", "[2, 4, 3]"]) { try permute(x, [0, 0, 2]) }
        expectError(mentioning: ["[1, 0]"]) { try permute(x, [1, 0]) }
        expectError(mentioning: ["[0, 1, 3]"]) { try permute(x, [0, 1, 3]) }
        expectError(mentioning: ["2..<7", "extent 4"]) { try slice(x, axis: 1, range: 2..<7) }
        expectError(mentioning: ["[2, 3]", "extent 4"]) { try split(x, sizes: [2, 3], axis: 1) }
        expectError(mentioning: ["index 4", "position 1", "extent 4"]) { try gather(x, indices: [0, 4], axis: 1) }
        expectError(mentioning: ["index -1", "position 0"]) { try gather(x, indices: [-1], axis: 0) }
        expectError(mentioning: ["index 9", "position 2", "5 rows"]) {
            try embeddingLookup(Variable(.zeros([5, 3])), indices: [0, 1, 9])
        }
        expectError(mentioning: ["[2, 4, 3]", "[5, -1]"]) { try reshape(x, [5, -1]) }
        expectError(mentioning: ["axis 3", "rank 3"]) { try transpose(x, 0, 3) }
        expectError(mentioning: ["start axis 2", "end axis 1"]) { try flatten(x, startAxis: 2, endAxis: 1) }
    }
}
