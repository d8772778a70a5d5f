import Foundation
import Testing
@testable import GlassboxNN

/// The library mechanisms behind "nothing crashes": iterative teardown of autograd graphs,
/// bounded JSON nesting, overflow-safe size limits and one-line error text.
@Suite struct SafetyMechanismTests {
    /// A 300,000-op chain (about 60,000 ReLU layers' worth of nodes) is built, differentiated
    /// and freed. Freed recursively it overflowed the stack; the gradient is checked exactly:
    /// d/dx of relu(…relu(x + 1)…) is 1 for x > −1.
    @Test func aVeryLongAutogradChainIsFreedWithoutRecursion() throws {
        var gradient: Tensor?
        do {
            let x = Variable(Tensor(uncheckedShape: [2], scalars: [0.5, -3]), requiresGrad: true)
            var y = try add(x, Variable(.ones([2])))
            for _ in 0..<300_000 { y = relu(y) }
            try sum(y).backward()
            gradient = x.grad
        }
        #expect(gradient?.scalars == [1, 0])
    }

    /// Shared nodes (each step uses the previous node twice) are freed once each; a node still
    /// held elsewhere keeps its whole subgraph, which still differentiates after the rest is freed.
    @Test func sharedAndStillHeldNodesSurviveTheIterativeTeardown() throws {
        let x = Variable(.ones([1]), requiresGrad: true)
        var middle: Variable?
        var y = x
        for step in 0..<50_000 {
            y = try add(y, scale(y, 0))
            if step == 25_000 { middle = y }
        }
        try sum(y).backward()
        #expect(x.grad?.scalars == [1])
        y = x   // frees the upper half of the graph
        x.zeroGrad()
        try sum(try #require(middle)).backward()
        #expect(x.grad?.scalars == [1])
    }

    @Test func jsonNestingIsBoundedWithoutRecursion() {
        let deep = Data((String(repeating: "[", count: 1_000_000) + String(repeating: "]", count: 1_000_000)).utf8)
        #expect(JSONNesting.problem(in: deep)?.contains("nested more than 100 levels deep (at byte 100)") == true)
        let fine = Data((String(repeating: "[", count: 100) + String(repeating: "]", count: 100)).utf8)
        #expect(JSONNesting.problem(in: fine) == nil)
        // Brackets inside strings (escaped quotes included) do not count.
        let quoted = Data(("{\"a\": \"" + String(repeating: "[", count: 500) + "\\\"{{{\"}").utf8)
        #expect(JSONNesting.problem(in: quoted) == nil)
        #expect(throws: GlassboxError.self) { _ = try LayerSpec.parse(json: String(decoding: deep, as: UTF8.self)) }
    }

    @Test func sizeProductsAreOverflowSafe() throws {
        #expect(Limits.product([1 << 31, 1 << 31]) == 1 << 62)
        #expect(Limits.product([1 << 32, 1 << 32]) == nil)
        #expect(Limits.product([3, -1]) == nil)
        #expect(Limits.product([0, Int.max, Int.max]) == 0 || Limits.product([0, Int.max, Int.max]) == nil)
        #expect(try Limits.checkValues([1 << 14, 1 << 14], "a buffer") == 1 << 28)
        #expect(throws: GlassboxError.self) { try Limits.checkValues([1 << 14, (1 << 14) + 1], "a buffer") }
        #expect(throws: GlassboxError.self) { try Limits.checkValues([Int.max, 2], "a buffer") }
        #expect(throws: GlassboxError.self) { try Limits.checkCount(0, option: "--steps") }
        #expect(throws: GlassboxError.self) { try Limits.checkCount(Limits.maximumRepetitions + 1, option: "--steps") }
        try Limits.checkCount(Limits.maximumRepetitions, option: "--steps")
    }

    /// A spec claiming a 2^62 × 2^62 or 10^9 × 10^9 Linear is refused before building, naming
    /// the file; building it would trap on overflow or fail to allocate.
    @Test func importSizesAreCheckedAgainstTheWeightsBeforeBuilding() throws {
        let empty = try SafeTensorsFile().encoded()
        for size in [1 << 62, 1_000_000_000] {
            let spec = LayerSpec(type: "Linear", attributes: ["in_features": .int(size), "out_features": .int(size)])
            #expect {
                _ = try TorchStateDict.load(spec: spec, data: empty, path: "w.safetensors")
            } throws: { error in
                "\(error)".contains("w.safetensors: architecture: the layers need") && "\(error)".contains("but the file holds 0")
            }
        }
    }

    @Test func errorTextIsOneLineWithoutDumps() throws {
        struct Shape: Decodable { var size: [Int] }
        do {
            _ = try JSONDecoder().decode(Shape.self, from: Data(#"{"size": [1, "two"]}"#.utf8))
            Issue.record("expected a decoding error")
        } catch {
            let text = ErrorText.describe(error)
            #expect(text.contains("size[1]") && !text.contains("DecodingError") && !text.contains("\n"), "\(text)")
        }
        do {
            _ = try Data(contentsOf: URL(fileURLWithPath: "/nonexistent/glassbox/file"))
            Issue.record("expected a read error")
        } catch {
            let text = ErrorText.describe(error)
            #expect(!text.contains("NSCocoaErrorDomain") && !text.contains("Code=") && !text.contains("\n"), "\(text)")
        }
        #expect(ErrorText.problem(GlassboxError.shapeMismatch("a vs b")) == "a vs b")
    }
}
