import Foundation
import Testing
import GlassboxData
import GlassboxNN

@Suite struct StandardizerTests {
    @Test func fitsMeanAndPopulationStd() throws {
        let x = try Tensor(shape: [4, 3], scalars: [1, 10, 5, 2, 20, 5, 3, 30, 5, 4, 40, 5])
        let s = try Standardizer.fit(x)
        #expect(s.mean == [2.5, 25, 5])
        #expect(abs(s.std[0] - 1.118034) < 1e-6)
        #expect(abs(s.std[1] - 11.18034) < 1e-5)
        #expect(s.std[2] == 1) // constant column: scale 1, not a division by zero
        let z = try s.transform(x)
        for j in 0..<2 {
            let column = (0..<4).map { Double(z.scalars[$0 * 3 + j]) }
            let mean = column.reduce(0, +) / 4
            let variance = column.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / 4
            #expect(abs(mean) < 1e-6 && abs(variance - 1) < 1e-5)
        }
        #expect((0..<4).allSatisfy { z.scalars[$0 * 3 + 2] == 0 })
        #expect(try s.inverseTransform(z).maxAbsDifference(x) < 1e-5)
    }

    @Test func fitOnTrainApplyToTest() throws {
        let train = try Tensor(shape: [2, 1], scalars: [0, 2])
        let s = try Standardizer.fit(train)
        #expect(try s.transform(Tensor(shape: [1, 1], scalars: [4])).scalars == [3])
        let ds = try Dataset(features: train, labels: [0, 1], featureNames: ["a"], classNames: ["x", "y"])
        #expect(try ds.standardized(with: s).features.scalars == [-1, 1])
    }

    @Test func codableRoundTripAndValidation() throws {
        let s = try Standardizer(mean: [1, -2.5], std: [0.5, 3])
        let json = try JSONEncoder().encode(s)
        #expect(try JSONDecoder().decode(Standardizer.self, from: json) == s)
        let zeroScale = Data(#"{"mean":[1,2],"std":[1,0]}"#.utf8)
        #expect(throws: DecodingError.self) { _ = try JSONDecoder().decode(Standardizer.self, from: zeroScale) }
        let mismatched = Data(#"{"mean":[1,2],"std":[1]}"#.utf8)
        #expect(throws: DecodingError.self) { _ = try JSONDecoder().decode(Standardizer.self, from: mismatched) }
    }

    @Test func errors() throws {
        #expect(throws: GlassboxError.self) { _ = try Standardizer.fit(Tensor.zeros([0, 3])) }
        #expect(throws: GlassboxError.self) { _ = try Standardizer.fit(Tensor.zeros([3])) }
        #expect(throws: GlassboxError.self) { _ = try Standardizer.fit(try Tensor(shape: [2, 1], scalars: [1, .nan])) }
        let s = try Standardizer.fit(Tensor.ones([2, 3]))
        #expect(throws: GlassboxError.self) { _ = try s.transform(Tensor.zeros([2, 4])) }
    }
}
