import Foundation
import Testing
@testable import GlassboxNN

/// Reference values produced once by an independent implementation (PyTorch) and committed
/// under `Golden/` by the scripts in `benchmarks/tools/`.
///
/// File format: `{"cases": [{"name": "...", "tensors": {"x": {"shape": [..], "data": [..]}, ...},
/// "attrs": {...}}]}`; tensor names are free-form (`x`, `weight`, `y`, `grad_x`, …).
struct GoldenCase: Decodable {
    struct Stored: Decodable { let shape: [Int]; let data: [Double] }
    let name: String
    let tensors: [String: Stored]
    let attrs: [String: Double]?

    func tensor(_ key: String) throws -> Tensor {
        guard let t = tensors[key] else {
            throw GlassboxError.invalidArgument("golden case \(name) has no tensor '\(key)'")
        }
        return try Tensor(shape: t.shape, scalars: t.data.map(Float.init))
    }

    func attr(_ key: String) -> Double? { attrs?[key] }
}

enum Golden {
    /// All cases of `Golden/<file>.json`, by name.
    static func load(_ file: String) throws -> [String: GoldenCase] {
        guard let url = Bundle.module.url(forResource: file, withExtension: "json", subdirectory: "Golden") else {
            throw GlassboxError.invalidArgument("missing golden file Golden/\(file).json")
        }
        struct File: Decodable { let cases: [GoldenCase] }
        let cases = try JSONDecoder().decode(File.self, from: Data(contentsOf: url)).cases
        return Dictionary(uniqueKeysWithValues: cases.map { ($0.name, $0) })
    }

    /// Expects `actual` to match `expected` elementwise within `atol + rtol·|expected|`.
    static func expectClose(_ actual: Tensor, _ expected: Tensor, atol: Float = 1e-5, rtol: Float = 1e-4,
                            _ what: String, sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(actual.shape == expected.shape, "\(what): shape \(actual.shape) vs \(expected.shape)",
                sourceLocation: sourceLocation)
        guard actual.shape == expected.shape else { return }
        var worst: (Int, Float) = (-1, 0)
        for i in 0..<actual.count {
            let err = abs(actual.scalars[i] - expected.scalars[i]) - rtol * abs(expected.scalars[i])
            if err > worst.1 { worst = (i, err) }
        }
        #expect(worst.1 <= atol, "\(what): element \(worst.0) differs: \(worst.0 >= 0 ? actual.scalars[worst.0] : 0) vs \(worst.0 >= 0 ? expected.scalars[worst.0] : 0)",
                sourceLocation: sourceLocation)
    }
}
